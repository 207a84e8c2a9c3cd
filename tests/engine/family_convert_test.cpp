// model/family_convert.h: a Llama written as qwen2 or phi3 is the same function, so the
// converted files must give the original's logits through their own families' code
// (NeoX rotation of permuted rows, zero biases, fused QKV and gate/up), with DCA too,
// past the trained context. What cannot be made exactly is refused by name.
#include "engine/gguf/gguf.h"
#include "engine/gguf/gguf_writer.h"
#include "engine/model/family_convert.h"
#include "engine/model/model.h"
#include "engine/session/session.h"

#include "tests/engine/test_models.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include <gtest/gtest.h>

using namespace folio;
using namespace folio::test;

namespace {

struct TempFile {
    std::string path;
    explicit TempFile(const std::string& stem) : path(tempModelPath(stem)) {}
    ~TempFile() { std::filesystem::remove(path); }
};

std::vector<float> logitsOf(const std::string& path, bool dca, std::vector<float>* decoded = nullptr)
{
    SessionOptions options;
    options.contextLength = 400;
    options.threads = 2;
    options.batchSize = 64;  // several micro-batches
    options.kvType = KvType::F32;
    options.dca.enabled = dca;
    options.dca.chunkSize = 48;
    options.dca.localWindow = 8;
    Session session(Model::load(path), options);
    std::vector<int32_t> tokens;
    for (int i = 0; i < 300; ++i)  // past the file's trained context of 256
        tokens.push_back((i * 37 + 11) % 90 + 3);
    session.prefill(tokens);
    std::vector<float> last = session.logits();
    if (decoded) {
        session.decode(42);
        *decoded = session.logits();
    }
    return last;
}

void expectSameLogits(const std::vector<float>& a, const std::vector<float>& b, const std::string& what)
{
    ASSERT_EQ(a.size(), b.size()) << what;
    float largest = 0.0f;
    for (float v : a)
        largest = std::max(largest, std::fabs(v));
    ASSERT_GT(largest, 0.0f);
    for (std::size_t i = 0; i < a.size(); ++i)  // only the summation order differs (permuted head dimensions)
        ASSERT_NEAR(a[i], b[i], 1e-4f * largest) << what << " logit " << i;
}

std::string convertTo(const std::string& llamaPath, const std::string& arch, const std::string& outPath)
{
    const GgufFile llama = GgufFile::open(llamaPath);
    GgufWriter writer;
    convertLlamaToFamily(llama, arch, writer);
    writer.write(outPath);
    return Model::load(outPath)->family().architecture;
}

std::string refusal(const TinyModelSpec& spec, const std::string& arch)
{
    const TempFile file("convert-refused");
    writeTinyModel(spec, file.path);
    const GgufFile llama = GgufFile::open(file.path);
    GgufWriter writer;
    try {
        convertLlamaToFamily(llama, arch, writer);
    } catch (const std::invalid_argument& error) {
        return error.what();
    }
    ADD_FAILURE() << "converted to " << arch;
    return {};
}

} // namespace

TEST(FamilyConvert, Qwen2AndPhi3CopiesGiveTheLlamasLogitsWithAndWithoutDca)
{
    for (GgmlType type : {GgmlType::F32, GgmlType::F16, GgmlType::Q8_0}) {
        TinyModelSpec spec;
        spec.type = type;
        spec.tiedOutput = type == GgmlType::F16;
        const TempFile llama("convert-llama");
        writeTinyModel(spec, llama.path);
        for (const std::string arch : {"qwen2", "phi3"}) {
            const TempFile copy("convert-" + arch);
            ASSERT_EQ(convertTo(llama.path, arch, copy.path), arch);
            for (bool dca : {false, true}) {
                const std::string what = arch + " " + std::string(traitsOf(type).name) + (dca ? " dca" : " plain");
                std::vector<float> llamaDecoded, copyDecoded;
                expectSameLogits(logitsOf(llama.path, dca, &llamaDecoded), logitsOf(copy.path, dca, &copyDecoded),
                                 what);
                expectSameLogits(llamaDecoded, copyDecoded, what + " decode");
            }
        }
    }
}

TEST(FamilyConvert, PartialRotaryDimensionsArePermutedOnlyWhereTheyRotate)
{
    TinyModelSpec spec;
    spec.ropeDims = 8;  // of a head dim of 16
    const TempFile llama("convert-partial");
    writeTinyModel(spec, llama.path);
    const TempFile copy("convert-partial-qwen2");
    convertTo(llama.path, "qwen2", copy.path);
    expectSameLogits(logitsOf(llama.path, false), logitsOf(copy.path, false), "qwen2, 8 of 16 dims rotated");
}

TEST(FamilyConvert, WhatCannotBeMadeExactlyIsRefusedByName)
{
    TinyModelSpec spec;
    EXPECT_NE(refusal(spec, "qwen3").find("'qwen3' cannot be made exactly"), std::string::npos);
    EXPECT_NE(refusal(spec, "gemma3").find("'gemma3' cannot be made exactly"), std::string::npos);
    spec.ropeFreqs = true;
    EXPECT_NE(refusal(spec, "qwen2").find("rope_freqs.weight"), std::string::npos);
    TinyModelSpec qwen3;
    qwen3.architecture = "qwen3";
    EXPECT_NE(refusal(qwen3, "phi3").find("must be a llama file, not 'qwen3'"), std::string::npos);
}
