// Family descriptions (model/family.h) as read from files, the families' own
// tensors, and the errors that name what is wrong.
#include "engine/gguf/gguf_writer.h"
#include "engine/model/model.h"
#include "engine/session/context_options.h"
#include "engine/session/session.h"

#include "tests/engine/test_models.h"

#include <cmath>
#include <filesystem>
#include <set>

#include <gtest/gtest.h>

using namespace folio;
using namespace folio::test;

namespace {

struct ModelFile {
    std::string path;
    explicit ModelFile(const TinyModelSpec& spec) : path(tempModelPath("family")) { writeTinyModel(spec, path); }
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

TEST(Family, LlamaAndQwen2AreDescriptionsNotNames)
{
    TinyModelSpec spec;
    const ModelFile llama(spec);
    const FamilyDescription l = Model::load(llama.path)->family();  // a copy: the model goes at the ';'
    EXPECT_FALSE(l.qkvBias || l.qkNorm || l.fusedQkv || l.fusedGateUp || l.ropeNeox || l.scaleEmbedding);
    spec.architecture = "qwen2";
    const ModelFile qwen2(spec);
    const FamilyDescription q = Model::load(qwen2.path)->family();
    EXPECT_TRUE(q.qkvBias && q.ropeNeox);
    EXPECT_FALSE(q.qkNorm);
}

TEST(Family, Qwen3HasPerHeadQkNormAndNoBiases)
{
    TinyModelSpec spec;
    spec.architecture = "qwen3";
    spec.headDim = 32;  // wider than embd / heads, as in Qwen3-0.6B (1024 / 16 < 128)
    const ModelFile file(spec);
    const auto model = Model::load(file.path);
    EXPECT_TRUE(model->family().qkNorm);
    EXPECT_FALSE(model->family().qkvBias);
    EXPECT_TRUE(model->params().ropeNeox);
    EXPECT_EQ(model->params().headDim, 32);
    EXPECT_EQ(model->layer(1).qNorm.size(), 32u);
    EXPECT_TRUE(model->layer(0).bq.empty());
    EXPECT_TRUE(contains(model->describe(), "Qwen3"));

    spec.omitTensors = {"blk.1.attn_k_norm.weight"};
    EXPECT_TRUE(contains(loadError(spec), "missing tensor 'blk.1.attn_k_norm.weight'"));
}

TEST(Family, Qwen3YarnMetadataIsHonoured)
{
    TinyModelSpec spec;
    spec.architecture = "qwen3";
    spec.stringKeys = {{"qwen3.rope.scaling.type", "yarn"}};
    spec.floatKeys = {{"qwen3.rope.scaling.factor", 4.0f}};
    spec.intKeys = {{"qwen3.rope.scaling.original_context_length", 64}};
    const ModelFile file(spec);
    const RopeConfig rope = resolveRope(*Model::load(file.path), {});
    EXPECT_FLOAT_EQ(rope.freqScale, 0.25f);
    EXPECT_FLOAT_EQ(rope.extFactor, 1.0f);
    EXPECT_EQ(rope.originalContext, 64);
    EXPECT_TRUE(rope.neox);
}

TEST(Family, Phi3FusedTensorsAndLongRope)
{
    TinyModelSpec spec;
    spec.architecture = "phi3";
    spec.longRopeOriginalContext = 16;  // of 256: s = 16
    const ModelFile file(spec);
    const auto model = Model::load(file.path);
    const FamilyDescription& f = model->family();
    EXPECT_TRUE(f.fusedQkv && f.fusedGateUp && f.longRope && f.ropeNeox);
    EXPECT_EQ(model->layer(0).wqkv.rows, 64 + 2 * 32);
    EXPECT_EQ(model->layer(0).up.rows, 2 * 128);
    EXPECT_TRUE(model->longRope());
    // sqrt(1 + ln 16 / ln 16) when the file has no attn_factor.
    EXPECT_NEAR(model->ropeConfig().attnFactor, std::sqrt(2.0f), 1e-6f);
    // Short factors up to the original context, long ones beyond it.
    EXPECT_FLOAT_EQ(model->ropeFreqFactors(16).back(), 1.0f + 0.5f * 7.0f / 8.0f);
    EXPECT_GT(model->ropeFreqFactors(17).back(), 10.0f);
    EXPECT_EQ(model->ropeConfig().freqFactors, model->ropeFreqFactors(17));
    EXPECT_TRUE(contains(model->describe(), "LongRoPE factors from 16"));

    spec.floatKeys = {{"phi3.rope.scaling.attn_factor", 1.19f}};  // as converters write it
    const ModelFile written(spec);
    EXPECT_FLOAT_EQ(Model::load(written.path)->ropeConfig().attnFactor, 1.19f);
    spec.floatKeys.clear();

    spec.omitTensors = {"rope_factors_long.weight"};
    EXPECT_TRUE(contains(loadError(spec), "missing tensor 'rope_factors_long.weight'"));
    spec.omitTensors = {"blk.0.attn_qkv.weight"};
    EXPECT_TRUE(contains(loadError(spec), "missing tensor 'blk.0.attn_qkv.weight'"));
    spec.omitTensors.clear();
    spec.wrongShapeTensor = "blk.1.ffn_up.weight";
    EXPECT_TRUE(contains(loadError(spec), "'blk.1.ffn_up.weight' has shape"));
    spec.wrongShapeTensor.clear();
    spec.longRopeOriginalContext = 512;  // beyond the context of 256
    EXPECT_TRUE(contains(loadError(spec), "'phi3.rope.scaling.original_context_length' (512) exceeds"));
}

TEST(Family, Gemma3LocalAndGlobalLayersPostNormsGeluAndEmbeddingScale)
{
    const TinyModelSpec spec = gemma3Spec();
    const ModelFile file(spec);
    const auto model = Model::load(file.path);
    const FamilyDescription& f = model->family();
    EXPECT_EQ(f.displayName, "Gemma 3");
    EXPECT_TRUE(f.qkNorm && f.ropeNeox && f.postNorms && f.scaleEmbedding);
    EXPECT_FALSE(f.qkvBias || f.fusedQkv || f.fusedGateUp);
    EXPECT_EQ(f.activation, Activation::GeluTanh);
    EXPECT_EQ(f.finalLogitSoftcap, 0.0f);  // Gemma 2 had it; Gemma 3 does not
    EXPECT_EQ(f.slidingWindow, 8);
    // Five local layers, then one global: 0-4 local, 5 global, 6 local.
    for (int l = 0; l < 7; ++l)
        EXPECT_EQ(f.isGlobalLayer(l), l == 5) << "layer " << l;
    EXPECT_EQ(f.layerWindow(4), 8);
    EXPECT_EQ(f.layerWindow(5), 0);
    EXPECT_EQ(model->layerPattern(), "6 local (window 8) + 1 global");
    EXPECT_TRUE(contains(model->describe(), "layers 6 local (window 8) + 1 global")) << model->describe();
    EXPECT_TRUE(model->tiedOutput());
    EXPECT_EQ(model->params().headDim, 32);
    EXPECT_EQ(model->layer(6).postAttnNorm.size(), 64u);
    EXPECT_EQ(model->layer(6).postFfnNorm.size(), 64u);
    EXPECT_EQ(model->layer(0).qNorm.size(), 32u);
    // The head dim (32) sets the scale, not embd / heads (16), below 62 layers.
    EXPECT_FLOAT_EQ(model->attentionScale(), 1.0f / std::sqrt(32.0f));

    // Global layers: the file's base and linear factor; local layers: base 10000, unscaled.
    const RopeConfig global = model->ropeConfig();
    EXPECT_FLOAT_EQ(global.freqBase, 300.0f);
    EXPECT_FLOAT_EQ(global.freqScale, 0.5f);
    EXPECT_TRUE(global.neox);
    const RopeConfig local = model->localRopeConfig();
    EXPECT_FLOAT_EQ(local.freqBase, 10000.0f);
    EXPECT_FLOAT_EQ(local.freqScale, 1.0f);
    EXPECT_EQ(local.extFactor, 0.0f);
    EXPECT_TRUE(local.neox);
    EXPECT_EQ(local.dims, 32);
}

TEST(Family, Gemma3QueryScaleAndLocalBaseFromTheFile)
{
    TinyModelSpec spec = gemma3Spec();
    spec.floatKeys.push_back({"gemma3.attention.query_pre_attn_scalar", 50.0f});
    spec.floatKeys.push_back({"gemma3.rope.freq_base_swa", 20000.0f});
    const ModelFile file(spec);
    const auto model = Model::load(file.path);
    EXPECT_FLOAT_EQ(model->attentionScale(), 1.0f / std::sqrt(50.0f));
    EXPECT_FLOAT_EQ(model->localRopeConfig().freqBase, 20000.0f);

    // Gemma 3 27B's rule without the key: 62 layers and embd / heads != head dim
    // scale by embd / heads (here 64 / 4 = 16, head dim 32). Described, not loaded.
    TinyModelSpec big = gemma3Spec();
    big.layers = 62;
    const ModelFile bigFile(big);
    const GgufFile gguf = GgufFile::open(bigFile.path);
    EXPECT_FLOAT_EQ(describeFamily(gguf, "gemma3").queryPreAttnScalar, 16.0f);
}

TEST(Family, Gemma3ErrorsNameTheMissingTensorOrKey)
{
    TinyModelSpec spec = gemma3Spec();
    spec.omitTensors = {"blk.3.post_attention_norm.weight"};
    EXPECT_TRUE(contains(loadError(spec), "missing tensor 'blk.3.post_attention_norm.weight'"));
    spec.omitTensors = {"blk.5.post_ffw_norm.weight"};
    EXPECT_TRUE(contains(loadError(spec), "missing tensor 'blk.5.post_ffw_norm.weight'"));
    spec.omitTensors = {"blk.0.attn_q_norm.weight"};
    EXPECT_TRUE(contains(loadError(spec), "missing tensor 'blk.0.attn_q_norm.weight'"));
    spec.omitTensors.clear();
    spec.wrongShapeTensor = "blk.2.post_ffw_norm.weight";
    EXPECT_TRUE(contains(loadError(spec), "'blk.2.post_ffw_norm.weight' has shape"));
    spec.wrongShapeTensor.clear();
    spec.slidingWindow = 0;  // not written
    EXPECT_TRUE(contains(loadError(spec), "missing key 'gemma3.attention.sliding_window'"));
}

TEST(Family, Gemma3LayerPatternKeyErrorsNameTheKey)
{
    TinyModelSpec spec = gemma3Spec();  // 7 layers
    spec.boolArrayKeys = {{"gemma3.attention.sliding_window_pattern", {true, true, false}}};
    EXPECT_TRUE(contains(loadError(spec), "'gemma3.attention.sliding_window_pattern' lists 3 layers, the model has 7"));
    spec.boolArrayKeys.clear();
    spec.intKeys = {{"gemma3.attention.sliding_window_pattern", 0}};
    EXPECT_TRUE(contains(loadError(spec), "key 'gemma3.attention.sliding_window_pattern' has the invalid value 0"));
    spec.intKeys = {{"gemma3.attention.sliding_window_pattern", 8}};
    EXPECT_TRUE(contains(loadError(spec), "key 'gemma3.attention.sliding_window_pattern' has the invalid value 8"));
    spec.intKeys.clear();
    spec.stringKeys.push_back({"gemma3.attention.sliding_window_pattern", "SSSSSL"});
    EXPECT_TRUE(contains(loadError(spec), "gemma3.attention.sliding_window_pattern")) << loadError(spec);
    // A period of 1: every layer global (the window never applies).
    spec.stringKeys.pop_back();
    spec.intKeys = {{"gemma3.attention.sliding_window_pattern", 1}};
    const ModelFile file(spec);
    EXPECT_EQ(Model::load(file.path)->layerPattern(), "7 global");
}

// Evidence comes from the global layers: a local layer sees its window only.
TEST(Family, Gemma3ObserverHearsTheGlobalLayersOnly)
{
    struct LayerRecorder : AttentionObserver {
        std::vector<std::pair<int, int>> ranges{{0, 4}};
        std::set<int> layers;
        const std::vector<std::pair<int, int>>& keyRanges() const override { return ranges; }
        void observe(int layer, int, const float*, float) override { layers.insert(layer); }
    };
    const ModelFile file(gemma3Spec());
    SessionOptions options;
    options.contextLength = 32;
    options.threads = 2;
    Session session(Model::load(file.path), options);
    session.prefill({5, 9, 14, 20, 31, 7, 8, 9, 10, 11, 12, 13});
    LayerRecorder recorder;
    session.setAttentionObserver(&recorder);
    session.decode(17);
    session.setAttentionObserver(nullptr);
    EXPECT_EQ(recorder.layers, std::set<int>{5});
}

TEST(Family, DescribeNamesTheFamilyParametersAndLayerPattern)
{
    TinyModelSpec spec;
    spec.architecture = "qwen3";
    const ModelFile file(spec);
    const auto model = Model::load(file.path);
    int64_t elements = 0;
    for (const GgufTensor& t : model->file().tensors())
        elements += t.elements();
    EXPECT_EQ(model->totalParameters(), elements);
    EXPECT_EQ(model->activeParameters(), elements);  // dense
    EXPECT_EQ(model->layerPattern(), "2 global");
    const std::string text = model->describe();
    EXPECT_TRUE(contains(text, "architecture qwen3 (Qwen3)")) << text;
    EXPECT_TRUE(contains(text, "layers 2 global, trained context 256")) << text;
    EXPECT_TRUE(contains(text, "active per token")) << text;
}

TEST(Family, UnsupportedArchitecturesAreNamedWithTheSupportedOnes)
{
    for (const char* arch : {"deepseek2", "llama4", "mamba", "gemma2"}) {
        const std::string path = tempModelPath("unsupported");
        GgufWriter w;
        w.setString("general.architecture", arch);
        w.write(path);
        try {
            Model::load(path);
            ADD_FAILURE() << arch << " loaded";
        } catch (const ModelError& error) {
            const std::string message = error.what();
            EXPECT_TRUE(contains(message, std::string("unsupported architecture '") + arch + "'")) << message;
            for (const std::string& supported : supportedArchitectures())
                EXPECT_TRUE(contains(message, supported)) << message;
        }
        std::filesystem::remove(path);
    }
}

} // namespace
