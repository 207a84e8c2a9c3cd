// Int8 GEMM for the 32-block weight types (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K/Q5_K
// taken as 32-element sub-blocks with a scale and a min, like Q4_1/Q5_1, and Q6_K as
// 32-element sub-blocks with a scale per 16) against
// activations quantized to Q8Block: the prefill path of matMul on AVX-512 VNNI, and on
// AVX2 for the 4- and 5-bit types (gemm_avx2.cpp).
//
// Weights are repacked per call, 16 rows at a time ("row group"), so that one
// 32-bit lane of a 512-bit vector holds 4 consecutive int8 codes of one row: a
// vpdpbusd of 4 activation bytes broadcast to all lanes with those codes adds 4
// products for 16 rows at once, and 8 of them cover a block with no horizontal
// sums. vpdpbusd multiplies unsigned by signed bytes, so activations are stored
// +128 (unsigned) and the weights signed; the excess 128 * (sum of the row's codes)
// is known at packing time and preloaded, negated, into the int32 accumulator.
// Each block's float scaling is then one convert, a multiply and an FMA per 16 rows
// and token, instead of per row and token as in the row-by-row dot kernels.
#pragma once

#include "engine/kernels/kernels.h"
#include "engine/gguf/tensor_types.h"

#include <cstddef>
#include <cstdint>

namespace folio::kernels {

constexpr int kGemmGroupRows = 16;
constexpr int kGemmBlockBytes = 32 * kGemmGroupRows;  // packed codes of one block of a group

// The types packRowGroup handles.
bool isGemmPackable(GgmlType type);

// One packed row group. For block b: codes[b*512 + j*64 + r*4 + e] is the signed
// code of element 4j+e of row r (Q4_0: q-8, Q5_0: q-16, Q8_0: q, Q4_1/Q5_1/Q4_K/Q5_K: q), and
//   correction[b*16+r] = -128 * (sum of the row's 32 codes),
// so that with x codes stored +128 the row's block value is
//   scale[b*16+r] * d_x * (correction + dot(x codes + 128, codes)) + bias[b*16+r] * xsum
// (d_x, xsum = d_x * sum(x codes) from the Q8Block); bias is the min m of
// Q4_1/Q5_1, -dmin * m_j of a K sub-block (whose scale is d * sc_j), and 0 otherwise.
// Rows past `count` are all zero, so they produce 0.
//
// Q6_K, whose scales cover 16 elements, packs as two half-blocks ("two scales",
// gemmHasTwoScales): scale and correction are those of elements 0..15 of the block,
// bias and correctionHigh those of 16..31, and the block value is the sum of the
// two halves' scale * d_x * (correction + dot). Other types leave correctionHigh null.
struct PackedGroupView {
    int8_t* codes;       // blocks * kGemmBlockBytes
    float* scale;        // blocks * 16
    float* bias;         // blocks * 16
    int32_t* correction; // blocks * 16
    int32_t* correctionHigh = nullptr;  // blocks * 16, two-scale types only
};

// Whether bias is zero for every block (no xsum term needed).
bool gemmHasBias(GgmlType type);
// Q6_K: two half-blocks per block (see PackedGroupView).
bool gemmHasTwoScales(GgmlType type);

// Q8Block codes shifted to unsigned (+128, i.e. the sign bit flipped) in place, as
// the GEMM kernels read them; d and sum are unchanged.
void shiftActivationsUnsigned(Q8Block* blocks, int64_t count);

// Packs rows [0, count) (count <= 16) of W, rowSize bytes apart, cols values each.
void packRowGroup(GgmlType type, const void* rows, std::size_t rowSize, int count, int64_t cols,
                  const PackedGroupView& out);

// Y[t*ldy + r] = row r of the panel times token t, for t in [0, n), r in
// [0, rowCount). The panel is groupCount consecutive packed groups: group g's
// arrays start g * blocks * (512 | 16) elements after group 0's, as PackedGroupView
// of group 0 gives them. x holds n tokens of `blocks` shifted Q8Blocks each.
using GemmPanelFn = void (*)(const PackedGroupView& panel, int64_t blocks, int groupCount, bool hasBias,
                             const Q8Block* x, int64_t n, float* Y, int64_t ldy, int rowCount);

// packRowGroup vectorized, bit-identical, for the types isAvx512PackType names
// (Q4_0, Q8_0, Q4_K, Q6_K). Only with the Avx512 level.
bool isAvx512PackType(GgmlType type);
void packRowGroupAvx512(GgmlType type, const void* rows, std::size_t rowSize, int count, int64_t cols,
                        const PackedGroupView& out);

// quantizeQ8Blocks then shiftActivationsUnsigned, for n values (a multiple
// of 32), with the same rounding (so bit-identical), vectorized.
void quantizeShiftedAvx512(const float* x, Q8Block* out, int64_t n);
// quantizeQ8Blocks vectorized, bit-identical (the decode path's activations).
void quantizeQ8BlocksAvx512(const float* x, Q8Block* out, int64_t n);
// The Q8K activations (the K-quants' decode path) vectorized, bit-identical to the
// scalar quantizer of quantizeActivations.
void quantizeQ8KBlocksAvx512(const float* x, Q8KBlock* out, int64_t n);
// The same on 256-bit vectors, for the Avx2 level.
void quantizeShiftedAvx2(const float* x, Q8Block* out, int64_t n);

// Plain C++ version: the reference the SIMD kernel is tested against.
void gemmPanelScalar(const PackedGroupView& panel, int64_t blocks, int groupCount, bool hasBias, const Q8Block* x,
                     int64_t n, float* Y, int64_t ldy, int rowCount);
// Only call when the CPU has the Avx512 level (VNNI).
void gemmPanelAvx512(const PackedGroupView& panel, int64_t blocks, int groupCount, bool hasBias, const Q8Block* x,
                     int64_t n, float* Y, int64_t ldy, int rowCount);

// The AVX2 kernel (maddubs, no VNNI): Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K and Q6_K
// (isAvx2GemmType; Q8_0's codes would saturate its int16 sums). Only call with the Avx2 level or above.
bool isAvx2GemmType(GgmlType type);
// packRowGroup vectorized, bit-identical, for the types isAvx2PackType names (Q4_0,
// Q4_K). Only with the Avx2 level or above.
bool isAvx2PackType(GgmlType type);
void packRowGroupAvx2(GgmlType type, const void* rows, std::size_t rowSize, int count, int64_t cols,
                      const PackedGroupView& out);
void gemmPanelAvx2(GgmlType type, const PackedGroupView& panel, int64_t blocks, int groupCount, const Q8Block* x,
                   int64_t n, float* Y, int64_t ldy, int rowCount);

} // namespace folio::kernels
