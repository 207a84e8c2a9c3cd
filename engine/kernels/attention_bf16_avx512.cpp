// AVX-512 BF16 attention over a whole key range (AttentionRange): QK^T and PV by
// vdpbf16ps (pairs of BF16 products summed into FP32 lanes), FP32 online softmax.
// With Int8Keys products QK^T is taken in int8 instead (vpdpbusd: four byte products
// summed into int32 lanes, twice vdpbf16ps's rate), PV as before.
//
// Layout: the rows (queries) live in vector lanes, 16 per vector, for the whole
// range. Queries are rounded to BF16 once per range and stored pair-transposed
// (qT[p][r] = q[r][2p], q[r][2p+1]); the running output is transposed (oT[i][r]).
// Per tile of 64 keys:
//   scores sT[j][r] = sum_p qT[p][r] . k[j][p]: a broadcast key pair against 16 rows,
//     so key rows are only converted to BF16, never transposed;
//   the softmax is vertical (max, exp and sum over j per lane: no horizontal reductions);
//   probabilities of keys j, j+1 are interleaved into pairs pT[j/2][r], values of rows
//     j, j+1 into pairs vp[j/2][i]; oT[i][r] += sum pT[j/2][r] . vp[j/2][i].
// Int8 scores: each query row (times the scale) and each key row is rounded to int8
// codes with one scale per row, amax / 127 (code = round-to-nearest-even(x * 127 /
// amax)); keys are stored biased, code + 128 in 1..255 (vpdpbusd's unsigned operand), and
// each row's accumulator starts at -128 * sum of its query codes, which takes the bias
// back out exactly. score = int32 dot * query scale * key scale: exact products of the
// codes, so a score is off the FP32 one only by the codes' rounding, at most half a
// step of each row: 0.5 (sq * sum |k_i| + sk * sum |q_i|) + 0.25 d sq sk.
// Error against FP32 products: each input carries BF16's 2^-9 relative rounding, so a
// score is off by about 2^-8 * scale * sum |q_i k_i|, and the output (a convex
// combination of BF16 values, weights BF16-rounded probabilities whose rounded sum
// normalises them) by about 2^-8 of the value range on top of that. The tests bound it.
#include "engine/kernels/attention_kernels.h"

#include <cstdint>
#include "engine/kernels/x86_intrinsics.h"

