// AVX-512 VNNI kernel of the int8 GEMM (see gemm.h): a tile of two packed groups
// (32 rows) times 4 tokens, so each code vector load serves 4 tokens and each
// activation broadcast serves 32 rows.
#include "engine/kernels/gemm.h"

#include "engine/gguf/quant.h"

#include <algorithm>
#include <cstddef>
#include <cstring>
#include "engine/kernels/x86_intrinsics.h"

namespace folio::kernels {
namespace {

// Tile: 2 groups x 4 tokens = 8 int32 block sums + 8 float accumulators, plus
// the code vectors and one broadcast, within the 32 vector registers.
constexpr int kTileGroups = 2;
constexpr int kTileTokens = 4;

inline int32_t load4(const int8_t* p)
{
    int32_t v;
    std::memcpy(&v, p, 4);
    return v;
}

// Blocks per pass over the token tiles: the two groups' codes of 16 blocks (16 KB)
// stay in L1 while every token tile uses them; the float sums are carried in Y
// between passes. (One pass over all blocks streamed the codes from L2 once per
// 4-token tile: 47-51 MAC/cycle on 64 tokens against 70 when they fit in L1.)
constexpr int64_t kBlockPass = 16;

// What a block adds besides scale * d_x * dot: nothing, the bias * xsum of the
// *_1 and K4/K5 types, or (Q6_K) a second half-block with its own scale.
enum Mode { kPlain, kBias, kTwoScales };

template <int G, int T, int M>
void tile(const PackedGroupView& p, int64_t blocks, int64_t b0, int64_t b1, bool accumulate, const Q8Block* x,
          float* Y, int64_t ldy, const __mmask16* masks)
{
    const int64_t codeStride = blocks * kGemmBlockBytes, valueStride = blocks * kGemmGroupRows;
    constexpr int kHalves = M == kTwoScales ? 2 : 1;
    constexpr int kSteps = 8 / kHalves;  // 4-byte columns per half
    __m512 acc[G][T];
    for (int g = 0; g < G; ++g)
        for (int u = 0; u < T; ++u)
            acc[g][u] = accumulate ? _mm512_maskz_loadu_ps(masks[g], Y + u * ldy + g * kGemmGroupRows)
                                   : _mm512_setzero_ps();
    for (int64_t b = b0; b < b1; ++b) {
        const int8_t* codes = p.codes + b * kGemmBlockBytes;
        for (int h = 0; h < kHalves; ++h) {
            const int32_t* corrections = h == 0 ? p.correction : p.correctionHigh;
            const float* scales = h == 0 ? p.scale : p.bias;
            __m512i sums[G][T];
            for (int g = 0; g < G; ++g) {
                const __m512i correction = _mm512_loadu_si512(corrections + g * valueStride + b * kGemmGroupRows);
                for (int u = 0; u < T; ++u)
                    sums[g][u] = correction;
            }
            for (int j = h * kSteps; j < (h + 1) * kSteps; ++j) {
                __m512i w[G];
                for (int g = 0; g < G; ++g)
                    w[g] = _mm512_loadu_si512(codes + g * codeStride + 64 * j);
                for (int u = 0; u < T; ++u) {
                    const __m512i xb = _mm512_set1_epi32(load4(x[u * blocks + b].qs + 4 * j));
                    for (int g = 0; g < G; ++g)
                        sums[g][u] = _mm512_dpbusd_epi32(sums[g][u], xb, w[g]);
                }
            }
            for (int g = 0; g < G; ++g) {
                const __m512 scale = _mm512_loadu_ps(scales + g * valueStride + b * kGemmGroupRows);
                for (int u = 0; u < T; ++u) {
                    const Q8Block& xb = x[u * blocks + b];
                    acc[g][u] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sums[g][u]),
                                                _mm512_mul_ps(scale, _mm512_set1_ps(xb.d)), acc[g][u]);
                    if constexpr (M == kBias)
                        acc[g][u] = _mm512_fmadd_ps(_mm512_loadu_ps(p.bias + g * valueStride + b * kGemmGroupRows),
                                                    _mm512_set1_ps(xb.sum), acc[g][u]);
                }
            }
        }
    }
    for (int g = 0; g < G; ++g)
        for (int u = 0; u < T; ++u)
            _mm512_mask_storeu_ps(Y + u * ldy + g * kGemmGroupRows, masks[g], acc[g][u]);
}

