// AVX2 kernel of the int8 GEMM (see gemm.h), for CPUs without AVX-512 VNNI: the same
// packed row groups and shifted activations, with maddubs in place of vpdpbusd.
//
// maddubs multiplies the unsigned activation bytes (x + 128, up to 255) by the signed
// codes and adds adjacent pairs into saturating int16 lanes; the products of several
// dwords j are summed in int16 before one madd widens them to int32. How many fit
// depends on the largest code magnitude m: a pair is at most 2 * 255 * m, so
// 32767 / (510 m) pairs can be summed: Q4_0 (m = 8) all 8 dwords of a block, Q4_1 and
// Q5_0 (m 15, 16) 4, Q5_1 and Q6_K (m 31, 32) 2. Q8_0 (m 128) would saturate a single pair, so it
// stays on the float path. (Taking the plain codes 0..15 of Q4_1/Q4_K as the unsigned
// operand and the activations signed would fit all 8 dwords in one flush; tried on
// 2026-12-07, Q4_K_M prefill was unchanged, 71 tokens/s on one Zen 3 core: the xor
// that un-shifts each broadcast costs what the second flush did.) A tile is one group
// (16 rows, two 256-bit halves) by 3 tokens, so the int16 sums (and int32 ones), two
// code vectors and one broadcast fit the 16 vector registers (see tile).
#include "engine/kernels/gemm.h"

#include "engine/gguf/quant.h"

#include <algorithm>
#include <cstddef>
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
    case GgmlType::Q5_K:  // codes 0..31, as Q5_1
    case GgmlType::Q6_K: return 2;  // codes -32..31, two half-blocks of 4 dwords
    default: return 0;
    }
}

// How a block's int32 sums become floats: scale * d_x (kPlain), plus bias * xsum
// (kBias: Q4_1, Q5_1 and the K sub-blocks' mins), or two half-blocks of 16, each with
// its own scale and correction (kTwoScales: Q6_K, see gemm.h).
enum Mode { kPlain, kBias, kTwoScales };

// One group (16 rows, two 256-bit halves) by T tokens. The hot loop holds 2T int16
// sums, two code vectors and one broadcast (with 2T int32 sums beside them when a
// block takes several flushes: 16 registers at T = 3); the float accumulators live in
// a small L1 buffer, touched once per block (twice for two scales). The empty asm after
// each add keeps every int16 sum a chain: GCC otherwise reassociates the adds of a
// flush into a tree, which needs all 2T * Flush products live at once, and spills them
// to the stack. With the sums spilled (the kernel before 2026-12-07) each add waited on
// a store and a reload: Q4_0 prefill 65 tokens/s on one Zen 3 core, 94 with the chains.
template <int T, int Flush, Mode M>
void tile(const PackedGroupView& p, int64_t blocks, const Q8Block* x, float* Y, int64_t ldy, int rows)
{
    static_assert(M != kTwoScales || Flush <= 4, "a half-block's sums are flushed on their own");
    const __m256i ones = _mm256_set1_epi16(1);
    alignas(32) float acc[T][kGemmGroupRows];
    for (int u = 0; u < T; ++u)
        for (int h = 0; h < 2; ++h)
            _mm256_store_ps(acc[u] + 8 * h, _mm256_setzero_ps());
    for (int64_t b = 0; b < blocks; ++b) {
        const int8_t* codes = p.codes + b * kGemmBlockBytes;
        const int64_t v = b * kGemmGroupRows;
        __m256i wide[T][2];
        // acc += wide * scales * d_x (and + bias * xsum), for every token and half
        const auto fold = [&](const float* scales) {
#pragma GCC unroll 16
            for (int h = 0; h < 2; ++h) {
                const __m256 scale = _mm256_loadu_ps(scales + v + 8 * h);
#pragma GCC unroll 16
                for (int u = 0; u < T; ++u) {
                    const Q8Block& xb = x[u * blocks + b];
                    __m256 a = _mm256_fmadd_ps(_mm256_cvtepi32_ps(wide[u][h]),
                                               _mm256_mul_ps(scale, _mm256_set1_ps(xb.d)), _mm256_load_ps(acc[u] + 8 * h));
                    if constexpr (M == kBias)
                        a = _mm256_fmadd_ps(_mm256_loadu_ps(p.bias + v + 8 * h), _mm256_set1_ps(xb.sum), a);
                    _mm256_store_ps(acc[u] + 8 * h, a);
                }
            }
        };
#pragma GCC unroll 16
        for (int j0 = 0; j0 < 8; j0 += Flush) {
            __m256i narrow[T][2];
#pragma GCC unroll 16
            for (int u = 0; u < T; ++u)
                narrow[u][0] = narrow[u][1] = _mm256_setzero_si256();
#pragma GCC unroll 16
            for (int j = j0; j < j0 + Flush; ++j) {
                const __m256i w0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(codes + 64 * j));
                const __m256i w1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(codes + 64 * j + 32));
#pragma GCC unroll 16
                for (int u = 0; u < T; ++u) {
                    const __m256i xb = _mm256_set1_epi32(load4(x[u * blocks + b].qs + 4 * j));
                    narrow[u][0] = _mm256_add_epi16(narrow[u][0], _mm256_maddubs_epi16(xb, w0));
                    narrow[u][1] = _mm256_add_epi16(narrow[u][1], _mm256_maddubs_epi16(xb, w1));
                    __asm__("" : "+x"(narrow[u][0]), "+x"(narrow[u][1]));
                }
            }
            // The first flush of a block (or of a Q6_K half-block) starts from its correction.
            const bool first = j0 == 0 || (M == kTwoScales && j0 == 4);
            const int32_t* correction = j0 < 4 || M != kTwoScales ? p.correction : p.correctionHigh;
            if (M == kTwoScales && j0 == 4)
                fold(p.scale);  // elements 0..15 done
#pragma GCC unroll 16
            for (int u = 0; u < T; ++u)
#pragma GCC unroll 16
                for (int h = 0; h < 2; ++h) {
                    const __m256i part = _mm256_madd_epi16(narrow[u][h], ones);
                    wide[u][h] = first ? _mm256_add_epi32(part, _mm256_loadu_si256(
                                                                    reinterpret_cast<const __m256i*>(correction + v + 8 * h)))
                                       : _mm256_add_epi32(wide[u][h], part);
                }
        }
        fold(M == kTwoScales ? p.bias : p.scale);  // two scales: bias holds elements 16..31's
    }
    for (int u = 0; u < T; ++u)
        std::copy(acc[u], acc[u] + rows, Y + u * ldy);
}

