// Pre-tokenizers of byte-level BPE vocabularies: split text into the pieces
// that merges never cross. Each pattern of the upstream tokenizers (written as
// regular expressions with Unicode classes, which std::regex cannot express) is
// a hand-written matcher over code points here, with the same leftmost-first,
// greedy semantics.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace folio {

enum class PreTokenizerKind {
    Default,      // "default": punctuation runs, then the GPT-2 pattern, numbers, digit triples
    Gpt2,         // "gpt-2": 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
    Llama3,       // "llama-bpe": case-insensitive contractions, [^\r\n\p{L}\p{N}]?\p{L}+, \p{N}{1,3}, ...
    Qwen2,        // "qwen2": as Llama3 but single digits
    DeepseekLlm,  // "deepseek-llm": six patterns applied one after another
    Gpt4o,        // "gpt-4o" (Phi-4-mini, Llama 4): words split by letter case, \p{N}{1,3}, ...
};

// Maps a tokenizer.ggml.pre value (including the aliases llama.cpp accepts for
// these patterns) to its kind; nullopt for patterns Folio does not implement.
std::optional<PreTokenizerKind> preTokenizerKindFromName(std::string_view name);

// Every name preTokenizerKindFromName() accepts, quoted and comma-separated,
// for error messages.
std::string knownPreTokenizerNames();

// The pieces of `text`, in order; together they cover every byte exactly once.
// Invalid UTF-8 bytes count as U+FFFD for classification but stay in the pieces
// as the original bytes.
std::vector<std::string_view> preTokenize(PreTokenizerKind kind, std::string_view text);

} // namespace folio
