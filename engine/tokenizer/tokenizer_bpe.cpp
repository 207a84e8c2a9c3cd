// Byte-level BPE as llama.cpp runs it on "gpt2" vocabularies: pre-tokenize,
// write each piece's bytes as GPT-2's stand-in characters, then repeatedly
// merge the adjacent pair with the lowest merge rank (leftmost on ties).
#include "engine/tokenizer/tokenizer_vocab.h"

#include "engine/tokenizer/unicode.h"

#include <queue>

namespace folio {

namespace {

struct BpeSymbol {
    uint32_t start;   // byte offset in the mapped word
    uint32_t length;  // 0 once merged into its left neighbour
    int32_t prev;
    int32_t next;
    int32_t id;       // symbol id (token or merge part), -1 when it can merge no further
};

struct BpeBigram {
    int32_t rank;
    int32_t left;
    int32_t right;
    uint32_t length;

    // std::priority_queue puts the "largest" on top: lowest rank, then leftmost.
    bool operator<(const BpeBigram& other) const
    {
        return rank > other.rank || (rank == other.rank && left > other.left);
    }
};

uint64_t pairKey(int32_t left, int32_t right)
{
    return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
}

void mergeWord(const Tokenizer::Vocab& vocab, std::string_view word, std::vector<int32_t>& out)
{
    std::vector<BpeSymbol> symbols;
    symbols.reserve(word.size());
    for (std::size_t pos = 0; pos < word.size();) {
        const std::size_t length = std::max<std::size_t>(1, unicode::validSequenceLength(word, pos));
        const auto index = static_cast<int32_t>(symbols.size());
        symbols.push_back({static_cast<uint32_t>(pos), static_cast<uint32_t>(length), index - 1,
                           pos + length == word.size() ? -1 : index + 1,
                           vocab.symbolId(word.substr(pos, length))});
        pos += length;
    }

    std::priority_queue<BpeBigram> queue;
    const auto tryAddBigram = [&](int32_t left, int32_t right) {
        if (left < 0 || right < 0)
            return;
        const BpeSymbol& l = symbols[static_cast<std::size_t>(left)];
        const BpeSymbol& r = symbols[static_cast<std::size_t>(right)];
        if (l.id < 0 || r.id < 0)
            return;
        const auto it = vocab.mergeRanks.find(pairKey(l.id, r.id));
        if (it != vocab.mergeRanks.end())
            queue.push({it->second, left, right, l.length + r.length});
    };
    for (std::size_t i = 1; i < symbols.size(); ++i)
        tryAddBigram(static_cast<int32_t>(i - 1), static_cast<int32_t>(i));

    while (!queue.empty()) {
        const BpeBigram bigram = queue.top();
        queue.pop();
        BpeSymbol& left = symbols[static_cast<std::size_t>(bigram.left)];
        BpeSymbol& right = symbols[static_cast<std::size_t>(bigram.right)];
        if (left.length == 0 || right.length == 0 || left.length + right.length != bigram.length)
            continue;
        left.length += right.length;
        right.length = 0;
        left.id = vocab.symbolId(word.substr(left.start, left.length));
        left.next = right.next;
        if (right.next >= 0)
            symbols[static_cast<std::size_t>(right.next)].prev = bigram.left;
        tryAddBigram(left.prev, bigram.left);
        tryAddBigram(bigram.left, left.next);
    }

    for (int32_t i = 0; i != -1; i = symbols[static_cast<std::size_t>(i)].next) {
        const BpeSymbol& symbol = symbols[static_cast<std::size_t>(i)];
        const std::string_view piece = word.substr(symbol.start, symbol.length);
        if (const int32_t id = vocab.tokenId(piece); id >= 0) {
            out.push_back(id);
            continue;
        }
        // As upstream: a symbol that is no token falls back to its single bytes
        // where those happen to be tokens.
        for (std::size_t k = 0; k < piece.size(); ++k) {
            if (const int32_t id = vocab.tokenId(piece.substr(k, 1)); id >= 0)
                out.push_back(id);
        }
    }
}

} // namespace

void Tokenizer::Vocab::encodeBpe(std::string_view text, std::vector<int32_t>& out) const
{
    // Books repeat their words endlessly: remember each piece's tokens.
    std::unordered_map<std::string, std::vector<int32_t>, StringViewHash, std::equal_to<>> cache;
    std::string word;
    for (const std::string_view piece : preTokenize(pre, text)) {
        word.clear();
        for (const char c : piece)
            word += unicode::byteToUnicode(static_cast<uint8_t>(c));
        if (ignoreMerges) {
            if (const int32_t id = tokenId(word); id >= 0) {
                out.push_back(id);
                continue;
            }
        }
        if (const auto it = cache.find(std::string_view(word)); it != cache.end()) {
            out.insert(out.end(), it->second.begin(), it->second.end());
            continue;
        }
        std::vector<int32_t> ids;
        mergeWord(*this, word, ids);
        out.insert(out.end(), ids.begin(), ids.end());
        if (piece.size() <= 64)
            cache.emplace(word, std::move(ids));
    }
}

} // namespace folio
