// What distinguishes one model family from another, as the forward pass needs to
// know it: a plain description read from the architecture name and the GGUF
// metadata, so that the forward pass branches on properties (a bias here, a norm
// there), never on the architecture's name, and no family has its own copy of it.
#pragma once

#include <string>
#include <vector>

namespace folio {

class GgufFile;

enum class Activation {
    Silu,      // SwiGLU: silu(z) = z / (1 + exp(-z))
    GeluTanh,  // GeGLU: 0.5 z (1 + tanh(sqrt(2/pi) (z + 0.044715 z^3)))
};

struct FamilyDescription {
    std::string architecture;        // general.architecture, for messages and display
    std::string displayName;         // "Llama", "Qwen2", "Qwen3", "Qwen3-MoE", "Phi-3", "Gemma 3"

    // Attention projections.
    bool qkvBias = false;            // attn_{q,k,v}.bias (qwen2)
    bool fusedQkv = false;           // one attn_qkv matrix, rows q | k | v (phi3)
    bool qkNorm = false;             // RMSNorm per head on q and k before RoPE (qwen3)
    bool ropeNeox = false;           // RoPE pairs (i, i + d/2) instead of (2i, 2i + 1)
    bool longRope = false;           // rope_factors_short / _long chosen by context length (phi3)

    // Feed-forward: act(gate) * up, then down.
    Activation activation = Activation::Silu;
    bool fusedGateUp = false;        // ffn_up holds gate rows then up rows (phi3)

    // Mixture of experts (qwen3moe), when expertCount > 0: every layer's FFN is
    // expertCount experts of expertFeedForward rows (3-D ffn_{gate,up,down}_exps),
    // chosen per token by a router (ffn_gate_inp): softmax over all experts' logits,
    // the expertUsedCount most probable, their weights renormalised to sum 1 when
    // normalizeExpertWeights; the output is the weighted sum of those experts' FFNs.
    int expertCount = 0;
    int expertUsedCount = 0;
    int expertFeedForward = 0;
    bool normalizeExpertWeights = false;
    bool mixtureOfExperts() const { return expertCount > 0; }

    // Norms on each block's output before it joins the residual stream:
    // post_attention_norm and post_ffw_norm (gemma3).
    bool postNorms = false;

    bool scaleEmbedding = false;     // embeddings times sqrt(n_embd) (gemma3)

    // Attention logits are scaled by 1 / sqrt(queryPreAttnScalar); 0: the head dim.
    // gemma3: the key gemma3.attention.query_pre_attn_scalar when a file has it; else
    // n_embd / n_head for Gemma 3 27B (62 layers, where that differs from the head dim,
    // as the reference implementation configures it), else the head dim.
    float queryPreAttnScalar = 0.0f;

    // Interleaved local and global attention (gemma3). With slidingWindow W > 0, layer l
    // is local where localLayers says so (when the file lists the layers), else global
    // when (l + 1) % globalLayerPeriod == 0 and local otherwise: a local
    // layer's query at position p sees the keys at p - W < q <= p, rotated with its own
    // RoPE (localRopeBase, no scaling, no factors). Global layers see every earlier key
    // and carry the model's RoPE and any context extension (DCA, PI, YaRN, NTK).
    // slidingWindow 0: every layer global.
    int slidingWindow = 0;
    int globalLayerPeriod = 1;
    std::vector<bool> localLayers;  // per layer, true: local (sliding window); empty: by the period
    float localRopeBase = 10000.0f;
    bool isGlobalLayer(int layer) const
    {
        if (slidingWindow == 0)
            return true;
        if (!localLayers.empty())
            return layer < 0 || layer >= static_cast<int>(localLayers.size()) || !localLayers[layer];
        return (layer + 1) % globalLayerPeriod == 0;
    }
    int layerWindow(int layer) const { return isGlobalLayer(layer) ? 0 : slidingWindow; }  // 0: every key

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
