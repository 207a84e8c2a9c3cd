// Matrix products of a weight tensor W (any compute type, row-major, rowBytes(type,
// cols) bytes per row) with float activations, dispatched at run time to scalar,
// AVX2 or AVX-512 kernels (see cpu_features.h).
#pragma once

#include "engine/kernels/cpu_features.h"
#include "engine/gguf/tensor_types.h"

#include <cstdint>

namespace folio {

class ThreadPool;

// Decode path, bound by memory bandwidth: y[i] = sum_k W[i,k] x[k], i in [0, rows).
// Quantized types quantize x to int8 blocks (32-blocks for *_0/*_1, 256-blocks for
// K-quants) and use int8 dot products with int32 accumulation, so results differ
// from dotRowReference by the activation rounding (relative ~1e-2 of sum |W||x|).
// F32/F16/BF16 rows use float FMA against x directly. pool may be null (one thread).
void matVec(GgmlType type, const void* W, int64_t rows, int64_t cols, const float* x, float* y,
            ThreadPool* pool);

// Several matVecs of one input vector (a layer's q, k and v; gate and up) in one
// pass over the pool, with x quantized once per activation kind: per-token overhead
// (pool hand-offs, quantization) paid once instead of per matrix. Each y is exactly
// what matVec gives for its matrix. All targets have x's cols.
struct MatVecTarget {
    GgmlType type;
    const void* W;
    int64_t rows;
    float* y;
};
void matVecShared(const MatVecTarget* targets, int count, int64_t cols, const float* x, ThreadPool* pool);

// Prefill path: Y[t*rows + i] = sum_k W[i,k] X[t*cols + k], t in [0, n).
// For n < kMatMulGemmMinTokens this is the int8 path of matVec (each W row read once
// for all n tokens); above, W is dequantized in panels to float and multiplied in
// float (kernels/float_gemm.h on AVX2 and AVX-512, OpenBLAS sgemm on other CPUs or
// with FOLIO_FLOAT_GEMM=blas), so results are as exact as float arithmetic.
// Dequantizing all of W costs about 20 matVecs, so this only pays off from a few
// dozen tokens on.
constexpr int64_t kMatMulGemmMinTokens = 32;
// From this many tokens on, with AVX-512 VNNI and a 32-block type (Q4_0, Q4_1, Q5_0,
// Q5_1, Q8_0) or a K type (AVX2: all of these but Q8_0), the product is an
// int8 GEMM instead (kernels/gemm.h): activations
// are quantized to int8 blocks as in the int8 path, so results carry the same
// activation rounding (relative ~1e-2 of sum |W||x|), at several times the speed
// of dequantize + sgemm.
constexpr int64_t kMatMulInt8GemmMinTokens = 64;
void matMul(GgmlType type, const void* W, int64_t rows, int64_t cols, const float* X, int64_t n,
            float* Y, ThreadPool* pool);
// On CPUs with AVX-512 BF16, F16 and BF16 weights (cols a multiple of 32) take a BF16
// GEMM on the float path instead (kernels/bf16_gemm.h): activations and weights rounded
// to BF16, products summed in FP32, about twice the FP32 tiles' rate; results move by
// up to ~2^-8 of sum |W||x| (BF16 weights: 2^-9). FOLIO_FLOAT_GEMM=fp32 (or =blas) keeps
// them on FP32 products; tests and benchmarks switch it within a process.
bool bf16GemmEnabled();
void setBf16GemmEnabled(bool enabled);

// The same, pinned to a dispatch level (clamped to what the CPU supports), for
// tests and benchmarks that compare levels within one process.
void matVecAt(SimdLevel level, GgmlType type, const void* W, int64_t rows, int64_t cols,
              const float* x, float* y, ThreadPool* pool);
void matMulAt(SimdLevel level, GgmlType type, const void* W, int64_t rows, int64_t cols,
              const float* X, int64_t n, float* Y, ThreadPool* pool);

// Wall time of every matVec / matVecShared / matMul call of the process (the
// weights' share of a forward pass), for benchmarks.
double matrixSeconds();
void resetMatrixSeconds();

} // namespace folio
