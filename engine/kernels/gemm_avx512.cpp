// AVX-512 VNNI kernel of the int8 GEMM (see gemm.h): one packed group of 16 rows
// times up to kTileTokens tokens per pass, with the 8 code vectors of a block
// loaded once and reused for every token of the pass.
#include "engine/kernels/gemm.h"

#include <cstring>
// GCC 12 warns about deliberately undefined vectors inside its own AVX-512
// intrinsic headers (-Wuninitialized false positives); silence it for them only.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop

namespace folio::kernels {
namespace {

// Tokens per pass: 8 code vectors + scale/bias + one float accumulator and two
// int32 partial sums per token stay within the 32 vector registers.
constexpr int kTileTokens = 4;

inline int32_t load4(const int8_t* p)
{
    int32_t v;
    std::memcpy(&v, p, 4);
    return v;
}

template <int T>
void tile(const uint8_t* codes, const float* scale, const float* bias, int64_t blocks, const Q8Block* x, float* Y,
          int64_t ldy, __mmask16 mask)
{
    __m512 acc[T];
    for (int u = 0; u < T; ++u)
        acc[u] = _mm512_setzero_ps();
    for (int64_t b = 0; b < blocks; ++b) {
        const uint8_t* c = codes + b * kGemmBlockBytes;
        __m512i w[8];
        for (int j = 0; j < 8; ++j)
            w[j] = _mm512_loadu_si512(c + 64 * j);
        const __m512 sc = _mm512_loadu_ps(scale + b * kGemmGroupRows);
        const __m512 bi = _mm512_loadu_ps(bias + b * kGemmGroupRows);
        for (int u = 0; u < T; ++u) {
            const Q8Block& xb = x[u * blocks + b];
            // Two partial sums halve the dependency chain of the 8 dot steps.
            __m512i s0 = _mm512_setzero_si512(), s1 = _mm512_setzero_si512();
            for (int j = 0; j < 8; j += 2) {
                s0 = _mm512_dpbusd_epi32(s0, w[j], _mm512_set1_epi32(load4(xb.qs + 4 * j)));
                s1 = _mm512_dpbusd_epi32(s1, w[j + 1], _mm512_set1_epi32(load4(xb.qs + 4 * j + 4)));
            }
            const __m512 dot = _mm512_cvtepi32_ps(_mm512_add_epi32(s0, s1));
            acc[u] = _mm512_fmadd_ps(dot, _mm512_mul_ps(sc, _mm512_set1_ps(xb.d)), acc[u]);
            acc[u] = _mm512_fmadd_ps(bi, _mm512_set1_ps(xb.sum), acc[u]);
        }
    }
    for (int u = 0; u < T; ++u)
        _mm512_mask_storeu_ps(Y + u * ldy, mask, acc[u]);
}

} // namespace

void gemmGroupAvx512(const uint8_t* codes, const float* scale, const float* bias, int64_t blocks, const Q8Block* x,
                     int64_t n, float* Y, int64_t ldy, int count)
{
    const __mmask16 mask = static_cast<__mmask16>((1u << count) - 1u);
    static_assert(kTileTokens == 4, "the tail switch below covers 1..3 tokens");
    int64_t t = 0;
    for (; t + kTileTokens <= n; t += kTileTokens)
        tile<kTileTokens>(codes, scale, bias, blocks, x + t * blocks, Y + t * ldy, ldy, mask);
    switch (n - t) {
    case 3: tile<3>(codes, scale, bias, blocks, x + t * blocks, Y + t * ldy, ldy, mask); break;
    case 2: tile<2>(codes, scale, bias, blocks, x + t * blocks, Y + t * ldy, ldy, mask); break;
    case 1: tile<1>(codes, scale, bias, blocks, x + t * blocks, Y + t * ldy, ldy, mask); break;
    default: break;
    }
}

} // namespace folio::kernels
