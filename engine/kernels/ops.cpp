#include "engine/kernels/ops.h"

#include "engine/kernels/cpu_features.h"
#include "engine/kernels/attention_kernels.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace folio {

void rmsNorm(float* out, const float* x, const float* weight, int n, float eps)
{
    // Accumulate in double: embeddings reach 4096+ elements and the mean of squares
    // is the one place where float summation error would show in every layer.
    double sumSquares = 0.0;
    for (int i = 0; i < n; ++i)
        sumSquares += static_cast<double>(x[i]) * x[i];
    const float inverseRms = static_cast<float>(1.0 / std::sqrt(sumSquares / n + eps));
    for (int i = 0; i < n; ++i)
        out[i] = x[i] * inverseRms * weight[i];
}

void swiGlu(float* gate, const float* up, int n)
{
    // Vectorized where the CPU allows: one std::exp per element cost 1.5% of an F16
    // prefill and 3.9% of a Q4_0 one.
    kernels::attentionKernelsFor(activeSimdLevel()).swiGlu(gate, up, n);
}

namespace {

// e^x for x <= 0, in plain arithmetic (no libm call) so that the loop vectorizes:
// x = k ln 2 + f ln 2 with k = trunc(x log2 e) and f in (-1, 0], 2^f by its Taylor
// series to f^7 (relative error below 2e-7 on (-1, 0]), 2^k put in the exponent bits.
inline float expNonPositive(float x)
{
    x = std::max(x, -87.0f);
    const float t = x * 1.4426950408889634f;
    const int k = static_cast<int>(t);   // toward zero: k >= t, so f <= 0
    const float f = (t - static_cast<float>(k)) * 0.6931471805599453f;
    float p = 1.0f / 5040.0f;
    p = p * f + 1.0f / 720.0f;
    p = p * f + 1.0f / 120.0f;
    p = p * f + 1.0f / 24.0f;
    p = p * f + 1.0f / 6.0f;
    p = p * f + 0.5f;
    p = p * f + 1.0f;
    p = p * f + 1.0f;
    return p * std::bit_cast<float>((k + 127) << 23);
}

} // namespace

void geluTanhGlu(float* gate, const float* up, int n)
{
    // tanh(u) = sign(u) (1 - e) / (1 + e), e = e^(-2|u|): one exponential the loop can
    // vectorize instead of std::tanh per element (a Gemma 3 prompt spent a third of its
    // time there). Agrees with std::tanh to about 1e-6 (tests/engine/ops_test.cpp).
    constexpr float kSqrtTwoOverPi = 0.7978845608028654f;
    for (int i = 0; i < n; ++i) {
        const float z = gate[i];
        const float u = kSqrtTwoOverPi * (z + 0.044715f * z * z * z);
        const float e = expNonPositive(-2.0f * std::fabs(u));
        const float tanhU = std::copysign((1.0f - e) / (1.0f + e), u);
        gate[i] = 0.5f * z * (1.0f + tanhU) * up[i];
    }
}

void addInPlace(float* y, const float* x, int n)
{
    for (int i = 0; i < n; ++i)
        y[i] += x[i];
}

void addScaled(float* y, float a, const float* x, int n)
{
    for (int i = 0; i < n; ++i)
        y[i] += a * x[i];
}

void scaleInPlace(float* y, float a, int n)
{
    for (int i = 0; i < n; ++i)
        y[i] *= a;
}

float dotProduct(const float* a, const float* b, int n)
{
    // Eight independent partial sums let the compiler keep a vector accumulator
    // without reassociating (no -ffast-math needed).
    float partial[8] = {};
    int i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; ++k)
            partial[k] += a[i + k] * b[i + k];
    float sum = 0.0f;
    for (; i < n; ++i)
        sum += a[i] * b[i];
    for (float p : partial)
        sum += p;
    return sum;
}

void softmaxInPlace(float* x, int n)
{
    if (n <= 0)
        return;
    const float maximum = *std::max_element(x, x + n);
    double sum = 0.0;
    for (int i = 0; i < n; ++i) {
        x[i] = std::exp(x[i] - maximum);
        sum += x[i];
    }
    const float inverse = static_cast<float>(1.0 / sum);
    for (int i = 0; i < n; ++i)
        x[i] *= inverse;
}

} // namespace folio
