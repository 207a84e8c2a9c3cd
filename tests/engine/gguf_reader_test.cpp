// GgufWriter -> GgufFile round trips: every value type, arrays (nested too),
// tensors of several types, version 2 files and non-default alignment.
#include "engine/gguf/gguf.h"
#include "engine/gguf/gguf_writer.h"

#include "tests/support/shared_data.h"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>

#include <gtest/gtest.h>
#include <unistd.h>

using namespace folio;

namespace {

std::string tempPath(const std::string& stem)
{
    static int counter = 0;
    return (std::filesystem::path(::testing::TempDir()) /
            ("gguf_reader_" + std::to_string(::getpid()) + "_" + std::to_string(counter++) + "_" + stem + ".gguf"))
        .string();
}

// Writes bytes to a fresh file, removed again when the holder goes away.
struct TempFile {
    std::string path;
    explicit TempFile(const std::vector<uint8_t>& bytes, const std::string& stem = "t") : path(tempPath(stem))
    {
        std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()),
                                                    static_cast<std::streamsize>(bytes.size()));
    }
    ~TempFile() { std::filesystem::remove(path); }
};

template <typename T>
void appendLe(std::vector<uint8_t>& out, T v)
{
    const std::size_t at = out.size();
    out.resize(at + sizeof v);
    std::memcpy(out.data() + at, &v, sizeof v);
}

} // namespace

TEST(GgufReader, RoundTripsEveryScalarType)
{
    GgufWriter w;
    w.setString("general.architecture", "llama");
    w.setU8("u8", 250);
    w.setI8("i8", -7);
    w.setU16("u16", 65000);
    w.setI16("i16", -30000);
    w.setU32("u32", 4000000000u);
    w.setI32("i32", -2000000000);
    w.setU64("u64", 1ull << 40);
    w.setI64("i64", -(1ll << 50));
    w.setF32("f32", 0.5f);
    w.setF64("f64", 1e-300);
    w.setBool("yes", true);
    w.setBool("no", false);
    w.setString("empty", "");
    w.setU64("huge", std::numeric_limits<uint64_t>::max());
    TempFile file(w.serialize());

    const GgufFile g = GgufFile::open(file.path);
    EXPECT_EQ(g.version(), 3u);
    EXPECT_EQ(g.architecture(), "llama");
    EXPECT_EQ(g.getInt("u8"), 250);
    EXPECT_EQ(g.getInt("i8"), -7);
    EXPECT_EQ(g.getInt("u16"), 65000);
    EXPECT_EQ(g.getInt("i16"), -30000);
    EXPECT_EQ(g.getInt("u32"), 4000000000ll);
    EXPECT_EQ(g.getInt("i32"), -2000000000);
    EXPECT_EQ(g.getInt("u64"), 1ll << 40);
    EXPECT_EQ(g.getInt("i64"), -(1ll << 50));
    EXPECT_EQ(g.getFloat("f32"), 0.5);
    EXPECT_EQ(g.getFloat("f64"), 1e-300);
    EXPECT_EQ(g.getFloat("i32"), -2000000000.0);  // integers are numbers too
    EXPECT_EQ(g.getBool("yes"), true);
    EXPECT_EQ(g.getBool("no"), false);
    EXPECT_EQ(g.getString("empty"), "");
    EXPECT_EQ(g.typeOf("u16"), GgufValueType::UInt16);
    EXPECT_EQ(g.typeOf("f64"), GgufValueType::Float64);

    // Absent keys are empty optionals; present keys of another type are errors.
    EXPECT_FALSE(g.has("missing"));
    EXPECT_FALSE(g.getInt("missing").has_value());
    EXPECT_FALSE(g.getString("missing").has_value());
    EXPECT_THROW(g.typeOf("missing"), GgufError);
    EXPECT_THROW(g.getString("u8"), GgufError);
    EXPECT_THROW(g.getInt("general.architecture"), GgufError);
    EXPECT_THROW(g.getInt("f32"), GgufError);
    EXPECT_THROW(g.getBool("u8"), GgufError);
    EXPECT_THROW(g.getFloat("yes"), GgufError);
    try {
        (void)g.getInt("huge");
        FAIL() << "u64 beyond int64 must not read as int64";
    } catch (const GgufError& e) {
        EXPECT_NE(std::string(e.what()).find("'huge'"), std::string::npos) << e.what();
    }
    EXPECT_EQ(g.getFloat("huge"), 18446744073709551615.0);

    const std::vector<std::string> expectedKeys{"general.architecture", "u8", "i8", "u16", "i16", "u32", "i32",
                                                "u64", "i64", "f32", "f64", "yes", "no", "empty", "huge"};
    EXPECT_EQ(g.keys(), expectedKeys);
    EXPECT_TRUE(g.tensors().empty());
}

