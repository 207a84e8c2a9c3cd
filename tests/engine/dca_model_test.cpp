// Whole-model Dual Chunk Attention: a Session with DCA on a small model the test
// writes, for T several times C, against the naive reference forward pass fed
// DCA's relative-position matrix (notes/dca.md §4) built here directly; the
// session's decode, micro-batched prefill and the T <= C + 1 identity with plain
// RoPE; and the options' defaults from the trained length.
#include "engine/session/context_options.h"
#include "engine/model/model.h"
#include "engine/session/session.h"

#include "tests/engine/reference_llama.h"
#include "tests/engine/test_models.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include <gtest/gtest.h>

using namespace folio;
using namespace folio::test;

namespace {

struct ModelFile {
    std::string path;
    ModelFile(const TinyModelSpec& spec, const std::string& stem) : path(tempModelPath(stem))
    {
        writeTinyModel(spec, path);
    }
    ~ModelFile() { std::filesystem::remove(path); }
};

double relativeError(const std::vector<float>& a, const std::vector<float>& b)
{
    double diff = 0.0, scale = 1e-6;
    for (std::size_t i = 0; i < b.size(); ++i) {
        diff = std::max(diff, std::abs(double(a[i]) - b[i]));
        scale = std::max(scale, std::abs(double(b[i])));
    }
    return diff / scale;
}

std::vector<int32_t> someTokens(int n, int vocab)
{
    std::vector<int32_t> tokens;
    for (int t = 0; t < n; ++t)
        tokens.push_back((t * 53 + 7) % vocab);
    return tokens;
}

SessionOptions dcaOptions(int c, int w, int context, int batch)
{
    SessionOptions options;
    options.contextLength = context;
    options.threads = 2;
    options.batchSize = batch;
    options.kvType = KvType::F32;  // exact keys: differences below are the method's, not F16 rounding
    options.dca.enabled = true;
    options.dca.chunkSize = c;
    options.dca.localWindow = w;
    return options;
}

std::vector<float> row(const std::vector<float>& all, int t, int vocab)
{
    return {all.begin() + static_cast<std::ptrdiff_t>(t) * vocab, all.begin() + static_cast<std::ptrdiff_t>(t + 1) * vocab};
}

} // namespace

TEST(DcaModel, LogitsMatchTheReferenceWithTheExplicitPositionMatrix)
{
    const int c = 24, w = 4, s = c - w, n = 90;  // 4.5 chunks, T = 3.75 C
    for (const char* arch : {"llama", "qwen2", "qwen3"}) {
        TinyModelSpec spec;
        spec.architecture = arch;
        spec.ropeFreqBase = 300.0f;  // rotations fast enough that a wrong position shows
        spec.seed = 21;
        const ModelFile file(spec, std::string("dca-") + arch);
        const auto model = Model::load(file.path);
        ReferenceLlama reference(file.path);
        reference.setRelativePositions([&](int i, int j) {
            const int bi = i / s, bj = j / s, ri = i % s, rj = j % s;
            if (bi == bj)
                return i - j;
            if (bi == bj + 1)
                return std::min(s + ri, c) - rj;
            return std::min(2 * s - 1, c) - rj;
        });
        const std::vector<int32_t> tokens = someTokens(n, spec.vocab);
        const auto expected = reference.logits(tokens);

        Session session(model, dcaOptions(c, w, n, n));
        EXPECT_NE(session.extensionDescription().find("DCA (C 24, W 4)"), std::string::npos);
        const std::vector<float> all = session.prefillWithLogits(tokens, n);
        double worst = 0;
        for (int t = 0; t < n; ++t)
            worst = std::max(worst, relativeError(row(all, t, spec.vocab), expected[t]));
        EXPECT_LT(worst, 2e-3) << arch;

        // The same model without DCA departs from that reference beyond C + 1 tokens.
        SessionOptions plainOptions = dcaOptions(c, w, n, n);
        plainOptions.dca.enabled = false;
        Session plain(model, plainOptions);
        const std::vector<float> plainAll = plain.prefillWithLogits(tokens, n);
        EXPECT_GT(relativeError(row(plainAll, n - 1, spec.vocab), expected[n - 1]), 1e-2) << arch;
        for (int t = 0; t <= c; ++t)
            EXPECT_LT(relativeError(row(plainAll, t, spec.vocab), row(all, t, spec.vocab)), 1e-5)
                << arch << ": plain and DCA agree up to T = C + 1, token " << t;
    }
}

TEST(DcaModel, DecodeAndMicroBatchesEqualOneShotPrefill)
{
    TinyModelSpec spec;
    spec.ropeFreqBase = 300.0f;
    const ModelFile file(spec, "dca-decode");
    const auto model = Model::load(file.path);
    const int n = 70;
    const std::vector<int32_t> tokens = someTokens(n, spec.vocab);
    Session oneShot(model, dcaOptions(16, 3, n, n));
    const std::vector<float> all = oneShot.prefillWithLogits(tokens, n);

    Session micro(model, dcaOptions(16, 3, n, 9));  // micro-batches of 9 straddle chunks of 13
    const std::vector<float> microAll = micro.prefillWithLogits(tokens, n);
    EXPECT_LT(relativeError(microAll, all), 2e-4);  // GEMM vs row products round differently

    Session decode(model, dcaOptions(16, 3, n, n));
    for (int t = 0; t < n; ++t) {
        decode.decode(tokens[t]);
        ASSERT_LT(relativeError(decode.logits(), row(all, t, spec.vocab)), 2e-4) << "token " << t;
    }
}

