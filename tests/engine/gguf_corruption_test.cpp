// Damaged GGUF files: each corruption must be a GgufError that names the file and
// the key or tensor at fault, and no damage may crash the reader (the suite also
// runs under ASan/UBSan). The last test takes the same damage through Model::load
// for every family, whose keys the reader alone does not interpret.
#include "engine/gguf/gguf.h"
#include "engine/gguf/gguf_writer.h"
#include "engine/model/model.h"
#include "engine/session/session.h"

#include "tests/engine/test_models.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <random>

#include <gtest/gtest.h>
#include <unistd.h>

using namespace folio;
using namespace folio::test;

namespace {

std::string writeTemp(const std::vector<uint8_t>& bytes)
{
    static int counter = 0;
    const std::string path = (std::filesystem::path(::testing::TempDir()) /
                              ("gguf_corrupt_" + std::to_string(::getpid()) + "_" + std::to_string(counter++) + ".gguf"))
                                 .string();
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()),
                                                static_cast<std::streamsize>(bytes.size()));
    return path;
}

// Opens bytes as a file; returns the GgufError message, or "" when open() succeeded.
std::string openError(const std::vector<uint8_t>& bytes)
{
    const std::string path = writeTemp(bytes);
    std::string message;
    try {
        const GgufFile g = GgufFile::open(path);
        // Whatever open() accepted must be safe to read in full.
        for (const std::string& key : g.keys())
            (void)g.describeValue(key, 4);
        for (const GgufTensor& t : g.tensors()) {
            EXPECT_LE(g.dataSectionOffset() + t.offset + t.nbytes, g.fileSize()) << t.name;
            volatile uint8_t sink = t.data[0];
            sink = t.data[t.nbytes - 1];
            (void)sink;
        }
    } catch (const GgufError& e) {
        message = e.what();
        EXPECT_EQ(message.rfind(path, 0), 0u) << "message should start with the path: " << message;
        if (message.empty())
            message = "(empty message)";
    }
    std::filesystem::remove(path);
    return message;
}

// A small but complete model file, plus where its fields are.
struct Sample {
    std::vector<uint8_t> bytes;
    std::size_t at(std::string_view text) const  // offset of the first occurrence of text
    {
        const auto it = std::search(bytes.begin(), bytes.end(), text.begin(), text.end());
        EXPECT_NE(it, bytes.end()) << text;
        return static_cast<std::size_t>(it - bytes.begin());
    }
    template <typename T>
    void put(std::size_t offset, T value) { std::memcpy(bytes.data() + offset, &value, sizeof value); }
};

Sample makeSample()
{
    GgufWriter w;
    w.setString("general.architecture", "llama");
    w.setString("general.name", "sample");
    w.setU32("llama.block_count", 2);
    w.setF32("llama.attention.layer_norm_rms_epsilon", 1e-5f);
    w.setStringArray("tokenizer.ggml.tokens", {"<unk>", "<s>", "</s>", "hello", "world"});
    w.setF32Array("tokenizer.ggml.scores", {0.f, 0.f, 0.f, -1.f, -2.f});
    w.setI32Array("tokenizer.ggml.token_type", {2, 3, 3, 1, 1});
    std::vector<uint8_t> q8(rowBytes(GgmlType::Q8_0, 64) * 3, 0x5a);
    std::vector<float> norm(64, 1.0f);
    std::vector<uint8_t> q4k(rowBytes(GgmlType::Q4_K, 256), 0x33);
    w.addTensor("tok_embd.weight", GgmlType::Q8_0, {64, 3}, q8.data(), q8.size());
    w.addTensor("output_norm.weight", GgmlType::F32, {64}, norm.data(), norm.size() * 4);
    w.addTensor("blk.0.ffn_down.weight", GgmlType::Q4_K, {256, 1}, q4k.data(), q4k.size());
    return Sample{w.serialize()};
}

// Offsets of a tensor-info record's fields, from the end of its name.
struct TensorInfoAt {
    std::size_t nDims, dims, type, offset;
};
TensorInfoAt tensorInfo(const Sample& s, std::string_view name, uint32_t nDims)
{
    const std::size_t end = s.at(name) + name.size();
    return {end, end + 4, end + 4 + 8 * nDims, end + 8 + 8 * nDims};
}