namespace folio::kernels {
namespace {

// No <algorithm> here (see attention_x86.inc: an inline function instantiated in this
// file could carry AVX-512 instructions into the rest of the program).
inline int minInt(int a, int b) { return a < b ? a : b; }

constexpr int kLanes = 16;
constexpr int kTile = kAttentionKeyTile;
constexpr int kKeyBlock = 8;    // keys per score block: 8 x 2 row vectors = 16 accumulators
constexpr int kDimBlock = 8;    // output dims per value block, likewise
constexpr int kNoLimit = 0x3FFFFFFF;

// 2^t for t <= 0 (t = -inf included): 2^n * 2^f with n = round(t), f in [-1/2, 1/2],
// 2^f by a degree-4 polynomial (least squares on Chebyshev nodes, 3.2e-6 relative: far
// below the 2^-9 of the BF16 probabilities it feeds), 2^n by vscalefps. Below t = -160
// the result is exactly 0 (what a row that saw nothing needs: sum and output stay 0).
inline __m512 exp2NonPositive(__m512 t)
{
    t = _mm512_max_ps(t, _mm512_set1_ps(-160.0f));
    const __m512 n = _mm512_roundscale_ps(t, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    const __m512 f = _mm512_sub_ps(t, n);
    __m512 p = _mm512_set1_ps(0.00960039533674717f);
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(0.05591689422726631f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(0.24023719131946564f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(0.6931219696998596f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.0f));
    return _mm512_scalef_ps(p, n);
}

constexpr float kLog2E = 1.44269504088896341f;

// exp(s - shift) as 2^(s log2 e - shift log2 e), one rounding for the argument.
inline __m512 expShifted(__m512 s, __m512 shiftLog2E)
{
    return exp2NonPositive(_mm512_fmsub_ps(s, _mm512_set1_ps(kLog2E), shiftLog2E));
}

inline __m512i toBf16(__m512 high, __m512 low)  // [low's 16 | high's 16] BF16, round to nearest even
{
    return (__m512i)_mm512_cvtne2ps_pbh(high, low);
}

// [a0..a15 | b0..b15] -> pairs (a0, b0), (a1, b1), ... in the 16 32-bit lanes.
inline __m512i interleavePairs(__m512i halves)
{
    const __m512i index = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8, 23, 7, 22,
                                           6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
    return _mm512_permutexvar_epi16(index, halves);
}

inline __m512 dot(__m512 acc, __m512i a, __m512i b) { return _mm512_dpbf16_ps(acc, (__m512bh)a, (__m512bh)b); }

// acc += sum of the four products of unsigned bytes (u8) by signed bytes (s8) per lane.
// In asm: GCC 12 treats the intrinsic as non-destructive and copies every accumulator
// before each vpdpbusd, then spills (int8Scores ran at 1.1x the BF16 scores with it).
inline void dotBytes(__m512i& acc, __m512i u8, __m512i s8)
{
    asm("vpdpbusd %[s8], %[u8], %[acc]" : [acc] "+v"(acc) : [u8] "v"(u8), [s8] "v"(s8));
}

// Elements [i, i + 16) of cache row `row` (i a multiple of 16): F16, F32, or a GGUF block
// row (Q8_0: 34 bytes per 32 elements, an F16 scale and 32 int8; Q4_0: 18 bytes, the
// scale and 16 bytes of nibbles, element k in byte k's low half and element 16 + k in
// its high half, value nibble - 8).
inline __m512 loadRow16(const AttentionRange& r, const void* rows, int64_t row, int i)
{
    using Blocks = AttentionTile::Blocks;
    if (r.blocks == Blocks::None) {
        const int64_t index = row * r.headDim + i;
        if (r.halfRows)
            return _mm512_cvtph_ps(
                _mm256_loadu_si256(reinterpret_cast<const __m256i*>(static_cast<const uint16_t*>(rows) + index)));
        return _mm512_loadu_ps(static_cast<const float*>(rows) + index);
    }
    const bool q8 = r.blocks == Blocks::Q8_0;
    const int blockBytes = q8 ? 34 : 18;
    const uint8_t* block = static_cast<const uint8_t*>(rows) + row * (r.headDim / 32) * blockBytes + (i / 32) * blockBytes;
    uint16_t half;
    __builtin_memcpy(&half, block, 2);
    const __m512 scale = _mm512_set1_ps(_cvtsh_ss(half));
    __m512i values;
    if (q8) {
        values = _mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(block + 2 + i % 32)));
    } else {
        __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i*>(block + 2));
        if (i % 32 != 0)
            packed = _mm_srli_epi16(packed, 4);
        values = _mm512_sub_epi32(_mm512_cvtepu8_epi32(_mm_and_si128(packed, _mm_set1_epi8(0x0F))), _mm512_set1_epi32(8));
    }
    return _mm512_mul_ps(_mm512_cvtepi32_ps(values), scale);
}

// One row of d floats (d a multiple of 16, at most 256) to int8 codes (bytes) with one
// step amax / 127 (0 for a zero row); returns the step and the sum of the codes.
inline float quantizeRow(const float* x, int d, int8_t* codes, int* codeSum)
{
    __m512 amax = _mm512_setzero_ps();
    for (int i = 0; i < d; i += kLanes)
        amax = _mm512_max_ps(amax, _mm512_abs_ps(_mm512_loadu_ps(x + i)));
    const float largest = _mm512_reduce_max_ps(amax);
    const __m512 inverse = _mm512_set1_ps(largest > 0.0f ? 127.0f / largest : 0.0f);
    __m512i total = _mm512_setzero_si512();
    for (int i = 0; i < d; i += kLanes) {
        const __m512i c = _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_loadu_ps(x + i), inverse));  // nearest even
        total = _mm512_add_epi32(total, c);
        _mm_storeu_si128(reinterpret_cast<__m128i*>(codes + i), _mm512_cvtepi32_epi8(c));
    }
    *codeSum = _mm512_reduce_add_epi32(total);
    return largest / 127.0f;
}

struct Buffers {
    int padded = 0;     // rows rounded up to the lane count
    uint32_t* qT = nullptr;     // headDim/2 x padded
    float* oT = nullptr;        // headDim x padded
    float* sT = nullptr;        // kTile x padded
    uint32_t* pT = nullptr;     // kTile/2 x padded
    uint32_t* keys = nullptr;   // kTile x headDim/2 (BF16 rows)
    uint32_t* values = nullptr; // kTile/2 x headDim (pairs of rows)
    float* max = nullptr;       // padded each
    float* sum = nullptr;
    float* correction = nullptr;
    int* last = nullptr;
    int* first = nullptr;
    // Int8Keys (aliasing qT and keys, which they fit in: d/4 + 2 <= d/2 words per row,
    // d/4 + 1 per key, for d >= 8):
    uint32_t* qCodes = nullptr;  // headDim/4 x padded: four int8 codes of a row per word
    float* qScale = nullptr;     // padded: the row's code step
    int32_t* qBias = nullptr;    // padded: -128 * sum of the row's codes
    uint32_t* keyCodes = nullptr; // kTile x headDim/4: four biased codes (code + 128) per word
    float* keyScale = nullptr;   // kTile
    // Int8 values (aliasing pT and values, likewise):
    uint32_t* pCodes = nullptr;     // kTile/4 x padded: four keys' probability codes (0..255) per word
    uint32_t* valueCodes = nullptr; // kTile/4 x headDim: four keys' int8 value codes per word
    float* valueScale = nullptr;    // headDim: the column's code step in this tile
    float* weight = nullptr;        // padded: what one probability code stands for in this tile
};

