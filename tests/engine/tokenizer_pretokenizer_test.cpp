#include "engine/tokenizer/pretokenizer.h"
#include "engine/tokenizer/unicode.h"
#include "tests/support/shared_data.h"

#include <fstream>
#include <string>

#include <gtest/gtest.h>

namespace folio {
namespace {

std::vector<std::string> pieces(PreTokenizerKind kind, std::string_view text)
{
    std::vector<std::string> out;
    for (const std::string_view piece : preTokenize(kind, text))
        out.emplace_back(piece);
    return out;
}

using Pieces = std::vector<std::string>;

TEST(PreTokenizer, Gpt2KeepsSpacesWithTheFollowingWord)
{
    EXPECT_EQ(pieces(PreTokenizerKind::Gpt2, "Hello world's  123 !!"),
              (Pieces{"Hello", " world", "'s", " ", " 123", " !!"}));
    EXPECT_EQ(pieces(PreTokenizerKind::Gpt2, "I'M\tok  "), (Pieces{"I", "'", "M", "\t", "ok", "  "}));
}

TEST(PreTokenizer, Llama3SplitsDigitTriplesAndLineBreaks)
{
    EXPECT_EQ(pieces(PreTokenizerKind::Llama3, "Hello  WORLD'S 12345\n\n  x"),
              (Pieces{"Hello", " ", " WORLD", "'S", " ", "123", "45", "\n\n", " ", " x"}));
    EXPECT_EQ(pieces(PreTokenizerKind::Llama3, "a.\n\nb"), (Pieces{"a", ".\n\n", "b"}));
}

TEST(PreTokenizer, Qwen2SplitsSingleDigits)
{
    EXPECT_EQ(pieces(PreTokenizerKind::Qwen2, "ab 123"), (Pieces{"ab", " ", "1", "2", "3"}));
}

TEST(PreTokenizer, DeepseekLlmAppliesItsPatternsInTurn)
{
    EXPECT_EQ(pieces(PreTokenizerKind::DeepseekLlm, "Hello \xE4\xB8\x96\xE7\x95\x8C" "123\n"),
              (Pieces{"Hello", " ", "\xE4\xB8\x96\xE7\x95\x8C", "123", "\n"}));
}

TEST(PreTokenizer, DefaultSeparatesPunctuationAndDigitTriples)
{
    EXPECT_EQ(pieces(PreTokenizerKind::Default, "x=12345!"), (Pieces{"x", "=", "123", "45", "!"}));
}

TEST(PreTokenizer, InvalidUtf8StaysInThePieces)
{
    const std::string text = "ab\xFF" "cd \xC3";
    std::string joined;
    for (const auto& p : pieces(PreTokenizerKind::Llama3, text))
        joined += p;
    EXPECT_EQ(joined, text);
    EXPECT_EQ(pieces(PreTokenizerKind::Gpt2, "ab\xFF" "cd"), (Pieces{"ab", "\xFF", "cd"}));
}

TEST(PreTokenizer, NamesAndAliases)
{
    EXPECT_EQ(preTokenizerKindFromName("llama-bpe"), PreTokenizerKind::Llama3);
    EXPECT_EQ(preTokenizerKindFromName("qwen2"), PreTokenizerKind::Qwen2);
    EXPECT_EQ(preTokenizerKindFromName("gpt-2"), PreTokenizerKind::Gpt2);
    EXPECT_EQ(preTokenizerKindFromName("deepseek-llm"), PreTokenizerKind::DeepseekLlm);
    EXPECT_EQ(preTokenizerKindFromName("default"), PreTokenizerKind::Default);
    EXPECT_EQ(preTokenizerKindFromName("gpt-4o"), PreTokenizerKind::Gpt4o);
    EXPECT_EQ(preTokenizerKindFromName("llama4"), PreTokenizerKind::Gpt4o);
    EXPECT_FALSE(preTokenizerKindFromName("no-such-pattern").has_value());
    EXPECT_TRUE(preTokenize(PreTokenizerKind::Llama3, "").empty());
}

TEST(PreTokenizer, Gpt4oSplitsWordsByLetterCase)
{
    EXPECT_EQ(pieces(PreTokenizerKind::Gpt4o, "camelCase HTMLParser it'S"),
              (Pieces{"camel", "Case", " HTMLParser", " it'S"}));
    EXPECT_EQ(pieces(PreTokenizerKind::Gpt4o, "path/to 12345\n\n x"),
              (Pieces{"path", "/to", " ", "123", "45", "\n\n", " x"}));
    EXPECT_EQ(unicode::letterCase(U'A'), unicode::LetterCase::Upper);
    EXPECT_EQ(unicode::letterCase(0x01C5), unicode::LetterCase::Upper);   // ǅ, title case
    EXPECT_EQ(unicode::letterCase(U'ß'), unicode::LetterCase::Lower);
    EXPECT_EQ(unicode::letterCase(0x4E2D), unicode::LetterCase::None);    // 中 (Lo)
    EXPECT_EQ(unicode::letterCase(U'1'), unicode::LetterCase::None);
}

// The pattern as the `regex` module runs it (tools/gen_gpt4o_pretokenizer_vectors.py):
// hand-picked and random texts of Latin, Greek, Cyrillic, CJK, kana, title-case and
// modifier letters, combining marks, digits, symbols and every kind of white space.
TEST(PreTokenizer, Gpt4oAgreesWithTheRegexOnEveryVector)
{
    std::ifstream in(test::sourceDir() / "tests/data/pretokenizer-gpt4o.tsv", std::ios::binary);
    ASSERT_TRUE(in) << "tests/data/pretokenizer-gpt4o.tsv is missing";
    const auto unescape = [](const std::string& s) {
        std::string out;
        for (std::size_t i = 0; i < s.size(); ++i) {
            if (s[i] != '\\' || i + 1 == s.size()) {
                out += s[i];
                continue;
            }
            const char c = s[++i];
            out += c == 't' ? '\t' : c == 'n' ? '\n' : c == 'r' ? '\r' : c;
        }
        return out;
    };
    std::string line;
    int checked = 0;
    while (std::getline(in, line)) {
        std::vector<std::string> fields;
        std::size_t start = 0;
        for (std::size_t tab; (tab = line.find('\t', start)) != std::string::npos; start = tab + 1)
            fields.push_back(unescape(line.substr(start, tab - start)));
        fields.push_back(unescape(line.substr(start)));
        const std::string text = fields.front();
        const Pieces expected(fields.begin() + 1, fields.end());
        EXPECT_EQ(pieces(PreTokenizerKind::Gpt4o, text), expected) << "text: " << text;
        ++checked;
    }
    EXPECT_GE(checked, 400);
}

} // namespace
} // namespace folio
