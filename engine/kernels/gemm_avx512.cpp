// AVX-512 VNNI kernel of the int8 GEMM (see gemm.h): a tile of two packed groups
// (32 rows) times 4 tokens, so each code vector load serves 4 tokens and each
// activation broadcast serves 32 rows.
#include "engine/kernels/gemm.h"

#include "engine/quant.h"

#include <algorithm>
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

template <int G, int T, bool HasBias>
void tile(const PackedGroupView& p, int64_t blocks, int64_t b0, int64_t b1, bool accumulate, const Q8Block* x,
          float* Y, int64_t ldy, const __mmask16* masks)
{
    const int64_t codeStride = blocks * kGemmBlockBytes, valueStride = blocks * kGemmGroupRows;
    __m512 acc[G][T];
    for (int g = 0; g < G; ++g)
        for (int u = 0; u < T; ++u)
            acc[g][u] = accumulate ? _mm512_maskz_loadu_ps(masks[g], Y + u * ldy + g * kGemmGroupRows)
                                   : _mm512_setzero_ps();
    for (int64_t b = b0; b < b1; ++b) {
        __m512i sums[G][T];
        for (int g = 0; g < G; ++g) {
            const __m512i correction = _mm512_loadu_si512(p.correction + g * valueStride + b * kGemmGroupRows);
            for (int u = 0; u < T; ++u)
                sums[g][u] = correction;
        }
        const int8_t* codes = p.codes + b * kGemmBlockBytes;
        for (int j = 0; j < 8; ++j) {
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
            const __m512 scale = _mm512_loadu_ps(p.scale + g * valueStride + b * kGemmGroupRows);
            for (int u = 0; u < T; ++u) {
                const Q8Block& xb = x[u * blocks + b];
                acc[g][u] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sums[g][u]), _mm512_mul_ps(scale, _mm512_set1_ps(xb.d)),
                                            acc[g][u]);
                if constexpr (HasBias)
                    acc[g][u] = _mm512_fmadd_ps(_mm512_loadu_ps(p.bias + g * valueStride + b * kGemmGroupRows),
                                                _mm512_set1_ps(xb.sum), acc[g][u]);
            }
        }
    }
    for (int g = 0; g < G; ++g)
        for (int u = 0; u < T; ++u)
            _mm512_mask_storeu_ps(Y + u * ldy + g * kGemmGroupRows, masks[g], acc[g][u]);
}

template <int G, bool HasBias>
void allTokens(const PackedGroupView& p, int64_t blocks, const Q8Block* x, int64_t n, float* Y, int64_t ldy,
               const __mmask16* masks)
{
    static_assert(kTileTokens == 4, "the tail switch below covers 1..3 tokens");
    for (int64_t b0 = 0; b0 < blocks; b0 += kBlockPass) {
        const int64_t b1 = std::min(blocks, b0 + kBlockPass);
        const bool acc = b0 > 0;
        int64_t t = 0;
        for (; t + kTileTokens <= n; t += kTileTokens)
            tile<G, kTileTokens, HasBias>(p, blocks, b0, b1, acc, x + t * blocks, Y + t * ldy, ldy, masks);
        switch (n - t) {
        case 3: tile<G, 3, HasBias>(p, blocks, b0, b1, acc, x + t * blocks, Y + t * ldy, ldy, masks); break;
        case 2: tile<G, 2, HasBias>(p, blocks, b0, b1, acc, x + t * blocks, Y + t * ldy, ldy, masks); break;
        case 1: tile<G, 1, HasBias>(p, blocks, b0, b1, acc, x + t * blocks, Y + t * ldy, ldy, masks); break;
        default: break;
        }
    }
}

template <bool HasBias>
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
                                  p.bias + g0 * blocks * kGemmGroupRows, p.correction + g0 * blocks * kGemmGroupRows};
        if (groups == 2)
            allTokens<2, HasBias>(sub, blocks, x, n, Y + g0 * kGemmGroupRows, ldy, masks);
        else
            allTokens<1, HasBias>(sub, blocks, x, n, Y + g0 * kGemmGroupRows, ldy, masks);
    }
}

} // namespace

namespace {

// Stores one row's 32 codes (dword j to byte offset 64 * j of the block) and returns
// their sum.
inline int scatterCodes(int8_t* codes, int r, __m256i values)
{
    const __m256i offsets = _mm256_setr_epi32(0, 64, 128, 192, 256, 320, 384, 448);
    _mm256_i32scatter_epi32(codes + r * 4, offsets, values, 1);
    // Sum of signed bytes: sad of (v ^ 0x80) counts v + 128 per byte.
    const __m256i sad = _mm256_sad_epu8(_mm256_xor_si256(values, _mm256_set1_epi8(static_cast<char>(0x80))),
                                        _mm256_setzero_si256());
    const __m128i half = _mm_add_epi64(_mm256_castsi256_si128(sad), _mm256_extracti128_si256(sad, 1));
    return static_cast<int>(_mm_cvtsi128_si64(half) + _mm_extract_epi64(half, 1)) - 128 * 32;
}

inline __m256i nibbles32(const uint8_t* qs)
{
    const __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
    const __m128i lowMask = _mm_set1_epi8(0x0F);
    return _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(packed, 4), lowMask), _mm_and_si128(packed, lowMask));
}

} // namespace

