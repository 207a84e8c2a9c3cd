// AVX2 kernel of the int8 GEMM (see gemm.h), for CPUs without AVX-512 VNNI: the same
// packed row groups and shifted activations, with maddubs in place of vpdpbusd.
//
// maddubs multiplies the unsigned activation bytes (x + 128, up to 255) by the signed
// codes and adds adjacent pairs into saturating int16 lanes; the products of several
// dwords j are summed in int16 before one madd widens them to int32. How many fit
// depends on the largest code magnitude m: a pair is at most 2 * 255 * m, so
// 32767 / (510 m) pairs can be summed: Q4_0 (m = 8) all 8 dwords of a block, Q4_1 and
// Q5_0 (m 15, 16) 4, Q5_1 (m 31) 2. Q8_0 (m 128) would saturate a single pair, so it
// stays on the float path. A tile is one group (16 rows, two 256-bit halves) by 3
// tokens (2 when int32 partial sums are needed), so the int16 sums, the float
// accumulators, two code vectors and one broadcast fit the 16 vector registers.
#include "engine/kernels/gemm.h"

#include <algorithm>
#include <cstring>
#include <immintrin.h>

namespace folio::kernels {
namespace {

inline int32_t load4(const int8_t* p)
{
    int32_t v;
    std::memcpy(&v, p, 4);
    return v;
}

// Dwords summed in int16 before widening, per type (see above).
int dwordsPerFlush(GgmlType type)
{
    switch (type) {
    case GgmlType::Q4_0: return 8;
    case GgmlType::Q4_1:
    case GgmlType::Q4_K:  // codes 0..15, as Q4_1
    case GgmlType::Q5_0: return 4;
    case GgmlType::Q5_1:
    case GgmlType::Q5_K: return 2;  // codes 0..31, as Q5_1
    default: return 0;
    }
}

template <int T, int Flush, bool HasBias>
void tile(const PackedGroupView& p, int64_t blocks, const Q8Block* x, float* Y, int64_t ldy, int rows)
{
    const __m256i ones = _mm256_set1_epi16(1);
    __m256 acc[T][2];
    for (int u = 0; u < T; ++u)
        acc[u][0] = acc[u][1] = _mm256_setzero_ps();
    for (int64_t b = 0; b < blocks; ++b) {
        const int8_t* codes = p.codes + b * kGemmBlockBytes;
        __m256i wide[T][2];  // set at the first flush: nothing int32 is live before it
        for (int j0 = 0; j0 < 8; j0 += Flush) {
            __m256i narrow[T][2];
            for (int u = 0; u < T; ++u)
                narrow[u][0] = narrow[u][1] = _mm256_setzero_si256();
            for (int j = j0; j < j0 + Flush; ++j) {
                const __m256i w0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(codes + 64 * j));
                const __m256i w1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(codes + 64 * j + 32));
                for (int u = 0; u < T; ++u) {
                    const __m256i xb = _mm256_set1_epi32(load4(x[u * blocks + b].qs + 4 * j));
                    narrow[u][0] = _mm256_add_epi16(narrow[u][0], _mm256_maddubs_epi16(xb, w0));
                    narrow[u][1] = _mm256_add_epi16(narrow[u][1], _mm256_maddubs_epi16(xb, w1));
                }
            }
            for (int u = 0; u < T; ++u)
                for (int h = 0; h < 2; ++h) {
                    const __m256i part = _mm256_madd_epi16(narrow[u][h], ones);
                    wide[u][h] = j0 == 0 ? _mm256_add_epi32(part, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(
                                                                     p.correction + b * kGemmGroupRows + 8 * h)))
                                         : _mm256_add_epi32(wide[u][h], part);
                }
        }
        for (int h = 0; h < 2; ++h) {
            const __m256 scale = _mm256_loadu_ps(p.scale + b * kGemmGroupRows + 8 * h);
            for (int u = 0; u < T; ++u) {
                const Q8Block& xb = x[u * blocks + b];
                acc[u][h] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(wide[u][h]), _mm256_mul_ps(scale, _mm256_set1_ps(xb.d)),
                                            acc[u][h]);
                if constexpr (HasBias)
                    acc[u][h] = _mm256_fmadd_ps(_mm256_loadu_ps(p.bias + b * kGemmGroupRows + 8 * h),
                                                _mm256_set1_ps(xb.sum), acc[u][h]);
            }
        }
    }
    for (int u = 0; u < T; ++u) {
        if (rows == kGemmGroupRows) {
            _mm256_storeu_ps(Y + u * ldy, acc[u][0]);
            _mm256_storeu_ps(Y + u * ldy + 8, acc[u][1]);
        } else {
            alignas(32) float out[kGemmGroupRows];
            _mm256_store_ps(out, acc[u][0]);
            _mm256_store_ps(out + 8, acc[u][1]);
            std::copy(out, out + rows, Y + u * ldy);
        }
    }
}

