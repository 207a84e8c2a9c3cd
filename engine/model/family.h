// What distinguishes one model family from another, as the forward pass needs to
// know it: a plain description read from the architecture name and the GGUF
// metadata, so that the forward pass branches on properties (a bias here, a norm
// there), never on the architecture's name, and no family has its own copy of it.
#pragma once

#include <string>
#include <vector>

namespace folio {

class GgufFile;

struct FamilyDescription {
    std::string architecture;        // general.architecture, for messages and display
    std::string displayName;         // "Llama", "Qwen2", "Qwen3", "Phi-3"

    // Attention projections.
    bool qkvBias = false;            // attn_{q,k,v}.bias (qwen2)
    bool fusedQkv = false;           // one attn_qkv matrix, rows q | k | v (phi3)
    bool qkNorm = false;             // RMSNorm per head on q and k before RoPE (qwen3)
    bool ropeNeox = false;           // RoPE pairs (i, i + d/2) instead of (2i, 2i + 1)
    bool longRope = false;           // rope_factors_short / _long chosen by context length (phi3)

    // Feed-forward: SwiGLU, silu(gate) * up, in every family so far. Gemma's GELU-tanh
    // gate, its norms after each block and mixtures of experts come with those families.
    bool fusedGateUp = false;        // ffn_up holds gate rows then up rows (phi3)

    bool scaleEmbedding = false;     // embeddings times sqrt(n_embd) (gemma; no family yet)
    float finalLogitSoftcap = 0.0f;  // logits = c tanh(logits / c); 0: none
    double defaultRmsEpsilon = 1e-5; // when the file has no layer_norm_rms_epsilon
};

// The families the engine runs, by architecture name, for messages.
const std::vector<std::string>& supportedArchitectures();

// "llama, qwen2, ..." (for messages).
std::string supportedArchitectureList();

// The description of `architecture` read from the file's metadata. Throws
// std::invalid_argument naming the architecture (and the supported ones) when the
// engine does not run it, or naming the key when a value is out of range.
FamilyDescription describeFamily(const GgufFile& file, const std::string& architecture);

} // namespace folio
