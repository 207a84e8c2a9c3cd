// Internal interface between matmul.cpp and the per-instruction-set dot kernels.
// Activations are quantized once per matVec (scalar code, cheap next to reading W)
// into the int8 blocks below; each level supplies row-times-activation dots.
#pragma once

#include "engine/cpu_features.h"
#include "engine/tensor_types.h"

#include <cstdint>

namespace folio::kernels {

// 32 activations as int8 with one scale; sum = d * (sum of qs), which the *_1 and
// offset-coded types need (their weights carry a constant added to every code).
struct Q8Block {
    float d;
    float sum;
    int8_t qs[32];
};

// 256 activations (a K-quant super-block) with one scale and the sums of each 16
// codes, so the K-quant mins and the Q6_K offset of 32 cost one multiply per group.
struct Q8KBlock {
    float d;
    int16_t bsums[16];
    int8_t qs[256];
};

enum class ActivationKind { Float, Q8, Q8K };

ActivationKind activationKindOf(GgmlType type);
// Bytes of quantized activations for n values of the given kind (0 for Float).
int64_t activationBytes(ActivationKind kind, int64_t n);
void quantizeActivations(ActivationKind kind, const float* x, void* out, int64_t n);

// dot(row of n weights, activations): x is float* for Float, Q8Block*/Q8KBlock* otherwise.
using RowDotFn = float (*)(const void* row, const void* x, int64_t n);

struct DotKernels {
    RowDotFn f32, f16, bf16, q4_0, q4_1, q5_0, q5_1, q8_0, q4_K, q5_K, q6_K;
};

const DotKernels& scalarDotKernels();
const DotKernels& avx2DotKernels();    // only call when the CPU has AVX2+FMA+F16C
const DotKernels& avx512DotKernels();  // only call when the CPU has the Avx512 level

const DotKernels& dotKernelsFor(SimdLevel level);  // level clamped to the CPU
RowDotFn rowDotFor(const DotKernels& kernels, GgmlType type);

} // namespace folio::kernels
