// The engine's forward pass against the naive reference (reference_llama.h), for
// every weight type and every family.
//
// Tolerances. Batches of >= kMatMulGemmMinTokens tokens multiply in float (the
// weights are dequantized, the activations are not rounded), so a whole-prompt
// prefill must match the double-precision reference up to float rounding and the
// F16 KV cache: 2e-3 of the largest logit. One-token decode quantizes the
// activations to int8 blocks before every quantized matrix product (relative error
// ~1/254 per element, i.e. up to ~1e-2 of sum |W||x|), and that error passes
// through every layer: 6e-2 of the largest logit, still far below the spread of
// random logits (a wrong rotation or a wrong head mapping moves them by O(1)).
// On CPUs with AVX-512 BF16, F16 and BF16 weights take the BF16 GEMM in prefill
// (kernels/bf16_gemm.h): weights and activations rounded to 8 significant bits
// (2^-9 relative, half the int8 blocks' step), products summed in FP32. Measured
// here: up to 1.3e-2 of the largest logit (the FP32 tiles: up to 9e-4); the bound is
// 3e-2, between the float path's and the int8 activations'. Those prefills are
// checked both ways: with the BF16 GEMM and with it switched off (2e-3).
#include "engine/attention/attention.h"
#include "engine/attention/kv_cache.h"
#include "engine/kernels/bf16_gemm.h"
#include "engine/model/forward.h"
#include "engine/kernels/matmul.h"
#include "engine/model/model.h"
#include "engine/session/session.h"
#include "engine/kernels/thread_pool.h"

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
    explicit ModelFile(const TinyModelSpec& spec, const std::string& stem) : path(tempModelPath(stem))
    {
        writeTinyModel(spec, path);
    }
    ~ModelFile() { std::filesystem::remove(path); }
};

// Largest |a - b| over the largest |b|.
double relativeError(const std::vector<float>& a, const std::vector<float>& b)
{
    double diff = 0.0, scale = 1e-6;
    for (std::size_t i = 0; i < b.size(); ++i) {
        diff = std::max(diff, std::abs(static_cast<double>(a[i]) - b[i]));
        scale = std::max(scale, std::abs(static_cast<double>(b[i])));
    }
    return diff / scale;
}

// Logits of every token from one forwardBatch call.
std::vector<std::vector<float>> batchLogits(const Model& model, const std::vector<int32_t>& tokens, KvType kvType)
{
    const ModelHyperParams& p = model.params();
    const int n = static_cast<int>(tokens.size());
    ThreadPool pool(2);
    KvCache cache(p.blockCount, p.headCountKv, p.headDim, n, kvType);
    ForwardScratch scratch(model, n);
    const auto attention = makeModelAttention(model, model.ropeConfig(), std::nullopt, pool.size());
    std::vector<int32_t> positions(n);
    for (int t = 0; t < n; ++t)
        positions[t] = t;
    std::vector<float> all(static_cast<std::size_t>(n) * p.vocabSize);
    forwardBatch(model, *attention, cache, scratch, tokens.data(), positions.data(), n, 0, LogitsMode::All,
                 all.data(), pool);
    std::vector<std::vector<float>> result(n);
    for (int t = 0; t < n; ++t)
        result[t].assign(all.begin() + static_cast<std::ptrdiff_t>(t) * p.vocabSize,
                         all.begin() + static_cast<std::ptrdiff_t>(t + 1) * p.vocabSize);
    return result;
}

std::vector<int32_t> someTokens(int n, int vocab)
{
    std::vector<int32_t> tokens;
    for (int t = 0; t < n; ++t)
        tokens.push_back((t * 37 + 11) % vocab);
    return tokens;
}

struct Case {
    std::string architecture;
    GgmlType type;
};

void PrintTo(const Case& c, std::ostream* os)
{
    *os << c.architecture << " " << traitsOf(c.type).name;
}

std::string caseName(const ::testing::TestParamInfo<Case>& info)
{
    std::string type(traitsOf(info.param.type).name);
    return info.param.architecture + "_" + type;
}

std::vector<Case> allCases()
{
    std::vector<Case> cases;
    for (const char* arch : {"llama", "qwen2", "qwen3", "qwen3moe", "phi3", "gemma3"})
        for (GgmlType type : allWeightTypes())
            cases.push_back({arch, type});
    return cases;
}

class ForwardVsReference : public ::testing::TestWithParam<Case> {};