template <int T, int Flush, Mode M>
void group(const PackedGroupView& p, int64_t blocks, const Q8Block* x, int64_t n, float* Y, int64_t ldy, int rows)
{
    int64_t t = 0;
    for (; t + T <= n; t += T)
        tile<T, Flush, M>(p, blocks, x + t * blocks, Y + t * ldy, ldy, rows);
    if constexpr (T > 1)  // the last few tokens in smaller tiles
        group<T / 2, Flush, M>(p, blocks, x + t * blocks, n - t, Y + t * ldy, ldy, rows);
}

template <int Flush, Mode M>
void panel(const PackedGroupView& p, int64_t blocks, int groupCount, const Q8Block* x, int64_t n, float* Y,
           int64_t ldy, int rowCount)
{
    constexpr int kTokens = 3;  // see tile
    for (int g = 0; g < groupCount; ++g) {
        const int rows = std::clamp(rowCount - g * kGemmGroupRows, 0, kGemmGroupRows);
        if (rows == 0)
            break;
        const int64_t at = g * blocks * kGemmGroupRows;
        const PackedGroupView sub{p.codes + g * blocks * kGemmBlockBytes, p.scale + at, p.bias + at, p.correction + at,
                                  p.correctionHigh ? p.correctionHigh + at : nullptr};
        group<kTokens, Flush, M>(sub, blocks, x, n, Y + g * kGemmGroupRows, ldy, rows);
    }
}

} // namespace

bool isAvx2GemmType(GgmlType type) { return dwordsPerFlush(type) > 0; }

