#include "engine/tokenizer/pretokenizer.h"

#include "engine/tokenizer/unicode.h"

#include <algorithm>
#include <cstdint>
#include <span>
#include <utility>

namespace folio {

namespace {

using unicode::CharClass;

struct Span {
    std::size_t begin, end;  // code point indices
};

// Code points of the text; a pattern only ever looks inside [begin, end) of the
// piece it is splitting, as a regex applied to that piece alone would.
class Matcher {
public:
    explicit Matcher(const std::vector<uint32_t>& cps) : cps_(cps) {}
    uint32_t at(std::size_t i) const { return cps_[i]; }
    CharClass cls(std::size_t i) const { return unicode::charClass(cps_[i]); }
    bool space(std::size_t i) const { return unicode::isWhitespace(cps_[i]); }
    bool letter(std::size_t i) const { return cls(i) == CharClass::Letter; }
    bool number(std::size_t i) const { return cls(i) == CharClass::Number; }
    bool otherThanSpaceLetterNumber(std::size_t i) const { return !space(i) && !letter(i) && !number(i); }

    template <typename Pred>
    std::size_t runLength(std::size_t pos, std::size_t end, Pred pred) const
    {
        std::size_t i = pos;
        while (i < end && pred(i))
            ++i;
        return i - pos;
    }

private:
    const std::vector<uint32_t>& cps_;
};

uint32_t asciiLower(uint32_t cp) { return (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp; }

// 's 't 're 've 'm 'll 'd (ASCII case-insensitive when asked); 0 when none.
std::size_t matchContraction(const Matcher& m, std::size_t pos, std::size_t end, bool anyCase)
{
    if (m.at(pos) != '\'' || pos + 1 >= end)
        return 0;
    const auto fold = [&](std::size_t i) { return anyCase ? asciiLower(m.at(i)) : m.at(i); };
    const uint32_t a = fold(pos + 1);
    if (a == 's' || a == 't' || a == 'm' || a == 'd')
        return 2;
    if (pos + 2 >= end)
        return 0;
    const uint32_t b = fold(pos + 2);
    if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l'))
        return 3;
    return 0;
}

// \s+(?!\S)|\s+ : a run of white space gives up its last character to the word
// that follows it (" Hello" keeps its space).
std::size_t matchSpaceRun(const Matcher& m, std::size_t pos, std::size_t end)
{
    const std::size_t run = m.runLength(pos, end, [&](std::size_t i) { return m.space(i); });
    if (run > 1 && pos + run < end)
        return run - 1;
    return run;
}

// 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
std::size_t matchGpt2(const Matcher& m, std::size_t pos, std::size_t end)
{
    if (std::size_t n = matchContraction(m, pos, end, false))
        return n;
    const std::size_t q = (m.at(pos) == ' ' && pos + 1 < end) ? pos + 1 : pos;
    if (m.letter(q))
        return q - pos + m.runLength(q, end, [&](std::size_t i) { return m.letter(i); });
    if (m.number(q))
        return q - pos + m.runLength(q, end, [&](std::size_t i) { return m.number(i); });
    if (m.otherThanSpaceLetterNumber(q))
        return q - pos + m.runLength(q, end, [&](std::size_t i) { return m.otherThanSpaceLetterNumber(i); });
    return m.space(pos) ? matchSpaceRun(m, pos, end) : 0;
}

// \s*[\r\n]+|\s+(?!\S)|\s+ (the end of the Llama 3 and gpt-4o patterns): white space up to
// and including its last line break, else a run that gives its last character to the
// word that follows; 0 when pos is not white space.
std::size_t matchLineBreaksOrSpaceRun(const Matcher& m, std::size_t pos, std::size_t end)
{
    if (!m.space(pos))
        return 0;
    std::size_t run = 0, afterLastBreak = 0;
    while (pos + run < end && m.space(pos + run)) {
        if (m.at(pos + run) == '\r' || m.at(pos + run) == '\n')
            afterLastBreak = run + 1;
        ++run;
    }
    if (afterLastBreak > 0)
        return afterLastBreak;
    return (run > 1 && pos + run < end) ? run - 1 : run;
}

// (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,maxDigits}
//   | ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
std::size_t matchLlama3Like(const Matcher& m, std::size_t pos, std::size_t end, std::size_t maxDigits)
{
    if (std::size_t n = matchContraction(m, pos, end, true))
        return n;
    const auto isLetter = [&](std::size_t i) { return m.letter(i); };
    const uint32_t cp = m.at(pos);
    if (m.letter(pos))
        return m.runLength(pos, end, isLetter);
    if (cp != '\r' && cp != '\n' && !m.number(pos) && pos + 1 < end && m.letter(pos + 1))
        return 1 + m.runLength(pos + 1, end, isLetter);
    if (m.number(pos))
        return std::min(maxDigits, m.runLength(pos, end, [&](std::size_t i) { return m.number(i); }));
    const std::size_t q = (cp == ' ' && pos + 1 < end) ? pos + 1 : pos;
    if (m.otherThanSpaceLetterNumber(q)) {
        std::size_t i = q + m.runLength(q, end, [&](std::size_t k) { return m.otherThanSpaceLetterNumber(k); });
        i += m.runLength(i, end, [&](std::size_t k) { return m.at(k) == '\r' || m.at(k) == '\n'; });
        return i - pos;
    }
    return matchLineBreaksOrSpaceRun(m, pos, end);
}

// The gpt-4o (o200k) pattern, also Llama 4's and Phi-4-mini's:
//   [^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?
//  |[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?
//  |\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+
// A word splits before an upper-case letter that follows lower-case ones ("camelCase"
// is "camel", "Case"); letters without case (Lm, Lo) and marks belong to both halves.
std::size_t matchGpt4o(const Matcher& m, std::size_t pos, std::size_t end)
{
    const auto upperSide = [&](std::size_t i) {   // \p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}
        const CharClass c = m.cls(i);
        return c == CharClass::Mark || (c == CharClass::Letter && unicode::letterCase(m.at(i)) != unicode::LetterCase::Lower);
    };
    const auto lowerSide = [&](std::size_t i) {   // \p{Ll}\p{Lm}\p{Lo}\p{M}
        const CharClass c = m.cls(i);
        return c == CharClass::Mark || (c == CharClass::Letter && unicode::letterCase(m.at(i)) != unicode::LetterCase::Upper);
    };
    const auto withContraction = [&](std::size_t wordEnd) {
        return wordEnd - pos + (wordEnd < end ? matchContraction(m, wordEnd, end, true) : 0);
    };
    // The first alternative from q: an upper-side run (giving characters back as a
    // regex backtracks) followed by a non-empty lower-side run; 0 when there is none.
    const auto casedWord = [&](std::size_t q) -> std::size_t {
        const std::size_t upper = m.runLength(q, end, upperSide);
        for (std::size_t k = q + upper + 1; k-- > q;)
            if (k < end && lowerSide(k))
                return k + m.runLength(k, end, lowerSide);
        return 0;
    };
    const uint32_t cp = m.at(pos);
    const bool prefixable = cp != '\r' && cp != '\n' && !m.letter(pos) && !m.number(pos);
    // Alternative 1, with the optional prefix character, then without it.
    if (prefixable && pos + 1 < end)
        if (const std::size_t e = casedWord(pos + 1))
            return withContraction(e);
    if (const std::size_t e = casedWord(pos))
        return withContraction(e);
    // Alternative 2: upper-side letters, then any lower-side ones.
    for (const std::size_t q : {prefixable ? pos + 1 : end, pos}) {
        if (q >= end)
            continue;
        if (const std::size_t upper = m.runLength(q, end, upperSide)) {
            const std::size_t e = q + upper;
            return withContraction(e + m.runLength(e, end, lowerSide));
        }
    }
    if (m.number(pos))
        return std::min<std::size_t>(3, m.runLength(pos, end, [&](std::size_t i) { return m.number(i); }));
    const std::size_t q = (cp == ' ' && pos + 1 < end) ? pos + 1 : pos;
    if (m.otherThanSpaceLetterNumber(q)) {
        std::size_t i = q + m.runLength(q, end, [&](std::size_t k) { return m.otherThanSpaceLetterNumber(k); });
        i += m.runLength(i, end, [&](std::size_t k) { return m.at(k) == '\r' || m.at(k) == '\n' || m.at(k) == '/'; });
        return i - pos;
    }
    return matchLineBreaksOrSpaceRun(m, pos, end);
}

// The character sets of the deepseek-llm patterns, as written upstream.
using CodepointRanges = std::span<const std::pair<uint32_t, uint32_t>>;

constexpr std::pair<uint32_t, uint32_t> kDeepseekLetters[] = {
    {0x41, 0x5A}, {0x61, 0x7A}, {0xB5, 0xB5}, {0xC0, 0xD6}, {0xD8, 0xF6}, {0xF8, 0x1BA}, {0x1BC, 0x1BF},
    {0x1C4, 0x293}, {0x295, 0x2AF}, {0x370, 0x373}, {0x376, 0x377}, {0x37B, 0x37D}, {0x37F, 0x37F},
    {0x386, 0x386}, {0x388, 0x38A}, {0x38C, 0x38C}, {0x38E, 0x3A1}, {0x3A3, 0x3F5}, {0x3F7, 0x481},
    {0x48A, 0x52F}, {0x531, 0x556}, {0x10A0, 0x10C5}, {0x13A0, 0x13F5}, {0x13F8, 0x13FD},
    {0x1C90, 0x1CBA}, {0x1CBD, 0x1CBF}, {0x1D00, 0x1D2B}, {0x1D6B, 0x1D77}, {0x1D79, 0x1D9A},
    {0x1E00, 0x1F15}, {0x1F18, 0x1F1D}, {0x1F20, 0x1F45}, {0x1F48, 0x1F4D}, {0x1F50, 0x1F57},
    {0x1F59, 0x1F59}, {0x1F5B, 0x1F5B}, {0x1F5D, 0x1F5D}, {0x1F5F, 0x1F7D}, {0x1F80, 0x1FB4},
    {0x1FB6, 0x1FBC}, {0x1FBE, 0x1FBE}, {0x1FC2, 0x1FC4}, {0x1FC6, 0x1FCC}, {0x1FD0, 0x1FD3},
    {0x1FD6, 0x1FDB}, {0x1FE0, 0x1FEC}, {0x1FF2, 0x1FF4}, {0x1FF6, 0x1FFC}, {0x2102, 0x2102},
    {0x2107, 0x2107}, {0x210A, 0x2113}, {0x2115, 0x2115}, {0x2119, 0x211D}, {0x2124, 0x2124},
    {0x2126, 0x2126}, {0x2128, 0x2128}, {0x212A, 0x212D}, {0x212F, 0x2134}, {0x2139, 0x2139},
    {0x213C, 0x213F}, {0x2145, 0x2149}, {0x214E, 0x214E}, {0x2183, 0x2184}, {0x2C00, 0x2C7B},
    {0x2C7E, 0x2CE4}, {0x2CEB, 0x2CEE}, {0x2CF2, 0x2CF3}, {0xA640, 0xA66D}, {0xA680, 0xA69B},
    {0xA722, 0xA76F}, {0xA771, 0xA787}, {0xA78B, 0xA78E}, {0xAB70, 0xABBF}, {0xFB00, 0xFB06},
    {0xFB13, 0xFB17}, {0xFF21, 0xFF3A}, {0xFF41, 0xFF5A}, {0x10400, 0x1044F}, {0x104B0, 0x104D3},
    {0x104D8, 0x104FB}, {0x10C80, 0x10CB2}, {0x10CC0, 0x10CF2}, {0x118A0, 0x118DF}, {0x1E900, 0x1E943},
};
constexpr std::pair<uint32_t, uint32_t> kDeepseekPunctuation[] = {
    {0x21, 0x2F}, {0x3A, 0x7E}, {0xFF01, 0xFF0F}, {0xFF1A, 0xFF5E}, {0x2018, 0x201F}, {0x3000, 0x3002},
};
constexpr std::pair<uint32_t, uint32_t> kDeepseekCjk[] = {
    {0x4E00, 0x9FA5}, {0x0800, 0x4E00}, {0xAC00, 0xD7FF},
};

bool inRanges(CodepointRanges ranges, uint32_t cp)
{
    for (const auto& [first, last] : ranges) {
        if (cp >= first && cp <= last)
            return true;
    }
    return false;
}

// Upstream runs these patterns with std::wregex after turning non-ASCII white
// space into U+000B, so such characters are never members of the explicit sets
// (U+3000 is \s there, not punctuation).
bool inSet(const Matcher& m, std::size_t i, CodepointRanges ranges)
{
    const uint32_t cp = m.at(i);
    return !(cp >= 0x80 && m.space(i)) && inRanges(ranges, cp);
}

// \s?[set]+
std::size_t matchOptionalSpaceThenSet(const Matcher& m, std::size_t pos, std::size_t end, CodepointRanges ranges)
{
    const auto member = [&](std::size_t i) { return inSet(m, i, ranges); };
    if (m.space(pos) && pos + 1 < end && member(pos + 1))
        return 1 + m.runLength(pos + 1, end, member);
    return member(pos) ? m.runLength(pos, end, member) : 0;
}

std::size_t matchNumberRun(const Matcher& m, std::size_t pos, std::size_t end)
{
    return m.runLength(pos, end, [&](std::size_t i) { return m.number(i); });
}

// Applies one pattern to every piece, as a regex search would: matches become
// pieces, and so do the unmatched stretches between them.
template <typename MatchFn>
std::vector<Span> splitPieces(const std::vector<Span>& pieces, MatchFn match)
{
    std::vector<Span> out;
    out.reserve(pieces.size() * 2);
    for (const Span& piece : pieces) {
        std::size_t gapStart = piece.begin;
        std::size_t pos = piece.begin;
        while (pos < piece.end) {
            const std::size_t length = match(pos, piece.end);
            if (length == 0) {
                ++pos;
                continue;
            }
            if (gapStart < pos)
                out.push_back({gapStart, pos});
            out.push_back({pos, pos + length});
            pos += length;
            gapStart = pos;
        }
        if (gapStart < piece.end)
            out.push_back({gapStart, piece.end});
    }
    return out;
}

std::vector<Span> splitDeepseekLlm(const Matcher& m, std::vector<Span> pieces)
{
    pieces = splitPieces(pieces, [&](std::size_t pos, std::size_t) -> std::size_t {
        return (m.at(pos) == '\r' || m.at(pos) == '\n') ? 1 : 0;
    });
    pieces = splitPieces(pieces, [&](std::size_t pos, std::size_t end) {
        return matchOptionalSpaceThenSet(m, pos, end, kDeepseekLetters);
    });
    pieces = splitPieces(pieces, [&](std::size_t pos, std::size_t end) {
        return matchOptionalSpaceThenSet(m, pos, end, kDeepseekPunctuation);
    });
    // \s+$ : white space that runs to the end of the piece. The start of that
    // trailing run is found once per piece, so long runs stay linear.
    std::size_t cachedEnd = SIZE_MAX, trailingStart = 0;
    pieces = splitPieces(pieces, [&](std::size_t pos, std::size_t end) -> std::size_t {
        if (end != cachedEnd) {  // first call for this piece: pos is its start
            cachedEnd = end;
            trailingStart = end;
            while (trailingStart > pos && m.space(trailingStart - 1))
                --trailingStart;
        }
        return (pos >= trailingStart && pos < end) ? end - pos : 0;
    });
    pieces = splitPieces(pieces, [&](std::size_t pos, std::size_t end) {
        const auto member = [&](std::size_t i) { return inSet(m, i, kDeepseekCjk); };
        return m.runLength(pos, end, member);
    });
    return splitPieces(pieces, [&](std::size_t pos, std::size_t end) { return matchNumberRun(m, pos, end); });
}

std::vector<Span> splitDefault(const Matcher& m, std::vector<Span> pieces)
{
    const auto punctuation = [&](std::size_t i) {
        const uint32_t cp = m.at(i);
        if (cp < 0x80)
            return (m.cls(i) == CharClass::Punctuation) || cp == '$' || cp == '+' || cp == '<' || cp == '='
                || cp == '>' || cp == '^' || cp == '~' || cp == '|';
        return m.cls(i) == CharClass::Punctuation && !m.space(i);
    };
    pieces = splitPieces(pieces, [&](std::size_t pos, std::size_t end) { return m.runLength(pos, end, punctuation); });
    pieces = splitPieces(pieces, [&](std::size_t pos, std::size_t end) { return matchGpt2(m, pos, end); });
    pieces = splitPieces(pieces, [&](std::size_t pos, std::size_t end) { return matchNumberRun(m, pos, end); });
    return splitPieces(pieces, [&](std::size_t pos, std::size_t end) -> std::size_t {
        const auto digit = [&](std::size_t i) { return m.at(i) >= '0' && m.at(i) <= '9'; };
        return (pos + 3 <= end && digit(pos) && digit(pos + 1) && digit(pos + 2)) ? 3 : 0;
    });
}

} // namespace

namespace {

// The names llama.cpp accepts for the patterns Folio implements.
constexpr std::pair<std::string_view, PreTokenizerKind> kNames[] = {
    {"default", PreTokenizerKind::Default},
    {"gpt-2", PreTokenizerKind::Gpt2}, {"phi-2", PreTokenizerKind::Gpt2}, {"mpt", PreTokenizerKind::Gpt2},
    {"olmo", PreTokenizerKind::Gpt2}, {"jais", PreTokenizerKind::Gpt2}, {"roberta-bpe", PreTokenizerKind::Gpt2},
    {"llama-bpe", PreTokenizerKind::Llama3}, {"llama3", PreTokenizerKind::Llama3},
    {"llama-v3", PreTokenizerKind::Llama3}, {"dbrx", PreTokenizerKind::Llama3},
    {"smaug-bpe", PreTokenizerKind::Llama3}, {"falcon3", PreTokenizerKind::Llama3},
    {"pixtral", PreTokenizerKind::Llama3},
    {"qwen2", PreTokenizerKind::Qwen2}, {"deepseek-r1-qwen", PreTokenizerKind::Qwen2},
    {"stablelm2", PreTokenizerKind::Qwen2}, {"megrez", PreTokenizerKind::Qwen2},
    {"deepseek-llm", PreTokenizerKind::DeepseekLlm},
    {"gpt-4o", PreTokenizerKind::Gpt4o}, {"llama4", PreTokenizerKind::Gpt4o},
};

} // namespace

std::string knownPreTokenizerNames()
{
    std::string names;
    for (const auto& entry : kNames) {
        if (!names.empty())
            names += ", ";
        names += '"';
        names += entry.first;
        names += '"';
    }
    return names;
}

std::optional<PreTokenizerKind> preTokenizerKindFromName(std::string_view name)
{
    for (const auto& [known, kind] : kNames) {
        if (known == name)
            return kind;
    }
    return std::nullopt;
}

std::vector<std::string_view> preTokenize(PreTokenizerKind kind, std::string_view text)
{
    if (text.empty())
        return {};
    const unicode::DecodedText decoded = unicode::decodeUtf8(text);
    const Matcher m(decoded.codepoints);
    std::vector<Span> pieces{{0, decoded.codepoints.size()}};
    switch (kind) {
    case PreTokenizerKind::Gpt2:
        pieces = splitPieces(pieces, [&](std::size_t pos, std::size_t end) { return matchGpt2(m, pos, end); });
        break;
    case PreTokenizerKind::Llama3:
        pieces = splitPieces(pieces, [&](std::size_t pos, std::size_t end) { return matchLlama3Like(m, pos, end, 3); });
        break;
    case PreTokenizerKind::Qwen2:
        pieces = splitPieces(pieces, [&](std::size_t pos, std::size_t end) { return matchLlama3Like(m, pos, end, 1); });
        break;
    case PreTokenizerKind::DeepseekLlm:
        pieces = splitDeepseekLlm(m, std::move(pieces));
        break;
    case PreTokenizerKind::Gpt4o:
        pieces = splitPieces(pieces, [&](std::size_t pos, std::size_t end) { return matchGpt4o(m, pos, end); });
        break;
    case PreTokenizerKind::Default:
        pieces = splitDefault(m, std::move(pieces));
        break;
    }
    std::vector<std::string_view> out;
    out.reserve(pieces.size());
    for (const Span& span : pieces) {
        const std::size_t first = decoded.offsets[span.begin];
        out.push_back(text.substr(first, decoded.offsets[span.end] - first));
    }
    return out;
}

} // namespace folio
