// Int8 GEMM for the 32-block weight types (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0) against
// activations quantized to Q8Block: the prefill path of matMul on AVX-512 VNNI.
//
// Weights are repacked per call, 16 rows at a time ("row group"), so that one
// 32-bit lane of a 512-bit vector holds 4 consecutive unsigned codes of one row:
// a vpdpbusd against 4 activation bytes broadcast to all lanes then adds those 4
// products for 16 rows at once, and 8 of them cover a block with no horizontal
// sums. Each block's float scaling is then one convert and two FMAs per 16 rows
// and token, instead of per row and token as in the row-by-row dot kernels.
#pragma once

#include "engine/kernels/kernels.h"
#include "engine/tensor_types.h"

#include <cstddef>
#include <cstdint>

namespace folio::kernels {

constexpr int kGemmGroupRows = 16;
constexpr int kGemmBlockBytes = 32 * kGemmGroupRows;  // packed codes of one block of a group

// The types packRowGroup handles.
bool isGemmPackable(GgmlType type);

// One packed row group. For block b: codes[b*512 + j*64 + r*4 + e] is the unsigned
// code of element 4j+e of row r; the row's block value is then
//   scale[b*16+r] * d_x * dot(codes, x codes) + bias[b*16+r] * xsum
// with d_x and xsum = d_x * sum(x codes) from the Q8Block. Unsigned codes need the
// bias: -8d (Q4_0), -16d (Q5_0), -128d (Q8_0, codes stored +128), m (Q4_1/Q5_1).
// Rows past `count` are zero (codes, scale and bias), so they produce 0.
struct PackedGroupView {
    uint8_t* codes;  // blocks * kGemmBlockBytes
    float* scale;    // blocks * 16
    float* bias;     // blocks * 16
};

// Packs rows [0, count) (count <= 16) of W, rowSize bytes apart, cols values each.
void packRowGroup(GgmlType type, const void* rows, std::size_t rowSize, int count, int64_t cols,
                  const PackedGroupView& out);

// Y[t*ldy + r] = row r of the group times token t, for t in [0, n), r in [0, count).
// x holds n tokens of `blocks` Q8Blocks each, consecutive.
using GemmGroupFn = void (*)(const uint8_t* codes, const float* scale, const float* bias, int64_t blocks,
                             const Q8Block* x, int64_t n, float* Y, int64_t ldy, int count);

// Plain C++ version: the reference the SIMD kernel is tested against.
void gemmGroupScalar(const uint8_t* codes, const float* scale, const float* bias, int64_t blocks, const Q8Block* x,
                     int64_t n, float* Y, int64_t ldy, int count);
// Only call when the CPU has the Avx512 level (VNNI).
void gemmGroupAvx512(const uint8_t* codes, const float* scale, const float* bias, int64_t blocks, const Q8Block* x,
                     int64_t n, float* Y, int64_t ldy, int count);

} // namespace folio::kernels