void expectError(const std::vector<uint8_t>& bytes, std::initializer_list<std::string_view> mentions)
{
    const std::string message = openError(bytes);
    ASSERT_FALSE(message.empty()) << "open() accepted a damaged file";
    for (std::string_view m : mentions)
        EXPECT_NE(message.find(m), std::string::npos) << "'" << m << "' missing from: " << message;
}

} // namespace

TEST(GgufCorruption, SampleIsValid) { EXPECT_EQ(openError(makeSample().bytes), ""); }

TEST(GgufCorruption, RejectsBadHeaders)
{
    Sample s = makeSample();
    s.bytes[0] = 'X';
    expectError(s.bytes, {"not a GGUF file"});

    s = makeSample();
    s.put<uint32_t>(4, 1);
    expectError(s.bytes, {"version 1"});
    s.put<uint32_t>(4, 7);
    expectError(s.bytes, {"unsupported GGUF version 7"});
    s.put<uint32_t>(4, __builtin_bswap32(3));  // what a big-endian writer leaves
    expectError(s.bytes, {"big-endian"});

    expectError({}, {"empty"});
    expectError({'G', 'G', 'U', 'F', 3, 0}, {"truncated", "version"});
    expectError({'G', 'G', 'U', 'F', 3, 0, 0, 0, 1}, {"truncated", "header"});

    const std::string message = openError(makeSample().bytes);  // sanity: untouched file opens
    EXPECT_EQ(message, "");
    try {
        (void)GgufFile::open("/nonexistent/dir/model.gguf");
        FAIL();
    } catch (const GgufError& e) {
        EXPECT_NE(std::string(e.what()).find("/nonexistent/dir/model.gguf: cannot open"), std::string::npos);
    }
}

TEST(GgufCorruption, RejectsCountsTheFileCannotHold)
{
    Sample s = makeSample();
    s.put<uint64_t>(8, uint64_t{1} << 60);  // tensor count
    expectError(s.bytes, {"tensor count"});
    s = makeSample();
    s.put<uint64_t>(16, ~uint64_t{0});      // metadata count
    expectError(s.bytes, {"metadata count"});
    s = makeSample();
    s.put<uint64_t>(16, 9);                 // one more key than present: runs into tensor infos
    EXPECT_NE(openError(s.bytes), "");
}

TEST(GgufCorruption, RejectsBadStringsAndArrays)
{
    Sample s = makeSample();
    s.put<uint64_t>(24, uint64_t{1} << 62);  // length of the first key
    expectError(s.bytes, {"metadata entry 0", "key length"});

    s = makeSample();
    const std::size_t nameValue = s.at("sample") - 8;
    s.put<uint64_t>(nameValue, 1000000);
    expectError(s.bytes, {"metadata key 'general.name'", "string length"});

    s = makeSample();
    const std::size_t tokensArray = s.at("tokenizer.ggml.tokens") + 21 + 4;  // after key and value type
    s.put<uint64_t>(tokensArray + 4, uint64_t{1} << 59);
    expectError(s.bytes, {"metadata key 'tokenizer.ggml.tokens'", "array length"});
    s.put<uint32_t>(tokensArray, 77);
    expectError(s.bytes, {"metadata key 'tokenizer.ggml.tokens'", "unknown array element type 77"});

    s = makeSample();
    const std::size_t scoresArray = s.at("tokenizer.ggml.scores") + 21 + 4;
    s.put<uint64_t>(scoresArray + 4, uint64_t{1} << 62);  // count * 4 would wrap around
    expectError(s.bytes, {"metadata key 'tokenizer.ggml.scores'", "runs past the end"});

    s = makeSample();
    s.put<uint32_t>(s.at("llama.block_count") + 17, 13);
    expectError(s.bytes, {"metadata key 'llama.block_count'", "unknown value type 13"});
}

TEST(GgufCorruption, RejectsDuplicates)
{
    GgufWriter w;
    w.setU32("key.a", 1);
    w.setU32("key.b", 2);
    std::vector<uint8_t> bytes = w.serialize();
    bytes[Sample{bytes}.at("key.b") + 4] = 'a';
    expectError(bytes, {"metadata key 'key.a'", "duplicate key"});

    GgufWriter t;
    const float one = 1.0f;
    t.addTensor("w.1", GgmlType::F32, {1}, &one, 4);
    t.addTensor("w.2", GgmlType::F32, {1}, &one, 4);
    bytes = t.serialize();
    bytes[Sample{bytes}.at("w.2") + 2] = '1';
    expectError(bytes, {"tensor 'w.1'", "duplicate tensor name"});
}