template <int G, int M>
void allTokens(const PackedGroupView& p, int64_t blocks, const Q8Block* x, int64_t n, float* Y, int64_t ldy,
               const __mmask16* masks)
{
    static_assert(kTileTokens == 4, "the tail switch below covers 1..3 tokens");
    for (int64_t b0 = 0; b0 < blocks; b0 += kBlockPass) {
        const int64_t b1 = std::min(blocks, b0 + kBlockPass);
        const bool acc = b0 > 0;
        int64_t t = 0;
        for (; t + kTileTokens <= n; t += kTileTokens)
            tile<G, kTileTokens, M>(p, blocks, b0, b1, acc, x + t * blocks, Y + t * ldy, ldy, masks);
        switch (n - t) {
        case 3: tile<G, 3, M>(p, blocks, b0, b1, acc, x + t * blocks, Y + t * ldy, ldy, masks); break;
        case 2: tile<G, 2, M>(p, blocks, b0, b1, acc, x + t * blocks, Y + t * ldy, ldy, masks); break;
        case 1: tile<G, 1, M>(p, blocks, b0, b1, acc, x + t * blocks, Y + t * ldy, ldy, masks); break;
        default: break;
        }
    }
}

template <int M>
void panel(const PackedGroupView& p, int64_t blocks, int groupCount, const Q8Block* x, int64_t n, float* Y,
           int64_t ldy, int rowCount)
{
    for (int g0 = 0; g0 < groupCount; g0 += kTileGroups) {
        const int groups = std::min(kTileGroups, groupCount - g0);
        __mmask16 masks[kTileGroups];
        for (int g = 0; g < kTileGroups; ++g) {
            const int rows = std::clamp(rowCount - (g0 + g) * kGemmGroupRows, 0, kGemmGroupRows);
            masks[g] = static_cast<__mmask16>((1u << rows) - 1u);
        }
        const PackedGroupView sub{p.codes + g0 * blocks * kGemmBlockBytes, p.scale + g0 * blocks * kGemmGroupRows,
                                  p.bias + g0 * blocks * kGemmGroupRows, p.correction + g0 * blocks * kGemmGroupRows,
                                  p.correctionHigh ? p.correctionHigh + g0 * blocks * kGemmGroupRows : nullptr};
        if (groups == 2)
            allTokens<2, M>(sub, blocks, x, n, Y + g0 * kGemmGroupRows, ldy, masks);
        else
            allTokens<1, M>(sub, blocks, x, n, Y + g0 * kGemmGroupRows, ldy, masks);
    }
}

} // namespace

namespace {

// Packing reads one block of all 16 rows at a time, with row r in lane r: dword j
// of the 16 rows' codes is one vector, stored as the 64 bytes at offset 64 * j of
// the packed block, and the rows' scales, biases and code sums are vectors too.
// (Scattering each row's 8 dwords instead cost 31% of a Q8_0 prefill.) The codes
// come in by row loads and a register transpose (below), the few scale bytes by
// 32-bit gathers, lane r reading row r.
struct RowGather {
    __m512i index;   // r * rowSize
    __mmask16 rows;  // the rows that exist; the others read nothing and pack as 0
    const std::byte* base;

    __m512i dwords(std::size_t offset) const
    {
        return _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), rows, index, base + offset, 1);
    }
    // The fp16 at `offset` of each row, as floats (0 for absent rows).
    __m512 halves(std::size_t offset) const
    {
        return _mm512_cvtph_ps(_mm512_cvtepi32_epi16(dwords(offset)));
    }
};