void gemmPanelAvx2(GgmlType type, const PackedGroupView& p, int64_t blocks, int groupCount, const Q8Block* x,
                   int64_t n, float* Y, int64_t ldy, int rowCount)
{
    if (gemmHasTwoScales(type))
        return panel<2, kTwoScales>(p, blocks, groupCount, x, n, Y, ldy, rowCount);
    const bool hasBias = gemmHasBias(type);
    switch (dwordsPerFlush(type)) {
    case 8:
        return hasBias ? panel<8, kBias>(p, blocks, groupCount, x, n, Y, ldy, rowCount)
                       : panel<8, kPlain>(p, blocks, groupCount, x, n, Y, ldy, rowCount);
    case 4:
        return hasBias ? panel<4, kBias>(p, blocks, groupCount, x, n, Y, ldy, rowCount)
                       : panel<4, kPlain>(p, blocks, groupCount, x, n, Y, ldy, rowCount);
    case 2:
        return hasBias ? panel<2, kBias>(p, blocks, groupCount, x, n, Y, ldy, rowCount)
                       : panel<2, kPlain>(p, blocks, groupCount, x, n, Y, ldy, rowCount);
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

namespace {

// Rows r0..r0+7 (0 past count) of a row group as vectors with row r0 + i in lane i:
// the 16 bytes at `offset` of each as 4 dword vectors (rows m and m + 4 share a
// register, then a 4 x 4 transpose per 128-bit lane), or the 32 bytes as 8 (an 8 x 8
// transpose). As on AVX-512 (gemm_avx512.cpp), the scalar packer was 10% of a Q4_0
// prefill on AVX2.
void rowDwords4(const std::byte* base, std::size_t rowSize, int r0, int count, std::size_t offset, __m256i out[4])
{
    const auto row = [&](int r) {
        return r < count ? _mm_loadu_si128(reinterpret_cast<const __m128i*>(base + r * rowSize + offset))
                         : _mm_setzero_si128();
    };
    __m256i z[4];
    for (int m = 0; m < 4; ++m)
        z[m] = _mm256_inserti128_si256(_mm256_castsi128_si256(row(r0 + m)), row(r0 + m + 4), 1);
    const __m256i t0 = _mm256_unpacklo_epi32(z[0], z[1]), t1 = _mm256_unpackhi_epi32(z[0], z[1]);
    const __m256i t2 = _mm256_unpacklo_epi32(z[2], z[3]), t3 = _mm256_unpackhi_epi32(z[2], z[3]);
    out[0] = _mm256_unpacklo_epi64(t0, t2);
    out[1] = _mm256_unpackhi_epi64(t0, t2);
    out[2] = _mm256_unpacklo_epi64(t1, t3);
    out[3] = _mm256_unpackhi_epi64(t1, t3);
}

void rowDwords8(const std::byte* base, std::size_t rowSize, int r0, int count, std::size_t offset, __m256i out[8])
{
    __m256i z[8], t[8];
    for (int m = 0; m < 8; ++m)
        z[m] = r0 + m < count
                   ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(base + (r0 + m) * rowSize + offset))
                   : _mm256_setzero_si256();
    for (int m = 0; m < 8; m += 2) {
        t[m] = _mm256_unpacklo_epi32(z[m], z[m + 1]);
        t[m + 1] = _mm256_unpackhi_epi32(z[m], z[m + 1]);
    }
    for (int m = 0; m < 8; m += 4) {  // z[m + k]: dword k (lane 0) and k + 4 (lane 1) of rows m..m+3
        z[m] = _mm256_unpacklo_epi64(t[m], t[m + 2]);
        z[m + 1] = _mm256_unpackhi_epi64(t[m], t[m + 2]);
        z[m + 2] = _mm256_unpacklo_epi64(t[m + 1], t[m + 3]);
        z[m + 3] = _mm256_unpackhi_epi64(t[m + 1], t[m + 3]);
    }
    for (int k = 0; k < 4; ++k) {
        out[k] = _mm256_permute2x128_si256(z[k], z[4 + k], 0x20);
        out[k + 4] = _mm256_permute2x128_si256(z[k], z[4 + k], 0x31);
    }
}

// Stores dword j of rows 8h..8h+7 of a packed block and adds their code sums.
inline void storeCodes(int8_t* block, int j, int h, __m256i codes, __m256i& sums)
{
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(block + 64 * j + 32 * h), codes);
    sums = _mm256_add_epi32(sums, _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_set1_epi8(1), codes),
                                                    _mm256_set1_epi16(1)));
}

inline __m256i corrections(__m256i sums) { return _mm256_mullo_epi32(sums, _mm256_set1_epi32(-128)); }

// The fp16 at `offset` of rows r0..r0+7 as floats (0 past count).
__m256 rowHalves(const std::byte* base, std::size_t rowSize, int r0, int count, std::size_t offset)
{
    alignas(16) uint16_t h[8] = {};
    for (int i = 0; i < 8 && r0 + i < count; ++i)
        std::memcpy(&h[i], base + (r0 + i) * rowSize + offset, 2);
    return _mm256_cvtph_ps(_mm_load_si128(reinterpret_cast<const __m128i*>(h)));
}

} // namespace

bool isAvx2PackType(GgmlType type) { return type == GgmlType::Q4_0 || type == GgmlType::Q4_K; }