TEST(GgufReader, RoundTripsArrays)
{
    GgufWriter w;
    const std::vector<std::string> tokens{"<s>", "</s>", "hello", "", "\xe2\x96\x81world"};
    w.setStringArray("tokenizer.ggml.tokens", tokens);
    w.setF32Array("scores", {0.f, -1.5f, 3.25f});
    w.setI32Array("types", {1, 2, -3});
    w.setI64Array("big", {std::numeric_limits<int64_t>::min(), 0, 7});
    w.setF32Array("none", {});

    std::vector<uint8_t> f64s = GgufWriter::encodeArrayHeader(GgufValueType::Float64, 2);
    appendLe(f64s, 0.25);
    appendLe(f64s, -8.0);
    w.setRaw("f64s", GgufValueType::Array, f64s);

    std::vector<uint8_t> u8s = GgufWriter::encodeArrayHeader(GgufValueType::UInt8, 3);
    u8s.insert(u8s.end(), {1, 200, 255});
    w.setRaw("u8s", GgufValueType::Array, u8s);

    // [[1, 2], [], [3]] as u16, and [[ "a" ], [ "bc", "d" ]] as strings.
    std::vector<uint8_t> nested = GgufWriter::encodeArrayHeader(GgufValueType::Array, 3);
    auto appendU16Array = [&](std::vector<uint16_t> items) {
        auto header = GgufWriter::encodeArrayHeader(GgufValueType::UInt16, items.size());
        nested.insert(nested.end(), header.begin(), header.end());
        for (uint16_t v : items)
            appendLe(nested, v);
    };
    appendU16Array({1, 2});
    appendU16Array({});
    appendU16Array({3});
    w.setRaw("nested", GgufValueType::Array, nested);

    std::vector<uint8_t> nestedStrings = GgufWriter::encodeArrayHeader(GgufValueType::Array, 2);
    for (const std::vector<std::string>& inner : {std::vector<std::string>{"a"}, std::vector<std::string>{"bc", "d"}}) {
        auto header = GgufWriter::encodeArrayHeader(GgufValueType::String, inner.size());
        nestedStrings.insert(nestedStrings.end(), header.begin(), header.end());
        for (const std::string& s : inner)
            GgufWriter::appendString(nestedStrings, s);
    }
    w.setRaw("nested_strings", GgufValueType::Array, nestedStrings);
    w.setU32("after", 42);  // proves the parser walked past the nested arrays correctly
    TempFile file(w.serialize());

    const GgufFile g = GgufFile::open(file.path);
    EXPECT_EQ(g.getStringArray("tokenizer.ggml.tokens"), tokens);
    EXPECT_EQ(g.arrayLength("tokenizer.ggml.tokens"), tokens.size());
    EXPECT_EQ(g.arrayElementType("tokenizer.ggml.tokens"), GgufValueType::String);
    EXPECT_EQ(g.getFloatArray("scores"), (std::vector<float>{0.f, -1.5f, 3.25f}));
    EXPECT_EQ(g.getIntArray("types"), (std::vector<int64_t>{1, 2, -3}));
    EXPECT_EQ(g.getIntArray("big"), (std::vector<int64_t>{std::numeric_limits<int64_t>::min(), 0, 7}));
    EXPECT_TRUE(g.getFloatArray("none").empty());
    EXPECT_EQ(g.arrayLength("none"), 0u);
    EXPECT_EQ(g.getFloatArray("f64s"), (std::vector<float>{0.25f, -8.f}));
    EXPECT_EQ(g.getIntArray("u8s"), (std::vector<int64_t>{1, 200, 255}));
    EXPECT_EQ(g.arrayElementType("nested"), GgufValueType::Array);
    EXPECT_EQ(g.arrayLength("nested"), 3u);
    EXPECT_EQ(g.describeValue("nested"), "[[1, 2], [], [3]]");
    EXPECT_EQ(g.describeValue("nested_strings"), "[[\"a\"], [\"bc\", \"d\"]]");
    EXPECT_EQ(g.getInt("after"), 42);

    // Missing arrays are empty; wrong element types are errors.
    EXPECT_TRUE(g.getStringArray("missing").empty());
    EXPECT_EQ(g.arrayLength("missing"), 0u);
    EXPECT_THROW(g.arrayElementType("missing"), GgufError);
    EXPECT_THROW(g.arrayElementType("after"), GgufError);
    EXPECT_THROW(g.getStringArray("scores"), GgufError);
    EXPECT_THROW(g.getFloatArray("types"), GgufError);
    EXPECT_THROW(g.getIntArray("scores"), GgufError);
    EXPECT_THROW(g.getIntArray("nested"), GgufError);
    EXPECT_THROW(g.getStringArray("after"), GgufError);
}

