// AVX-512 BF16 attention over a whole key range (AttentionRange): QK^T and PV by
// vdpbf16ps (pairs of BF16 products summed into FP32 lanes), FP32 online softmax.
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
constexpr float kExpLowest = -87.33654f;
constexpr int kNoLimit = 0x3FFFFFFF;

inline __m512 expNonPositive(__m512 x)
{
    const __mmask16 representable = _mm512_cmp_ps_mask(x, _mm512_set1_ps(kExpLowest), _CMP_GE_OQ);
    x = _mm512_max_ps(x, _mm512_set1_ps(kExpLowest));
    const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504f)),
                                          _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 f = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693145751953125f), x);
    f = _mm512_fnmadd_ps(n, _mm512_set1_ps(1.428606765330187e-6f), f);
    __m512 p = _mm512_set1_ps(1.0f / 720.0f);
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.0f / 120.0f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.0f / 24.0f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.0f / 6.0f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(0.5f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.0f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.0f));
    const __m512i bits = _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127)), 23);
    return _mm512_maskz_mov_ps(representable, _mm512_mul_ps(p, _mm512_castsi512_ps(bits)));
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

inline __m512 loadRow16(const void* rows, bool half, int64_t index)
{
    if (half)
        return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(static_cast<const uint16_t*>(rows) + index)));
    return _mm512_loadu_ps(static_cast<const float*>(rows) + index);
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
    return b;
}

// Keys [j0, j0 + n) to BF16 rows (zero rows up to the key block), values to row pairs.
void loadTile(const AttentionRange& r, int j0, int n, const Buffers& b)
{
    const int d = r.headDim;
    for (int j = 0; j < n; ++j) {
        const int64_t row = static_cast<int64_t>(j0 + j) * d;
        for (int i = 0; i < d; i += 32)
            _mm512_storeu_si512(b.keys + j * d / 2 + i / 2,
                                toBf16(loadRow16(r.keys, r.halfRows, row + i + 16), loadRow16(r.keys, r.halfRows, row + i)));
    }
    const int blocked = (n + kKeyBlock - 1) / kKeyBlock * kKeyBlock;
    for (int j = n; j < blocked; ++j)
        for (int i = 0; i < d; i += 32)
            _mm512_storeu_si512(b.keys + j * d / 2 + i / 2, _mm512_setzero_si512());
    for (int jp = 0; jp < (n + 1) / 2; ++jp) {
        const int64_t even = static_cast<int64_t>(j0 + 2 * jp) * d;
        const bool hasOdd = 2 * jp + 1 < n;
        for (int i = 0; i < d; i += kLanes) {
            const __m512 a = loadRow16(r.values, r.halfRows, even + i);
            const __m512 c = hasOdd ? loadRow16(r.values, r.halfRows, even + d + i) : _mm512_setzero_ps();
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

// Online softmax of one row vector over keys [j0, j0 + n) of the range (sT row j for
// key j0 + j): masks what the rows may not see, updates max and sum, writes the
// probability pairs and the factor for what was accumulated before.
void softmax(const Buffers& b, int lane0, int j0, int n, bool masked)
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
    const __m512 oldMax = _mm512_loadu_ps(b.max + lane0);
    const __m512 newMax = _mm512_max_ps(oldMax, tileMax);
    // A row that has seen nothing yet keeps max -inf; subtract 0 there (exp(-inf) = 0, no NaN).
    const __m512 shift = _mm512_mask_mov_ps(newMax, _mm512_cmp_ps_mask(newMax, minusInfinity, _CMP_EQ_OQ),
                                            _mm512_setzero_ps());
    const __m512 correction = expNonPositive(_mm512_sub_ps(oldMax, shift));
    __m512 total = _mm512_setzero_ps();
    for (int jp = 0; jp < (n + 1) / 2; ++jp) {
        const __m512 even = expNonPositive(_mm512_sub_ps(_mm512_loadu_ps(b.sT + 2 * jp * P + lane0), shift));
        const __m512 odd = 2 * jp + 1 < n
                               ? expNonPositive(_mm512_sub_ps(_mm512_loadu_ps(b.sT + (2 * jp + 1) * P + lane0), shift))
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

void bf16Range(const AttentionRange& r)
{
    const int d = r.headDim;
    if (d % 32 != 0 || r.keyCount <= 0 || r.rows <= 0)
        return;
    const Buffers b = carve(r.scratch, r.rows, d);
    const int P = b.padded;
    // Rows into lanes: queries scaled and rounded, state transposed; padding rows are
    // zero queries that see everything (finite, never written back).
    alignas(64) uint32_t pairs[kLanes];
    for (int row = 0; row < P; ++row) {
        const bool real = row < r.rows;
        for (int i = 0; i < d; i += 32) {
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
        loadTile(r, j0, n, b);
        const int blocked = (n + kKeyBlock - 1) / kKeyBlock * kKeyBlock;
        int v = 0;
        for (; v + 2 <= vectors; v += 2)
            scores<2>(b, d, v * kLanes, blocked);
        if (v < vectors)
            scores<1>(b, d, v * kLanes, blocked);
        for (v = 0; v < vectors; ++v) {
            // Mask only tiles that some row of the vector does not see whole.
            const int minLast = _mm512_reduce_min_epi32(_mm512_loadu_si512(b.last + v * kLanes));
            const int maxFirst = _mm512_reduce_max_epi32(_mm512_loadu_si512(b.first + v * kLanes));
            softmax(b, v * kLanes, j0, n, minLast < j0 + n - 1 || maxFirst > j0);
        }
        v = 0;
        for (; v + 2 <= vectors; v += 2)
            values<2>(b, d, v * kLanes, (n + 1) / 2);
        if (v < vectors)
            values<1>(b, d, v * kLanes, (n + 1) / 2);
    }
    for (int row = 0; row < r.rows; ++row) {
        for (int i = 0; i < d; ++i)
            r.acc[static_cast<int64_t>(row) * d + i] = b.oT[i * P + row];
        r.max[row] = b.max[row];
        r.sum[row] = b.sum[row];
    }
}

} // namespace

const AttentionKernels& avx512Bf16AttentionKernels()
{
    static const AttentionKernels kernels = [] {
        AttentionKernels k = avx512AttentionKernels();
        k.range = bf16Range;
        return k;
    }();
    return kernels;
}

} // namespace folio::kernels
