// Tokenizers of the vocabularies GGUF files carry: SentencePiece-style BPE over
// scores ("llama": Llama 2, Mistral, TinyLlama, Phi-3, Gemma 3) and byte-level
// BPE over ranked merges ("gpt2": GPT-2, Llama 3, Qwen2/3, DeepSeek). Encoding
// matches llama.cpp token for token (the conformance vectors under shared/vocab
// and tests/data/vocab prove it); decoding returns the original bytes.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace folio {

class GgufFile;

class TokenizerError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

enum class TokenizerKind {
    SentencePiece,     // tokenizer.ggml.model = "llama"
    BytePairEncoding,  // tokenizer.ggml.model = "gpt2"
};

// tokenizer.ggml.token_type values.
enum class TokenType : uint8_t {
    Normal = 1,
    Unknown = 2,
    Control = 3,
    UserDefined = 4,
    Unused = 5,
    Byte = 6,
};

// Immutable once built; copies share the vocabulary, and every const method may
// be called from several threads at once.
class Tokenizer {
public:
    // Throws TokenizerError naming the metadata key that is missing or wrong.
    static Tokenizer fromGguf(const GgufFile& file);

    TokenizerKind kind() const;
    std::string preTokenizer() const;  // tokenizer.ggml.pre as found ("default" when absent)
    int32_t vocabSize() const;

    // addBos prepends bos() (when the vocabulary has one); pass addBosByDefault()
    // for a model's usual behaviour. With parseSpecial, control and user-defined
    // token texts in `text` become those tokens; without it, user-defined tokens
    // still do (as in llama.cpp and Hugging Face) but control tokens are plain
    // text. SentencePiece prepends a space to the text (add_space_prefix) at the
    // start and after each special token. Invalid UTF-8 never throws: each bad
    // byte is kept as a byte (byte-fallback or byte-level token) and classified
    // as U+FFFD by the pre-tokenizers, so decode() still returns it exactly.
    std::vector<int32_t> encode(std::string_view text, bool addBos, bool parseSpecial) const;

    // The bytes of the whole sequence. Control and unknown tokens add nothing;
    // SentencePiece drops the one space encode() prepended (from the first token
    // that has text). No clean-up of spaces before punctuation, so that
    // decode(encode(s, ...)) == s.
    std::string decode(const std::vector<int32_t>& tokens) const;

    // One token's bytes as streamed: "▁" as a space, <0xXX> byte tokens as that
    // byte (possibly part of a UTF-8 sequence; see TokenStreamDecoder),
    // byte-level characters as their bytes, control/unknown tokens empty. No
    // leading space is removed.
    std::string tokenPiece(int32_t id) const;

    int32_t bos() const;  // -1 when absent
    int32_t eos() const;  // -1 when absent
    int32_t eot() const;  // tokenizer.ggml.eot_token_id, or a token named like <|eot_id|>; -1 when none
    int32_t unk() const;  // -1 when absent
    bool addBosByDefault() const;  // tokenizer.ggml.add_bos_token; default true for "llama" and Llama 3
    bool addEosByDefault() const;  // tokenizer.ggml.add_eos_token; default false
    bool addSpacePrefix() const;   // tokenizer.ggml.add_space_prefix; default true for "llama", but not Gemma

    // eos, eot, eom and tokens such as <|eot_id|>, <|im_end|>, <|end|>, <|endoftext|>, </s>.
    bool isEndOfGeneration(int32_t id) const;
    std::vector<int32_t> endOfGenerationTokens() const;  // sorted
    bool isControl(int32_t id) const;
    TokenType tokenType(int32_t id) const;  // Normal for ids out of range

    std::optional<int32_t> findToken(std::string_view piece) const;  // exact vocabulary entry
    std::string_view tokenText(int32_t id) const;  // raw vocabulary entry; empty for ids out of range

    struct Vocab;  // defined in engine/tokenizer_vocab.h

private:
    explicit Tokenizer(std::shared_ptr<const Vocab> vocab);
    std::shared_ptr<const Vocab> vocab_;
};

// Turns generated tokens into text for a UI one token at a time. A character
// can span several tokens (SentencePiece byte fallback, byte-level BPE pieces of
// a multi-byte character); push() holds back an incomplete UTF-8 sequence until
// it is complete, so every string it returns is valid UTF-8. Bytes that can
// never form a character come out as U+FFFD.
class TokenStreamDecoder {
public:
    explicit TokenStreamDecoder(const Tokenizer& tokenizer) : tokenizer_(&tokenizer) {}
    std::string push(int32_t id);
    std::string flush();  // what is held back, with an unfinished sequence as U+FFFD

private:
    const Tokenizer* tokenizer_;
    std::string pending_;
};

} // namespace folio