int paddedRows(int rows) { return (rows + kLanes - 1) / kLanes * kLanes; }

Buffers carve(float* scratch, int rows, int headDim)
{
    Buffers b;
    b.padded = paddedRows(rows);
    const int64_t P = b.padded;
    float* at = scratch;
    auto take = [&](int64_t floats) {
        float* p = at;
        at += floats;
        return p;
    };
    b.qT = reinterpret_cast<uint32_t*>(take(headDim / 2 * P));
    b.oT = take(headDim * P);
    b.sT = take(kTile * P);
    b.pT = reinterpret_cast<uint32_t*>(take(kTile / 2 * P));
    b.keys = reinterpret_cast<uint32_t*>(take(static_cast<int64_t>(kTile) * headDim / 2));
    b.values = reinterpret_cast<uint32_t*>(take(static_cast<int64_t>(kTile) / 2 * headDim));
    b.max = take(P);
    b.sum = take(P);
    b.correction = take(P);
    b.last = reinterpret_cast<int*>(take(P));
    b.first = reinterpret_cast<int*>(take(P));
    b.qCodes = b.qT;
    b.qScale = reinterpret_cast<float*>(b.qT + headDim / 4 * P);
    b.qBias = reinterpret_cast<int32_t*>(b.qScale + P);
    b.keyCodes = b.keys;
    b.keyScale = reinterpret_cast<float*>(b.keys + static_cast<int64_t>(kTile) * headDim / 4);
    b.weight = take(P);
    b.pCodes = b.pT;
    b.valueCodes = b.values;
    b.valueScale = reinterpret_cast<float*>(b.values + static_cast<int64_t>(kTile) / 4 * headDim);
    return b;
}

// Keys [j0, j0 + n) to BF16 rows, or (Int8) to biased int8 codes and their steps (zero
// rows up to the key block), values to row pairs.
template <bool Int8, bool Int8Values>
void loadTile(const AttentionRange& r, int j0, int n, const Buffers& b)
{
    const int d = r.headDim;
    if constexpr (Int8) {
        // quantizeRow's codes, biased by the sign bit's xor and stored straight from the
        // registers (no code sum: keys need none).
        alignas(64) float row[256];
        const int blocked = (n + kKeyBlock - 1) / kKeyBlock * kKeyBlock;
        for (int j = 0; j < blocked; ++j) {
            uint8_t* out = reinterpret_cast<uint8_t*>(b.keyCodes + j * d / 4);
            if (j >= n) {
                for (int i = 0; i < d; i += kLanes)
                    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), _mm_set1_epi8(-128));
                b.keyScale[j] = 0.0f;
                continue;
            }
            __m512 amax = _mm512_setzero_ps();
            for (int i = 0; i < d; i += kLanes) {
                const __m512 x = loadRow16(r, r.keys, j0 + j, i);
                _mm512_store_ps(row + i, x);
                amax = _mm512_max_ps(amax, _mm512_abs_ps(x));
            }
            const float largest = _mm512_reduce_max_ps(amax);
            const __m512 inverse = _mm512_set1_ps(largest > 0.0f ? 127.0f / largest : 0.0f);
            for (int i = 0; i < d; i += kLanes) {
                const __m128i codes = _mm512_cvtepi32_epi8(_mm512_cvtps_epi32(_mm512_mul_ps(_mm512_load_ps(row + i), inverse)));
                _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), _mm_xor_si128(codes, _mm_set1_epi8(-128)));
            }
            b.keyScale[j] = largest / 127.0f;
        }
    }
    for (int j = 0; !Int8 && j < n; ++j) {
        for (int i = 0; i < d; i += 32)
            _mm512_storeu_si512(b.keys + j * d / 2 + i / 2,
                                toBf16(loadRow16(r, r.keys, j0 + j, i + 16), loadRow16(r, r.keys, j0 + j, i)));
    }
    const int blocked = (n + kKeyBlock - 1) / kKeyBlock * kKeyBlock;
    for (int j = n; !Int8 && j < blocked; ++j)
        for (int i = 0; i < d; i += 32)
            _mm512_storeu_si512(b.keys + j * d / 2 + i / 2, _mm512_setzero_si512());
    if constexpr (Int8Values) {
        // Per 16 dims: the column's largest |v| over the tile's keys, codes
        // round(v * 127 / amax), four keys' codes per word (key 4q + m in byte m).
        const int quads = (n + 3) / 4;
        for (int i = 0; i < d; i += kLanes) {
            __m512 amax = _mm512_setzero_ps();
            for (int j = 0; j < n; ++j)
                amax = _mm512_max_ps(amax, _mm512_abs_ps(loadRow16(r, r.values, j0 + j, i)));
            const __mmask16 nonzero = _mm512_cmp_ps_mask(amax, _mm512_setzero_ps(), _CMP_NEQ_OQ);
            const __m512 inverse = _mm512_maskz_div_ps(nonzero, _mm512_set1_ps(127.0f), amax);
            _mm512_storeu_ps(b.valueScale + i, _mm512_div_ps(amax, _mm512_set1_ps(127.0f)));
            for (int q = 0; q < quads; ++q) {
                __m512i word = _mm512_setzero_si512();
                for (int m = 0; m < 4 && 4 * q + m < n; ++m) {
                    const __m512 x = loadRow16(r, r.values, j0 + 4 * q + m, i);
                    const __m512i code = _mm512_and_si512(_mm512_cvtps_epi32(_mm512_mul_ps(x, inverse)), _mm512_set1_epi32(0xFF));
                    word = _mm512_or_si512(word, _mm512_slli_epi32(code, 8 * m));
                }
                _mm512_storeu_si512(b.valueCodes + q * d + i, word);
            }
        }
        return;
    }
    for (int jp = 0; jp < (n + 1) / 2; ++jp) {
        const int even = j0 + 2 * jp;
        const bool hasOdd = 2 * jp + 1 < n;
        for (int i = 0; i < d; i += kLanes) {
            const __m512 a = loadRow16(r, r.values, even, i);
            const __m512 c = hasOdd ? loadRow16(r, r.values, even + 1, i) : _mm512_setzero_ps();
            _mm512_storeu_si512(b.values + jp * d + i, interleavePairs(toBf16(c, a)));
        }
    }
}