TEST(GgufCorruption, RejectsBadTensorShapes)
{
    Sample s = makeSample();
    TensorInfoAt info = tensorInfo(s, "tok_embd.weight", 2);
    s.put<uint32_t>(info.nDims, 0);
    expectError(s.bytes, {"tensor 'tok_embd.weight'", "0 dimensions"});
    s.put<uint32_t>(info.nDims, 5);
    expectError(s.bytes, {"tensor 'tok_embd.weight'", "5 dimensions"});

    s = makeSample();
    s.put<uint64_t>(info.dims + 8, 0);
    expectError(s.bytes, {"tensor 'tok_embd.weight'", "dimension 1 is 0"});
    s.put<int64_t>(info.dims + 8, -3);
    expectError(s.bytes, {"tensor 'tok_embd.weight'", "dimension 1 is -3"});

    s = makeSample();
    s.put<uint64_t>(info.dims, uint64_t{1} << 40);
    s.put<uint64_t>(info.dims + 8, uint64_t{1} << 40);
    expectError(s.bytes, {"tensor 'tok_embd.weight'", "overflows"});

    s = makeSample();
    s.put<uint64_t>(info.dims, 33);
    expectError(s.bytes, {"tensor 'tok_embd.weight'", "not a multiple", "block size 32"});

    s = makeSample();
    s.put<uint64_t>(info.dims + 8, 1000);  // more rows than the file holds
    expectError(s.bytes, {"tensor 'tok_embd.weight'", "runs past the end"});
}

TEST(GgufCorruption, RejectsUnknownTensorTypes)
{
    Sample s = makeSample();
    const TensorInfoAt info = tensorInfo(s, "blk.0.ffn_down.weight", 2);
    s.put<uint32_t>(info.type, 99);
    expectError(s.bytes, {"tensor 'blk.0.ffn_down.weight'", "unknown tensor type 99"});
    s.put<uint32_t>(info.type, 4);  // Q4_2: removed from ggml, a hole in the numbering
    expectError(s.bytes, {"tensor 'blk.0.ffn_down.weight'", "unknown tensor type 4"});
}

TEST(GgufCorruption, RejectsBadTensorOffsets)
{
    Sample s = makeSample();
    const TensorInfoAt info = tensorInfo(s, "output_norm.weight", 1);
    s.put<uint64_t>(info.offset, uint64_t{1} << 20);
    expectError(s.bytes, {"tensor 'output_norm.weight'", "runs past the end"});
    s.put<uint64_t>(info.offset, ~uint64_t{0} - 31);  // offset + nbytes wraps around
    expectError(s.bytes, {"tensor 'output_norm.weight'", "runs past the end"});
    s.put<uint64_t>(info.offset, 7);
    expectError(s.bytes, {"tensor 'output_norm.weight'", "not a multiple of the alignment 32"});
}

TEST(GgufCorruption, RejectsBadAlignment)
{
    for (uint32_t bad : {0u, 48u, 3u}) {
        GgufWriter w;
        w.setU32("general.alignment", bad);
        expectError(w.serialize(), {"metadata key 'general.alignment'", "power of two"});
    }
    GgufWriter w;
    w.setString("general.alignment", "32");
    expectError(w.serialize(), {"metadata key 'general.alignment'", "integer"});
}

TEST(GgufCorruption, RejectsBoolsThatAreNotZeroOrOne)
{
    GgufWriter w;
    w.setBool("flag", true);
    Sample s{w.serialize()};
    s.bytes[s.at("flag") + 4 + 4] = 2;  // after the key and the value type
    std::vector<uint8_t> bytes = s.bytes;
    expectError(bytes, {"metadata key 'flag'", "bool"});
}

TEST(GgufCorruption, RejectsDeeplyNestedArrays)
{
    // 64 arrays each holding one array: deeper than any real file needs.
    std::vector<uint8_t> value;
    for (int i = 0; i < 64; ++i) {
        auto header = GgufWriter::encodeArrayHeader(GgufValueType::Array, 1);
        value.insert(value.end(), header.begin(), header.end());
    }
    auto last = GgufWriter::encodeArrayHeader(GgufValueType::UInt8, 0);
    value.insert(value.end(), last.begin(), last.end());
    GgufWriter w;
    w.setRaw("deep", GgufValueType::Array, value);
    expectError(w.serialize(), {"metadata key 'deep'", "nested"});
}