TEST_P(ForwardVsReference, PrefillAndDecodeMatchTheNaiveForwardPass)
{
    const Case& c = GetParam();
    const bool kQuant = c.type == GgmlType::Q4_K || c.type == GgmlType::Q5_K || c.type == GgmlType::Q6_K;
    TinyModelSpec spec = kQuant ? kQuantSpec(c.architecture, c.type) : TinyModelSpec{};
    if (c.architecture == "gemma3") {  // 7 layers, both kinds, window 8 (the prompt is 36 long)
        const TinyModelSpec gemma = gemma3Spec(c.type);
        spec.layers = gemma.layers;
        spec.slidingWindow = gemma.slidingWindow;
        spec.headDim = kQuant ? 128 : gemma.headDim;
        spec.ropeFreqBase = gemma.ropeFreqBase;
        spec.stringKeys = gemma.stringKeys;
        spec.floatKeys = gemma.floatKeys;
    }
    spec.architecture = c.architecture;
    spec.type = c.type;
    spec.seed = 7 + static_cast<uint64_t>(c.type);
    spec.tiedOutput = c.architecture == "qwen2" || c.architecture == "gemma3";  // as those files often do
    spec.ropeFreqs = c.architecture == "llama" && c.type == GgmlType::Q8_0;
    if (c.architecture == "qwen3" || c.architecture == "qwen3moe")  // heads wider than embd / heads (key_length)
        spec.headDim = kQuant ? 128 : 32;
    if (c.architecture == "qwen3moe") {  // 8 experts, 3 per token: the 36 tokens use them all
        spec.experts = 8;
        spec.expertsUsed = 3;
    }
    if (c.architecture == "phi3")  // LongRoPE; the prompt runs past the original context
        spec.longRopeOriginalContext = 16;
    const ModelFile file(spec, "ref");
    const auto model = Model::load(file.path);
    const ReferenceLlama reference(file.path);
    // Long enough for matMul's float (GEMM) path; shorter batches take the int8 path.
    const int promptLength = static_cast<int>(kMatMulGemmMinTokens) + 4;
    const std::vector<int32_t> tokens = someTokens(promptLength, spec.vocab);
    const auto expected = reference.logits(tokens);

    const bool floatWeights = c.type == GgmlType::F32 || c.type == GgmlType::F16 || c.type == GgmlType::BF16;
    // A mixture of experts with quantized weights: each expert sees a few of the
    // batch's tokens, fewer than kMatMulGemmMinTokens, so its products take the int8
    // path (decode's tolerance); and a token whose router logits nearly tie at the
    // k-th expert may choose another one after that rounding (a jump, not an error:
    // seen at a margin of 0.025 with Q4_K), so only tokens whose margin is 0.08 or
    // more are compared, at least half of them (the count is the reference's, the
    // same on every machine).
    const bool moe = model->family().mixtureOfExperts();
    const bool int8Prefill = moe && !floatWeights;
    auto compared = [&](std::size_t t) {
        return !int8Prefill || reference.routingMargins()[t] >= 0.08;
    };
    int comparedTokens = 0;
    for (std::size_t t = 0; t < tokens.size(); ++t)
        comparedTokens += compared(t) ? 1 : 0;
    EXPECT_GE(comparedTokens * 2, promptLength);

    const bool bf16Was = bf16GemmEnabled();
    const bool bf16Prefill = bf16Was && kernels::hasBf16Gemm(activeSimdLevel()) &&
                             (c.type == GgmlType::F16 || c.type == GgmlType::BF16);
    for (bool bf16 : {false, true}) {
        if (bf16 && !bf16Prefill)
            continue;
        setBf16GemmEnabled(bf16);
        const auto prefill = batchLogits(*model, tokens, KvType::F16);
        setBf16GemmEnabled(bf16Was);
        const double bound = int8Prefill ? 6e-2 : bf16 ? 3e-2 : 2e-3;
        for (std::size_t t = 0; t < tokens.size(); ++t) {
            if (compared(t)) {
                EXPECT_LT(relativeError(prefill[t], expected[t]), bound) << "prefill token " << t << " bf16 " << bf16;
            }
        }
    }

    SessionOptions options;
    options.contextLength = promptLength;
    options.threads = 2;
    Session session(model, options);
    for (std::size_t t = 0; t < tokens.size(); ++t) {
        session.decode(tokens[t]);
        if (compared(t)) {
            EXPECT_LT(relativeError(session.logits(), expected[t]), floatWeights ? 2e-3 : 6e-2) << "decode token " << t;
        }
    }
}

