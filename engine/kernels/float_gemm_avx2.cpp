// AVX2 tile of the float GEMM (float_gemm.h): 6 rows x 16 tokens, 12 ymm
// accumulators, two token vectors and one broadcast weight in the 16 registers.
#include "engine/kernels/float_gemm.h"

#include "engine/quant.h"

#include <cstring>

#include <immintrin.h>

namespace folio::kernels {
namespace {

constexpr int kRows = 6;
constexpr int kTokens = 16;

void tileAvx2(const float* w, const float* x, int depth, float* c, bool accumulate)
{
    __m256 acc[kRows][2];
#pragma GCC unroll 6
    for (int i = 0; i < kRows; ++i)
        acc[i][0] = acc[i][1] = _mm256_setzero_ps();
    for (int k = 0; k < depth; ++k) {
        const __m256 x0 = _mm256_loadu_ps(x + k * kTokens);
        const __m256 x1 = _mm256_loadu_ps(x + k * kTokens + 8);
#pragma GCC unroll 6
        for (int i = 0; i < kRows; ++i) {
            const __m256 b = _mm256_broadcast_ss(w + i * kFloatGemmDepth + k);
            acc[i][0] = _mm256_fmadd_ps(b, x0, acc[i][0]);
            acc[i][1] = _mm256_fmadd_ps(b, x1, acc[i][1]);
        }
    }
#pragma GCC unroll 6
    for (int i = 0; i < kRows; ++i) {
        float* out = c + i * kTokens;
        if (accumulate) {
            acc[i][0] = _mm256_add_ps(acc[i][0], _mm256_loadu_ps(out));
            acc[i][1] = _mm256_add_ps(acc[i][1], _mm256_loadu_ps(out + 8));
        }
        _mm256_storeu_ps(out, acc[i][0]);
        _mm256_storeu_ps(out + 8, acc[i][1]);
    }
}


void dequantizeAvx2(GgmlType type, const void* src, float* dst, int64_t n)
{
    const int64_t whole = n & ~int64_t{7};
    if (type == GgmlType::F16) {
        const auto* h = static_cast<const uint16_t*>(src);
        for (int64_t i = 0; i < whole; i += 8)
            _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(h + i))));
    } else if (type == GgmlType::BF16) {
        const auto* h = static_cast<const uint16_t*>(src);
        for (int64_t i = 0; i < whole; i += 8) {
            const __m256i v = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(h + i)));
            _mm256_storeu_ps(dst + i, _mm256_castsi256_ps(_mm256_slli_epi32(v, 16)));
        }
    } else if (type == GgmlType::F32) {
        std::memcpy(dst, src, static_cast<std::size_t>(n) * sizeof(float));
        return;
    } else {
        dequantizeRow(type, src, dst, n);
        return;
    }
    if (whole < n)
        dequantizeRow(type, static_cast<const uint16_t*>(src) + whole, dst + whole, n - whole);
}

} // namespace

const FloatGemmKernel& floatGemmAvx2()
{
    static const FloatGemmKernel kernel{kRows, kTokens, tileAvx2, dequantizeAvx2};
    return kernel;
}

} // namespace folio::kernels