// sT[j][rows of RV vectors from lane0] for keys [0, keys), keys a multiple of kKeyBlock.
template <int RV>
void scores(const Buffers& b, int headDim, int lane0, int keys)
{
    const int P = b.padded;
    for (int jb = 0; jb < keys; jb += kKeyBlock) {
        __m512 acc[kKeyBlock][RV];
        for (int k = 0; k < kKeyBlock; ++k)
            for (int v = 0; v < RV; ++v)
                acc[k][v] = _mm512_setzero_ps();
        const uint32_t* key = b.keys + jb * headDim / 2;
        for (int p = 0; p < headDim / 2; ++p) {
            __m512i q[RV];
            for (int v = 0; v < RV; ++v)
                q[v] = _mm512_loadu_si512(b.qT + p * P + lane0 + v * kLanes);
            for (int k = 0; k < kKeyBlock; ++k) {
                const __m512i pair = _mm512_set1_epi32(static_cast<int>(key[k * headDim / 2 + p]));
                for (int v = 0; v < RV; ++v)
                    acc[k][v] = dot(acc[k][v], q[v], pair);
            }
        }
        for (int k = 0; k < kKeyBlock; ++k)
            for (int v = 0; v < RV; ++v)
                _mm512_storeu_ps(b.sT + (jb + k) * P + lane0 + v * kLanes, acc[k][v]);
    }
}

// Int8 scores: sT[j][rows] = (int32 dot of the codes, bias taken out) * query step *
// key step, for keys [0, keys), keys a multiple of kKeyBlock.
template <int RV>
void int8Scores(const Buffers& b, int headDim, int lane0, int keys)
{
    const int P = b.padded;
    const int words = headDim / 4;
    __m512i bias[RV];
    __m512 step[RV];
    for (int v = 0; v < RV; ++v) {
        bias[v] = _mm512_loadu_si512(b.qBias + lane0 + v * kLanes);
        step[v] = _mm512_loadu_ps(b.qScale + lane0 + v * kLanes);
    }
    for (int jb = 0; jb < keys; jb += kKeyBlock) {
        __m512i acc[kKeyBlock][RV];
        for (int k = 0; k < kKeyBlock; ++k)
            for (int v = 0; v < RV; ++v)
                acc[k][v] = bias[v];
        const uint32_t* key = b.keyCodes + jb * words;
        for (int p = 0; p < words; ++p) {
            __m512i q[RV];
            for (int v = 0; v < RV; ++v)
                q[v] = _mm512_loadu_si512(b.qCodes + p * P + lane0 + v * kLanes);
            for (int k = 0; k < kKeyBlock; ++k) {
                const __m512i quad = _mm512_set1_epi32(static_cast<int>(key[k * words + p]));
                for (int v = 0; v < RV; ++v)
                    dotBytes(acc[k][v], quad, q[v]);
            }
        }
        for (int k = 0; k < kKeyBlock; ++k) {
            const __m512 keyStep = _mm512_set1_ps(b.keyScale[jb + k]);
            for (int v = 0; v < RV; ++v)
                _mm512_storeu_ps(b.sT + (jb + k) * P + lane0 + v * kLanes,
                                 _mm512_mul_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(acc[k][v]), step[v]), keyStep));
        }
    }
}

