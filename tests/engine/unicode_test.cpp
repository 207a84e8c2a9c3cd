#include "engine/tokenizer/unicode.h"

#include <gtest/gtest.h>

namespace folio::unicode {
namespace {

TEST(Unicode, CharClassesFollowTheGeneralCategory)
{
    EXPECT_EQ(charClass('A'), CharClass::Letter);
    EXPECT_EQ(charClass(0xE9), CharClass::Letter);      // é
    EXPECT_EQ(charClass(0x4E16), CharClass::Letter);    // 世
    EXPECT_EQ(charClass('5'), CharClass::Number);
    EXPECT_EQ(charClass(0x663), CharClass::Number);     // Arabic-Indic three
    EXPECT_EQ(charClass(0xBD), CharClass::Number);      // ½ (No)
    EXPECT_EQ(charClass('!'), CharClass::Punctuation);
    EXPECT_EQ(charClass('$'), CharClass::Symbol);
    EXPECT_EQ(charClass(0x1F999), CharClass::Symbol);   // 🦙, outside the BMP
    EXPECT_EQ(charClass(0x301), CharClass::Mark);
    EXPECT_EQ(charClass(0x17B6), CharClass::Mark);      // Khmer vowel sign
    EXPECT_EQ(charClass(' '), CharClass::Separator);
    EXPECT_EQ(charClass('\n'), CharClass::Control);
    EXPECT_EQ(charClass(0x200D), CharClass::Format);    // zero width joiner
    EXPECT_EQ(charClass(0xE000), CharClass::Other);     // private use
    EXPECT_EQ(charClass(0x10FFFF), CharClass::Other);
    EXPECT_EQ(charClass(0x110000), CharClass::Other);
}

TEST(Unicode, WhiteSpaceIsTheUnicodeProperty)
{
    for (uint32_t cp : {0x20u, 0x09u, 0x0Au, 0x0Du, 0x85u, 0xA0u, 0x2028u, 0x3000u})
        EXPECT_TRUE(isWhitespace(cp)) << cp;
    for (uint32_t cp : {0x41u, 0x200Bu, 0x1Cu, 0x2581u})
        EXPECT_FALSE(isWhitespace(cp)) << cp;
}

TEST(Unicode, ValidSequenceLengthRejectsMalformedUtf8)
{
    EXPECT_EQ(validSequenceLength("a", 0), 1u);
    EXPECT_EQ(validSequenceLength("\xE2\x82\xAC", 0), 3u);       // €
    EXPECT_EQ(validSequenceLength("\xF0\x9F\xA6\x99", 0), 4u);   // 🦙
    EXPECT_EQ(validSequenceLength("\xC0\x80", 0), 0u);           // overlong
    EXPECT_EQ(validSequenceLength("\xE0\x80\x80", 0), 0u);       // overlong
    EXPECT_EQ(validSequenceLength("\xED\xA0\x80", 0), 0u);       // surrogate
    EXPECT_EQ(validSequenceLength("\xF4\x90\x80\x80", 0), 0u);   // beyond U+10FFFF
    EXPECT_EQ(validSequenceLength("\xE2\x82", 0), 0u);           // truncated
    EXPECT_EQ(validSequenceLength("\x80", 0), 0u);               // stray continuation
    EXPECT_EQ(validSequenceLength("\xFF", 0), 0u);
}

TEST(Unicode, DecodeKeepsByteOffsetsAndReplacesBadBytes)
{
    const DecodedText d = decodeUtf8("a\xFF\xE2\x82\xAC");
    EXPECT_EQ(d.codepoints, (std::vector<uint32_t>{'a', kReplacementChar, 0x20AC}));
    EXPECT_EQ(d.offsets, (std::vector<uint32_t>{0, 1, 2, 5}));
    EXPECT_TRUE(decodeUtf8("").codepoints.empty());
}

TEST(Unicode, EncodesAndSanitizes)
{
    EXPECT_EQ(toUtf8(0x20AC), "\xE2\x82\xAC");
    EXPECT_EQ(toUtf8(0x1F999), "\xF0\x9F\xA6\x99");
    EXPECT_EQ(toUtf8(0xD800), "\xEF\xBF\xBD");
    EXPECT_EQ(sanitizeUtf8("ok\xC3"), "ok\xEF\xBF\xBD");
    EXPECT_EQ(sanitizeUtf8("\xC3\xA9"), "\xC3\xA9");
}

TEST(Unicode, ByteLevelMapIsABijection)
{
    EXPECT_EQ(byteToUnicode(' '), "\xC4\xA0");   // Ġ
    EXPECT_EQ(byteToUnicode('\n'), "\xC4\x8A");  // Ċ
    EXPECT_EQ(byteToUnicode('A'), "A");
    for (int b = 0; b < 256; ++b) {
        const DecodedText d = decodeUtf8(byteToUnicode(static_cast<uint8_t>(b)));
        ASSERT_EQ(d.codepoints.size(), 1u);
        EXPECT_EQ(unicodeToByte(d.codepoints[0]), b);
    }
    EXPECT_EQ(unicodeToByte(0x2581), -1);
}

} // namespace
} // namespace folio::unicode