void packRowGroupAvx2(GgmlType type, const void* rows, std::size_t rowSize, int count, int64_t cols,
                      const PackedGroupView& out)
{
    const auto* base = static_cast<const std::byte*>(rows);
    const int64_t blocks = cols / 32;
    const __m256i low = _mm256_set1_epi8(0x0F);
    if (type == GgmlType::Q4_0) {
        for (int64_t b = 0; b < blocks; ++b) {
            const std::size_t at = static_cast<std::size_t>(b) * sizeof(BlockQ4_0);
            int8_t* block = out.codes + b * kGemmBlockBytes;
            for (int h = 0; h < 2; ++h) {
                // Codes q - 8: low nibbles are elements 0..15, high ones 16..31 (absent rows: 0).
                const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
                const __m256i present = _mm256_cmpgt_epi32(_mm256_set1_epi32(count - 8 * h), lanes);
                const __m256i eight = _mm256_and_si256(present, _mm256_set1_epi8(8));
                __m256i q[4], sums = _mm256_setzero_si256();
                rowDwords4(base, rowSize, 8 * h, count, at + 2, q);
                for (int j = 0; j < 4; ++j) {
                    storeCodes(block, j, h, _mm256_sub_epi8(_mm256_and_si256(q[j], low), eight), sums);
                    storeCodes(block, j + 4, h, _mm256_sub_epi8(_mm256_and_si256(_mm256_srli_epi16(q[j], 4), low), eight),
                               sums);
                }
                const int64_t v = b * kGemmGroupRows + 8 * h;
                _mm256_storeu_ps(out.scale + v, rowHalves(base, rowSize, 8 * h, count, at));
                _mm256_storeu_ps(out.bias + v, _mm256_setzero_ps());
                _mm256_storeu_si256(reinterpret_cast<__m256i*>(out.correction + v), corrections(sums));
            }
        }
        return;
    }
    // Q4_K: sub-block j as a 32-block with scale d * sc_j and bias -dmin * m_j (gemm.h);
    // the 32 code bytes of sub-blocks 2p and 2p + 1 are their low and high nibbles.
    for (int64_t sb = 0; sb < blocks / 8; ++sb) {
        const std::size_t at = static_cast<std::size_t>(sb) * sizeof(BlockQ4_K);
        for (int r = 0; r < kGemmGroupRows; ++r) {
            if (r >= count) {  // an absent row packs as 0
                for (int j = 0; j < 8; ++j)
                    out.scale[(sb * 8 + j) * kGemmGroupRows + r] = out.bias[(sb * 8 + j) * kGemmGroupRows + r] = 0.0f;
                continue;
            }
            const std::byte* row = base + r * rowSize + at;
            uint16_t h[2];
            uint8_t sc[12];
            std::memcpy(h, row + offsetof(BlockQ4_K, d), 2);
            std::memcpy(h + 1, row + offsetof(BlockQ4_K, dmin), 2);
            std::memcpy(sc, row + offsetof(BlockQ4_K, scales), 12);
            const float d = _cvtsh_ss(h[0]), dmin = _cvtsh_ss(h[1]);
            for (int j = 0; j < 8; ++j) {  // the 6-bit scale and min of sub-block j (scaleMinK4)
                const int scale = j < 4 ? sc[j] & 63 : (sc[j + 4] & 0xF) | ((sc[j - 4] >> 6) << 4);
                const int min = j < 4 ? sc[j + 4] & 63 : (sc[j + 4] >> 4) | ((sc[j] >> 6) << 4);
                const int64_t v = (sb * 8 + j) * kGemmGroupRows + r;
                out.scale[v] = d * static_cast<float>(scale);
                out.bias[v] = -(dmin * static_cast<float>(min));
            }
        }
        for (int p = 0; p < 4; ++p) {
            int8_t* even = out.codes + (sb * 8 + 2 * p) * kGemmBlockBytes;
            int8_t* odd = even + kGemmBlockBytes;
            for (int h = 0; h < 2; ++h) {
                __m256i q[8], sumsEven = _mm256_setzero_si256(), sumsOdd = _mm256_setzero_si256();
                rowDwords8(base, rowSize, 8 * h, count, at + offsetof(BlockQ4_K, qs) + 32 * static_cast<std::size_t>(p), q);
                for (int k = 0; k < 8; ++k) {
                    storeCodes(even, k, h, _mm256_and_si256(q[k], low), sumsEven);
                    storeCodes(odd, k, h, _mm256_and_si256(_mm256_srli_epi16(q[k], 4), low), sumsOdd);
                }
                const int64_t v = (sb * 8 + 2 * p) * kGemmGroupRows + 8 * h;
                _mm256_storeu_si256(reinterpret_cast<__m256i*>(out.correction + v), corrections(sumsEven));
                _mm256_storeu_si256(reinterpret_cast<__m256i*>(out.correction + v + kGemmGroupRows),
                                    corrections(sumsOdd));
            }
        }
    }
}

} // namespace folio::kernels
