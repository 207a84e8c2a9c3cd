// The conformance vectors of llama.cpp (shared/vocab/ggml-vocab-*.gguf with
// .inp/.out), and the project's own under tests/data/vocab (Gemma 3: ids from
// the Hugging Face tokenizer, see tools/spm_vocab_gguf.py): every string must
// encode to exactly the expected ids, and decode back to itself.
#include "engine/gguf/gguf.h"
#include "engine/tokenizer/tokenizer.h"
#include "support/shared_data.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

namespace {

std::string readFile(const std::filesystem::path& path)
{
    std::ifstream in(path, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

// Each string is followed by "\n__ggml_vocab_test__\n"; the newline before the
// separator line belongs to the separator, not to the string.
std::vector<std::string> readInputs(const std::filesystem::path& path)
{
    static const std::string kSeparator = "\n__ggml_vocab_test__\n";
    const std::string all = readFile(path);
    std::vector<std::string> inputs;
    std::size_t pos = 0;
    while (pos < all.size()) {
        const std::size_t next = all.find(kSeparator, pos);
        if (next == std::string::npos)
            break;
        inputs.push_back(all.substr(pos, next - pos));
        pos = next + kSeparator.size();
    }
    return inputs;
}

std::vector<std::vector<int32_t>> readExpected(const std::filesystem::path& path)
{
    std::vector<std::vector<int32_t>> expected;
    std::istringstream lines(readFile(path));
    std::string line;
    while (std::getline(lines, line)) {
        std::istringstream ids(line);
        std::vector<int32_t> row;
        int32_t id = 0;
        while (ids >> id)
            row.push_back(id);
        expected.push_back(std::move(row));
    }
    return expected;
}

std::string show(const std::vector<int32_t>& ids)
{
    std::string out;
    for (const int32_t id : ids) {
        if (!out.empty())
            out += ' ';
        out += std::to_string(id);
    }
    return out;
}

std::string escaped(const std::string& s)
{
    std::string out;
    for (const char c : s) {
        if (c == '\n') out += "\\n";
        else if (c == '\t') out += "\\t";
        else if (c == '\r') out += "\\r";
        else out += c;
    }
    return "\"" + out + "\"";
}

// The strings of `vectors`.inp against the ids of `vectors`.out, through the
// vocabulary in `gguf`.
void checkVectors(const std::string& label, const std::filesystem::path& gguf, const std::filesystem::path& vectors)
{
    const folio::GgufFile file = folio::GgufFile::open(gguf.string());
    const folio::Tokenizer tokenizer = folio::Tokenizer::fromGguf(file);

    const std::vector<std::string> inputs = readInputs(vectors.string() + ".inp");
    const std::vector<std::vector<int32_t>> expected = readExpected(vectors.string() + ".out");
    ASSERT_FALSE(inputs.empty());
    ASSERT_EQ(inputs.size(), expected.size()) << "strings in .inp vs lines in .out";

    int mismatches = 0, roundTripFailures = 0;
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        const std::vector<int32_t> got = tokenizer.encode(inputs[i], false, false);
        if (got != expected[i]) {
            ++mismatches;
            ADD_FAILURE() << label << " string " << i << " " << escaped(inputs[i]) << "\n  expected: "
                          << show(expected[i]) << "\n  got:      " << show(got);
        }
        const std::string decoded = tokenizer.decode(got);
        if (decoded != inputs[i]) {
            ++roundTripFailures;
            ADD_FAILURE() << label << " string " << i << " " << escaped(inputs[i])
                          << " decodes to " << escaped(decoded);
        }
    }
    std::printf("[ vectors  ] %-13s %zu strings, %d mismatches, %d round-trip failures\n", label.c_str(),
                inputs.size(), mismatches, roundTripFailures);
}

std::string testName(const ::testing::TestParamInfo<const char*>& info)
{
    std::string id = info.param;
    for (char& c : id)
        if (c == '-' || c == '.') c = '_';
    return id;
}

class TokenizerVectors : public ::testing::TestWithParam<const char*> {};

TEST_P(TokenizerVectors, EncodeMatchesLlamaCppAndDecodeRoundTrips)
{
    const std::string name = std::string("vocab/ggml-vocab-") + GetParam() + ".gguf";
    FOLIO_REQUIRE_SHARED(name);
    const auto path = folio::test::sharedDir() / name;
    checkVectors(GetParam(), path, path);
}

INSTANTIATE_TEST_SUITE_P(AllVocabularies, TokenizerVectors,
                         ::testing::Values("llama-spm", "phi-3", "gpt-2", "llama-bpe", "qwen2", "deepseek-llm"),
                         testName);

// Committed with the project, so these run on a plain clone. Each name is an
// .inp/.out pair: NAME.gguf's own, or NAME.gguf.MORE for further strings.
class ProjectTokenizerVectors : public ::testing::TestWithParam<const char*> {};

TEST_P(ProjectTokenizerVectors, EncodeMatchesReferenceAndDecodeRoundTrips)
{
    const std::filesystem::path dir = folio::test::sourceDir() / "tests/data/vocab";
    const std::string pair = GetParam();
    const std::filesystem::path gguf = dir / pair.substr(0, pair.find(".gguf") + 5);
    ASSERT_TRUE(std::filesystem::exists(gguf)) << gguf;
    checkVectors(pair, gguf, dir / pair);
}

INSTANTIATE_TEST_SUITE_P(ProjectVocabularies, ProjectTokenizerVectors,
                         ::testing::Values("ggml-vocab-gemma3.gguf", "ggml-vocab-gemma3.gguf.more"), testName);

} // namespace

namespace {

// A whole book through two vocabularies: exact round trip, nothing dropped.
TEST(TokenizerCorpus, MobyDickRoundTrips)
{
    FOLIO_REQUIRE_SHARED("corpus/moby-dick.txt");
    FOLIO_REQUIRE_SHARED("vocab/ggml-vocab-llama-spm.gguf");
    const std::string book = readFile(folio::test::sharedDir() / "corpus/moby-dick.txt");
    for (const char* name : {"llama-spm", "gpt-2"}) {
        const auto path = folio::test::sharedDir() / (std::string("vocab/ggml-vocab-") + name + ".gguf");
        const folio::GgufFile file = folio::GgufFile::open(path.string());
        const folio::Tokenizer tokenizer = folio::Tokenizer::fromGguf(file);
        const std::vector<int32_t> ids = tokenizer.encode(book, true, false);
        EXPECT_GT(ids.size(), book.size() / 8) << name;
        EXPECT_LT(ids.size(), book.size() / 2) << name;
        EXPECT_EQ(tokenizer.decode(ids), book) << name;
    }
}

} // namespace
