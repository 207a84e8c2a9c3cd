// Mixtures of experts (qwen3moe): routing by hand, routing that matters, only the
// chosen experts read, parameters, and damaged files that name what is wrong.
// (The forward pass against the naive reference, in every weight type, is in
// forward_reference_test.cpp.)
#include "engine/attention/attention.h"
#include "engine/attention/kv_cache.h"
#include "engine/gguf/gguf.h"
#include "engine/kernels/matmul.h"
#include "engine/kernels/thread_pool.h"
#include "engine/model/forward.h"
#include "engine/model/mixture_of_experts.h"
#include "engine/model/model.h"
#include "engine/session/session.h"

#include "tests/engine/reference_llama.h"
#include "tests/engine/test_models.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>

#include <gtest/gtest.h>

using namespace folio;
using namespace folio::test;

namespace {

struct ModelFile {
    std::string path;
    explicit ModelFile(const TinyModelSpec& spec) : path(tempModelPath("moe")) { writeTinyModel(spec, path); }
    ~ModelFile() { std::filesystem::remove(path); }
};

std::string loadError(const TinyModelSpec& spec)
{
    const ModelFile file(spec);
    try {
        Model::load(file.path);
    } catch (const ModelError& error) {
        return error.what();
    }
    ADD_FAILURE() << "no error";
    return {};
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

double relativeError(const std::vector<float>& a, const std::vector<float>& b)
{
    double diff = 0.0, scale = 1e-6;
    for (std::size_t i = 0; i < b.size(); ++i) {
        diff = std::max(diff, std::abs(static_cast<double>(a[i]) - b[i]));
        scale = std::max(scale, std::abs(static_cast<double>(b[i])));
    }
    return diff / scale;
}

bool allFinite(const std::vector<float>& values)
{
    return std::all_of(values.begin(), values.end(), [](float v) { return std::isfinite(v); });
}

std::vector<int32_t> someTokens(int n, int vocab)
{
    std::vector<int32_t> tokens;
    for (int t = 0; t < n; ++t)
        tokens.push_back((t * 37 + 11) % vocab);
    return tokens;
}

// Logits of the last token after one prefill of `tokens` (F32 cache: float exact).
std::vector<float> prefillLast(const std::shared_ptr<const Model>& model, const std::vector<int32_t>& tokens)
{
    SessionOptions options;
    options.contextLength = static_cast<int>(tokens.size());
    options.threads = 2;
    options.kvType = KvType::F32;
    Session session(model, options);
    session.prefill(tokens);
    return session.logits();
}

TEST(MixtureOfExperts, TopKAndRenormalisationByHand)
{
    // softmax(1, 3, 2, 0): the two largest are experts 1 and 2, e^3 : e^2 of the whole.
    const float logits[] = {1.0f, 3.0f, 2.0f, 0.0f};
    int32_t chosen[2];
    float weights[2];
    selectExperts(logits, 4, 2, true, chosen, weights);
    EXPECT_EQ(chosen[0], 1);
    EXPECT_EQ(chosen[1], 2);
    const double e = std::exp(1.0);
    EXPECT_NEAR(weights[0], e / (e + 1.0), 1e-6);  // e^3 / (e^3 + e^2)
    EXPECT_NEAR(weights[1], 1.0 / (e + 1.0), 1e-6);

    // Without renormalisation the probabilities of all four.
    selectExperts(logits, 4, 2, false, chosen, weights);
    const double total = 1.0 + e + e * e + e * e * e;
    EXPECT_NEAR(weights[0], e * e * e / total, 1e-6);
    EXPECT_NEAR(weights[1], e * e / total, 1e-6);

    // Equal logits: the lower index first; k = all: weights are the softmax, sum 1.
    const float ties[] = {0.5f, 2.0f, 2.0f, -1.0f, 2.0f};
    int32_t three[3];
    float threeWeights[3];
    selectExperts(ties, 5, 3, true, three, threeWeights);
    EXPECT_EQ(three[0], 1);
    EXPECT_EQ(three[1], 2);
    EXPECT_EQ(three[2], 4);
    for (float w : threeWeights)
        EXPECT_NEAR(w, 1.0f / 3.0f, 1e-6);
    int32_t all[5];
    float allWeights[5];
    selectExperts(ties, 5, 5, true, all, allWeights);
    float sum = 0.0f;
    for (float w : allWeights)
        sum += w;
    EXPECT_NEAR(sum, 1.0f, 1e-6);
    EXPECT_EQ(all[4], 3);

    // Large logits do not overflow.
    const float large[] = {1000.0f, 999.0f, -1000.0f};
    selectExperts(large, 3, 1, false, chosen, weights);
    EXPECT_EQ(chosen[0], 0);
    EXPECT_NEAR(weights[0], 1.0 / (1.0 + 1.0 / e), 1e-6);
}

// The engine follows the reference's routing; a reference that routes wrongly (one
// expert fewer, or weights not renormalised) is far off, so the test would see it.
TEST(MixtureOfExperts, WrongTopKOrMissingRenormalisationChangesTheOutput)
{
    const ModelFile file(qwen3moeSpec());
    const auto model = Model::load(file.path);
    const std::vector<int32_t> tokens = someTokens(40, 96);
    const std::vector<float> actual = prefillLast(model, tokens);

    ReferenceLlama reference(file.path);
    EXPECT_LT(relativeError(actual, reference.logits(tokens).back()), 1e-4);
    reference.setExpertRouting(2, true);
    EXPECT_GT(relativeError(actual, reference.logits(tokens).back()), 1e-2);
    reference.setExpertRouting(3, false);
    EXPECT_GT(relativeError(actual, reference.logits(tokens).back()), 1e-2);
}

// Prefill groups the batch's tokens by expert; decoding them one at a time gives
// the same logits. (With the FP32 products: the BF16 GEMM of F16 prefills rounds the
// activations, which decode does not; forward_reference_test.cpp covers it.)
TEST(MixtureOfExperts, GroupedPrefillMatchesTokenByTokenDecode)
{
    const bool bf16Was = bf16GemmEnabled();
    setBf16GemmEnabled(false);
    struct Restore {
        bool was;
        ~Restore() { setBf16GemmEnabled(was); }
    } restore{bf16Was};
    for (GgmlType type : {GgmlType::F32, GgmlType::F16}) {
        const ModelFile file(qwen3moeSpec(type));
        const auto model = Model::load(file.path);
        const std::vector<int32_t> tokens = someTokens(48, 96);
        SessionOptions options;
        options.contextLength = 48;
        options.threads = 2;
        options.kvType = KvType::F32;
        Session batch(model, options);
        const std::vector<float> all = batch.prefillWithLogits(tokens, 48);
        Session single(model, options);
        for (std::size_t t = 0; t < tokens.size(); ++t) {
            single.decode(tokens[t]);
            const std::vector<float> row(all.begin() + t * 96, all.begin() + (t + 1) * 96);
            EXPECT_LT(relativeError(single.logits(), row), 1e-4) << traitsOf(type).name << " token " << t;
        }
    }
}

// Poisons every matrix of one expert with NaN: a token (and a prefill batch) that
// no layer routes to it stays finite, so neither decode nor the grouped prefill
// reads an expert no token chose; tokens routed to it are NaN in the engine exactly
// where they are in the reference (the same routing, token by token).
TEST(MixtureOfExperts, OnlyTheChosenExpertsAreRead)
{
    TinyModelSpec spec = qwen3moeSpec();
    spec.expertsUsed = 2;
    const ModelFile file(spec);
    constexpr int kPoisoned = 5;
    {
        const GgufFile gguf = GgufFile::open(file.path);
        std::fstream out(file.path, std::ios::in | std::ios::out | std::ios::binary);
        for (int l = 0; l < spec.layers; ++l)
            for (const char* name : {"ffn_gate_exps", "ffn_up_exps", "ffn_down_exps"}) {
                const GgufTensor* t = gguf.findTensor("blk." + std::to_string(l) + "." + name + ".weight");
                ASSERT_NE(t, nullptr);
                const std::size_t expertBytes = t->nbytes / spec.experts;
                const std::vector<float> nan(expertBytes / sizeof(float), std::numeric_limits<float>::quiet_NaN());
                out.seekp(static_cast<std::streamoff>(gguf.dataSectionOffset() + t->offset + kPoisoned * expertBytes));
                out.write(reinterpret_cast<const char*>(nan.data()), static_cast<std::streamsize>(expertBytes));
            }
    }
    const auto model = Model::load(file.path);
    const ReferenceLlama reference(file.path);
    std::vector<int32_t> clean;
    int poisoned = 0;
    for (int32_t token = 0; token < spec.vocab; ++token) {
        const bool referenceFinite = allFinite(reference.logits({token}).back());
        SessionOptions options;
        options.contextLength = 1;
        options.threads = 2;
        Session session(model, options);
        session.decode(token);
        EXPECT_EQ(allFinite(session.logits()), referenceFinite) << "token " << token;
        if (referenceFinite)
            clean.push_back(token);
        else
            ++poisoned;
    }
    EXPECT_GT(poisoned, 0);  // the poison is where tokens go
    ASSERT_GE(clean.size(), 8u);
    // A batch of tokens none of which chose expert 5 in any layer at position 0 may
    // still route there at later positions (attention mixes them): the batch is the
    // clean tokens as far as the reference says it stays clean.
    std::vector<int32_t> batch;
    for (int32_t token : clean) {
        batch.push_back(token);
        if (!allFinite(reference.logits(batch).back()))
            batch.pop_back();
    }
    ASSERT_GE(batch.size(), 4u);
    EXPECT_TRUE(allFinite(prefillLast(model, batch))) << batch.size() << " tokens";
}

TEST(MixtureOfExperts, FamilyParametersAndDescription)
{
    const TinyModelSpec spec = qwen3moeSpec();
    const ModelFile file(spec);
    const auto model = Model::load(file.path);
    const FamilyDescription& f = model->family();
    EXPECT_EQ(f.displayName, "Qwen3-MoE");
    EXPECT_TRUE(f.mixtureOfExperts() && f.normalizeExpertWeights && f.qkNorm && f.ropeNeox);
    EXPECT_FALSE(f.qkvBias || f.fusedGateUp || f.postNorms);
    EXPECT_EQ(f.expertCount, 8);
    EXPECT_EQ(f.expertUsedCount, 3);
    EXPECT_EQ(f.expertFeedForward, 32);
    const LayerWeights& layer = model->layer(1);
    EXPECT_EQ(layer.router.rows, 8);
    EXPECT_EQ(layer.router.type, GgmlType::F32);
    EXPECT_EQ(layer.gateExperts.experts, 8);
    EXPECT_EQ(layer.downExperts.rows, 64);
    EXPECT_EQ(layer.downExperts.cols, 32);
    EXPECT_EQ(layer.upExperts.expertBytes, 32u * 64u * sizeof(float));
    EXPECT_EQ(layer.gate.data, nullptr);  // no dense FFN

    // Active: every tensor but the 5 experts of 8 a token leaves out, in 3 matrices of
    // 64 x 32, in 2 layers.
    EXPECT_EQ(model->totalParameters() - model->activeParameters(), int64_t{2} * 3 * 5 * 64 * 32);
    const std::string text = model->describe();
    EXPECT_TRUE(contains(text, "architecture qwen3moe (Qwen3-MoE)")) << text;
    EXPECT_TRUE(contains(text, "feed-forward 3 of 8 experts of 32")) << text;

    // The session's scratch estimate covers the experts' scratch.
    const ForwardScratch scratch(*model, 64);
    const std::size_t floats = scratch.gate.size() + scratch.up.size() + scratch.routerLogits.size()
                               + scratch.chosenExperts.size() + scratch.chosenWeights.size()
                               + scratch.expertTokens.size() + scratch.expertTokenWeights.size()
                               + scratch.expertIn.size() + scratch.expertOut.size() + scratch.expertStart.size();
    EXPECT_GE(ForwardScratch::bytesFor(*model, 64), floats * sizeof(float));
}

TEST(MixtureOfExperts, AQuantizedFileLoadsWithEachExpertWholeBlocks)
{
    const TinyModelSpec spec = [] {
        TinyModelSpec s = kQuantSpec("qwen3moe", GgmlType::Q4_K);
        s.headDim = 128;
        s.tensorTypes = {{"blk.0.ffn_down_exps.weight", GgmlType::Q8_0}};
        return s;
    }();
    const ModelFile file(spec);
    const auto model = Model::load(file.path);
    const ExpertMatrices& up = model->layer(1).upExperts;
    EXPECT_EQ(up.type, GgmlType::Q4_K);
    EXPECT_EQ(up.expertBytes, rowBytes(GgmlType::Q4_K, 256) * 256);
    EXPECT_EQ(model->layer(0).downExperts.type, GgmlType::Q8_0);
    SessionOptions options;
    options.contextLength = 8;
    options.threads = 2;
    Session session(model, options);
    session.prefill({3, 4, 5, 6});
    EXPECT_TRUE(allFinite(session.logits()));
}

TEST(MixtureOfExperts, DamagedFilesNameTheKeyOrTensor)
{
    TinyModelSpec spec = qwen3moeSpec();
    spec.omitTensors = {"blk.1.ffn_gate_inp.weight"};
    EXPECT_TRUE(contains(loadError(spec), "missing tensor 'blk.1.ffn_gate_inp.weight'"));
    spec.omitTensors = {"blk.0.ffn_up_exps.weight"};
    EXPECT_TRUE(contains(loadError(spec), "missing tensor 'blk.0.ffn_up_exps.weight'"));
    spec.omitTensors.clear();

    spec.wrongShapeTensor = "blk.0.ffn_down_exps.weight";  // rows and columns swapped
    EXPECT_TRUE(contains(loadError(spec), "tensor 'blk.0.ffn_down_exps.weight' has shape [64, 32, 8], expected [32, 64, 8]"));
    spec.wrongShapeTensor.clear();

    // The file's counts against the tensors' (setting a key again replaces it).
    spec.intKeys = {{"qwen3moe.expert_used_count", 9}};
    EXPECT_TRUE(contains(loadError(spec), "'qwen3moe.expert_used_count' (9) exceeds 'qwen3moe.expert_count' (8)"));
    spec.intKeys = {{"qwen3moe.expert_count", 6}};
    EXPECT_TRUE(contains(loadError(spec), "'blk.0.ffn_gate_inp.weight' routes to 8 experts, but 'qwen3moe.expert_count' is 6"));
    spec.intKeys = {{"qwen3moe.expert_feed_forward_length", 16}};
    EXPECT_TRUE(contains(loadError(spec), "'blk.0.ffn_gate_exps.weight' has shape [64, 32, 8], expected [64, 16, 8]"));
    spec.intKeys = {{"qwen3moe.expert_count", 0}};
    EXPECT_TRUE(contains(loadError(spec), "key 'qwen3moe.expert_count' has the invalid value 0"));

    // Missing keys: a qwen3 file renamed.
    spec.intKeys.clear();
    spec.architecture = "qwen3";  // qwen3's tensors under the qwen3moe name
    spec.stringKeys = {{"general.architecture", "qwen3moe"}};
    EXPECT_TRUE(contains(loadError(spec), "missing key 'qwen3moe.expert_count'"));
}

} // namespace
