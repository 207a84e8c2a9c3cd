// AVX-512 tile of the float GEMM (float_gemm.h): 12 rows x 32 tokens, 24 zmm
// accumulators; per column two token vectors are loaded and each of the 12 weights
// is broadcast from memory into two FMAs.
#include "engine/kernels/float_gemm.h"

#include "engine/quant.h"

#include <cstring>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop

namespace folio::kernels {
namespace {

constexpr int kRows = 12;
constexpr int kTokens = 32;
constexpr int kPrefetchColumns = 32;

void tileAvx512(const float* w, const float* x, int depth, float* c, bool accumulate)
{
    __m512 acc[kRows][2];
#pragma GCC unroll 12
    for (int i = 0; i < kRows; ++i)
        acc[i][0] = acc[i][1] = _mm512_setzero_ps();
    for (int k = 0; k < depth; ++k) {
        const __m512 x0 = _mm512_loadu_ps(x + k * kTokens);
        const __m512 x1 = _mm512_loadu_ps(x + k * kTokens + 16);
        _mm_prefetch(reinterpret_cast<const char*>(x + (k + kPrefetchColumns) * kTokens), _MM_HINT_T0);
        _mm_prefetch(reinterpret_cast<const char*>(x + (k + kPrefetchColumns) * kTokens + 16), _MM_HINT_T0);
#pragma GCC unroll 12
        for (int i = 0; i < kRows; ++i) {
            const __m512 b = _mm512_set1_ps(w[i * kFloatGemmDepth + k]);
            acc[i][0] = _mm512_fmadd_ps(b, x0, acc[i][0]);
            acc[i][1] = _mm512_fmadd_ps(b, x1, acc[i][1]);
        }
    }
#pragma GCC unroll 12
    for (int i = 0; i < kRows; ++i) {
        float* out = c + i * kTokens;
        if (accumulate) {
            acc[i][0] = _mm512_add_ps(acc[i][0], _mm512_loadu_ps(out));
            acc[i][1] = _mm512_add_ps(acc[i][1], _mm512_loadu_ps(out + 16));
        }
        _mm512_storeu_ps(out, acc[i][0]);
        _mm512_storeu_ps(out + 16, acc[i][1]);
    }
}


void dequantizeAvx512(GgmlType type, const void* src, float* dst, int64_t n)
{
    // n is a multiple of 32 for F16/BF16 rows here only when cols is; do the tail plainly.
    const int64_t whole = n & ~int64_t{15};
    if (type == GgmlType::F16) {
        const auto* h = static_cast<const uint16_t*>(src);
        for (int64_t i = 0; i < whole; i += 16)
            _mm512_storeu_ps(dst + i, _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(h + i))));
    } else if (type == GgmlType::BF16) {
        const auto* h = static_cast<const uint16_t*>(src);
        for (int64_t i = 0; i < whole; i += 16) {
            const __m512i v = _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(h + i)));
            _mm512_storeu_ps(dst + i, _mm512_castsi512_ps(_mm512_slli_epi32(v, 16)));
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

const FloatGemmKernel& floatGemmAvx512()
{
    static const FloatGemmKernel kernel{kRows, kTokens, tileAvx512, dequantizeAvx512};
    return kernel;
}

} // namespace folio::kernels
