#include "engine/tokenizer/tokenizer.h"
#include "tokenizer_test_vocab.h"

#include <cstdio>

#include <gtest/gtest.h>

namespace folio {
namespace {

// <unk> <s> </s>, the 256 byte tokens, then a few pieces with scores.
struct SpmVocab {
    std::vector<std::string> tokens{"<unk>", "<s>", "</s>"};
    std::vector<float> scores{0, 0, 0};
    std::vector<int32_t> types{2, 3, 3};

    SpmVocab()
    {
        for (int b = 0; b < 256; ++b) {
            char name[8];
            std::snprintf(name, sizeof name, "<0x%02X>", b);
            add(name, 0, 6);
        }
    }
    int32_t add(const std::string& text, float score, int32_t type = 1)
    {
        tokens.push_back(text);
        scores.push_back(score);
        types.push_back(type);
        return static_cast<int32_t>(tokens.size() - 1);
    }
    GgufWriter writer() const
    {
        GgufWriter w;
        w.setString("general.architecture", "llama");
        w.setString("tokenizer.ggml.model", "llama");
        w.setStringArray("tokenizer.ggml.tokens", tokens);
        w.setF32Array("tokenizer.ggml.scores", scores);
        w.setI32Array("tokenizer.ggml.token_type", types);
        w.setU32("tokenizer.ggml.bos_token_id", 1);
        w.setU32("tokenizer.ggml.eos_token_id", 2);
        w.setU32("tokenizer.ggml.unknown_token_id", 0);
        return w;
    }
};

int32_t byteToken(int b) { return 3 + b; }

class SpmTokenizer : public ::testing::Test {
protected:
    SpmVocab vocab;
    int32_t space = vocab.add("\xE2\x96\x81", -1);
    int32_t h = vocab.add("h", -2), e = vocab.add("e", -2), l = vocab.add("l", -2), o = vocab.add("o", -2);
    int32_t w = vocab.add("w", -2), r = vocab.add("r", -2), d = vocab.add("d", -2);
    int32_t ll = vocab.add("ll", -3), he = vocab.add("he", -4), spaceHe = vocab.add("\xE2\x96\x81he", -5);
    int32_t llo = vocab.add("llo", -6), spaceHello = vocab.add("\xE2\x96\x81hello", -7);
    int32_t spaceW = vocab.add("\xE2\x96\x81w", -3.5f);
    int32_t user = vocab.add("<|user|>", 0, 4);
    int32_t end = vocab.add("<|end|>", 0, 3);
};

TEST_F(SpmTokenizer, MergesHighestScoresFirst)
{
    const Tokenizer t = test::tokenizerFrom(vocab.writer());
    EXPECT_EQ(t.kind(), TokenizerKind::SentencePiece);
    EXPECT_EQ(t.encode("hello", false, false), (std::vector<int32_t>{spaceHello}));
    EXPECT_EQ(t.encode("hello", true, false), (std::vector<int32_t>{1, spaceHello}));
    // Equal scores: the leftmost pair merges first.
    EXPECT_EQ(t.encode("lll", false, false), (std::vector<int32_t>{space, ll, l}));
    EXPECT_TRUE(t.encode("", false, false).empty());
}

TEST_F(SpmTokenizer, FallsBackToBytesAndDecodesExactly)
{
    const Tokenizer t = test::tokenizerFrom(vocab.writer());
    const std::string text = "hello w\xC3\xB6rld";
    EXPECT_EQ(t.encode(text, false, false),
              (std::vector<int32_t>{spaceHello, spaceW, byteToken(0xC3), byteToken(0xB6), r, l, d}));
    EXPECT_EQ(t.decode(t.encode(text, true, false)), text);
    EXPECT_EQ(t.tokenPiece(spaceHello), " hello");
    EXPECT_EQ(t.tokenPiece(byteToken('A')), "A");
    EXPECT_EQ(t.tokenPiece(1), "");
}

TEST_F(SpmTokenizer, InvalidUtf8RoundTrips)
{
    const Tokenizer t = test::tokenizerFrom(vocab.writer());
    for (const std::string text : {"a\xFF" "b", "\xC3", "\xE2\x82 x", "\xED\xA0\x80"})
        EXPECT_EQ(t.decode(t.encode(text, false, false)), text);
}

TEST_F(SpmTokenizer, SpecialTokens)
{
    const Tokenizer t = test::tokenizerFrom(vocab.writer());
    // User-defined tokens are matched even without parseSpecial; the text after
    // a special token gets its own space prefix.
    EXPECT_EQ(t.encode("he<|user|>hello", false, false), (std::vector<int32_t>{spaceHe, user, spaceHello}));
    EXPECT_EQ(t.encode("<|end|>", false, true), (std::vector<int32_t>{end}));
    const std::vector<int32_t> plain = t.encode("<|end|>", false, false);
    EXPECT_GT(plain.size(), 1u);
    EXPECT_EQ(t.decode(plain), "<|end|>");
    EXPECT_TRUE(t.isControl(end));
    EXPECT_TRUE(t.isEndOfGeneration(end));
    EXPECT_TRUE(t.isEndOfGeneration(2));
    EXPECT_FALSE(t.isEndOfGeneration(spaceHello));
    EXPECT_EQ(t.eos(), 2);
    EXPECT_EQ(t.bos(), 1);
    EXPECT_TRUE(t.addBosByDefault());
    EXPECT_FALSE(t.addEosByDefault());
    EXPECT_EQ(t.findToken("<|user|>"), user);
    EXPECT_FALSE(t.findToken("nope").has_value());
    EXPECT_EQ(t.tokenText(spaceHello), "\xE2\x96\x81hello");
}

TEST_F(SpmTokenizer, StreamDecoderHoldsBackPartialCharacters)
{
    const Tokenizer t = test::tokenizerFrom(vocab.writer());
    TokenStreamDecoder stream(t);
    EXPECT_EQ(stream.push(spaceHello), " hello");
    EXPECT_EQ(stream.push(byteToken(0xC3)), "");
    EXPECT_EQ(stream.push(byteToken(0xB6)), "\xC3\xB6");
    EXPECT_EQ(stream.push(byteToken(0xF0)), "");
    EXPECT_EQ(stream.push(byteToken(0x9F)), "");
    EXPECT_EQ(stream.push(space), "\xEF\xBF\xBD\xEF\xBF\xBD ");  // the character never completed
    EXPECT_EQ(stream.push(byteToken(0xFF)), "\xEF\xBF\xBD");
    EXPECT_EQ(stream.push(byteToken(0xE2)), "");
    EXPECT_EQ(stream.flush(), "\xEF\xBF\xBD");
    EXPECT_EQ(stream.flush(), "");
}

TEST_F(SpmTokenizer, AddSpacePrefixCanBeTurnedOff)
{
    GgufWriter w = vocab.writer();
    w.setBool("tokenizer.ggml.add_space_prefix", false);
    const Tokenizer t = test::tokenizerFrom(w);
    EXPECT_EQ(t.encode("he", false, false), (std::vector<int32_t>{he}));
    EXPECT_EQ(t.decode({space, he}), " he");
}

TEST_F(SpmTokenizer, GemmaHasNoSpacePrefixWhenTheFileSaysNothing)
{
    EXPECT_TRUE(test::tokenizerFrom(vocab.writer()).addSpacePrefix());
    for (const char* architecture : {"gemma", "gemma2", "gemma3"}) {
        GgufWriter w = vocab.writer();
        w.setString("general.architecture", architecture);
        const Tokenizer t = test::tokenizerFrom(w);
        EXPECT_FALSE(t.addSpacePrefix()) << architecture;
        EXPECT_EQ(t.encode("he", false, false), (std::vector<int32_t>{he})) << architecture;
        w.setBool("tokenizer.ggml.add_space_prefix", true);  // the file's word wins
        EXPECT_TRUE(test::tokenizerFrom(w).addSpacePrefix()) << architecture;
    }
}

TEST_F(SpmTokenizer, ErrorsNameTheKey)
{
    const auto messageFor = [](const GgufWriter& w) {
        try {
            test::tokenizerFrom(w);
        } catch (const TokenizerError& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    GgufWriter noModel;
    noModel.setString("general.architecture", "llama");
    EXPECT_NE(messageFor(noModel).find("tokenizer.ggml.model"), std::string::npos);

    GgufWriter badScores = vocab.writer();
    badScores.setF32Array("tokenizer.ggml.scores", {1.0f});
    EXPECT_NE(messageFor(badScores).find("tokenizer.ggml.scores"), std::string::npos);

    GgufWriter badBos = vocab.writer();
    badBos.setU32("tokenizer.ggml.bos_token_id", 1000000);
    EXPECT_NE(messageFor(badBos).find("tokenizer.ggml.bos_token_id"), std::string::npos);

    GgufWriter wrongType = vocab.writer();
    wrongType.setU32("tokenizer.ggml.model", 7);
    EXPECT_NE(messageFor(wrongType).find("tokenizer.ggml.model"), std::string::npos);

    GgufWriter unknownModel = vocab.writer();
    unknownModel.setString("tokenizer.ggml.model", "bert");
    EXPECT_NE(messageFor(unknownModel).find("tokenizer.ggml.model"), std::string::npos);

    // SentencePiece runs no pre-tokenizer: a file naming one is refused, by name.
    GgufWriter namedPre = vocab.writer();
    namedPre.setString("tokenizer.ggml.pre", "qwen2");
    const std::string message = messageFor(namedPre);
    EXPECT_NE(message.find("tokenizer.ggml.pre"), std::string::npos) << message;
    EXPECT_NE(message.find("\"qwen2\""), std::string::npos) << message;
    GgufWriter defaultPre = vocab.writer();
    defaultPre.setString("tokenizer.ggml.pre", "default");
    EXPECT_EQ(messageFor(defaultPre), "no error");
}

} // namespace
} // namespace folio
