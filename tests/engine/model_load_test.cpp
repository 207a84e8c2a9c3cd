// Model::load: hyper-parameters, defaults, tied output, rope_freqs, and errors
// that name the file and the tensor or key at fault.
#include "engine/gguf/gguf_writer.h"
#include "engine/model/model.h"

#include "tests/engine/test_models.h"

#include <filesystem>

#include <gtest/gtest.h>

using namespace folio;
using namespace folio::test;

namespace {

struct ModelFile {
    std::string path;
    explicit ModelFile(const TinyModelSpec& spec) : path(tempModelPath("load")) { writeTinyModel(spec, path); }
    ~ModelFile() { std::filesystem::remove(path); }
};

// The message of the ModelError that loading `spec` throws.
std::string loadError(const TinyModelSpec& spec)
{
    const ModelFile file(spec);
    try {
        Model::load(file.path);
    } catch (const ModelError& error) {
        const std::string message = error.what();
        EXPECT_NE(message.find(file.path), std::string::npos) << message;
        return message;
    }
    ADD_FAILURE() << "no error";
    return {};
}

TEST(ModelLoad, ReadsLlamaHyperParameters)
{
    TinyModelSpec spec;
    spec.vocab = 120;
    spec.ropeFreqs = true;
    const ModelFile file(spec);
    const auto model = Model::load(file.path);
    const ModelHyperParams& p = model->params();
    EXPECT_EQ(p.architecture, "llama");
    EXPECT_EQ(p.embeddingLength, 64);
    EXPECT_EQ(p.blockCount, 2);
    EXPECT_EQ(p.headCount, 4);
    EXPECT_EQ(p.headCountKv, 2);
    EXPECT_EQ(p.headDim, 16);
    EXPECT_EQ(p.ropeDims, 16);
    EXPECT_EQ(p.feedForwardLength, 128);
    EXPECT_EQ(p.vocabSize, 120);
    EXPECT_EQ(p.contextLength, 256);
    EXPECT_FALSE(p.ropeNeox);
    EXPECT_FLOAT_EQ(p.rmsEpsilon, 1e-5f);
    EXPECT_FALSE(model->tiedOutput());
    ASSERT_EQ(model->ropeFreqFactors().size(), 8u);
    EXPECT_EQ(model->ropeConfig().freqFactors.size(), 8u);
    EXPECT_EQ(model->layer(1).wq.rows, 64);
    EXPECT_TRUE(model->layer(0).bq.empty());
    EXPECT_TRUE(model->isEndOfGeneration(2));
    EXPECT_FALSE(model->isEndOfGeneration(1));
}

TEST(ModelLoad, Qwen2HasBiasesNeoxAndTiedOutput)
{
    TinyModelSpec spec;
    spec.architecture = "qwen2";
    spec.tiedOutput = true;
    const ModelFile file(spec);
    const auto model = Model::load(file.path);
    EXPECT_TRUE(model->params().ropeNeox);
    EXPECT_TRUE(model->ropeConfig().neox);
    EXPECT_FLOAT_EQ(model->params().rmsEpsilon, 1e-6f);
    EXPECT_TRUE(model->tiedOutput());
    EXPECT_EQ(model->output().data, model->tokenEmbedding().data);
    EXPECT_EQ(model->layer(0).bk.size(), 32u);
}

TEST(ModelLoad, MissingTensorIsNamed)
{
    TinyModelSpec spec;
    spec.omitTensors = {"blk.1.ffn_up.weight"};
    EXPECT_NE(loadError(spec).find("'blk.1.ffn_up.weight'"), std::string::npos);
    TinyModelSpec qwen;
    qwen.architecture = "qwen2";
    qwen.omitTensors = {"blk.0.attn_v.bias"};
    EXPECT_NE(loadError(qwen).find("'blk.0.attn_v.bias'"), std::string::npos);
}

TEST(ModelLoad, WrongShapeIsNamedWithBothShapes)
{
    TinyModelSpec spec;
    spec.wrongShapeTensor = "blk.0.attn_k.weight";
    const std::string message = loadError(spec);
    EXPECT_NE(message.find("'blk.0.attn_k.weight'"), std::string::npos) << message;
    EXPECT_NE(message.find("[32, 64]"), std::string::npos) << message;
    EXPECT_NE(message.find("expected [64, 32]"), std::string::npos) << message;
    spec.wrongShapeTensor = "output_norm.weight";
    EXPECT_NE(loadError(spec).find("'output_norm.weight'"), std::string::npos);
}

TEST(ModelLoad, UnsupportedArchitectureAndMissingKeysAreClear)
{
    const std::string path = tempModelPath("arch");
    GgufWriter w;
    w.setString("general.architecture", "mamba");
    w.write(path);
    try {
        Model::load(path);
        ADD_FAILURE() << "no error";
    } catch (const ModelError& error) {
        EXPECT_NE(std::string(error.what()).find("unsupported architecture 'mamba'"), std::string::npos);
    }
    GgufWriter llama;
    llama.setString("general.architecture", "llama");
    llama.setU32("llama.embedding_length", 64);
    llama.write(path);
    try {
        Model::load(path);
        ADD_FAILURE() << "no error";
    } catch (const ModelError& error) {
        EXPECT_NE(std::string(error.what()).find("'llama.context_length'"), std::string::npos) << error.what();
    }
    std::filesystem::remove(path);
    EXPECT_THROW(Model::load(path), ModelError);  // no file at all
}

TEST(ModelLoad, MemoryEstimateAndDescription)
{
    TinyModelSpec spec;
    const ModelFile file(spec);
    const auto model = Model::load(file.path);
    const MemoryEstimate estimate = model->memoryEstimate(1000, KvType::F16, 64);
    // 2 (K and V) x 2 layers x 2 KV heads x 16 dims x 1000 tokens x 2 bytes
    EXPECT_EQ(estimate.kvBytes, 2u * 2 * 2 * 16 * 1000 * 2);
    EXPECT_EQ(model->memoryEstimate(1000, KvType::F32, 64).kvBytes, 2 * estimate.kvBytes);
    EXPECT_GT(estimate.weightBytes, 2u * 64 * 96 * 4);
    EXPECT_GT(estimate.scratchBytes, 0u);
    EXPECT_EQ(estimate.total(), estimate.weightBytes + estimate.kvBytes + estimate.scratchBytes);
    const std::string text = model->describe();
    EXPECT_NE(text.find("llama"), std::string::npos);
    EXPECT_NE(text.find("2 layers"), std::string::npos);
    EXPECT_NE(text.find("4 heads (2 KV)"), std::string::npos);
}

} // namespace
