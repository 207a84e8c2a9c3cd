// Element-wise and row operations of the forward pass, written as plain loops the
// compiler can vectorize. They are small next to the matrix products, so they stay
// portable (no per-ISA kernels).
#pragma once

#include <cstdint>

namespace folio {

// out = x / rms(x) * weight, rms(x) = sqrt(mean(x^2) + eps); out may alias x.
void rmsNorm(float* out, const float* x, const float* weight, int n, float eps);

// gate[i] = silu(gate[i]) * up[i], silu(z) = z / (1 + exp(-z)): the SwiGLU gate.
void swiGlu(float* gate, const float* up, int n);

// gate[i] = gelu_tanh(gate[i]) * up[i], gelu_tanh(z) = 0.5 z (1 + tanh(sqrt(2/pi) (z + 0.044715 z^3))):
// the GeGLU gate of the Gemma families.
void geluTanhGlu(float* gate, const float* up, int n);

// y += x
void addInPlace(float* y, const float* x, int n);

// y += a * x
void addScaled(float* y, float a, const float* x, int n);

// y *= a
void scaleInPlace(float* y, float a, int n);

float dotProduct(const float* a, const float* b, int n);

// Numerically stable softmax in place (subtracts the maximum first).
void softmaxInPlace(float* x, int n);

} // namespace folio