// oT[i][lanes] = correction * oT + sum over key pairs of pT . vp, for `pairs` key pairs.
template <int RV>
void values(const Buffers& b, int headDim, int lane0, int pairs)
{
    const int P = b.padded;
    __m512 correction[RV];
    for (int v = 0; v < RV; ++v)
        correction[v] = _mm512_loadu_ps(b.correction + lane0 + v * kLanes);
    for (int ib = 0; ib < headDim; ib += kDimBlock) {
        __m512 acc[kDimBlock][RV];
        for (int k = 0; k < kDimBlock; ++k)
            for (int v = 0; v < RV; ++v)
                acc[k][v] = _mm512_mul_ps(_mm512_loadu_ps(b.oT + (ib + k) * P + lane0 + v * kLanes), correction[v]);
        for (int jp = 0; jp < pairs; ++jp) {
            __m512i p[RV];
            for (int v = 0; v < RV; ++v)
                p[v] = _mm512_loadu_si512(b.pT + jp * P + lane0 + v * kLanes);
            const uint32_t* value = b.values + jp * headDim + ib;
            for (int k = 0; k < kDimBlock; ++k) {
                const __m512i pair = _mm512_set1_epi32(static_cast<int>(value[k]));
                for (int v = 0; v < RV; ++v)
                    acc[k][v] = dot(acc[k][v], p[v], pair);
            }
        }
        for (int k = 0; k < kDimBlock; ++k)
            for (int v = 0; v < RV; ++v)
                _mm512_storeu_ps(b.oT + (ib + k) * P + lane0 + v * kLanes, acc[k][v]);
    }
}

// Int8 values: oT[i][lanes] = correction * oT + weight * value step[i] * (int32 dot of the
// probability codes with the value codes), over `quads` groups of four keys.
template <int RV>
void int8Values(const Buffers& b, int headDim, int lane0, int quads)
{
    const int P = b.padded;
    __m512 correction[RV], weight[RV];
    for (int v = 0; v < RV; ++v) {
        correction[v] = _mm512_loadu_ps(b.correction + lane0 + v * kLanes);
        weight[v] = _mm512_loadu_ps(b.weight + lane0 + v * kLanes);
    }
    for (int ib = 0; ib < headDim; ib += kDimBlock) {
        __m512i acc[kDimBlock][RV];
        for (int k = 0; k < kDimBlock; ++k)
            for (int v = 0; v < RV; ++v)
                acc[k][v] = _mm512_setzero_si512();
        for (int q = 0; q < quads; ++q) {
            __m512i p[RV];
            for (int v = 0; v < RV; ++v)
                p[v] = _mm512_loadu_si512(b.pCodes + q * P + lane0 + v * kLanes);
            const uint32_t* value = b.valueCodes + q * headDim + ib;
            for (int k = 0; k < kDimBlock; ++k) {
                const __m512i quad = _mm512_set1_epi32(static_cast<int>(value[k]));
                for (int v = 0; v < RV; ++v)
                    dotBytes(acc[k][v], p[v], quad);
            }
        }
        for (int k = 0; k < kDimBlock; ++k) {
            const __m512 step = _mm512_set1_ps(b.valueScale[ib + k]);
            for (int v = 0; v < RV; ++v) {
                float* out = b.oT + (ib + k) * P + lane0 + v * kLanes;
                _mm512_storeu_ps(out, _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc[k][v]), _mm512_mul_ps(weight[v], step),
                                                      _mm512_mul_ps(_mm512_loadu_ps(out), correction[v])));
            }
        }
    }
}

