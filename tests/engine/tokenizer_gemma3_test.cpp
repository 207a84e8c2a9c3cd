// Gemma 3's vocabulary as committed under tests/data/vocab (written by
// tools/spm_vocab_gguf.py from the Hugging Face tokenizer.json): SentencePiece
// with byte fallback, 262,144 tokens, no dummy prefix space, and the turn
// markers its chat template uses.
#include "engine/gguf/gguf.h"
#include "engine/tokenizer/tokenizer.h"
#include "support/shared_data.h"

#include <algorithm>

#include <gtest/gtest.h>

namespace folio {
namespace {

class Gemma3Vocab : public ::testing::Test {
protected:
    static void SetUpTestSuite()
    {
        const auto path = test::sourceDir() / "tests/data/vocab/ggml-vocab-gemma3.gguf";
        file_ = new GgufFile(GgufFile::open(path.string()));
        tokenizer_ = new Tokenizer(Tokenizer::fromGguf(*file_));
    }
    static void TearDownTestSuite()
    {
        delete tokenizer_;
        delete file_;
        tokenizer_ = nullptr;
        file_ = nullptr;
    }
    static const Tokenizer& tok() { return *tokenizer_; }
    static int32_t id(std::string_view piece) { return tok().findToken(piece).value_or(-1); }

private:
    static inline GgufFile* file_ = nullptr;
    static inline Tokenizer* tokenizer_ = nullptr;
};

TEST_F(Gemma3Vocab, MetadataAsLlamaCppWritesIt)
{
    EXPECT_EQ(tok().kind(), TokenizerKind::SentencePiece);
    EXPECT_EQ(tok().preTokenizer(), "default");
    EXPECT_EQ(tok().vocabSize(), 262144);
    EXPECT_EQ(tok().bos(), 2);
    EXPECT_EQ(tok().unk(), 3);
    EXPECT_TRUE(tok().addBosByDefault());
    EXPECT_FALSE(tok().addEosByDefault());
    EXPECT_FALSE(tok().addSpacePrefix());
    EXPECT_EQ(id("<start_of_turn>"), 105);
    EXPECT_EQ(id("<end_of_turn>"), 106);
    EXPECT_TRUE(tok().isControl(105));
    EXPECT_TRUE(tok().isEndOfGeneration(106));
    EXPECT_EQ(tok().eot(), 106);
    EXPECT_EQ(tok().tokenType(id("<0x41>")), TokenType::Byte);
    EXPECT_EQ(tok().tokenType(107), TokenType::UserDefined);  // "\n"
    EXPECT_EQ(tok().tokenType(id("<unused0>")), TokenType::Control);
}

TEST_F(Gemma3Vocab, NoDummyPrefixSpace)
{
    // Llama 2 would see "▁Hello"; Gemma sees "Hello", and a leading space is the text's own.
    const std::vector<int32_t> hello = tok().encode("Hello", false, false);
    ASSERT_EQ(hello.size(), 1u);
    EXPECT_EQ(tok().tokenText(hello[0]), "Hello");
    const std::vector<int32_t> spaced = tok().encode(" Hello", false, false);
    ASSERT_EQ(spaced.size(), 1u);
    EXPECT_EQ(tok().tokenText(spaced[0]), "\xE2\x96\x81Hello");
    EXPECT_EQ(tok().decode(spaced), " Hello");
    EXPECT_EQ(tok().decode(tok().encode("Hi", true, false)), "Hi");
}

TEST_F(Gemma3Vocab, ChatTurnEncodes)
{
    // What the chat template renders for one user turn and the model's header.
    const std::string prompt = "<start_of_turn>user\nHi<end_of_turn>\n<start_of_turn>model\n";
    const std::vector<int32_t> ids = tok().encode(prompt, true, true);
    const std::vector<int32_t> expected{2, 105, id("user"), 107, id("Hi"), 106, 107, 105, id("model"), 107};
    EXPECT_EQ(ids, expected);
    // Without parseSpecial the markers are plain text.
    EXPECT_EQ(std::count(ids.begin(), ids.end(), 105), 2);
    const std::vector<int32_t> plain = tok().encode(prompt, false, false);
    EXPECT_EQ(std::count(plain.begin(), plain.end(), 105), 0);
}

TEST_F(Gemma3Vocab, ByteFallbackForCharactersOutsideTheVocabulary)
{
    // U+10FFFD (private use, plane 16) is no piece: four byte tokens, decoded back exactly.
    const std::string text = "\xF4\x8F\xBF\xBD";
    const std::vector<int32_t> ids = tok().encode(text, false, false);
    ASSERT_EQ(ids.size(), 4u);
    for (const int32_t t : ids)
        EXPECT_EQ(tok().tokenType(t), TokenType::Byte);
    EXPECT_EQ(tok().decode(ids), text);
    TokenStreamDecoder stream(tok());
    std::string streamed;
    for (const int32_t t : ids)
        streamed += stream.push(t);
    EXPECT_EQ(streamed + stream.flush(), text);
}

} // namespace
} // namespace folio
