#include "engine/tokenizer/unicode.h"

#include <algorithm>
#include <array>

namespace folio::unicode {

namespace {

uint8_t searchRuns(const tables::CharClassRun* begin, std::size_t count, uint32_t cp)
{
    const auto* it = std::upper_bound(begin, begin + count, cp,
        [](uint32_t value, const tables::CharClassRun& run) { return value < run.first; });
    return it == begin ? 0 : (it - 1)->charClass;
}

CharClass searchRuns(uint32_t cp)
{
    return static_cast<CharClass>(searchRuns(tables::kCharClassRuns, tables::kCharClassRunCount, cp));
}

// Tokenizing a book asks for millions of classes; almost all are in the BMP,
// so those come from a flat table filled once from the runs.
struct BmpClassTable {
    std::array<uint8_t, 0x10000> classes{};
    BmpClassTable()
    {
        for (std::size_t i = 0; i < tables::kCharClassRunCount; ++i) {
            const uint32_t first = tables::kCharClassRuns[i].first;
            if (first >= 0x10000)
                break;
            const uint32_t next = i + 1 < tables::kCharClassRunCount
                ? std::min<uint32_t>(tables::kCharClassRuns[i + 1].first, 0x10000) : 0x10000;
            std::fill(classes.begin() + first, classes.begin() + next, tables::kCharClassRuns[i].charClass);
        }
    }
};

const BmpClassTable& bmpTable()
{
    static const BmpClassTable table;
    return table;
}

struct ByteLevelMap {
    std::array<std::string, 256> byteToText;
    std::array<int16_t, 324> cpToByte{};  // every stand-in is below U+0144
    ByteLevelMap()
    {
        cpToByte.fill(-1);
        int extra = 0;
        for (int b = 0; b < 256; ++b) {
            const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            const uint32_t cp = printable ? static_cast<uint32_t>(b) : static_cast<uint32_t>(256 + extra++);
            byteToText[static_cast<std::size_t>(b)] = toUtf8(cp);
            cpToByte[cp] = static_cast<int16_t>(b);
        }
    }
};

const ByteLevelMap& byteLevelMap()
{
    static const ByteLevelMap map;
    return map;
}

} // namespace

CharClass charClass(uint32_t cp)
{
    if (cp < 0x10000)
        return static_cast<CharClass>(bmpTable().classes[cp]);
    if (cp > 0x10FFFF)
        return CharClass::Other;
    return searchRuns(cp);
}

LetterCase letterCase(uint32_t cp)
{
    if (cp > 0x10FFFF)
        return LetterCase::None;
    return static_cast<LetterCase>(searchRuns(tables::kLetterCaseRuns, tables::kLetterCaseRunCount, cp));
}

bool isWhitespace(uint32_t cp)
{
    if (cp < 0x80)
        return cp == ' ' || (cp >= 0x09 && cp <= 0x0D);
    for (std::size_t i = 0; i < tables::kWhiteSpaceCount; ++i) {
        if (cp >= tables::kWhiteSpace[i].first && cp <= tables::kWhiteSpace[i].last)
            return true;
    }
    return false;
}

std::size_t validSequenceLength(std::string_view text, std::size_t pos)
{
    const auto byteAt = [&](std::size_t i) { return static_cast<uint8_t>(text[i]); };
    const uint8_t lead = byteAt(pos);
    if (lead < 0x80)
        return 1;
    std::size_t length = 0;
    uint8_t low = 0x80, high = 0xBF;  // allowed range of the second byte
    if (lead >= 0xC2 && lead <= 0xDF) {
        length = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
        length = 3;
        if (lead == 0xE0) low = 0xA0;        // overlong
        if (lead == 0xED) high = 0x9F;       // surrogates
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        length = 4;
        if (lead == 0xF0) low = 0x90;        // overlong
        if (lead == 0xF4) high = 0x8F;       // beyond U+10FFFF
    } else {
        return 0;
    }
    if (pos + length > text.size())
        return 0;
    if (byteAt(pos + 1) < low || byteAt(pos + 1) > high)
        return 0;
    for (std::size_t i = 2; i < length; ++i) {
        if ((byteAt(pos + i) & 0xC0) != 0x80)
            return 0;
    }
    return length;
}

DecodedText decodeUtf8(std::string_view text)
{
    DecodedText out;
    out.codepoints.reserve(text.size());
    out.offsets.reserve(text.size() + 1);
    std::size_t pos = 0;
    while (pos < text.size()) {
        out.offsets.push_back(static_cast<uint32_t>(pos));
        const std::size_t length = validSequenceLength(text, pos);
        if (length == 0) {
            out.codepoints.push_back(kReplacementChar);
            ++pos;
            continue;
        }
        uint32_t cp = static_cast<uint8_t>(text[pos]);
        if (length > 1) {
            cp &= 0x7Fu >> length;
            for (std::size_t i = 1; i < length; ++i)
                cp = (cp << 6) | (static_cast<uint8_t>(text[pos + i]) & 0x3F);
        }
        out.codepoints.push_back(cp);
        pos += length;
    }
    out.offsets.push_back(static_cast<uint32_t>(text.size()));
    return out;
}

void appendUtf8(std::string& out, uint32_t cp)
{
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        cp = kReplacementChar;
    if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
        out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
}

std::string toUtf8(uint32_t cp)
{
    std::string out;
    appendUtf8(out, cp);
    return out;
}

std::string sanitizeUtf8(std::string_view bytes)
{
    std::string out;
    out.reserve(bytes.size());
    std::size_t pos = 0;
    while (pos < bytes.size()) {
        const std::size_t length = validSequenceLength(bytes, pos);
        if (length == 0) {
            appendUtf8(out, kReplacementChar);
            ++pos;
        } else {
            out.append(bytes.substr(pos, length));
            pos += length;
        }
    }
    return out;
}

const std::string& byteToUnicode(uint8_t byte)
{
    return byteLevelMap().byteToText[byte];
}

int unicodeToByte(uint32_t cp)
{
    const auto& map = byteLevelMap().cpToByte;
    return cp < map.size() ? map[cp] : -1;
}

} // namespace folio::unicode