// The tile's largest score of each row (masking what the rows may not see first).
inline __m512 tileMaximum(const Buffers& b, int lane0, int j0, int n, bool masked)
{
    const int P = b.padded;
    const __m512 minusInfinity = _mm512_set1_ps(-__builtin_inff());
    const __m512i last = _mm512_loadu_si512(b.last + lane0);
    const __m512i first = _mm512_loadu_si512(b.first + lane0);
    __m512 tileMax = minusInfinity;
    for (int j = 0; j < n; ++j) {
        float* row = b.sT + j * P + lane0;
        __m512 s = _mm512_loadu_ps(row);
        if (masked) {
            const __m512i key = _mm512_set1_epi32(j0 + j);
            const __mmask16 seen = _mm512_cmple_epi32_mask(key, last) & _mm512_cmpge_epi32_mask(key, first);
            s = _mm512_mask_mov_ps(minusInfinity, seen, s);
            _mm512_storeu_ps(row, s);
        }
        tileMax = _mm512_max_ps(tileMax, s);
    }
    return tileMax;
}

// 2^t times top (255 for probability codes, 1 for the weights) for t <= 0, t = -inf
// included when Clamp: f = t - floor(t) in [0, 1) by vreduceps, 2^f by a degree-3
// polynomial (least squares on Chebyshev nodes, 8.7e-5 relative: 0.022 of a code at
// 255, where an 8-bit code needs 0.5), 2^floor(t) by vscalefps: five instructions.
struct CodeExp {
    __m512 c0, c1, c2, c3;
    explicit CodeExp(float top)
        : c0(_mm512_set1_ps(top)), c1(_mm512_set1_ps(top * 0.6951228976249695f)),
          c2(_mm512_set1_ps(top * 0.22764557600021362f)), c3(_mm512_set1_ps(top * 0.07705804705619812f))
    {
    }
    template <bool Clamp>
    __m512 operator()(__m512 t) const
    {
        if constexpr (Clamp)
            t = _mm512_max_ps(t, _mm512_set1_ps(-160.0f));
        const __m512 f = _mm512_reduce_ps(t, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
        __m512 p = _mm512_fmadd_ps(c3, f, c2);
        p = _mm512_fmadd_ps(p, f, c1);
        p = _mm512_fmadd_ps(p, f, c0);
        return _mm512_scalef_ps(p, t);
    }
};

// Probability codes of keys [0, n) against the tile's largest score (tileShiftLog2E =
// its log2 e multiple), four keys per word; returns the sum of the codes per lane.
template <bool Masked>
__m512i probabilityCodes(const Buffers& b, int lane0, int n, __m512 tileShiftLog2E)
{
    const int P = b.padded;
    const CodeExp code(255.0f);
    const __m512 log2E = _mm512_set1_ps(kLog2E);
    const __m512i ones = _mm512_set1_epi8(1);
    __m512i total = _mm512_setzero_si512();
    for (int q = 0; q < (n + 3) / 4; ++q) {
        __m512i word = _mm512_setzero_si512();
        for (int m = 0; m < 4 && 4 * q + m < n; ++m) {
            const __m512 s = _mm512_loadu_ps(b.sT + (4 * q + m) * P + lane0);
            // Masked keys have s = -inf: clamped, their code is 0.
            const __m512i c = _mm512_cvtps_epi32(code.operator()<Masked>(_mm512_fmsub_ps(s, log2E, tileShiftLog2E)));
            word = _mm512_or_si512(word, _mm512_slli_epi32(c, 8 * m));
        }
        _mm512_storeu_si512(b.pCodes + q * P + lane0, word);
        dotBytes(total, word, ones);  // the four codes' sum
    }
    return total;
}

// Online softmax with int8 values: probabilities as codes 0..255 relative to the tile's
// own largest (code = round(255 * 2^((s - tile max) log2 e))), so a tile of small
// probabilities keeps its resolution; weight = exp(tile max - running max) / 255 is what
// a code stands for. The sum adds the codes times the weight: the output stays a convex
// combination of the (int8) values with the coded weights.
void int8Softmax(const Buffers& b, int lane0, int j0, int n, bool masked)
{
    const __m512 minusInfinity = _mm512_set1_ps(-__builtin_inff());
    const __m512 log2E = _mm512_set1_ps(kLog2E);
    const CodeExp unit(1.0f);
    const __m512 tileMax = tileMaximum(b, lane0, j0, n, masked);
    const __m512 oldMax = _mm512_loadu_ps(b.max + lane0);
    const __m512 newMax = _mm512_max_ps(oldMax, tileMax);
    const __m512 shift = _mm512_mask_mov_ps(newMax, _mm512_cmp_ps_mask(newMax, minusInfinity, _CMP_EQ_OQ),
                                            _mm512_setzero_ps());
    const __m512 shiftLog2E = _mm512_mul_ps(shift, log2E);
    const __m512 correction = unit.operator()<true>(_mm512_fmsub_ps(oldMax, log2E, shiftLog2E));
    const __m512 weight =
        _mm512_mul_ps(unit.operator()<true>(_mm512_fmsub_ps(tileMax, log2E, shiftLog2E)), _mm512_set1_ps(1.0f / 255.0f));
    const __m512 tileShift = _mm512_mask_mov_ps(tileMax, _mm512_cmp_ps_mask(tileMax, minusInfinity, _CMP_EQ_OQ),
                                                _mm512_setzero_ps());
    const __m512 tileShiftLog2E = _mm512_mul_ps(tileShift, log2E);
    const __m512i codes = masked ? probabilityCodes<true>(b, lane0, n, tileShiftLog2E)
                                 : probabilityCodes<false>(b, lane0, n, tileShiftLog2E);
    _mm512_storeu_ps(b.sum + lane0, _mm512_fmadd_ps(_mm512_loadu_ps(b.sum + lane0), correction,
                                                    _mm512_mul_ps(_mm512_cvtepi32_ps(codes), weight)));
    _mm512_storeu_ps(b.max + lane0, newMax);
    _mm512_storeu_ps(b.correction + lane0, correction);
    _mm512_storeu_ps(b.weight + lane0, weight);
}

// Online softmax of one row vector over keys [j0, j0 + n) of the range (sT row j for
// key j0 + j): masks what the rows may not see, updates max and sum, writes the
// probability pairs and the factor for what was accumulated before.
void softmax(const Buffers& b, int lane0, int j0, int n, bool masked)
{
    const int P = b.padded;
    const __m512 minusInfinity = _mm512_set1_ps(-__builtin_inff());
    const __m512 tileMax = tileMaximum(b, lane0, j0, n, masked);
    const __m512 oldMax = _mm512_loadu_ps(b.max + lane0);
    const __m512 newMax = _mm512_max_ps(oldMax, tileMax);
    // A row that has seen nothing yet keeps max -inf; subtract 0 there (exp(-inf) = 0, no NaN).
    const __m512 shift = _mm512_mask_mov_ps(newMax, _mm512_cmp_ps_mask(newMax, minusInfinity, _CMP_EQ_OQ),
                                            _mm512_setzero_ps());
    const __m512 shiftLog2E = _mm512_mul_ps(shift, _mm512_set1_ps(kLog2E));
    const __m512 correction = expShifted(oldMax, shiftLog2E);
    __m512 total = _mm512_setzero_ps();
    for (int jp = 0; jp < (n + 1) / 2; ++jp) {
        const __m512 even = expShifted(_mm512_loadu_ps(b.sT + 2 * jp * P + lane0), shiftLog2E);
        const __m512 odd = 2 * jp + 1 < n ? expShifted(_mm512_loadu_ps(b.sT + (2 * jp + 1) * P + lane0), shiftLog2E)
                                          : _mm512_setzero_ps();
        const __m512i pairs = interleavePairs(toBf16(odd, even));
        _mm512_storeu_si512(b.pT + jp * P + lane0, pairs);
        // Sum the rounded probabilities, so the output stays a convex combination of values.
        total = _mm512_add_ps(total, _mm512_castsi512_ps(_mm512_slli_epi32(pairs, 16)));
        total = _mm512_add_ps(total, _mm512_castsi512_ps(_mm512_and_si512(pairs, _mm512_set1_epi32(int(0xFFFF0000u)))));
    }
    _mm512_storeu_ps(b.sum + lane0, _mm512_fmadd_ps(_mm512_loadu_ps(b.sum + lane0), correction, total));
    _mm512_storeu_ps(b.max + lane0, newMax);
    _mm512_storeu_ps(b.correction + lane0, correction);
}

template <bool Int8, bool Int8Values>
void range(const AttentionRange& r)
{
    const int d = r.headDim;
    if (d % 32 != 0 || r.keyCount <= 0 || r.rows <= 0)
        return;
    if (Int8 && d > 256) {  // quantizeRow's buffers; no such model today
        range<false, false>(r);
        return;
    }
    const Buffers b = carve(r.scratch, r.rows, d);
    const int P = b.padded;
    // Rows into lanes: queries scaled and rounded, state transposed; padding rows are
    // zero queries that see everything (finite, never written back).
    alignas(64) uint32_t pairs[kLanes];
    alignas(64) float scaled[256];
    alignas(64) int8_t codes[256];
    for (int row = 0; row < P; ++row) {
        const bool real = row < r.rows;
        if constexpr (Int8) {
            int sum = 0;
            float step = 0.0f;
            if (real) {
                const float* q = r.queries + static_cast<int64_t>(row) * d;
                for (int i = 0; i < d; i += kLanes)
                    _mm512_store_ps(scaled + i, _mm512_mul_ps(_mm512_loadu_ps(q + i), _mm512_set1_ps(r.scale)));
                step = quantizeRow(scaled, d, codes, &sum);
            } else {
                for (int i = 0; i < d; ++i)
                    codes[i] = 0;
            }
            for (int p = 0; p < d / 4; ++p) {
                uint32_t word;
                __builtin_memcpy(&word, codes + 4 * p, 4);
                b.qCodes[p * P + row] = word;
            }
            b.qScale[row] = step;
            b.qBias[row] = -128 * sum;
        }
        for (int i = 0; !Int8 && i < d; i += 32) {
            __m512i v = _mm512_setzero_si512();
            if (real) {
                const float* q = r.queries + static_cast<int64_t>(row) * d + i;
                const __m512 scale = _mm512_set1_ps(r.scale);
                v = toBf16(_mm512_mul_ps(_mm512_loadu_ps(q + 16), scale), _mm512_mul_ps(_mm512_loadu_ps(q), scale));
            }
            _mm512_store_si512(pairs, v);
            for (int k = 0; k < kLanes; ++k)
                b.qT[(i / 2 + k) * P + row] = pairs[k];
        }
        for (int i = 0; i < d; ++i)
            b.oT[i * P + row] = real ? r.acc[static_cast<int64_t>(row) * d + i] : 0.0f;
        b.max[row] = real ? r.max[row] : -__builtin_inff();
        b.sum[row] = real ? r.sum[row] : 0.0f;
        b.last[row] = real && r.last ? r.last[row] : kNoLimit;
        b.first[row] = real && r.first ? r.first[row] : -kNoLimit;
    }
    const int vectors = P / kLanes;
    for (int j0 = 0; j0 < r.keyCount; j0 += kTile) {
        const int n = minInt(kTile, r.keyCount - j0);
        loadTile<Int8, Int8Values>(r, j0, n, b);
        const int blocked = (n + kKeyBlock - 1) / kKeyBlock * kKeyBlock;
        int v = 0;
        if constexpr (Int8) {
            for (; v + 2 <= vectors; v += 2)
                int8Scores<2>(b, d, v * kLanes, blocked);
            if (v < vectors)
                int8Scores<1>(b, d, v * kLanes, blocked);
        } else {
            for (; v + 2 <= vectors; v += 2)
                scores<2>(b, d, v * kLanes, blocked);
            if (v < vectors)
                scores<1>(b, d, v * kLanes, blocked);
        }
        for (v = 0; v < vectors; ++v) {
            // Mask only tiles that some row of the vector does not see whole.
            const int minLast = _mm512_reduce_min_epi32(_mm512_loadu_si512(b.last + v * kLanes));
            const int maxFirst = _mm512_reduce_max_epi32(_mm512_loadu_si512(b.first + v * kLanes));
            const bool masked = minLast < j0 + n - 1 || maxFirst > j0;
            if constexpr (Int8Values)
                int8Softmax(b, v * kLanes, j0, n, masked);
            else
                softmax(b, v * kLanes, j0, n, masked);
        }
        v = 0;
        if constexpr (Int8Values) {
            for (; v + 2 <= vectors; v += 2)
                int8Values<2>(b, d, v * kLanes, (n + 3) / 4);
            if (v < vectors)
                int8Values<1>(b, d, v * kLanes, (n + 3) / 4);
        } else {
            for (; v + 2 <= vectors; v += 2)
                values<2>(b, d, v * kLanes, (n + 1) / 2);
            if (v < vectors)
                values<1>(b, d, v * kLanes, (n + 1) / 2);
        }
    }
    for (int row = 0; row < r.rows; ++row) {
        for (int i = 0; i < d; ++i)
            r.acc[static_cast<int64_t>(row) * d + i] = b.oT[i * P + row];
        r.max[row] = b.max[row];
        r.sum[row] = b.sum[row];
    }
}

// AVX-512's tile table with one of the range kernels above.
template <bool Int8, bool Int8Values>
const AttentionKernels& rangeTable()
{
    static const AttentionKernels kernels = [] {
        AttentionKernels k = avx512AttentionKernels();
        k.range = range<Int8, Int8Values>;
        k.rangeTakesBlocks = true;
        return k;
    }();
    return kernels;
}

} // namespace

const AttentionKernels& avx512Bf16AttentionKernels() { return rangeTable<false, false>(); }
const AttentionKernels& avx512Int8KeysAttentionKernels() { return rangeTable<true, false>(); }
const AttentionKernels& avx512Int8AttentionKernels() { return rangeTable<true, true>(); }

} // namespace folio::kernels