// The 32 bytes at `offset` of each of the 16 rows as 8 vectors, lane r of out[j]
// holding row r's dword j (0 for rows past count): 16 loads and an 8 x 8 dword
// transpose in each 256-bit half, rows r and r + 8 sharing a register. Gathering the
// 8 dwords instead (8 gathers) made packing 22% of a Q8_0 prefill on Zen 4.
void transposedDwords(const std::byte* base, std::size_t rowSize, int count, std::size_t offset, __m512i out[8])
{
    const auto row = [&](int r) {
        return r < count ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(base + r * rowSize + offset))
                         : _mm256_setzero_si256();
    };
    __m512i z[8], t[8];
    for (int m = 0; m < 8; ++m)
        z[m] = _mm512_inserti64x4(_mm512_castsi256_si512(row(m)), row(m + 8), 1);
    for (int m = 0; m < 8; m += 2) {  // per 128-bit lane: dwords (0,1) then (2,3) of rows m, m+1
        t[m] = _mm512_unpacklo_epi32(z[m], z[m + 1]);
        t[m + 1] = _mm512_unpackhi_epi32(z[m], z[m + 1]);
    }
    for (int m = 0; m < 8; m += 4) {  // z[m + k]: dword k (lanes 0, 2) and k + 4 (1, 3) of rows m..m+3
        z[m] = _mm512_unpacklo_epi64(t[m], t[m + 2]);
        z[m + 1] = _mm512_unpackhi_epi64(t[m], t[m + 2]);
        z[m + 2] = _mm512_unpacklo_epi64(t[m + 1], t[m + 3]);
        z[m + 3] = _mm512_unpackhi_epi64(t[m + 1], t[m + 3]);
    }
    for (int k = 0; k < 4; ++k) {  // lanes in row order: rows 0-3, 4-7, 8-11, 12-15
        const __m512i even = _mm512_shuffle_i32x4(z[k], z[4 + k], 0x88), odd = _mm512_shuffle_i32x4(z[k], z[4 + k], 0xDD);
        out[k] = _mm512_shuffle_i32x4(even, even, 0xD8);
        out[k + 4] = _mm512_shuffle_i32x4(odd, odd, 0xD8);
    }
}

// The same for 16 bytes (4 dwords) per row: rows m, m + 4, m + 8, m + 12 share a
// register, and a 4 x 4 transpose in each 128-bit lane puts row r in lane r.
void transposedDwords4(const std::byte* base, std::size_t rowSize, int count, std::size_t offset, __m512i out[4])
{
    const auto row = [&](int r) {
        return r < count ? _mm_loadu_si128(reinterpret_cast<const __m128i*>(base + r * rowSize + offset))
                         : _mm_setzero_si128();
    };
    __m512i z[4];
    for (int m = 0; m < 4; ++m) {  // the lane index must be an immediate, even unoptimised
        z[m] = _mm512_inserti32x4(_mm512_castsi128_si512(row(m)), row(m + 4), 1);
        z[m] = _mm512_inserti32x4(z[m], row(m + 8), 2);
        z[m] = _mm512_inserti32x4(z[m], row(m + 12), 3);
    }
    const __m512i t0 = _mm512_unpacklo_epi32(z[0], z[1]), t1 = _mm512_unpackhi_epi32(z[0], z[1]);
    const __m512i t2 = _mm512_unpacklo_epi32(z[2], z[3]), t3 = _mm512_unpackhi_epi32(z[2], z[3]);
    out[0] = _mm512_unpacklo_epi64(t0, t2);
    out[1] = _mm512_unpackhi_epi64(t0, t2);
    out[2] = _mm512_unpacklo_epi64(t1, t3);
    out[3] = _mm512_unpackhi_epi64(t1, t3);
}

// Stores dword j of the block and adds its code sums (4 signed bytes per lane) to sums.
inline void storeCodes(int8_t* block, int j, __m512i codes, __m512i& sums)
{
    _mm512_storeu_si512(block + 64 * j, codes);
    sums = _mm512_dpbusd_epi32(sums, _mm512_set1_epi8(1), codes);
}

inline void storeValues(const PackedGroupView& out, int64_t b, __m512 scale, __m512 bias, __m512i sums)
{
    _mm512_storeu_ps(out.scale + b * kGemmGroupRows, scale);
    _mm512_storeu_ps(out.bias + b * kGemmGroupRows, bias);
    _mm512_storeu_si512(out.correction + b * kGemmGroupRows, _mm512_mullo_epi32(sums, _mm512_set1_epi32(-128)));
}

} // namespace

