// Small random GGUF models of every family for tests (and, at full size, for the
// benchmark): every weight type, tied or separate output, optional Llama 3.1
// rope_freqs, and a minimal tokenizer so the file is complete.
// No GoogleTest here, so bench/ can link it too.
#pragma once

#include "engine/gguf/tensor_types.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace folio::test {

struct TinyModelSpec {
    std::string architecture = "llama";  // "llama", "qwen2", "qwen3", "qwen3moe", "phi3", "gemma3"
    GgmlType type = GgmlType::F32;       // type of every matrix (token_embd and output included)
    int vocab = 96;
    int embd = 64;
    int layers = 2;
    int heads = 4;
    int kvHeads = 2;
    int feedForward = 128;
    int contextLength = 256;
    int headDim = 0;                     // 0: embd / heads; otherwise written as attention.key_length
    int ropeDims = 0;                    // 0: head dim
    float ropeFreqBase = 10000.0f;
    bool tiedOutput = false;
    bool ropeFreqs = false;              // write rope_freqs.weight (Llama 3.1 style)
    int longRopeOriginalContext = 0;     // phi3: > 0 writes LongRoPE factors and this original context
    int slidingWindow = 0;               // gemma3: > 0 writes attention.sliding_window
    // qwen3moe: expert_count, expert_used_count, expert_feed_forward_length; the
    // router (ffn_gate_inp) is F32 as the converters and quantizers leave it, unless
    // tensorTypes names it.
    int experts = 8;
    int expertsUsed = 2;
    int expertFeedForward = 32;
    uint64_t seed = 1;
    // Per-tensor types that differ from `type` (mixes such as Q4_K_M), by tensor name.
    std::vector<std::pair<std::string, GgmlType>> tensorTypes;
    std::vector<std::string> omitTensors;  // leave these out (error tests)
    std::string wrongShapeTensor;          // write this one with a transposed shape (error tests)
    // Extra metadata, written after the standard keys (e.g. "llama.rope.scaling.type").
    std::vector<std::pair<std::string, std::string>> stringKeys;
    std::vector<std::pair<std::string, float>> floatKeys;
    std::vector<std::pair<std::string, uint32_t>> intKeys;
    std::vector<std::pair<std::string, std::vector<bool>>> boolArrayKeys;
};

// K-quants need rows of 256 elements: a spec with embd and feed-forward (and an
// expert's feed-forward) 256.
TinyModelSpec kQuantSpec(const std::string& architecture, GgmlType type);

// A Gemma-3-shaped tiny model: 7 layers (local 0-4, global 5, local 6), window 8,
// head dim 32 (not embd / heads = 16), tied output, global RoPE base 300 with a
// linear factor 2 (as the 4B+ global layers carry 8), local base 10000.
TinyModelSpec gemma3Spec(GgmlType type = GgmlType::F32);

// A Qwen3-MoE-shaped tiny model: 8 experts of 32 rows, 3 chosen per token, head dim
// 32 (wider than embd / heads, as Qwen3's), 2 layers.
TinyModelSpec qwen3moeSpec(GgmlType type = GgmlType::F32);

// Writes the model and returns path. Tensors of 16M elements and more are made at
// write time, on every core, one at a time (benchmark models larger than memory).
std::string writeTinyModel(const TinyModelSpec& spec, const std::string& path);

// A fresh path in the system's temp directory, unique per process and call.
std::string tempModelPath(const std::string& stem);

// The matrix types the engine computes with.
const std::vector<GgmlType>& allWeightTypes();

} // namespace folio::test