TEST(GgufCorruption, EveryTruncationFailsCleanly)
{
    const Sample s = makeSample();
    // Cutting only the padding after the last tensor's data is harmless; any other cut is not.
    const std::string path = writeTemp(s.bytes);
    const GgufFile whole = GgufFile::open(path);
    const GgufTensor& last = whole.tensors().back();
    const std::size_t lastDataEnd = whole.dataSectionOffset() + last.offset + last.nbytes;
    std::filesystem::remove(path);
    std::size_t failures = 0;
    for (std::size_t length = 0; length < s.bytes.size(); ++length) {
        const std::vector<uint8_t> cut(s.bytes.begin(), s.bytes.begin() + static_cast<std::ptrdiff_t>(length));
        const std::string message = openError(cut);
        if (!message.empty())
            ++failures;
        else
            EXPECT_GE(length, lastDataEnd) << "a file cut at " << length << " bytes was accepted";
    }
    EXPECT_EQ(failures, lastDataEnd);
}

TEST(GgufCorruption, RandomDamageNeverCrashes)
{
    const Sample s = makeSample();
    std::mt19937 rng(20240611);
    int rejected = 0;
    constexpr int kVariants = 400;
    for (int variant = 0; variant < kVariants; ++variant) {
        std::vector<uint8_t> bytes = s.bytes;
        // Header and tensor infos are where damage matters; favour the first part.
        const std::size_t span = variant % 2 == 0 ? std::min<std::size_t>(bytes.size(), 700) : bytes.size();
        const int flips = 1 + static_cast<int>(rng() % 6);
        for (int i = 0; i < flips; ++i) {
            const std::size_t at = rng() % span;
            switch (rng() % 3) {
            case 0: bytes[at] ^= static_cast<uint8_t>(1u << (rng() % 8)); break;
            case 1: bytes[at] = static_cast<uint8_t>(rng()); break;
            default: bytes[at] = 0xff; break;
            }
        }
        if (variant % 5 == 0)
            bytes.resize(rng() % bytes.size());
        if (!openError(bytes).empty())
            ++rejected;
    }
    // Most damage in the first 700 bytes is caught; the point is that nothing crashed.
    EXPECT_GT(rejected, kVariants / 4);
}

// Damage to the metadata of each family's file (where the family keys live) is a
// ModelError or a model that loads and runs; never a crash (ASan/UBSan in CI).
TEST(GgufCorruption, DamagedFamilyMetadataIsAModelErrorOrRuns)
{
    std::mt19937 rng(1717);
    for (const char* arch : {"llama", "qwen2", "qwen3", "phi3", "qwen3moe"}) {
        TinyModelSpec spec;
        spec.architecture = arch;
        spec.layers = 1;
        spec.vocab = 40;
        if (spec.architecture == "phi3")
            spec.longRopeOriginalContext = 32;
        const std::string path = tempModelPath("fuzz");
        writeTinyModel(spec, path);
        std::vector<char> original;
        std::size_t header = 0;
        {
            std::ifstream in(path, std::ios::binary);
            original.assign(std::istreambuf_iterator<char>(in), {});
            header = GgufFile::open(path).dataSectionOffset();
        }
        int rejected = 0, ran = 0;
        for (int variant = 0; variant < 60; ++variant) {
            std::vector<char> bytes = original;
            for (int i = 1 + static_cast<int>(rng() % 4); i > 0; --i)
                bytes[rng() % header] ^= static_cast<char>(1u << (rng() % 8));
            std::ofstream(path, std::ios::binary | std::ios::trunc).write(bytes.data(), std::streamsize(bytes.size()));
            std::shared_ptr<const Model> model;
            try {
                model = Model::load(path);
            } catch (const ModelError&) {
                ++rejected;
                continue;
            }
            try {  // what loaded must run (small contexts only: a damaged length may be huge)
                SessionOptions options;
                options.contextLength = 8;
                options.threads = 1;
                Session session(model, options);
                session.decode(1);
                ++ran;
            } catch (const std::invalid_argument&) {
                ++rejected;  // e.g. a head dim the KV type cannot hold
            }
        }
        EXPECT_GT(rejected, 0) << arch;
        EXPECT_EQ(rejected + ran, 60) << arch;
        std::filesystem::remove(path);
    }
}