bool isAvx512PackType(GgmlType type)
{
    return type == GgmlType::Q4_0 || type == GgmlType::Q8_0 || type == GgmlType::Q4_K || type == GgmlType::Q6_K;
}

void packRowGroupAvx512(GgmlType type, const void* rows, std::size_t rowSize, int count, int64_t cols,
                        const PackedGroupView& out)
{
    const int64_t blocks = cols / 32;
    const RowGather g{_mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                         _mm512_set1_epi32(static_cast<int>(rowSize))),
                      static_cast<__mmask16>((1u << count) - 1u), static_cast<const std::byte*>(rows)};
    const __m512i low = _mm512_set1_epi8(0x0F);
    const __m512 zero = _mm512_setzero_ps();
    if (type == GgmlType::Q4_0) {
        for (int64_t b = 0; b < blocks; ++b) {
            const std::size_t at = static_cast<std::size_t>(b) * sizeof(BlockQ4_0);
            int8_t* block = out.codes + b * kGemmBlockBytes;
            __m512i sums = _mm512_setzero_si512();
            // Elements 0..15 are the low nibbles of qs, 16..31 the high ones; codes q - 8
            // (absent rows: 0, not -8).
            const __m512i eight = _mm512_maskz_mov_epi32(g.rows, _mm512_set1_epi8(8));
            __m512i codes[4];
            transposedDwords4(g.base, rowSize, count, at + 2, codes);
            for (int j = 0; j < 4; ++j) {
                const __m512i q = codes[j];
                storeCodes(block, j, _mm512_sub_epi8(_mm512_and_si512(q, low), eight), sums);
                storeCodes(block, j + 4, _mm512_sub_epi8(_mm512_and_si512(_mm512_srli_epi16(q, 4), low), eight), sums);
            }
            storeValues(out, b, g.halves(at), zero, sums);
        }
    } else if (type == GgmlType::Q8_0) {
        for (int64_t b = 0; b < blocks; ++b) {
            const std::size_t at = static_cast<std::size_t>(b) * sizeof(BlockQ8_0);
            int8_t* block = out.codes + b * kGemmBlockBytes;
            __m512i sums = _mm512_setzero_si512(), codes[8];
            transposedDwords(g.base, rowSize, count, at + 2, codes);
            for (int j = 0; j < 8; ++j)
                storeCodes(block, j, codes[j], sums);
            storeValues(out, b, g.halves(at), zero, sums);
        }
    } else if (type == GgmlType::Q6_K) {
        // Sub-block j, codes (low 4 bits | 2 high bits << 4) - 32 as in dequantQ6_K, packs
        // as two half-blocks (gemm.h): scale d * sc_2j and correction of elements 0..15,
        // bias d * sc_2j+1 and correctionHigh of 16..31. A half super-block's 32 qh bytes
        // serve its 4 sub-blocks, each 32 ql bytes two of them (low and high nibbles).
        const __m512i three = _mm512_set1_epi8(3), thirtyTwo = _mm512_maskz_mov_epi32(g.rows, _mm512_set1_epi8(32));
        for (int64_t sb = 0; sb < blocks / 8; ++sb) {
            const std::size_t at = static_cast<std::size_t>(sb) * sizeof(BlockQ6_K);
            // d is the last 2 bytes of the block: read as the high half of the dword before.
            const __m512 d = _mm512_cvtph_ps(
                _mm512_cvtepi32_epi16(_mm512_srli_epi32(g.dwords(at + offsetof(BlockQ6_K, d) - 2), 16)));
            __m512i sc[4];
            for (int i = 0; i < 4; ++i)
                sc[i] = g.dwords(at + offsetof(BlockQ6_K, scales) + 4 * static_cast<std::size_t>(i));
            const auto scaleOf = [&](int byte) {  // d * (int8) scales[byte]
                const __m512i v = _mm512_srai_epi32(_mm512_slli_epi32(sc[byte / 4], 24 - 8 * (byte % 4)), 24);
                return _mm512_mul_ps(d, _mm512_cvtepi32_ps(v));
            };
            for (int half = 0; half < 2; ++half) {
                __m512i qh[8], ql[2][8];
                const std::size_t qlAt = at + offsetof(BlockQ6_K, ql) + 64 * static_cast<std::size_t>(half);
                transposedDwords(g.base, rowSize, count, at + offsetof(BlockQ6_K, qh) + 32 * static_cast<std::size_t>(half), qh);
                transposedDwords(g.base, rowSize, count, qlAt, ql[0]);
                transposedDwords(g.base, rowSize, count, qlAt + 32, ql[1]);
                for (int k = 0; k < 4; ++k) {
                    const int j = 4 * half + k;
                    const int64_t b = sb * 8 + j;
                    int8_t* block = out.codes + b * kGemmBlockBytes;
                    __m512i sums[2] = {_mm512_setzero_si512(), _mm512_setzero_si512()};
                    for (int e = 0; e < 8; ++e) {
                        const __m512i q = ql[k % 2][e];
                        const __m512i low4 = _mm512_and_si512(k < 2 ? q : _mm512_srli_epi16(q, 4), low);
                        const __m512i high2 = _mm512_and_si512(_mm512_srli_epi16(qh[e], 2 * k), three);
                        const __m512i codes =
                            _mm512_sub_epi8(_mm512_or_si512(low4, _mm512_slli_epi16(high2, 4)), thirtyTwo);
                        storeCodes(block, e, codes, sums[e / 4]);
                    }
                    const __m512i minus128 = _mm512_set1_epi32(-128);
                    _mm512_storeu_ps(out.scale + b * kGemmGroupRows, scaleOf(2 * j));
                    _mm512_storeu_ps(out.bias + b * kGemmGroupRows, scaleOf(2 * j + 1));
                    _mm512_storeu_si512(out.correction + b * kGemmGroupRows, _mm512_mullo_epi32(sums[0], minus128));
                    _mm512_storeu_si512(out.correctionHigh + b * kGemmGroupRows, _mm512_mullo_epi32(sums[1], minus128));
                }
            }
        }
    } else {  // Q4_K: sub-block j as a 32-block with scale d * sc_j and bias -dmin * m_j
        for (int64_t sb = 0; sb < blocks / 8; ++sb) {
            const std::size_t at = static_cast<std::size_t>(sb) * sizeof(BlockQ4_K);
            const __m512 d = g.halves(at + offsetof(BlockQ4_K, d));
            const __m512 dmin = g.halves(at + offsetof(BlockQ4_K, dmin));
            // The 12 scale bytes as 3 dwords per row -> sc 0..3, sc 4..7, m 0..3, m 4..7.
            const std::size_t scales = at + offsetof(BlockQ4_K, scales);
            const __m512i v0 = g.dwords(scales), v1 = g.dwords(scales + 4), v2 = g.dwords(scales + 8);
            const __m512i six = _mm512_set1_epi32(0x3F3F3F3F), two = _mm512_set1_epi32(0x03030303);
            const __m512i four = _mm512_set1_epi32(0x0F0F0F0F);
            const __m512i sc[2] = {_mm512_and_si512(v0, six),
                                   _mm512_or_si512(_mm512_and_si512(v2, four),
                                                   _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(v0, 6), two), 4))};
            const __m512i mn[2] = {_mm512_and_si512(v1, six),
                                   _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi32(v2, 4), four),
                                                   _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(v1, 6), two), 4))};
            __m512i q[8];  // the 32 code bytes of sub-blocks j and j + 1 (low and high nibbles)
            for (int j = 0; j < 8; ++j) {
                const int64_t b = sb * 8 + j;
                int8_t* block = out.codes + b * kGemmBlockBytes;
                __m512i sums = _mm512_setzero_si512();
                if (j % 2 == 0)
                    transposedDwords(g.base, rowSize, count, at + offsetof(BlockQ4_K, qs) + 16 * static_cast<std::size_t>(j), q);
                for (int k = 0; k < 8; ++k)
                    storeCodes(block, k, _mm512_and_si512(j % 2 ? _mm512_srli_epi16(q[k], 4) : q[k], low), sums);
                const int shift = 8 * (j % 4);
                const auto byteOf = [&](__m512i v) {
                    return _mm512_cvtepi32_ps(_mm512_and_si512(_mm512_srli_epi32(v, shift), _mm512_set1_epi32(0xFF)));
                };
                const __m512 scale = _mm512_mul_ps(d, byteOf(sc[j / 4]));
                const __m512 bias = _mm512_sub_ps(zero, _mm512_mul_ps(dmin, byteOf(mn[j / 4])));
                storeValues(out, b, scale, bias, sums);
            }
        }
    }
}

