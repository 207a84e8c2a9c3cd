#include "engine/tokenizer/pretokenizer.h"

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
    EXPECT_FALSE(preTokenizerKindFromName("no-such-pattern").has_value());
    EXPECT_TRUE(preTokenize(PreTokenizerKind::Llama3, "").empty());
}

} // namespace
} // namespace folio