INSTANTIATE_TEST_SUITE_P(EveryTypeEveryFamily, ForwardVsReference, ::testing::ValuesIn(allCases()), caseName);

// Gemma 3's layer pattern from gemma3.attention.sliding_window_pattern: a period (every
// second layer global) and a list (true: local), against the reference reading the
// same key; the prompt (20) runs past the window (8).
TEST(ForwardVsReferenceExtras, Gemma3LayerPatternFromTheFile)
{
    for (int variant = 0; variant < 2; ++variant) {
        TinyModelSpec spec = gemma3Spec();
        if (variant == 0)
            spec.intKeys.push_back({"gemma3.attention.sliding_window_pattern", 2});
        else
            spec.boolArrayKeys.push_back(
                {"gemma3.attention.sliding_window_pattern", {false, true, true, false, true, true, false}});
        const ModelFile file(spec, "pattern");
        const auto model = Model::load(file.path);
        EXPECT_EQ(model->layerPattern(), variant == 0 ? "4 local (window 8) + 3 global" : "4 local (window 8) + 3 global");
        for (int l = 0; l < spec.layers; ++l)
            EXPECT_EQ(model->family().isGlobalLayer(l), variant == 0 ? l % 2 == 1 : l % 3 == 0) << "layer " << l;
        const ReferenceLlama reference(file.path);
        const std::vector<int32_t> tokens = someTokens(20, spec.vocab);
        const auto expected = reference.logits(tokens);
        const auto actual = batchLogits(*model, tokens, KvType::F16);
        for (std::size_t t = 0; t < tokens.size(); ++t)
            EXPECT_LT(relativeError(actual[t], expected[t]), 2e-3) << "variant " << variant << " token " << t;
    }
}

TEST(ForwardVsReferenceExtras, PartialRotaryAndF32Cache)
{
    TinyModelSpec spec;
    spec.ropeDims = 8;  // of head dim 16: the last 8 components pass through
    spec.ropeFreqBase = 500.0f;
    const ModelFile file(spec, "partial");
    const auto model = Model::load(file.path);
    const ReferenceLlama reference(file.path);
    const std::vector<int32_t> tokens = someTokens(20, spec.vocab);
    const auto expected = reference.logits(tokens);
    const auto actual = batchLogits(*model, tokens, KvType::F32);
    for (std::size_t t = 0; t < tokens.size(); ++t)
        EXPECT_LT(relativeError(actual[t], expected[t]), 1e-4) << "token " << t;
}

// Phi-3 LongRoPE: a session whose context fits the original one uses the short
// factors (the reference told the same context agrees; the long factors do not).
TEST(ForwardVsReferenceExtras, Phi3ShortFactorsWithinTheOriginalContext)
{
    TinyModelSpec spec;
    spec.architecture = "phi3";
    spec.longRopeOriginalContext = 24;
    spec.ropeFreqBase = 300.0f;  // rotations fast enough that the factors show
    const ModelFile file(spec, "phi3-short");
    const auto model = Model::load(file.path);
    const std::vector<int32_t> tokens = someTokens(24, spec.vocab);
    const auto shortExpected = ReferenceLlama(file.path, 24).logits(tokens);
    const auto longExpected = ReferenceLlama(file.path, 25).logits(tokens);
    SessionOptions options;
    options.contextLength = 24;
    options.threads = 2;
    Session session(model, options);
    const std::vector<float> all = session.prefillWithLogits(tokens, 24);
    const std::vector<float> last(all.end() - spec.vocab, all.end());
    EXPECT_LT(relativeError(last, shortExpected.back()), 2e-3);
    EXPECT_GT(relativeError(last, longExpected.back()), 1e-2);
}

// A phi3 file without factors (Phi-3-mini-4k) is plain RoPE.
TEST(ForwardVsReferenceExtras, Phi3WithoutFactorsIsPlainRope)
{
    TinyModelSpec spec;
    spec.architecture = "phi3";
    spec.tiedOutput = true;  // Phi-4-mini ties its output
    const ModelFile file(spec, "phi3-plain");
    const auto model = Model::load(file.path);
    EXPECT_TRUE(model->ropeConfig().freqFactors.empty());
    const std::vector<int32_t> tokens = someTokens(40, spec.vocab);
    const auto expected = ReferenceLlama(file.path).logits(tokens);
    const auto actual = batchLogits(*model, tokens, KvType::F32);
    for (std::size_t t = 0; t < tokens.size(); ++t)
        EXPECT_LT(relativeError(actual[t], expected[t]), 1e-4) << "token " << t;
}

} // namespace
