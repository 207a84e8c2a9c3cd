// Internal interface between matmul.cpp and the per-instruction-set dot kernels.
// Activations are quantized once per matVec (scalar code, cheap next to reading W)
// into the int8 blocks below; each level supplies row-times-activation dots.
#pragma once

#include "engine/kernels/cpu_features.h"
#include "engine/gguf/tensor_types.h"

#include <cstddef>
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

// Q8 activations of n values (blocks = n / 32) are the blocks Q8Block followed by a
// wide view of the same numbers for kernels that take 16 blocks per step on 512-bit
// vectors (the Q4_0 decode dot): the blocks' d as one float array, their sum as
// another, and the codes of each pair of blocks (2m, 2m+1) as 64 contiguous bytes in
// the order Q4_0's nibbles unpack to, x_2m[0..15], x_2m+1[0..15], x_2m[16..31],
// x_2m+1[16..31] (an odd last block pairs with zeros). Without it the kernel
// gathered d and sum out of the 40-byte blocks for every weight row, and gathers
// are slow on AMD Zen 4 (see dot_x86.inc). quantizeActivations writes both parts.
struct Q8WideView {
    const float* d;
    const float* sum;
    const int8_t* pairs;  // pair m at pairs + 64 * m
};
inline Q8WideView q8WideView(const Q8Block* a, int64_t blocks)
{
    const auto* d = reinterpret_cast<const float*>(a + blocks);
    return {d, d + blocks, reinterpret_cast<const int8_t*>(d + 2 * blocks)};
}

ActivationKind activationKindOf(GgmlType type);
// Bytes of quantized activations for n values of the given kind (0 for Float).
int64_t activationBytes(ActivationKind kind, int64_t n);
// level: the fastest quantizer up to it is used (the results are bit-identical).
void quantizeActivations(ActivationKind kind, const float* x, void* out, int64_t n,
                         SimdLevel level = SimdLevel::Scalar);
// The n / 32 Q8Blocks alone, without the wide view (the GEMM path's activations).
void quantizeQ8Blocks(const float* x, Q8Block* out, int64_t n);

// dot(row of n weights, activations): x is float* for Float, Q8Block*/Q8KBlock* otherwise.
using RowDotFn = float (*)(const void* row, const void* x, int64_t n);

// out[r] = dot(row r, activations) for count rows rowStride bytes apart (count <= 4):
// several rows of one activation vector at a time, for the decode path.
using RowsDotFn = void (*)(const void* rows, std::size_t rowStride, int count, const void* x, int64_t n, float* out);
constexpr int kRowsPerDot = 4;

struct DotKernels {
    RowDotFn f32, f16, bf16, q4_0, q4_1, q5_0, q5_1, q8_0, q4_K, q5_K, q6_K;
    RowsDotFn q4_0Rows = nullptr;  // null: the level has no several-row kernel for the type
};

const DotKernels& scalarDotKernels();
const DotKernels& avx2DotKernels();    // only call when the CPU has AVX2+FMA+F16C
const DotKernels& avx512DotKernels();  // only call when the CPU has the Avx512 level

const DotKernels& dotKernelsFor(SimdLevel level);  // level clamped to the CPU
RowDotFn rowDotFor(const DotKernels& kernels, GgmlType type);
// The several-row kernel of the type, or null (then call the RowDotFn per row).
// FOLIO_DECODE_ROWS=1 turns them off (for comparison).
RowsDotFn rowsDotFor(const DotKernels& kernels, GgmlType type);

} // namespace folio::kernels