bool isAvx512PackType(GgmlType type)
{
    return type == GgmlType::Q4_0 || type == GgmlType::Q8_0 || type == GgmlType::Q4_K;
}

void packRowGroupAvx512(GgmlType type, const void* rows, std::size_t rowSize, int count, int64_t cols,
                        const PackedGroupView& out)
{
    const int64_t blocks = cols / 32;
    const auto* bytes = static_cast<const std::byte*>(rows);
    for (int r = count; r < kGemmGroupRows; ++r) {
        for (int64_t b = 0; b < blocks; ++b) {
            const int64_t at = b * kGemmGroupRows + r;
            scatterCodes(out.codes + b * kGemmBlockBytes, r, _mm256_setzero_si256());
            out.scale[at] = out.bias[at] = 0.0f;
            out.correction[at] = 0;
        }
    }
    for (int r = 0; r < count; ++r) {
        const std::byte* row = bytes + static_cast<std::size_t>(r) * rowSize;
        if (type == GgmlType::Q4_0) {
            for (int64_t b = 0; b < blocks; ++b) {
                BlockQ4_0 block;
                std::memcpy(&block, row + static_cast<std::size_t>(b) * sizeof block, sizeof block);
                const int64_t at = b * kGemmGroupRows + r;
                const int sum = scatterCodes(out.codes + b * kGemmBlockBytes, r,
                                             _mm256_sub_epi8(nibbles32(block.qs), _mm256_set1_epi8(8)));
                out.scale[at] = _cvtsh_ss(block.d);
                out.bias[at] = 0.0f;
                out.correction[at] = -128 * sum;
            }
        } else if (type == GgmlType::Q8_0) {
            for (int64_t b = 0; b < blocks; ++b) {
                BlockQ8_0 block;
                std::memcpy(&block, row + static_cast<std::size_t>(b) * sizeof block, sizeof block);
                const int64_t at = b * kGemmGroupRows + r;
                const int sum = scatterCodes(out.codes + b * kGemmBlockBytes, r,
                                             _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block.qs)));
                out.scale[at] = _cvtsh_ss(block.d);
                out.bias[at] = 0.0f;
                out.correction[at] = -128 * sum;
            }
        } else {  // Q4_K: sub-block j of a super-block as a 32-block with scale d * sc_j, bias -dmin * m_j
            const __m256i lowMask = _mm256_set1_epi8(0x0F);
            for (int64_t s = 0; s < blocks / 8; ++s) {
                BlockQ4_K block;
                std::memcpy(&block, row + static_cast<std::size_t>(s) * sizeof block, sizeof block);
                const float d = _cvtsh_ss(block.d), dmin = _cvtsh_ss(block.dmin);
                for (int j = 0; j < 8; ++j) {
                    const int64_t b = s * 8 + j, at = b * kGemmGroupRows + r;
                    const __m256i packed = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block.qs + 32 * (j / 2)));
                    const __m256i codes = _mm256_and_si256(j % 2 ? _mm256_srli_epi16(packed, 4) : packed, lowMask);
                    const int sum = scatterCodes(out.codes + b * kGemmBlockBytes, r, codes);
                    uint8_t sc = 0, m = 0;
                    scaleMinK4(j, block.scales, sc, m);
                    out.scale[at] = d * sc;
                    out.bias[at] = -(dmin * m);
                    out.correction[at] = -128 * sum;
                }
            }
        }
    }
}

void quantizeShiftedAvx512(const float* x, Q8Block* out, int64_t n)
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
        const __m128i flip = _mm_set1_epi8(static_cast<char>(0x80));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(out[b].qs), _mm_xor_si128(_mm512_cvtepi32_epi8(q0), flip));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(out[b].qs + 16), _mm_xor_si128(_mm512_cvtepi32_epi8(q1), flip));
        out[b].d = d;
        out[b].sum = d * static_cast<float>(sum);
    }
}

void gemmPanelAvx512(const PackedGroupView& p, int64_t blocks, int groupCount, bool hasBias, const Q8Block* x,
                     int64_t n, float* Y, int64_t ldy, int rowCount)
{
    if (hasBias)
        panel<true>(p, blocks, groupCount, x, n, Y, ldy, rowCount);
    else
        panel<false>(p, blocks, groupCount, x, n, Y, ldy, rowCount);
}

} // namespace folio::kernels
