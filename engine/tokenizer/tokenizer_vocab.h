// Internal to the tokenizer (tokenizer.cpp, tokenizer_spm.cpp, tokenizer_bpe.cpp):
// the vocabulary as loaded from GGUF, with the lookup structures the two
// algorithms need.
#pragma once

#include "engine/tokenizer/pretokenizer.h"
#include "engine/tokenizer/tokenizer.h"

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace folio {

struct StringViewHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

using StringIdMap = std::unordered_map<std::string, int32_t, StringViewHash, std::equal_to<>>;

// Byte strings of the special tokens, for finding which of them occur in a text
// in one pass.
class SpecialTokenTrie {
public:
    void insert(std::string_view text, int32_t id);
    // Every token whose text occurs somewhere in `text`, each once.
    std::vector<int32_t> tokensIn(std::string_view text) const;

private:
    struct Node {
        std::vector<std::pair<uint8_t, uint32_t>> next;  // sorted by byte
        int32_t token = -1;
    };
    uint32_t child(uint32_t node, uint8_t byte) const;
    std::vector<Node> nodes_{Node{}};
};

struct Tokenizer::Vocab {
    TokenizerKind kind = TokenizerKind::SentencePiece;
    std::string preName = "default";
    PreTokenizerKind pre = PreTokenizerKind::Default;

    std::vector<std::string> tokens;
    std::vector<float> scores;
    std::vector<TokenType> types;
    std::vector<uint8_t> stripSpaceAfter;  // llama.cpp's RSTRIP attribute (Phi-3 special tokens)
    std::vector<std::string> pieces;       // tokenPiece() of every id
    StringIdMap tokenIds;                  // text -> id (the last id wins on duplicates, as upstream)

    // Byte-level BPE: merge ranks keyed by the symbol ids of the pair. Merge
    // parts that are not vocabulary entries get ids from vocabSize() upwards.
    StringIdMap extraSymbols;
    std::unordered_map<uint64_t, int32_t> mergeRanks;
    bool ignoreMerges = false;  // Llama 3: a piece that is a whole token is taken as is

    int32_t byteTokens[256];  // SentencePiece <0xXX> tokens, -1 where missing
    // SentencePiece: ASCII bytes that appear in no token longer than one byte
    // (newline, tab, ...); merges never cross them.
    uint8_t spmIsolatedBytes[256];

    SpecialTokenTrie specialTrie;      // control, user-defined and unknown tokens
    std::vector<int32_t> eogIds;       // sorted

    int32_t bos = -1, eos = -1, eot = -1, eom = -1, unk = -1;
    bool addBos = false, addEos = false, addSpacePrefix = false;

    int32_t size() const { return static_cast<int32_t>(tokens.size()); }
    int32_t tokenId(std::string_view text) const
    {
        const auto it = tokenIds.find(text);
        return it == tokenIds.end() ? -1 : it->second;
    }
    // Token id, or the id of a merge part that is no token, or -1.
    int32_t symbolId(std::string_view text) const
    {
        if (const int32_t id = tokenId(text); id >= 0)
            return id;
        const auto it = extraSymbols.find(text);
        return it == extraSymbols.end() ? -1 : it->second;
    }
    bool isSpecial(int32_t id) const
    {
        const TokenType t = types[static_cast<std::size_t>(id)];
        return t == TokenType::Control || t == TokenType::UserDefined || t == TokenType::Unknown;
    }

    // One stretch of text between special tokens (tokenizer_spm.cpp / tokenizer_bpe.cpp).
    void encodeSpm(std::string_view text, std::vector<int32_t>& out) const;
    void encodeSpmStretch(std::string_view text, std::vector<int32_t>& out) const;
    void encodeBpe(std::string_view text, std::vector<int32_t>& out) const;
};

} // namespace folio