// Gemma 3: DCA on the global layers only (layer 5 of 7); the local layers keep their
// window of 8 and their own RoPE at true positions. The reference gets the DCA
// matrix for its global layers alone. Micro-batches and decode agree with one shot.
TEST(DcaModel, Gemma3RunsDcaOnTheGlobalLayersOnly)
{
    const int c = 24, w = 4, s = c - w, n = 90;
    const TinyModelSpec spec = gemma3Spec();
    const ModelFile file(spec, "dca-gemma3");
    const auto model = Model::load(file.path);
    ReferenceLlama reference(file.path);
    reference.setRelativePositions([&](int i, int j) {
        const int bi = i / s, bj = j / s, ri = i % s, rj = j % s;
        if (bi == bj)
            return i - j;
        if (bi == bj + 1)
            return std::min(s + ri, c) - rj;
        return std::min(2 * s - 1, c) - rj;
    });
    const std::vector<int32_t> tokens = someTokens(n, spec.vocab);
    const auto expected = reference.logits(tokens);

    Session session(model, dcaOptions(c, w, n, n));
    const std::vector<float> all = session.prefillWithLogits(tokens, n);
    double worst = 0;
    for (int t = 0; t < n; ++t)
        worst = std::max(worst, relativeError(row(all, t, spec.vocab), expected[t]));
    EXPECT_LT(worst, 2e-3);

    // Without DCA the global layer sees true distances: another answer beyond C + 1.
    SessionOptions plainOptions = dcaOptions(c, w, n, n);
    plainOptions.dca.enabled = false;
    Session plain(model, plainOptions);
    const std::vector<float> plainAll = plain.prefillWithLogits(tokens, n);
    EXPECT_GT(relativeError(row(plainAll, n - 1, spec.vocab), expected[n - 1]), 1e-2);
    const auto plainExpected = ReferenceLlama(file.path).logits(tokens);
    EXPECT_LT(relativeError(row(plainAll, n - 1, spec.vocab), plainExpected[n - 1]), 2e-3);

    Session micro(model, dcaOptions(c, w, n, 9));  // micro-batches of 9 straddle windows of 8 and chunks of 20
    EXPECT_LT(relativeError(micro.prefillWithLogits(tokens, n), all), 2e-4);
    Session decode(model, dcaOptions(c, w, n, n));
    for (int t = 0; t < n; ++t) {
        decode.decode(tokens[t]);
        ASSERT_LT(relativeError(decode.logits(), row(all, t, spec.vocab)), 2e-4) << "token " << t;
    }
}

TEST(DcaModel, DefaultsComeFromTheTrainedLengthOrTheFile)
{
    TinyModelSpec spec;
    spec.contextLength = 4096;
    const ModelFile plainFile(spec, "dca-defaults");
    const auto model = Model::load(plainFile.path);
    DcaOptions options;
    options.enabled = true;
    DcaConfig config = resolveDca(*model, options);
    EXPECT_EQ(config.chunkSize, 3072);  // 3L/4
    EXPECT_EQ(config.localWindow, 512); // L/8
    EXPECT_EQ(config.chunkLength(), 2560);
    options.chunkSize = 2000;
    options.localWindow = 100;
    config = resolveDca(*model, options);
    EXPECT_EQ(config.chunkLength(), 1900);
    options.localWindow = 2000;
    EXPECT_THROW(resolveDca(*model, options), std::invalid_argument);

    spec.intKeys = {{"llama.dca.chunk_size", 8192}, {"llama.dca.local_window", 512}};
    const ModelFile dcaFile(spec, "dca-keys");
    const auto keyed = Model::load(dcaFile.path);
    config = resolveDca(*keyed, DcaOptions{true});
    EXPECT_EQ(config.chunkSize, 8192);
    EXPECT_EQ(config.localWindow, 512);
    EXPECT_EQ(config.temperature, 0.0f) << "no dca.temperature key: the paper's DCA";

    // The temperature k of notes/dca.md §7 from the file, unless the caller sets one (0 included).
    spec.floatKeys = {{"llama.dca.temperature", 0.1f}};
    const ModelFile warmFile(spec, "dca-temperature");
    const auto warm = Model::load(warmFile.path);
    EXPECT_FLOAT_EQ(resolveDca(*warm, DcaOptions{true}).temperature, 0.1f);
    DcaOptions off{true};
    off.temperature = 0.0f;
    EXPECT_EQ(resolveDca(*warm, off).temperature, 0.0f);
    spec.floatKeys = {{"llama.dca.temperature", -1.0f}};
    const ModelFile badFile(spec, "dca-temperature-bad");
    EXPECT_THROW(Model::load(badFile.path), ModelError);
}
