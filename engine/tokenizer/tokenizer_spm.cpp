// SentencePiece BPE as llama.cpp runs it on "llama" vocabularies: start from
// single UTF-8 characters, repeatedly merge the adjacent pair whose
// concatenation is the vocabulary entry with the highest score (leftmost pair
// on ties), and spell whatever is left that is not a token with <0xXX> byte
// tokens.
#include "engine/tokenizer/tokenizer_vocab.h"

#include "engine/tokenizer/unicode.h"

#include <queue>

namespace folio {

namespace {

struct SpmSymbol {
    uint32_t start;   // byte offset in the text
    uint32_t length;  // 0 once merged into its left neighbour
    int32_t prev;
    int32_t next;
};

struct SpmBigram {
    float score;
    int32_t left;
    int32_t right;
    uint32_t length;  // of both symbols when queued: a later change makes the entry stale

    // std::priority_queue puts the "largest" on top: highest score, then leftmost.
    bool operator<(const SpmBigram& other) const
    {
        return score < other.score || (score == other.score && left > other.left);
    }
};

} // namespace

void Tokenizer::Vocab::encodeSpm(std::string_view text, std::vector<int32_t>& out) const
{
    // A byte that no multi-byte token contains can never take part in a merge,
    // so the text splits there into stretches that merge independently; this
    // keeps the queue small on a whole book (newlines split it into lines).
    std::size_t pos = 0;
    while (pos < text.size()) {
        const bool isolated = spmIsolatedBytes[static_cast<uint8_t>(text[pos])] != 0;
        std::size_t end = pos + 1;
        while (end < text.size() && (spmIsolatedBytes[static_cast<uint8_t>(text[end])] != 0) == isolated)
            ++end;
        encodeSpmStretch(text.substr(pos, end - pos), out);
        pos = end;
    }
}

void Tokenizer::Vocab::encodeSpmStretch(std::string_view text, std::vector<int32_t>& out) const
{
    std::vector<SpmSymbol> symbols;
    symbols.reserve(text.size());
    for (std::size_t pos = 0; pos < text.size();) {
        // An invalid byte is a symbol of its own, which byte fallback then spells.
        const std::size_t length = std::max<std::size_t>(1, unicode::validSequenceLength(text, pos));
        const auto index = static_cast<int32_t>(symbols.size());
        symbols.push_back({static_cast<uint32_t>(pos), static_cast<uint32_t>(length), index - 1,
                           pos + length == text.size() ? -1 : index + 1});
        pos += length;
    }

    std::priority_queue<SpmBigram> queue;
    const auto tryAddBigram = [&](int32_t left, int32_t right) {
        if (left < 0 || right < 0)
            return;
        const SpmSymbol& l = symbols[static_cast<std::size_t>(left)];
        const SpmSymbol& r = symbols[static_cast<std::size_t>(right)];
        const int32_t id = tokenId(text.substr(l.start, l.length + r.length));
        if (id < 0)
            return;
        queue.push({scores[static_cast<std::size_t>(id)], left, right, l.length + r.length});
    };
    for (std::size_t i = 1; i < symbols.size(); ++i)
        tryAddBigram(static_cast<int32_t>(i - 1), static_cast<int32_t>(i));

    while (!queue.empty()) {
        const SpmBigram bigram = queue.top();
        queue.pop();
        SpmSymbol& left = symbols[static_cast<std::size_t>(bigram.left)];
        SpmSymbol& right = symbols[static_cast<std::size_t>(bigram.right)];
        if (left.length == 0 || right.length == 0 || left.length + right.length != bigram.length)
            continue;
        left.length += right.length;
        right.length = 0;
        left.next = right.next;
        if (right.next >= 0)
            symbols[static_cast<std::size_t>(right.next)].prev = bigram.left;
        tryAddBigram(left.prev, bigram.left);
        tryAddBigram(bigram.left, left.next);
    }

    // Every merged symbol is a token; single characters may not be.
    for (int32_t i = 0; i != -1; i = symbols[static_cast<std::size_t>(i)].next) {
        const SpmSymbol& symbol = symbols[static_cast<std::size_t>(i)];
        const std::string_view piece = text.substr(symbol.start, symbol.length);
        if (const int32_t id = tokenId(piece); id >= 0) {
            out.push_back(id);
            continue;
        }
        for (const char c : piece) {
            const int32_t id = byteTokens[static_cast<uint8_t>(c)];
            if (id >= 0)
                out.push_back(id);
            else if (unk >= 0)
                out.push_back(unk);
        }
    }
}

} // namespace folio