TEST(GgufReader, DescribesValuesForAViewer)
{
    GgufWriter w;
    w.setString("name", "Tiny \"model\"\n");
    w.setF32("eps", 1e-5f);
    w.setBool("flag", true);
    w.setI32Array("ids", {0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
    w.setStringArray("words", {"a", "b"});
    TempFile file(w.serialize());
    const GgufFile g = GgufFile::open(file.path);
    EXPECT_EQ(g.describeValue("name"), "\"Tiny \\\"model\\\"\\n\"");
    EXPECT_EQ(g.describeValue("flag"), "true");
    EXPECT_EQ(g.describeValue("ids", 3), "[0, 1, 2, ... (10 i32 items)]");
    EXPECT_EQ(g.describeValue("words"), "[\"a\", \"b\"]");
    EXPECT_NE(g.describeValue("eps").find("1e-05"), std::string::npos) << g.describeValue("eps");
    EXPECT_THROW(g.describeValue("missing"), GgufError);
}

TEST(GgufReader, RoundTripsTensorsOfSeveralTypes)
{
    std::vector<float> f32(4 * 3);
    for (std::size_t i = 0; i < f32.size(); ++i)
        f32[i] = static_cast<float>(i) * 0.5f;
    std::vector<uint8_t> q8(rowBytes(GgmlType::Q8_0, 64) * 2);
    for (std::size_t i = 0; i < q8.size(); ++i)
        q8[i] = static_cast<uint8_t>(i * 7);
    std::vector<uint8_t> q4k(rowBytes(GgmlType::Q4_K, 256), 0xab);
    std::vector<uint16_t> f16(5 * 2 * 3 * 1, 0x3c00);

    GgufWriter w;
    w.setString("general.architecture", "qwen2");
    w.addTensor("a.weight", GgmlType::F32, {4, 3}, f32.data(), f32.size() * 4);
    w.addTensor("b.weight", GgmlType::Q8_0, {64, 2}, q8.data(), q8.size());
    w.addTensor("c.weight", GgmlType::Q4_K, {256}, q4k.data(), q4k.size());
    w.addTensor("d.weight", GgmlType::F16, {5, 2, 3, 1}, f16.data(), f16.size() * 2);
    EXPECT_THROW(w.addTensor("bad", GgmlType::Q8_0, {33}, q8.data(), 34), std::invalid_argument);
    EXPECT_THROW(w.addTensor("bad", GgmlType::F32, {4}, f32.data(), 15), std::invalid_argument);
    TempFile file(w.serialize());

    const GgufFile g = GgufFile::open(file.path);
    EXPECT_EQ(g.architecture(), "qwen2");
    ASSERT_EQ(g.tensors().size(), 4u);
    EXPECT_EQ(g.dataSectionOffset() % 32, 0u);

    const GgufTensor* a = g.findTensor("a.weight");
    ASSERT_NE(a, nullptr);
    EXPECT_EQ(a->type, GgmlType::F32);
    EXPECT_EQ(a->dims, (std::vector<int64_t>{4, 3}));
    EXPECT_EQ(a->elements(), 12);
    EXPECT_EQ(a->rows(), 3);
    EXPECT_EQ(a->nbytes, 48u);
    EXPECT_EQ(std::memcmp(a->data, f32.data(), a->nbytes), 0);

    const GgufTensor* b = g.findTensor("b.weight");
    ASSERT_NE(b, nullptr);
    EXPECT_EQ(b->type, GgmlType::Q8_0);
    EXPECT_EQ(b->nbytes, q8.size());
    EXPECT_EQ(b->offset % 32, 0u);
    EXPECT_EQ(std::memcmp(b->data, q8.data(), q8.size()), 0);

    const GgufTensor* c = g.findTensor("c.weight");
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(c->rows(), 1);
    EXPECT_EQ(c->nbytes, 144u);
    EXPECT_EQ(std::memcmp(c->data, q4k.data(), 144), 0);

    const GgufTensor* d = g.findTensor("d.weight");
    ASSERT_NE(d, nullptr);
    EXPECT_EQ(d->dims.size(), 4u);
    EXPECT_EQ(d->rows(), 6);
    EXPECT_EQ(std::memcmp(d->data, f16.data(), d->nbytes), 0);

    EXPECT_EQ(g.findTensor("output.weight"), nullptr);
    for (const GgufTensor& t : g.tensors())
        EXPECT_LE(g.dataSectionOffset() + t.offset + t.nbytes, g.fileSize()) << t.name;
}

TEST(GgufReader, ReadsVersion2Files)
{
    GgufWriter w;
    w.setString("general.architecture", "llama");
    w.setStringArray("tokenizer.ggml.tokens", {"a", "b"});
    const float value = 2.0f;
    w.addTensor("x", GgmlType::F32, {1}, &value, 4);
    std::vector<uint8_t> bytes = w.serialize();
    bytes[4] = 2;  // v2 differs from v3 only in the version field (both use u64 counts)
    TempFile file(bytes);
    const GgufFile g = GgufFile::open(file.path);
    EXPECT_EQ(g.version(), 2u);
    EXPECT_EQ(g.getStringArray("tokenizer.ggml.tokens"), (std::vector<std::string>{"a", "b"}));
    float read = 0;
    std::memcpy(&read, g.findTensor("x")->data, 4);
    EXPECT_EQ(read, 2.0f);
}

TEST(GgufReader, HonoursNonDefaultAlignment)
{
    for (uint32_t alignment : {1u, 8u, 64u, 256u}) {
        GgufWriter w;
        w.setAlignment(alignment);
        w.setString("k", "abc");
        std::vector<uint8_t> first(rowBytes(GgmlType::Q4_0, 32), 0x11);
        std::vector<uint8_t> second(rowBytes(GgmlType::Q4_0, 64), 0x22);
        w.addTensor("first", GgmlType::Q4_0, {32}, first.data(), first.size());
        w.addTensor("second", GgmlType::Q4_0, {64}, second.data(), second.size());
        TempFile file(w.serialize());
        const GgufFile g = GgufFile::open(file.path);
        EXPECT_EQ(g.alignment(), alignment);
        EXPECT_EQ(g.dataSectionOffset() % alignment, 0u);
        const GgufTensor* s = g.findTensor("second");
        ASSERT_NE(s, nullptr);
        EXPECT_EQ(s->offset % alignment, 0u);
        EXPECT_GE(s->offset, first.size());
        EXPECT_EQ(std::memcmp(s->data, second.data(), second.size()), 0);
        EXPECT_EQ(std::memcmp(g.findTensor("first")->data, first.data(), first.size()), 0);
        if (alignment != 32) {
            EXPECT_EQ(g.getInt("general.alignment"), alignment);
        }
    }
    GgufWriter w;
    EXPECT_THROW(w.setAlignment(48), std::invalid_argument);
}

TEST(GgufReader, IsMovableAndKeepsTheMapping)
{
    GgufWriter w;
    w.setString("general.architecture", "llama");
    const float value = 3.0f;
    w.addTensor("x", GgmlType::F32, {1}, &value, 4);
    TempFile file(w.serialize());
    GgufFile a = GgufFile::open(file.path);
    GgufFile b = std::move(a);
    EXPECT_EQ(b.architecture(), "llama");
    float read = 0;
    std::memcpy(&read, b.findTensor("x")->data, 4);
    EXPECT_EQ(read, 3.0f);
    a = std::move(b);
    EXPECT_EQ(a.path(), file.path);
    EXPECT_EQ(a.fileSize(), w.serialize().size());
}

TEST(GgufWriter, WriteReportsIoErrors)
{
    GgufWriter w;
    w.setString("k", "v");
    EXPECT_THROW(w.write(tempPath("dir") + "/no/such/dir/x.gguf"), GgufError);
    const std::string path = tempPath("written");
    w.write(path);
    EXPECT_EQ(GgufFile::open(path).getString("k"), "v");
    std::filesystem::remove(path);
}

TEST(GgufReader, OpensEverySharedVocabulary)
{
    FOLIO_REQUIRE_SHARED("vocab");
    int opened = 0;
    for (const auto& entry : std::filesystem::directory_iterator(folio::test::sharedDir() / "vocab")) {
        if (entry.path().extension() != ".gguf")
            continue;
        SCOPED_TRACE(entry.path().string());
        const GgufFile g = GgufFile::open(entry.path().string());
        const std::vector<std::string> tokens = g.getStringArray("tokenizer.ggml.tokens");
        EXPECT_GT(tokens.size(), 100u);
        EXPECT_EQ(tokens.size(), g.arrayLength("tokenizer.ggml.tokens"));
        if (g.has("tokenizer.ggml.scores")) {
            EXPECT_EQ(g.getFloatArray("tokenizer.ggml.scores").size(), tokens.size());
        }
        if (g.has("tokenizer.ggml.token_type")) {
            EXPECT_EQ(g.getIntArray("tokenizer.ggml.token_type").size(), tokens.size());
        }
        for (const std::string& key : g.keys())
            EXPECT_FALSE(g.describeValue(key).empty()) << key;
        ++opened;
    }
    EXPECT_GT(opened, 0);
}
