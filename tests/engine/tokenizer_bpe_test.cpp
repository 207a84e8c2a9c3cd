#include "engine/tokenizer/tokenizer.h"
#include "engine/tokenizer/unicode.h"
#include "tokenizer_test_vocab.h"

#include <gtest/gtest.h>

namespace folio {
namespace {

// The 256 byte-level characters (id = byte value), then merged pieces.
GgufWriter byteLevelWriter(const std::string& pre)
{
    std::vector<std::string> tokens;
    for (int b = 0; b < 256; ++b)
        tokens.push_back(unicode::byteToUnicode(static_cast<uint8_t>(b)));
    const std::vector<std::string> merges{"h e", "l l", "he ll", "hell o", "\xC4\xA0 w", "o r", "\xC4\xA0w or"};
    for (const std::string& m : merges) {
        std::string merged = m;
        merged.erase(merged.find(' '), 1);
        tokens.push_back(merged);  // 256 he, 257 ll, 258 hell, 259 hello, 260 Ġw, 261 or, 262 Ġwor
    }
    tokens.push_back("<|endoftext|>");  // 263, control
    tokens.push_back("<think>");        // 264, user-defined
    std::vector<int32_t> types(tokens.size(), 1);
    types[263] = 3;
    types[264] = 4;
    GgufWriter w;
    w.setString("general.architecture", "gpt2");
    w.setString("tokenizer.ggml.model", "gpt2");
    w.setString("tokenizer.ggml.pre", pre);
    w.setStringArray("tokenizer.ggml.tokens", tokens);
    w.setI32Array("tokenizer.ggml.token_type", types);
    w.setStringArray("tokenizer.ggml.merges", merges);
    w.setU32("tokenizer.ggml.eos_token_id", 263);
    return w;
}

TEST(BpeTokenizer, MergesByRank)
{
    const Tokenizer t = test::tokenizerFrom(byteLevelWriter("gpt-2"));
    EXPECT_EQ(t.kind(), TokenizerKind::BytePairEncoding);
    EXPECT_EQ(t.preTokenizer(), "gpt-2");
    EXPECT_EQ(t.encode("hello world", false, false), (std::vector<int32_t>{259, 262, 'l', 'd'}));
    EXPECT_EQ(t.decode({259, 262, 'l', 'd'}), "hello world");
    EXPECT_EQ(t.tokenPiece(262), " wor");
    EXPECT_EQ(t.tokenPiece('\n'), "\n");
    EXPECT_FALSE(t.addBosByDefault());
    EXPECT_EQ(t.bos(), -1);
}

TEST(BpeTokenizer, EveryByteRoundTrips)
{
    const Tokenizer t = test::tokenizerFrom(byteLevelWriter("llama-bpe"));
    std::string all;
    for (int b = 0; b < 256; ++b)
        all += static_cast<char>(b);
    for (const std::string& text : {all, std::string("a\xC3("), std::string("\xF0\x9F\xA6"), std::string(" \t\n\r ")})
        EXPECT_EQ(t.decode(t.encode(text, false, false)), text);
}

TEST(BpeTokenizer, SpecialTokens)
{
    const Tokenizer t = test::tokenizerFrom(byteLevelWriter("qwen2"));
    EXPECT_EQ(t.encode("<|endoftext|>", false, true), (std::vector<int32_t>{263}));
    EXPECT_GT(t.encode("<|endoftext|>", false, false).size(), 1u);
    EXPECT_EQ(t.encode("he<think>he", false, false), (std::vector<int32_t>{256, 264, 256}));
    EXPECT_TRUE(t.isEndOfGeneration(263));
    EXPECT_TRUE(t.isControl(263));
    EXPECT_EQ(t.tokenPiece(263), "");
    EXPECT_EQ(t.tokenPiece(264), "<think>");
    EXPECT_EQ(t.decode({256, 263, 264}), "he<think>");
}

TEST(BpeTokenizer, StreamDecoderJoinsByteLevelPieces)
{
    const Tokenizer t = test::tokenizerFrom(byteLevelWriter("gpt-2"));
    TokenStreamDecoder stream(t);
    EXPECT_EQ(stream.push(0xC3), "");
    EXPECT_EQ(stream.push(0xA9), "\xC3\xA9");  // é
    EXPECT_EQ(stream.push(259), "hello");
    EXPECT_EQ(stream.push(0xE2), "");
    EXPECT_EQ(stream.flush(), "\xEF\xBF\xBD");
}

TEST(BpeTokenizer, ErrorsNameTheKey)
{
    const auto messageFor = [](const GgufWriter& w) {
        try {
            test::tokenizerFrom(w);
        } catch (const TokenizerError& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    GgufWriter noMerges = byteLevelWriter("gpt-2");
    noMerges.setStringArray("tokenizer.ggml.merges", {});
    EXPECT_NE(messageFor(noMerges).find("tokenizer.ggml.merges"), std::string::npos);
    const std::string unknownPre = messageFor(byteLevelWriter("tekken-x"));
    EXPECT_NE(unknownPre.find("tokenizer.ggml.pre"), std::string::npos) << unknownPre;
    EXPECT_NE(unknownPre.find("\"tekken-x\""), std::string::npos) << unknownPre;
    EXPECT_NE(unknownPre.find("\"qwen2\""), std::string::npos) << "lists the known names: " << unknownPre;
    // Qwen3 files name the qwen2 pattern.
    EXPECT_EQ(test::tokenizerFrom(byteLevelWriter("qwen2")).preTokenizer(), "qwen2");
    GgufWriter badTypes = byteLevelWriter("gpt-2");
    badTypes.setI32Array("tokenizer.ggml.token_type", {1, 1});
    EXPECT_NE(messageFor(badTypes).find("tokenizer.ggml.token_type"), std::string::npos);
}

} // namespace
} // namespace folio