namespace {

template <bool Shifted>
void quantizeBlocksAvx512(const float* x, Q8Block* out, int64_t n)
{
    const __m512 signBit = _mm512_set1_ps(-0.0f);
    for (int64_t b = 0; b < n / 32; ++b) {
        const __m512 v0 = _mm512_loadu_ps(x + 32 * b), v1 = _mm512_loadu_ps(x + 32 * b + 16);
        const float absMax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_andnot_ps(signBit, v0), _mm512_andnot_ps(signBit, v1)));
        // The scalar quantizer's exact operations: d = absmax / 127, codes = rint(v * (1 / d)).
        const float d = absMax / 127.0f;
        const __m512 id = _mm512_set1_ps(d > 0.0f ? 1.0f / d : 0.0f);
        const __m512i q0 = _mm512_cvtps_epi32(_mm512_mul_ps(v0, id));
        const __m512i q1 = _mm512_cvtps_epi32(_mm512_mul_ps(v1, id));
        const int sum = _mm512_reduce_add_epi32(_mm512_add_epi32(q0, q1));
        const __m128i flip = _mm_set1_epi8(static_cast<char>(Shifted ? 0x80 : 0));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(out[b].qs), _mm_xor_si128(_mm512_cvtepi32_epi8(q0), flip));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(out[b].qs + 16), _mm_xor_si128(_mm512_cvtepi32_epi8(q1), flip));
        out[b].d = d;
        out[b].sum = d * static_cast<float>(sum);
    }
}

} // namespace