template <int T, int Flush, bool HasBias>
void group(const PackedGroupView& p, int64_t blocks, const Q8Block* x, int64_t n, float* Y, int64_t ldy, int rows)
{
    int64_t t = 0;
    for (; t + T <= n; t += T)
        tile<T, Flush, HasBias>(p, blocks, x + t * blocks, Y + t * ldy, ldy, rows);
    for (; t < n; ++t)
        tile<1, Flush, HasBias>(p, blocks, x + t * blocks, Y + t * ldy, ldy, rows);
}

template <int Flush, bool HasBias>
void panel(const PackedGroupView& p, int64_t blocks, int groupCount, const Q8Block* x, int64_t n, float* Y,
           int64_t ldy, int rowCount)
{
    // One flush per block keeps no int32 partial sums live: room for a third token.
    constexpr int kTokens = Flush == 8 ? 3 : 2;
    for (int g = 0; g < groupCount; ++g) {
        const int rows = std::clamp(rowCount - g * kGemmGroupRows, 0, kGemmGroupRows);
        if (rows == 0)
            break;
        const PackedGroupView sub{p.codes + g * blocks * kGemmBlockBytes, p.scale + g * blocks * kGemmGroupRows,
                                  p.bias + g * blocks * kGemmGroupRows, p.correction + g * blocks * kGemmGroupRows};
        group<kTokens, Flush, HasBias>(sub, blocks, x, n, Y + g * kGemmGroupRows, ldy, rows);
    }
}

} // namespace

bool isAvx2GemmType(GgmlType type) { return dwordsPerFlush(type) > 0; }

void gemmPanelAvx2(GgmlType type, const PackedGroupView& p, int64_t blocks, int groupCount, const Q8Block* x,
                   int64_t n, float* Y, int64_t ldy, int rowCount)
{
    const bool hasBias = gemmHasBias(type);
    switch (dwordsPerFlush(type)) {
    case 8:
        return hasBias ? panel<8, true>(p, blocks, groupCount, x, n, Y, ldy, rowCount)
                       : panel<8, false>(p, blocks, groupCount, x, n, Y, ldy, rowCount);
    case 4:
        return hasBias ? panel<4, true>(p, blocks, groupCount, x, n, Y, ldy, rowCount)
                       : panel<4, false>(p, blocks, groupCount, x, n, Y, ldy, rowCount);
    case 2:
        return hasBias ? panel<2, true>(p, blocks, groupCount, x, n, Y, ldy, rowCount)
                       : panel<2, false>(p, blocks, groupCount, x, n, Y, ldy, rowCount);
    default: break;
    }
}

void quantizeShiftedAvx2(const float* x, Q8Block* out, int64_t n)
{
    const __m256 signBit = _mm256_set1_ps(-0.0f);
    // packs leaves the dwords of 8 codes in lane order 0, 2, 4, 6 | 1, 3, 5, 7.
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    for (int64_t b = 0; b < n / 32; ++b) {
        __m256 v[4];
        for (int i = 0; i < 4; ++i)
            v[i] = _mm256_loadu_ps(x + 32 * b + 8 * i);
        const __m256 m = _mm256_max_ps(_mm256_max_ps(_mm256_andnot_ps(signBit, v[0]), _mm256_andnot_ps(signBit, v[1])),
                                       _mm256_max_ps(_mm256_andnot_ps(signBit, v[2]), _mm256_andnot_ps(signBit, v[3])));
        __m128 h = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
        h = _mm_max_ps(h, _mm_movehl_ps(h, h));
        h = _mm_max_ss(h, _mm_shuffle_ps(h, h, 1));
        // The scalar quantizer's exact operations: d = absmax / 127, codes = rint(v * (1 / d)).
        const float d = _mm_cvtss_f32(h) / 127.0f;
        const __m256 id = _mm256_set1_ps(d > 0.0f ? 1.0f / d : 0.0f);
        __m256i q[4];
        for (int i = 0; i < 4; ++i)
            q[i] = _mm256_cvtps_epi32(_mm256_mul_ps(v[i], id));
        __m256i total = _mm256_add_epi32(_mm256_add_epi32(q[0], q[1]), _mm256_add_epi32(q[2], q[3]));
        __m128i t = _mm_add_epi32(_mm256_castsi256_si128(total), _mm256_extracti128_si256(total, 1));
        t = _mm_add_epi32(t, _mm_shuffle_epi32(t, _MM_SHUFFLE(1, 0, 3, 2)));
        t = _mm_add_epi32(t, _mm_shuffle_epi32(t, _MM_SHUFFLE(2, 3, 0, 1)));
        const __m256i bytes = _mm256_permutevar8x32_epi32(
            _mm256_packs_epi16(_mm256_packs_epi32(q[0], q[1]), _mm256_packs_epi32(q[2], q[3])), order);
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(out[b].qs),
                            _mm256_xor_si256(bytes, _mm256_set1_epi8(static_cast<char>(0x80))));
        out[b].d = d;
        out[b].sum = d * static_cast<float>(_mm_cvtsi128_si32(t));
    }
}

} // namespace folio::kernels
