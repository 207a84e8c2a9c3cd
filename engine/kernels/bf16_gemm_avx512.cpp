// AVX-512 BF16 kernels of the BF16 GEMM (bf16_gemm.h): token packing, weight
// conversion and the 12 x 32 tile. Plain loops and intrinsics only: a standard
// template instantiated here could carry AVX-512 instructions into the rest of the
// program (see attention_x86.inc).
#include "engine/kernels/bf16_gemm.h"

#include "engine/kernels/x86_intrinsics.h"

#include <cstring>

namespace folio::kernels {
namespace {

constexpr int kRows = kBf16RowTile;
constexpr int kTokens = kBf16TokenTile;
constexpr int kRowWords = kBf16GemmDepth / 2;  // pair words per row of the weight buffer
// The token stream comes from L2; asked for 32 pairs (4 KB) ahead, as the FP32 tile does.
constexpr int kPrefetchPairs = 32;

static_assert(kTokens == 32 && kRows == 12, "the tile holds 12 rows x 2 vectors of 16 tokens");

// [lo's 16 | hi's 16] as BF16 (round to nearest even): 32-bit lane i holds the pair
// (element 2i, element 2i + 1) of the 32 values, the first in the low half.
inline __m512i toPairs(__m512 lo, __m512 hi) { return (__m512i)_mm512_cvtne2ps_pbh(hi, lo); }

// A 16 x 16 block of 32-bit words transposed in registers: rows paired (unpack),
// then quads (64-bit unpack), then the 128-bit lanes of four quads (two rounds of
// shuffle_i32x4). r[i] holds row i on entry and column i on return.
inline void transpose16(__m512i r[16])
{
    __m512i t[16];
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_epi32(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_epi32(r[i], r[i + 1]);
    }
    for (int i = 0; i < 16; i += 4) {  // r[i + m]: column 4L + m of rows i..i+3 in 128-bit lane L
        r[i] = _mm512_unpacklo_epi64(t[i], t[i + 2]);
        r[i + 1] = _mm512_unpackhi_epi64(t[i], t[i + 2]);
        r[i + 2] = _mm512_unpacklo_epi64(t[i + 1], t[i + 3]);
        r[i + 3] = _mm512_unpackhi_epi64(t[i + 1], t[i + 3]);
    }
    for (int m = 0; m < 4; ++m) {
        const __m512i v0 = _mm512_shuffle_i32x4(r[m], r[4 + m], 0x44), v1 = _mm512_shuffle_i32x4(r[m], r[4 + m], 0xEE);
        const __m512i v2 = _mm512_shuffle_i32x4(r[8 + m], r[12 + m], 0x44),
                      v3 = _mm512_shuffle_i32x4(r[8 + m], r[12 + m], 0xEE);
        t[m] = _mm512_shuffle_i32x4(v0, v2, 0x88);
        t[4 + m] = _mm512_shuffle_i32x4(v0, v2, 0xDD);
        t[8 + m] = _mm512_shuffle_i32x4(v1, v3, 0x88);
        t[12 + m] = _mm512_shuffle_i32x4(v1, v3, 0xDD);
    }
    for (int i = 0; i < 16; ++i)
        r[i] = t[i];
}

// Per half tile (16 tokens) and 32 columns: each token's 32 values become 16 pair
// words in one register, and the 16 x 16 block is transposed into 16 pair rows.
void packTokens(const float* x, int64_t cols, int tokens, uint32_t* out)
{
    for (int j0 = 0; j0 < kTokens; j0 += 16) {
        const int height = tokens - j0 < 0 ? 0 : (tokens - j0 < 16 ? tokens - j0 : 16);
        for (int64_t k0 = 0; k0 < cols; k0 += 32) {
            __m512i r[16];
            for (int j = 0; j < 16; ++j) {
                if (j < height) {
                    const float* row = x + (j0 + j) * cols + k0;
                    __builtin_prefetch(row + 128);  // each token row is its own stream: 512 bytes ahead
                    r[j] = toPairs(_mm512_loadu_ps(row), _mm512_loadu_ps(row + 16));
                } else {
                    r[j] = _mm512_setzero_si512();
                }
            }
            transpose16(r);
            uint32_t* dst = out + (k0 / 2) * kTokens + j0;
            for (int p = 0; p < 16; ++p)
                _mm512_storeu_si512(dst + p * kTokens, r[p]);
        }
    }
}

void convertRow(GgmlType type, const void* src, uint32_t* dst, int64_t n)
{
    if (type == GgmlType::BF16) {
        std::memcpy(dst, src, static_cast<std::size_t>(n) * 2);
        return;
    }
    for (int64_t i = 0; i < n; i += 32) {
        __m512 lo, hi;
        if (type == GgmlType::F16) {
            const auto* h = static_cast<const uint16_t*>(src) + i;
            lo = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(h)));
            hi = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(h + 16)));
        } else {  // F32
            const auto* f = static_cast<const float*>(src) + i;
            lo = _mm512_loadu_ps(f);
            hi = _mm512_loadu_ps(f + 16);
        }
        _mm512_storeu_si512(dst + i / 2, toPairs(lo, hi));
    }
}

// Per pair: the two token vectors loaded once, each row's weight pair broadcast into
// two vdpbf16ps.
void tile(const uint32_t* w, const uint32_t* x, int pairs, float* c, bool accumulate)
{
    __m512 acc[kRows][2];
#pragma GCC unroll 12
    for (int i = 0; i < kRows; ++i)
        acc[i][0] = acc[i][1] = _mm512_setzero_ps();
    for (int p = 0; p < pairs; ++p) {
        const __m512bh x0 = (__m512bh)_mm512_loadu_si512(x + p * kTokens);
        const __m512bh x1 = (__m512bh)_mm512_loadu_si512(x + p * kTokens + 16);
        _mm_prefetch(reinterpret_cast<const char*>(x + (p + kPrefetchPairs) * kTokens), _MM_HINT_T0);
        _mm_prefetch(reinterpret_cast<const char*>(x + (p + kPrefetchPairs) * kTokens + 16), _MM_HINT_T0);
#pragma GCC unroll 12
        for (int i = 0; i < kRows; ++i) {
            const __m512bh b = (__m512bh)_mm512_set1_epi32(static_cast<int>(w[i * kRowWords + p]));
            acc[i][0] = _mm512_dpbf16_ps(acc[i][0], b, x0);
            acc[i][1] = _mm512_dpbf16_ps(acc[i][1], b, x1);
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

} // namespace

const Bf16GemmKernel& bf16GemmAvx512()
{
    static const Bf16GemmKernel kernel{packTokens, convertRow, tile};
    return kernel;
}

} // namespace folio::kernels
