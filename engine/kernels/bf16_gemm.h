// BF16 GEMM of the prefill path for F16 and BF16 weights on CPUs with AVX-512 BF16:
// Y[t*ldy + r] = sum_k W[r,k] X[t,k] with both factors rounded to BF16 (round to
// nearest even) and the products summed in FP32 by vdpbf16ps, which multiplies 32
// BF16 pairs per instruction against 16 FP32 FMAs.
//
// Layout. vdpbf16ps adds a[2i]b[2i] + a[2i+1]b[2i+1] into lane i, so both operands
// come in pairs along k. The driver (bf16_gemm.cpp) packs X once per call into token
// tiles of kBf16TokenTile tokens: xs[(tile*cols/2 + p)*T + j] = the pair
// (X[tile*T + j, 2p], X[tile*T + j, 2p + 1]) as one 32-bit word (low half first; zero
// past n). For each depth block of kBf16GemmDepth columns it converts a panel of W
// rows to BF16 into a row-major buffer of 32-bit pair words, kBf16GemmDepth/2 per
// row: a row is its own pairs, so a weight pair is one 32-bit broadcast. The tile kernel multiplies
// kBf16RowTile rows with one token tile (two vectors of 16 tokens), accumulating the
// rowTile x tokenTile block of C = W X^T in 24 registers; C is row-major with stride
// tokenTile and transposed into Y by the driver.
//
// Error. A BF16 rounding is off by at most 2^-9 relative (8 significant bits), a
// product of two rounded factors by about 2^-8, so against FP32 products the result
// moves by at most ~2^-8 * sum_k |W[r,k] X[t,k]| (2^-9 for BF16 weights, which are
// not rounded), plus FP32 summation error. The products of two BF16 values are exact
// in FP32, so against a plain FP32 sum of the same rounded factors only the
// summation order differs.
#pragma once

#include "engine/kernels/cpu_features.h"
#include "engine/gguf/tensor_types.h"

#include <cstdint>

namespace folio {
class ThreadPool;
}

namespace folio::kernels {

constexpr int kBf16GemmDepth = 256;  // columns per depth block (128 pairs)
constexpr int kBf16RowTile = 12;
constexpr int kBf16TokenTile = 32;
constexpr int kBf16ColumnMultiple = 32;  // cols must be a multiple of this (one conversion vector)

struct Bf16GemmKernel {
    // out[p*kBf16TokenTile + j] = BF16 pair of x[j*cols + 2p], x[j*cols + 2p + 1] for
    // j < tokens (<= kBf16TokenTile), zero for the rest, p < cols/2.
    void (*packTokens)(const float* x, int64_t cols, int tokens, uint32_t* out);
    // dst[p] = BF16 pair of row values 2p, 2p + 1, p < n/2 (n a multiple of
    // kBf16ColumnMultiple); F16, BF16 or F32 rows.
    void (*convertRow)(GgmlType type, const void* src, uint32_t* dst, int64_t n);
    // c[i*T + j] (+)= sum_{p<pairs} w[i*kBf16GemmDepth/2 + p] . x[p*T + j] (pair dot products),
    // i < kBf16RowTile, j < T (= kBf16TokenTile); added to c when accumulate is set, stored
    // over it otherwise.
    void (*tile)(const uint32_t* w, const uint32_t* x, int pairs, float* c, bool accumulate);
};

const Bf16GemmKernel& bf16GemmAvx512();  // only with the Avx512 level and AVX512_BF16

// Whether this CPU has the BF16 GEMM at the given level (Avx512 and AVX512_BF16).
bool hasBf16Gemm(SimdLevel level);
// Whether the weight type and shape can take it: F16 or BF16, cols a multiple of 32.
bool isBf16GemmShape(GgmlType type, int64_t cols);

// The whole product (the driver): W is rows x cols of F16 or BF16 (isBf16GemmShape),
// X is n x cols floats, Y is n x rows. Call only where hasBf16Gemm holds.
void matMulBf16Gemm(GgmlType type, const void* W, int64_t rows, int64_t cols, const float* X, int64_t n, float* Y,
                    ThreadPool* pool);

// Plain references for the tests: the tile in the lane order of vdpbf16ps (per lane
// and pair, the odd product added first, then the even one, each rounded to FP32),
// and the BF16 packing of tokens by fp32ToBf16.
void bf16TileReference(int rowTile, int tokenTile, const uint32_t* w, const uint32_t* x, int pairs, float* c,
                       bool accumulate);
void bf16PackTokensReference(const float* x, int64_t cols, int tokens, int tokenTile, uint32_t* out);

} // namespace folio::kernels
