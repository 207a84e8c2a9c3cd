// Rotary position embedding (RoPE). The position of every rotation is an argument,
// never derived from a slot, because Dual Chunk Attention rotates keys at j mod S
// and each query at three positions.
#pragma once

#include <vector>

namespace folio {

struct RopeConfig {
    int dims = 0;                    // rotated components (<= head dim; the rest pass through)
    float freqBase = 10000.0f;
    bool neox = false;               // pairs (i, i + dims/2) instead of (2i, 2i + 1)
    std::vector<float> freqFactors;  // Llama 3.1 rope_freqs: theta_i is divided by factor i (empty: 1)
    float freqScale = 1.0f;          // linear position interpolation: theta_i *= freqScale

    // YaRN (notes/dca.md §9): with extFactor > 0 each pair blends the interpolated and
    // the original angle by a ramp over the pair index between the correction dims of
    // betaFast and betaSlow, and cos/sin are scaled by attnFactor * (1 + 0.1 ln(1/freqScale)).
    float extFactor = 0.0f;
    float attnFactor = 1.0f;         // multiplies cos and sin (so logits by its square)
    float betaFast = 32.0f;
    float betaSlow = 1.0f;
    int originalContext = 0;         // n_ctx_orig of the YaRN correction dims (required when extFactor > 0)
};

// YaRN's correction dimension: the pair index whose wavelength fits `rotations`
// times in the original context (notes/dca.md §9, corr_dim).
double yarnCorrectionDim(int dims, double base, int originalContext, double rotations);

// Angles of one configuration, precomputed per pair: theta_i = freqScale *
// base^(-2i/dims) / factor_i, in double, so that angle = position * theta_i is a
// single product (no accumulated rounding at large positions).
class RopeTable {
public:
    explicit RopeTable(const RopeConfig& config);

    int pairs() const { return static_cast<int>(theta_.size()); }
    double theta(int pair) const { return theta_[pair]; }  // angle per unit of position
    float magnitude() const { return mscale_; }             // the factor on cos and sin
    const RopeConfig& config() const { return config_; }

    // cos and sin of every pair's angle at `position` (pairs() values each), times
    // magnitude() * extraScale (Dual Chunk Attention's temperature uses extraScale).
    void angles(double position, float* cosOut, float* sinOut, double extraScale = 1.0) const;

    // Rotates one head vector with angles from angles().
    void rotate(float* vec, const float* cosValues, const float* sinValues) const;

    // Rotates `count` head vectors spaced `stride` floats apart, all at one position.
    void rotateHeads(float* first, int count, int stride, const float* cosValues, const float* sinValues) const;

private:
    RopeConfig config_;
    std::vector<double> theta_;
    float mscale_ = 1.0f;
};

// Convenience for one vector; builds the angles on the spot (tests, one-off use).
void applyRope(float* vec, int headDim, double position, const RopeConfig& config);

} // namespace folio
