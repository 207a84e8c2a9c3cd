// A naive forward pass of the supported families (llama, qwen2, qwen3, phi3, gemma3) written for clarity, the ground truth for the
// engine's forward pass. It shares nothing with the engine's forward code: weights
// are dequantized to float once (quant.h's scalar dequantizeRow), every product is
// a plain loop in double, attention is a full softmax over all previous positions,
// and RoPE angles come from std::pow / std::cos / std::sin in double.
//
// gemma3, from its definition: embeddings times sqrt(n_embd); per layer
// h = x + post_attention_norm(attn(attn_norm(x))), out = h + post_ffw_norm(ffn(ffn_norm(h)))
// with ffn = down(gelu_tanh(gate) * up); layer l global when (l + 1) % 6 == 0 (RoPE
// base rope.freq_base, linear rope.scaling.factor), the others local: a query at p
// sees keys p - W < q <= p (W = attention.sliding_window), RoPE base 10000, unscaled.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace folio::test {

class ReferenceLlama {
public:
    // contextLength: the session's, which picks LongRoPE's factors (0: the trained context).
    explicit ReferenceLlama(const std::string& path, int contextLength = 0);

    // Logits (vocab floats) for every position of `tokens`, computed from scratch.
    std::vector<std::vector<float>> logits(const std::vector<int32_t>& tokens) const;

    int vocab() const { return vocab_; }

    // Attention through an explicit relative-position matrix: query i scores key j
    // as <R(q_i, M(i, j)), k_j> (RoPE depends only on the difference of the two
    // positions). Plain RoPE is M(i, j) = i - j; Dual Chunk Attention builds its own
    // (notes/dca.md §4). Unset: plain rotation at each token's index. Global layers
    // only: a gemma3 local layer always rotates at each token's index.
    void setRelativePositions(std::function<int(int i, int j)> matrix) { relative_ = std::move(matrix); }

private:
    using Matrix = std::vector<std::vector<float>>;  // [row][col]
    struct Layer {
        std::vector<float> attnNorm, ffnNorm, bq, bk, bv, qNorm, kNorm, postAttnNorm, postFfnNorm;
        Matrix wq, wk, wv, wo, gate, up, down;
    };

    std::vector<double> rmsNorm(const std::vector<double>& x, const std::vector<float>& w) const;
    // Per-head RMSNorm (qwen3's q/k norm) when w is present; otherwise nothing.
    void headNorm(std::vector<double>& head, const std::vector<float>& w) const;
    static std::vector<double> times(const Matrix& w, const std::vector<double>& x);
    // base and positionScale (1 / linear factor) are the layer's.
    void rope(std::vector<double>& head, int position, double base, double positionScale) const;
    bool isLocal(int layer) const { return window_ > 0 && (layer + 1) % 6 != 0; }

    bool neox_ = false;
    bool gemma_ = false;     // gemma3: GELU-tanh, post norms, embedding scale, local layers
    int window_ = 0;         // gemma3 local layers' sliding window
    double localBase_ = 10000.0, positionScale_ = 1.0, queryScalar_ = 0.0;
    int embd_ = 0, layers_ = 0, heads_ = 0, kvHeads_ = 0, headDim_ = 0, ff_ = 0, ropeDims_ = 0, vocab_ = 0;
    double base_ = 10000.0, eps_ = 1e-5, ropeMagnitude_ = 1.0;
    std::vector<float> freqFactors_;
    Matrix embedding_, output_;
    std::vector<float> outputNorm_;
    std::vector<Layer> blocks_;
    std::function<int(int, int)> relative_;
};

} // namespace folio::test
