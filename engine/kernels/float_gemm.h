// Float GEMM of the prefill path for the types that have no int8 GEMM (F32, F16 and
// BF16; on AVX2 also Q8_0 and the K types, which gemm.h covers only with VNNI):
// Y[t*ldy + r] = sum_k W[r,k] X[t,k]. On CPUs with AVX-512 BF16, F16 and BF16 weights
// take the BF16 GEMM instead (bf16_gemm.h) unless FOLIO_FLOAT_GEMM=fp32.
//
// Our own kernels rather than OpenBLAS's sgemm: OpenBLAS 0.3.21 (Debian 12) picks its
// kernels from the CPU model number, and on CPUs newer than it (Emerald Rapids,
// family 6 model 207, for one) it falls back to its SSE3 "Prescott" kernels, a
// fifth of the speed. These kernels are chosen from the instruction set instead.
//
// Layout. The driver (matmul.cpp) packs X once per call into token tiles of
// `tokenTile` tokens: xs[(tile*cols + k)*tokenTile + j] = X[tile*tokenTile + j, k]
// (zero past n). For each depth block of kFloatGemmDepth columns it dequantizes a
// panel of W rows into a row-major buffer with row stride kFloatGemmDepth. A tile
// kernel then multiplies `rowTile` of those rows (broadcast one weight at a time)
// with one token tile (vectors along the tokens), accumulating the rowTile x
// tokenTile block of C = W X^T in registers; C is stored row-major with stride
// tokenTile and transposed into Y by the driver at the end.
#pragma once

#include "engine/kernels/cpu_features.h"
#include "engine/gguf/tensor_types.h"

#include <cstdint>

namespace folio::kernels {

constexpr int kFloatGemmDepth = 256;  // columns per depth block: a multiple of every block size

// c[i*T + j] (+)= sum_{k<depth} w[i*kFloatGemmDepth + k] * x[k*T + j], i < rowTile, j < T
// (T = tokenTile), added to c when accumulate is set, stored over it otherwise.
using FloatTileFn = void (*)(const float* w, const float* x, int depth, float* c, bool accumulate);
// dequantizeRow, vectorized for the float types (F32, F16, BF16) at this level.
using DequantizeFn = void (*)(GgmlType type, const void* src, float* dst, int64_t n);

// dst[c*dstStride + r] = src[r*srcStride + c], r < rows, c < cols (both <= transposeBlock):
// packing X into token tiles and C into Y, a vector-register block at a time.
using TransposeFn = void (*)(const float* src, int64_t srcStride, int rows, int cols, float* dst, int64_t dstStride);

struct FloatGemmKernel {
    int rowTile;
    int tokenTile;
    FloatTileFn tile;
    DequantizeFn dequantize;
    TransposeFn transpose;
    int transposeBlock;  // the vector width: 8 or 16
};

// Below AVX2 the float path is OpenBLAS sgemm (matmul.cpp), so there is no scalar kernel.
const FloatGemmKernel& floatGemmAvx2();    // 6 x 16; only call with the Avx2 level or above
const FloatGemmKernel& floatGemmAvx512();  // 12 x 32; only call with the Avx512 level

// The plain tile for any shape (tests compare each SIMD kernel with it).
void floatTileReference(int rowTile, int tokenTile, const float* w, const float* x, int depth, float* c,
                        bool accumulate);

} // namespace folio::kernels
