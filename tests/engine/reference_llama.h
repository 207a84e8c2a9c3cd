// A naive forward pass of the supported families (llama, qwen2, qwen3, qwen3moe, phi3, gemma3) written for clarity, the ground truth for the
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
//
// qwen3moe, from its definition: qwen3 whose FFN is a mixture of experts, token by
// token: p = softmax(router xn) over all expert_count experts, the expert_used_count
// largest p (ties to the lower index), renormalised to sum 1, and the output
// sum_e p_e down_e(silu(gate_e xn) * up_e xn), with expert e the e-th matrix of the
// 3-D ffn_{gate,up,down}_exps tensors.
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

    // Mixture of experts: per token of the last logits() call, the smallest gap over
    // the layers between the router logits of the last chosen expert and the first
    // one left out (+infinity for a dense model). Where it is small, the rounding of
    // quantized activations can choose another expert: a discontinuity, not an error.
    const std::vector<double>& routingMargins() const { return routingMargins_; }

    // Attention through an explicit relative-position matrix: query i scores key j
    // as <R(q_i, M(i, j)), k_j> (RoPE depends only on the difference of the two
    // positions). Plain RoPE is M(i, j) = i - j; Dual Chunk Attention builds its own
    // (notes/dca.md §4). Unset: plain rotation at each token's index. Global layers
    // only: a gemma3 local layer always rotates at each token's index.
    void setRelativePositions(std::function<int(int i, int j)> matrix) { relative_ = std::move(matrix); }

    // Routing other than the file's (tests that show a wrong one changes the output):
    // `used` experts per token, their weights renormalised or left as probabilities.
    void setExpertRouting(int used, bool normalize)
    {
        expertsUsed_ = used;
        normalizeExperts_ = normalize;
    }

private:
    using Matrix = std::vector<std::vector<float>>;  // [row][col]
    struct Layer {
        std::vector<float> attnNorm, ffnNorm, bq, bk, bv, qNorm, kNorm, postAttnNorm, postFfnNorm;
        Matrix wq, wk, wv, wo, gate, up, down;
        Matrix router;                                   // qwen3moe: one row per expert
        std::vector<Matrix> gateExps, upExps, downExps;  // [expert][row][col]
    };
    // The FFN of one normalised token: dense, or the mixture of experts.
    std::vector<double> feedForward(const Layer& b, const std::vector<double>& xn, double& margin) const;
    std::vector<double> gatedFfn(const Matrix& gate, const Matrix& up, const Matrix& down,
                                 const std::vector<double>& xn) const;

    std::vector<double> rmsNorm(const std::vector<double>& x, const std::vector<float>& w) const;
    // Per-head RMSNorm (qwen3's q/k norm) when w is present; otherwise nothing.
    void headNorm(std::vector<double>& head, const std::vector<float>& w) const;
    static std::vector<double> times(const Matrix& w, const std::vector<double>& x);
    // base and positionScale (1 / linear factor) are the layer's.
    void rope(std::vector<double>& head, int position, double base, double positionScale) const;
    // Gemma 3: five local layers then a global one, unless the file's
    // gemma3.attention.sliding_window_pattern says otherwise (a period, or per layer).
    bool isLocal(int layer) const
    {
        if (window_ <= 0)
            return false;
        return localLayers_.empty() ? (layer + 1) % period_ != 0 : localLayers_[layer];
    }
    int period_ = 6;
    std::vector<bool> localLayers_;

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
    int expertsUsed_ = 0;
    bool normalizeExperts_ = true;
    mutable std::vector<double> routingMargins_;
};

} // namespace folio::test