void quantizeShiftedAvx512(const float* x, Q8Block* out, int64_t n) { quantizeBlocksAvx512<true>(x, out, n); }

void quantizeQ8BlocksAvx512(const float* x, Q8Block* out, int64_t n) { quantizeBlocksAvx512<false>(x, out, n); }

void quantizeQ8KBlocksAvx512(const float* x, Q8KBlock* out, int64_t n)
{
    const __m512 signBit = _mm512_set1_ps(-0.0f);
    for (int64_t b = 0; b < n / 256; ++b) {
        const float* v = x + 256 * b;
        __m512 m = _mm512_setzero_ps();
        for (int i = 0; i < 16; ++i)
            m = _mm512_max_ps(m, _mm512_andnot_ps(signBit, _mm512_loadu_ps(v + 16 * i)));
        // The scalar quantizer's exact operations: d = absmax / 127, codes = rint(v * (1 / d)).
        const float d = _mm512_reduce_max_ps(m) / 127.0f;
        const __m512 id = _mm512_set1_ps(d > 0.0f ? 1.0f / d : 0.0f);
        for (int g = 0; g < 16; ++g) {  // a group of 16 codes is one vector: its sum is bsums[g]
            const __m512i q = _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_loadu_ps(v + 16 * g), id));
            _mm_storeu_si128(reinterpret_cast<__m128i*>(out[b].qs + 16 * g), _mm512_cvtepi32_epi8(q));
            out[b].bsums[g] = static_cast<int16_t>(_mm512_reduce_add_epi32(q));
        }
        out[b].d = d;
    }
}

void gemmPanelAvx512(const PackedGroupView& p, int64_t blocks, int groupCount, bool hasBias, const Q8Block* x,
                     int64_t n, float* Y, int64_t ldy, int rowCount)
{
    if (p.correctionHigh)
        panel<kTwoScales>(p, blocks, groupCount, x, n, Y, ldy, rowCount);
    else if (hasBias)
        panel<kBias>(p, blocks, groupCount, x, n, Y, ldy, rowCount);
    else
        panel<kPlain>(p, blocks, groupCount, x, n, Y, ldy, rowCount);
}

} // namespace folio::kernels
