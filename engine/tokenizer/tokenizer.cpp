#include "engine/tokenizer/tokenizer.h"

#include "engine/gguf/gguf.h"
#include "engine/tokenizer/tokenizer_vocab.h"
#include "engine/tokenizer/unicode.h"

#include <algorithm>
#include <cctype>
#include <cstdio>

namespace folio {

// ---------------------------------------------------------------- special tokens

uint32_t SpecialTokenTrie::child(uint32_t node, uint8_t byte) const
{
    const auto& next = nodes_[node].next;
    const auto it = std::lower_bound(next.begin(), next.end(), byte,
        [](const std::pair<uint8_t, uint32_t>& edge, uint8_t b) { return edge.first < b; });
    return (it != next.end() && it->first == byte) ? it->second : 0;
}

void SpecialTokenTrie::insert(std::string_view text, int32_t id)
{
    uint32_t node = 0;
    for (const char c : text) {
        const auto byte = static_cast<uint8_t>(c);
        uint32_t next = child(node, byte);
        if (next == 0) {
            next = static_cast<uint32_t>(nodes_.size());
            nodes_.emplace_back();
            auto& edges = nodes_[node].next;
            const auto at = std::lower_bound(edges.begin(), edges.end(), byte,
                [](const std::pair<uint8_t, uint32_t>& edge, uint8_t b) { return edge.first < b; });
            edges.insert(at, {byte, next});
        }
        node = next;
    }
    nodes_[node].token = id;
}

std::vector<int32_t> SpecialTokenTrie::tokensIn(std::string_view text) const
{
    std::vector<int32_t> found;
    if (nodes_[0].next.empty())
        return found;
    for (std::size_t start = 0; start < text.size(); ++start) {
        uint32_t node = 0;
        for (std::size_t i = start; i < text.size(); ++i) {
            node = child(node, static_cast<uint8_t>(text[i]));
            if (node == 0)
                break;
            if (nodes_[node].token >= 0)
                found.push_back(nodes_[node].token);
        }
    }
    std::sort(found.begin(), found.end());
    found.erase(std::unique(found.begin(), found.end()), found.end());
    return found;
}

namespace {

// A stretch of the input: either raw text [begin, end) or one special token.
struct Fragment {
    int32_t token;  // -1 for text
    std::size_t begin, end;
};

bool isAsciiSpace(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

// llama.cpp's partition: each special token in turn (longest first) cuts every
// text fragment at each of its occurrences.
std::vector<Fragment> partitionSpecial(const Tokenizer::Vocab& vocab, std::string_view text, bool parseSpecial)
{
    std::vector<Fragment> fragments{{-1, 0, text.size()}};
    std::vector<int32_t> present = vocab.specialTrie.tokensIn(text);
    std::erase_if(present, [&](int32_t id) {
        return !parseSpecial && vocab.types[static_cast<std::size_t>(id)] != TokenType::UserDefined;
    });
    std::stable_sort(present.begin(), present.end(), [&](int32_t a, int32_t b) {
        return vocab.tokens[static_cast<std::size_t>(a)].size() > vocab.tokens[static_cast<std::size_t>(b)].size();
    });
    for (const int32_t id : present) {
        const std::string& special = vocab.tokens[static_cast<std::size_t>(id)];
        const bool stripAfter = vocab.stripSpaceAfter[static_cast<std::size_t>(id)] != 0;
        std::vector<Fragment> next;
        next.reserve(fragments.size() + 2);
        for (const Fragment& fragment : fragments) {
            if (fragment.token >= 0) {
                next.push_back(fragment);
                continue;
            }
            std::size_t begin = fragment.begin;
            while (begin < fragment.end) {
                const std::size_t match = text.substr(0, fragment.end).find(special, begin);
                if (match == std::string_view::npos) {
                    next.push_back({-1, begin, fragment.end});
                    break;
                }
                if (match > begin)
                    next.push_back({-1, begin, match});
                next.push_back({id, match, match + special.size()});
                begin = match + special.size();
                if (stripAfter) {
                    while (begin < fragment.end && isAsciiSpace(text[begin]))
                        ++begin;
                }
            }
        }
        fragments = std::move(next);
    }
    return fragments;
}

const char* const kEndOfGenerationNames[] = {
    "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|eom_id|>",
    "<EOT>", "_<EOT>", "<|end_of_text|>", "<end_of_utterance>", "<｜end▁of▁sentence｜>",
};
const char* const kEndOfTurnNames[] = {
    "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<EOT>", "_<EOT>",
    "<|end_of_text|>", "<｜end▁of▁sentence｜>", "<end_of_utterance>",
};

std::string pieceOf(const Tokenizer::Vocab& vocab, int32_t id)
{
    const std::string& text = vocab.tokens[static_cast<std::size_t>(id)];
    switch (vocab.types[static_cast<std::size_t>(id)]) {
    case TokenType::Control:
    case TokenType::Unknown:
    case TokenType::Unused:
        return {};
    case TokenType::UserDefined:
        return text;
    case TokenType::Byte:
        if (vocab.kind == TokenizerKind::SentencePiece && text.size() == 6 && text.starts_with("<0x"))
            return std::string(1, static_cast<char>(std::stoi(text.substr(3, 2), nullptr, 16)));
        break;
    case TokenType::Normal:
        break;
    }
    std::string piece;
    if (vocab.kind == TokenizerKind::SentencePiece) {
        static constexpr std::string_view kSpaceMark = "\xE2\x96\x81";  // U+2581
        for (std::size_t pos = 0; pos < text.size();) {
            if (text.compare(pos, kSpaceMark.size(), kSpaceMark) == 0) {
                piece += ' ';
                pos += kSpaceMark.size();
            } else {
                piece += text[pos++];
            }
        }
        return piece;
    }
    // Byte-level: each character stands for one byte; anything else is kept as written.
    const unicode::DecodedText decoded = unicode::decodeUtf8(text);
    for (std::size_t i = 0; i < decoded.codepoints.size(); ++i) {
        const int byte = unicode::unicodeToByte(decoded.codepoints[i]);
        if (byte >= 0)
            piece += static_cast<char>(byte);
        else
            piece.append(text, decoded.offsets[i], decoded.offsets[i + 1] - decoded.offsets[i]);
    }
    return piece;
}

[[noreturn]] void fail(std::string_view key, const std::string& what)
{
    throw TokenizerError(std::string(key) + ": " + what);
}

int32_t optionalTokenId(const GgufFile& file, const char* key, int32_t vocabSize)
{
    const std::optional<int64_t> value = file.getInt(key);
    if (!value)
        return -1;
    if (*value < 0 || *value >= vocabSize)
        fail(key, "token id " + std::to_string(*value) + " is outside the vocabulary of " + std::to_string(vocabSize));
    return static_cast<int32_t>(*value);
}

void loadMerges(const GgufFile& file, Tokenizer::Vocab& vocab)
{
    const std::vector<std::string> merges = file.getStringArray("tokenizer.ggml.merges");
    if (merges.empty())
        fail("tokenizer.ggml.merges", "missing or empty (required by the \"gpt2\" tokenizer)");
    const auto idOf = [&](std::string_view part) {
        if (const int32_t id = vocab.symbolId(part); id >= 0)
            return id;
        const auto id = static_cast<int32_t>(vocab.tokens.size() + vocab.extraSymbols.size());
        vocab.extraSymbols.emplace(std::string(part), id);
        return id;
    };
    vocab.mergeRanks.reserve(merges.size());
    for (std::size_t rank = 0; rank < merges.size(); ++rank) {
        const std::string& merge = merges[rank];
        const std::size_t space = merge.find(' ', 1);
        if (space == std::string::npos)
            fail("tokenizer.ggml.merges", "entry " + std::to_string(rank) + " (\"" + merge + "\") is not \"left right\"");
        const int32_t left = idOf(std::string_view(merge).substr(0, space));
        const int32_t right = idOf(std::string_view(merge).substr(space + 1));
        const uint64_t key = (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
        vocab.mergeRanks.emplace(key, static_cast<int32_t>(rank));  // the first (lowest) rank wins
    }
}

std::shared_ptr<Tokenizer::Vocab> loadVocab(const GgufFile& file)
{
    auto vocab = std::make_shared<Tokenizer::Vocab>();
    const std::optional<std::string> model = file.getString("tokenizer.ggml.model");
    if (!model)
        fail("tokenizer.ggml.model", "missing");
    if (*model == "llama")
        vocab->kind = TokenizerKind::SentencePiece;
    else if (*model == "gpt2")
        vocab->kind = TokenizerKind::BytePairEncoding;
    else
        fail("tokenizer.ggml.model", "unsupported tokenizer \"" + *model + "\" (Folio supports \"llama\" and \"gpt2\")");
    const bool spm = vocab->kind == TokenizerKind::SentencePiece;

    vocab->tokens = file.getStringArray("tokenizer.ggml.tokens");
    if (vocab->tokens.empty())
        fail("tokenizer.ggml.tokens", "missing or empty");
    const std::size_t n = vocab->tokens.size();
    if (n > static_cast<std::size_t>(INT32_MAX / 2))
        fail("tokenizer.ggml.tokens", "too many tokens");

    vocab->scores = file.getFloatArray("tokenizer.ggml.scores");
    if (vocab->scores.empty() && spm)
        fail("tokenizer.ggml.scores", "missing (required by the \"llama\" tokenizer)");
    if (vocab->scores.empty())
        vocab->scores.assign(n, 0.0f);
    if (vocab->scores.size() != n)
        fail("tokenizer.ggml.scores", std::to_string(vocab->scores.size()) + " scores for " + std::to_string(n) + " tokens");

    const std::vector<int64_t> types = file.getIntArray("tokenizer.ggml.token_type");
    if (!types.empty() && types.size() != n)
        fail("tokenizer.ggml.token_type", std::to_string(types.size()) + " types for " + std::to_string(n) + " tokens");
    vocab->types.assign(n, TokenType::Normal);
    for (std::size_t i = 0; i < types.size(); ++i) {
        if (types[i] >= 1 && types[i] <= 6)
            vocab->types[i] = static_cast<TokenType>(types[i]);
        else
            vocab->types[i] = TokenType::Unused;  // undefined types are suppressed like control tokens upstream
    }

    vocab->tokenIds.reserve(n);
    for (std::size_t i = 0; i < n; ++i)
        vocab->tokenIds.insert_or_assign(vocab->tokens[i], static_cast<int32_t>(i));

    std::fill(std::begin(vocab->byteTokens), std::end(vocab->byteTokens), -1);
    for (int b = 0; b < 256; ++b) {
        char name[8];
        std::snprintf(name, sizeof name, "<0x%02X>", b);
        vocab->byteTokens[b] = vocab->tokenId(name);
    }

    std::fill(std::begin(vocab->spmIsolatedBytes), std::end(vocab->spmIsolatedBytes), 0);
    std::fill(std::begin(vocab->spmIsolatedBytes), std::begin(vocab->spmIsolatedBytes) + 0x80, 1);
    for (const std::string& token : vocab->tokens) {
        if (token.size() < 2)
            continue;
        for (const char c : token)
            vocab->spmIsolatedBytes[static_cast<uint8_t>(c)] = 0;
    }

    const std::string preName = file.getString("tokenizer.ggml.pre").value_or("default");
    vocab->preName = preName;
    bool llama3Family = false;
    if (spm && preName != "default") {
        // SentencePiece splits nothing before merging; a file that names a
        // pattern expects one to run, and ignoring it would tokenize wrongly.
        fail("tokenizer.ggml.pre", "pre-tokenizer \"" + preName
                 + "\" is unsupported with the \"llama\" (SentencePiece) tokenizer, which takes only \"default\"");
    }
    if (!spm) {
        const std::optional<PreTokenizerKind> pre = preTokenizerKindFromName(preName);
        if (!pre)
            fail("tokenizer.ggml.pre", "unsupported pre-tokenizer \"" + preName + "\" (Folio knows " + knownPreTokenizerNames() + ")");
        vocab->pre = *pre;
        llama3Family = *pre == PreTokenizerKind::Llama3 && preName != "dbrx" && preName != "smaug-bpe";
        vocab->ignoreMerges = llama3Family;
        loadMerges(file, *vocab);
    }

    const auto count = static_cast<int32_t>(n);
    vocab->bos = optionalTokenId(file, "tokenizer.ggml.bos_token_id", count);
    vocab->eos = optionalTokenId(file, "tokenizer.ggml.eos_token_id", count);
    vocab->eot = optionalTokenId(file, "tokenizer.ggml.eot_token_id", count);
    vocab->eom = optionalTokenId(file, "tokenizer.ggml.eom_token_id", count);
    vocab->unk = optionalTokenId(file, "tokenizer.ggml.unknown_token_id", count);
    if (vocab->unk < 0) {
        const auto it = std::find(vocab->types.begin(), vocab->types.end(), TokenType::Unknown);
        if (it != vocab->types.end())
            vocab->unk = static_cast<int32_t>(it - vocab->types.begin());
    }
    vocab->addBos = file.getBool("tokenizer.ggml.add_bos_token").value_or(spm || llama3Family);
    vocab->addEos = file.getBool("tokenizer.ggml.add_eos_token").value_or(false);
    // Gemma's SentencePiece adds no dummy prefix; its converters write the key
    // as false, but files from before the key existed say nothing.
    const bool gemma = file.getString("general.architecture").value_or("").starts_with("gemma");
    vocab->addSpacePrefix = file.getBool("tokenizer.ggml.add_space_prefix").value_or(spm && !gemma);

    // End of generation, found by name as upstream does; those names are control tokens.
    for (const char* name : kEndOfGenerationNames) {
        if (const int32_t id = vocab->tokenId(name); id >= 0) {
            vocab->eogIds.push_back(id);
            vocab->types[static_cast<std::size_t>(id)] = TokenType::Control;
        }
    }
    if (vocab->eot < 0) {
        for (const char* name : kEndOfTurnNames) {
            if (const int32_t id = vocab->tokenId(name); id >= 0) {
                vocab->eot = id;
                break;
            }
        }
    }
    if (const int32_t id = vocab->tokenId("</s>"); id >= 0 && vocab->isSpecial(id))
        vocab->eogIds.push_back(id);
    for (const int32_t id : {vocab->eos, vocab->eot, vocab->eom}) {
        if (id >= 0)
            vocab->eogIds.push_back(id);
    }
    std::sort(vocab->eogIds.begin(), vocab->eogIds.end());
    vocab->eogIds.erase(std::unique(vocab->eogIds.begin(), vocab->eogIds.end()), vocab->eogIds.end());

    // Phi-3's special tokens swallow the white space after them (llama.cpp sets
    // this by model name: GGUF has no per-token attributes).
    vocab->stripSpaceAfter.assign(n, 0);
    std::string modelName = file.getString("general.name").value_or("");
    std::transform(modelName.begin(), modelName.end(), modelName.begin(),
                   [](char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); });
    if (modelName.find("phi-3") != std::string::npos || modelName.find("phi3") != std::string::npos) {
        for (std::size_t i = 0; i < n; ++i)
            vocab->stripSpaceAfter[i] = vocab->isSpecial(static_cast<int32_t>(i)) ? 1 : 0;
        if (const int32_t id = vocab->tokenId("</s>"); id >= 0)
            vocab->stripSpaceAfter[static_cast<std::size_t>(id)] = 1;
        for (const char* name : {"<unk>", "<s>", "<|endoftext|>"}) {
            if (const int32_t id = vocab->tokenId(name); id >= 0)
                vocab->stripSpaceAfter[static_cast<std::size_t>(id)] = 0;
        }
    }

    for (std::size_t i = 0; i < n; ++i) {
        if (vocab->isSpecial(static_cast<int32_t>(i)) && !vocab->tokens[i].empty())
            vocab->specialTrie.insert(vocab->tokens[i], static_cast<int32_t>(i));
    }
    vocab->pieces.resize(n);
    for (std::size_t i = 0; i < n; ++i)
        vocab->pieces[i] = pieceOf(*vocab, static_cast<int32_t>(i));
    return vocab;
}

} // namespace

// ---------------------------------------------------------------- Tokenizer

Tokenizer::Tokenizer(std::shared_ptr<const Vocab> vocab) : vocab_(std::move(vocab)) {}

Tokenizer Tokenizer::fromGguf(const GgufFile& file)
{
    try {
        return Tokenizer(loadVocab(file));
    } catch (const GgufError& e) {
        // A value of the wrong type: the reader's message names the key.
        throw TokenizerError(e.what());
    }
}

TokenizerKind Tokenizer::kind() const { return vocab_->kind; }
std::string Tokenizer::preTokenizer() const { return vocab_->preName; }
int32_t Tokenizer::vocabSize() const { return vocab_->size(); }
int32_t Tokenizer::bos() const { return vocab_->bos; }
int32_t Tokenizer::eos() const { return vocab_->eos; }
int32_t Tokenizer::eot() const { return vocab_->eot; }
int32_t Tokenizer::unk() const { return vocab_->unk; }
bool Tokenizer::addBosByDefault() const { return vocab_->addBos; }
bool Tokenizer::addEosByDefault() const { return vocab_->addEos; }
bool Tokenizer::addSpacePrefix() const { return vocab_->addSpacePrefix; }

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool addBos, bool parseSpecial) const
{
    const Vocab& vocab = *vocab_;
    std::vector<int32_t> out;
    out.reserve(text.size() / 3 + 2);
    if (addBos && vocab.bos >= 0)
        out.push_back(vocab.bos);
    if (text.empty())
        return out;
    bool afterSpecial = true;  // the text's start counts as following a special token
    std::string buffer;
    for (const Fragment& fragment : partitionSpecial(vocab, text, parseSpecial)) {
        if (fragment.token >= 0) {
            out.push_back(fragment.token);
            afterSpecial = true;
            continue;
        }
        const std::string_view stretch = text.substr(fragment.begin, fragment.end - fragment.begin);
        if (vocab.kind == TokenizerKind::BytePairEncoding) {
            vocab.encodeBpe(stretch, out);
            continue;
        }
        // SentencePiece sees spaces as U+2581, with one in front of the text.
        buffer.clear();
        buffer.reserve(stretch.size() + stretch.size() / 2 + 3);
        if (vocab.addSpacePrefix && afterSpecial)
            buffer += "\xE2\x96\x81";
        for (const char c : stretch) {
            if (c == ' ')
                buffer += "\xE2\x96\x81";
            else
                buffer += c;
        }
        vocab.encodeSpm(buffer, out);
        afterSpecial = false;
    }
    return out;
}

std::string Tokenizer::decode(const std::vector<int32_t>& tokens) const
{
    std::string out;
    bool dropSpace = vocab_->kind == TokenizerKind::SentencePiece && vocab_->addSpacePrefix;
    for (const int32_t id : tokens) {
        if (id < 0 || id >= vocab_->size())
            continue;
        std::string_view piece = vocab_->pieces[static_cast<std::size_t>(id)];
        if (piece.empty())
            continue;
        if (dropSpace && piece.front() == ' ')
            piece.remove_prefix(1);
        dropSpace = false;
        out += piece;
    }
    return out;
}

std::string Tokenizer::tokenPiece(int32_t id) const
{
    if (id < 0 || id >= vocab_->size())
        return {};
    return vocab_->pieces[static_cast<std::size_t>(id)];
}

bool Tokenizer::isEndOfGeneration(int32_t id) const
{
    return std::binary_search(vocab_->eogIds.begin(), vocab_->eogIds.end(), id);
}

std::vector<int32_t> Tokenizer::endOfGenerationTokens() const { return vocab_->eogIds; }

TokenType Tokenizer::tokenType(int32_t id) const
{
    if (id < 0 || id >= vocab_->size())
        return TokenType::Normal;
    return vocab_->types[static_cast<std::size_t>(id)];
}

bool Tokenizer::isControl(int32_t id) const { return tokenType(id) == TokenType::Control; }

std::optional<int32_t> Tokenizer::findToken(std::string_view piece) const
{
    const int32_t id = vocab_->tokenId(piece);
    return id >= 0 ? std::optional<int32_t>(id) : std::nullopt;
}

std::string_view Tokenizer::tokenText(int32_t id) const
{
    if (id < 0 || id >= vocab_->size())
        return {};
    return vocab_->tokens[static_cast<std::size_t>(id)];
}

// ---------------------------------------------------------------- streaming

namespace {

// How many bytes at the end of `bytes` begin a UTF-8 sequence that more bytes
// could still complete (0 when the end is complete or hopeless).
std::size_t incompleteTail(std::string_view bytes)
{
    const std::size_t n = bytes.size();
    for (std::size_t back = 1; back <= 3 && back <= n; ++back) {
        const auto byte = static_cast<uint8_t>(bytes[n - back]);
        if ((byte & 0xC0) == 0x80)
            continue;  // continuation: look further back for the lead byte
        const std::size_t need = byte >= 0xF0 && byte <= 0xF4 ? 4 : byte >= 0xE0 ? 3 : byte >= 0xC2 ? 2 : 1;
        if (byte >= 0xF5 || need <= back)
            return 0;
        // The bytes so far must be a valid beginning: pad with continuations and check.
        std::string probe(bytes.substr(n - back));
        probe.append(need - back, static_cast<char>(0x80));
        if (back == 1 && byte == 0xE0)
            probe[1] = static_cast<char>(0xA0);  // smallest second byte that is not overlong
        if (back == 1 && byte == 0xF0)
            probe[1] = static_cast<char>(0x90);
        return unicode::validSequenceLength(probe, 0) == need ? back : 0;
    }
    return 0;
}

} // namespace

std::string TokenStreamDecoder::push(int32_t id)
{
    pending_ += tokenizer_->tokenPiece(id);
    const std::size_t keep = incompleteTail(pending_);
    std::string ready = unicode::sanitizeUtf8(std::string_view(pending_).substr(0, pending_.size() - keep));
    pending_.erase(0, pending_.size() - keep);
    return ready;
}

std::string TokenStreamDecoder::flush()
{
    std::string rest = unicode::sanitizeUtf8(pending_);
    pending_.clear();
    return rest;
}

} // namespace folio
