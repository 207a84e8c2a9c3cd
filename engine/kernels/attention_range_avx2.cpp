// AVX2 + FMA + F16C attention over a whole key range (AttentionRange), FP32 throughout:
// the layout of attention_bf16_avx512.cpp on 8-float vectors, for CPUs without AVX-512.
//
// Layout: the rows (queries) live in vector lanes, 8 per vector, for the whole range.
// Queries are scaled and transposed once per range (qT[i][r] = scale * q[r][i]); the
// running output is transposed too (oT[i][r]). Per tile of 64 keys:
//   scores sT[j][r] = sum_i qT[i][r] * k[j][i]: a broadcast key element against 8 rows,
//     so key rows are only converted from F16 (F32 rows are read in place), never
//     transposed;
//   the softmax is vertical (max, exp and sum over j per lane: no horizontal reductions);
//   oT[i][r] = correction[r] * oT[i][r] + sum_j pT[j][r] * v[j][i], a broadcast value
//     element against 8 rows.
// Register blocking for 16 ymm registers: 3 row vectors x 4 keys (or dims) = 12
// accumulators (enough independent FMA chains for two FMA pipes of latency 4), 3 row
// loads and a broadcast in flight; one row vector (a decode step's 8 rows) takes 8
// keys. The per-range working set (queries, output, scores of 128 rows; a key and a
// value tile) is about 130 KiB at head size 64: it stays in a Zen 3 core's 512 KiB L2,
// the per-block slices (a tile's keys or values, 3 row vectors' queries or
// probabilities) in the 32 KiB L1. Tiles of 128 keys measured no faster than 64.
//
// Against the scalar tile kernel only the FP32 summation order and exp (the
// polynomial of attention_x86.inc, within a few ulp) differ; scaling the query before
// the dot product instead of the score after it is one more rounding of 2^-24.
#include "engine/kernels/attention_kernels.h"

#include <cstdint>
#include "engine/kernels/x86_intrinsics.h"

namespace folio::kernels {
namespace {

// No <algorithm> here (see attention_x86.inc: an inline function instantiated in this
// file could carry AVX instructions into the rest of the program).
inline int minInt(int a, int b) { return a < b ? a : b; }

constexpr int kLanes = 8;
constexpr int kTile = kAttentionKeyTile;
constexpr int kRowVectors = 3;  // row vectors per block (2 x 4: 7% slower on Zen 3)
constexpr int kKeyBlock = 4;    // keys per score block (kRowVectors row vectors); 8 with one row vector
constexpr int kDimBlock = 4;    // output dims per value block, likewise
constexpr float kExpLowest = -87.33654f;
constexpr int kNoLimit = 0x3FFFFFFF;

inline __m256 expNonPositive(__m256 x)
{
    const __m256 representable = _mm256_cmp_ps(x, _mm256_set1_ps(kExpLowest), _CMP_GE_OQ);  // false for -inf
    x = _mm256_max_ps(x, _mm256_set1_ps(kExpLowest));
    const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504f)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 f = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693145751953125f), x);
    f = _mm256_fnmadd_ps(n, _mm256_set1_ps(1.428606765330187e-6f), f);
    __m256 p = _mm256_set1_ps(1.0f / 720.0f);
    p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(1.0f / 120.0f));
    p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(1.0f / 24.0f));
    p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(1.0f / 6.0f));
    p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(0.5f));
    p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(1.0f));
    p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(1.0f));
    const __m256i bits = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_and_ps(representable, _mm256_mul_ps(p, _mm256_castsi256_ps(bits)));
}

struct Buffers {
    int padded = 0;           // rows rounded up to the lane count
    float* qT = nullptr;      // headDim x padded
    float* oT = nullptr;      // headDim x padded
    float* sT = nullptr;      // kTile x padded (scores, then probabilities)
    float* keys = nullptr;    // kTile x headDim (F16 rows converted)
    float* values = nullptr;  // kTile x headDim
    float* max = nullptr;     // padded each
    float* sum = nullptr;
    float* correction = nullptr;
    int* last = nullptr;
    int* first = nullptr;
};

Buffers carve(float* scratch, int rows, int headDim)
{
    Buffers b;
    b.padded = (rows + kLanes - 1) / kLanes * kLanes;
    const int64_t P = b.padded;
    float* at = scratch;
    auto take = [&](int64_t floats) {
        float* p = at;
        at += floats;
        return p;
    };
    b.qT = take(headDim * P);
    b.oT = take(headDim * P);
    b.sT = take(kTile * P);
    b.keys = take(static_cast<int64_t>(kTile) * headDim);
    b.values = take(static_cast<int64_t>(kTile) * headDim);
    b.max = take(P);
    b.sum = take(P);
    b.correction = take(P);
    b.last = reinterpret_cast<int*>(take(P));
    b.first = reinterpret_cast<int*>(take(P));
    return b;
}

// n rows of headDim F16 values to floats (headDim a multiple of 8).
void halfRowsToFloat(const uint16_t* rows, int64_t count, float* out)
{
    for (int64_t i = 0; i < count; i += kLanes)
        _mm256_storeu_ps(out + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(rows + i))));
}

// sT[j][RV row vectors from lane0] for keys [0, n) of the tile. Blocks of KB keys; the
// last block repeats key n - 1 for the keys past n (their scores are never read).
template <int RV, int KB>
void scoreBlocks(const Buffers& b, const float* keys, int headDim, int lane0, int n)
{
    const int P = b.padded;
    for (int jb = 0; jb < n; jb += KB) {
        const float* key[KB];
        for (int k = 0; k < KB; ++k)
            key[k] = keys + static_cast<int64_t>(minInt(jb + k, n - 1)) * headDim;
        __m256 acc[KB][RV];
        for (int k = 0; k < KB; ++k)
            for (int v = 0; v < RV; ++v)
                acc[k][v] = _mm256_setzero_ps();
        const float* q = b.qT + lane0;
        for (int i = 0; i < headDim; ++i, q += P) {
            __m256 rows[RV];
            for (int v = 0; v < RV; ++v)
                rows[v] = _mm256_loadu_ps(q + v * kLanes);
            for (int k = 0; k < KB; ++k) {
                const __m256 element = _mm256_broadcast_ss(key[k] + i);
                for (int v = 0; v < RV; ++v)
                    acc[k][v] = _mm256_fmadd_ps(rows[v], element, acc[k][v]);
            }
        }
        for (int k = 0; k < KB; ++k)
            for (int v = 0; v < RV; ++v)
                _mm256_storeu_ps(b.sT + (jb + k) * P + lane0 + v * kLanes, acc[k][v]);
    }
}

// oT[i][lanes] = correction * oT + sum over keys j < n of pT[j] * v[j][i].
template <int RV, int DB>
void valueBlocks(const Buffers& b, const float* values, int headDim, int lane0, int n)
{
    const int P = b.padded;
    __m256 correction[RV];
    for (int v = 0; v < RV; ++v)
        correction[v] = _mm256_loadu_ps(b.correction + lane0 + v * kLanes);
    for (int ib = 0; ib < headDim; ib += DB) {
        __m256 acc[DB][RV];
        for (int k = 0; k < DB; ++k)
            for (int v = 0; v < RV; ++v)
                acc[k][v] = _mm256_mul_ps(_mm256_loadu_ps(b.oT + (ib + k) * P + lane0 + v * kLanes), correction[v]);
        const float* p = b.sT + lane0;
        const float* value = values + ib;
        for (int j = 0; j < n; ++j, p += P, value += headDim) {
            __m256 weights[RV];
            for (int v = 0; v < RV; ++v)
                weights[v] = _mm256_loadu_ps(p + v * kLanes);
            for (int k = 0; k < DB; ++k) {
                const __m256 element = _mm256_broadcast_ss(value + k);
                for (int v = 0; v < RV; ++v)
                    acc[k][v] = _mm256_fmadd_ps(weights[v], element, acc[k][v]);
            }
        }
        for (int k = 0; k < DB; ++k)
            for (int v = 0; v < RV; ++v)
                _mm256_storeu_ps(b.oT + (ib + k) * P + lane0 + v * kLanes, acc[k][v]);
    }
}

// Online softmax of one row vector over keys [j0, j0 + n) of the range (sT row j for
// key j0 + j): masks what the rows may not see, updates max and sum, leaves the
// probabilities in sT and the factor for what was accumulated before.
void softmax(const Buffers& b, int lane0, int j0, int n, bool masked)
{
    const int P = b.padded;
    const __m256 minusInfinity = _mm256_set1_ps(-__builtin_inff());
    const __m256i last = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.last + lane0));
    const __m256i first = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.first + lane0));
    __m256 tileMax = minusInfinity;
    for (int j = 0; j < n; ++j) {
        float* row = b.sT + j * P + lane0;
        __m256 s = _mm256_loadu_ps(row);
        if (masked) {
            const __m256i key = _mm256_set1_epi32(j0 + j);
            const __m256i hidden = _mm256_or_si256(_mm256_cmpgt_epi32(key, last), _mm256_cmpgt_epi32(first, key));
            s = _mm256_blendv_ps(s, minusInfinity, _mm256_castsi256_ps(hidden));
            _mm256_storeu_ps(row, s);
        }
        tileMax = _mm256_max_ps(tileMax, s);
    }
    const __m256 oldMax = _mm256_loadu_ps(b.max + lane0);
    const __m256 newMax = _mm256_max_ps(oldMax, tileMax);
    // A row that has seen nothing yet keeps max -inf; subtract 0 there (exp(-inf) = 0, no NaN).
    const __m256 shift = _mm256_andnot_ps(_mm256_cmp_ps(newMax, minusInfinity, _CMP_EQ_OQ), newMax);
    const __m256 correction = expNonPositive(_mm256_sub_ps(oldMax, shift));
    __m256 total = _mm256_setzero_ps();
    for (int j = 0; j < n; ++j) {
        float* row = b.sT + j * P + lane0;
        const __m256 p = expNonPositive(_mm256_sub_ps(_mm256_loadu_ps(row), shift));
        _mm256_storeu_ps(row, p);
        total = _mm256_add_ps(total, p);
    }
    _mm256_storeu_ps(b.sum + lane0, _mm256_fmadd_ps(_mm256_loadu_ps(b.sum + lane0), correction, total));
    _mm256_storeu_ps(b.max + lane0, newMax);
    _mm256_storeu_ps(b.correction + lane0, correction);
}

void fp32Range(const AttentionRange& r)
{
    const int d = r.headDim;
    if (d % kLanes != 0 || r.keyCount <= 0 || r.rows <= 0)
        return;
    const Buffers b = carve(r.scratch, r.rows, d);
    const int P = b.padded;
    // Rows into lanes: queries scaled, state transposed; padding rows are zero queries
    // that see everything (finite, never written back).
    for (int row = 0; row < P; ++row) {
        const bool real = row < r.rows;
        const int64_t at = real ? static_cast<int64_t>(row) * d : 0;
        for (int i = 0; i < d; ++i) {
            b.qT[i * P + row] = real ? r.queries[at + i] * r.scale : 0.0f;
            b.oT[i * P + row] = real ? r.acc[at + i] : 0.0f;
        }
        b.max[row] = real ? r.max[row] : -__builtin_inff();
        b.sum[row] = real ? r.sum[row] : 0.0f;
        b.last[row] = real && r.last ? r.last[row] : kNoLimit;
        b.first[row] = real && r.first ? r.first[row] : -kNoLimit;
    }
    const int vectors = P / kLanes;
    for (int j0 = 0; j0 < r.keyCount; j0 += kTile) {
        const int n = minInt(kTile, r.keyCount - j0);
        const int64_t offset = static_cast<int64_t>(j0) * d;
        const float* keys = b.keys;
        const float* values = b.values;
        if (r.halfRows) {
            halfRowsToFloat(static_cast<const uint16_t*>(r.keys) + offset, static_cast<int64_t>(n) * d, b.keys);
            halfRowsToFloat(static_cast<const uint16_t*>(r.values) + offset, static_cast<int64_t>(n) * d, b.values);
        } else {
            keys = static_cast<const float*>(r.keys) + offset;
            values = static_cast<const float*>(r.values) + offset;
        }
        int v = 0;
        for (; v + kRowVectors <= vectors; v += kRowVectors)
            scoreBlocks<kRowVectors, kKeyBlock>(b, keys, d, v * kLanes, n);
        if (vectors - v == 2)
            scoreBlocks<2, kKeyBlock>(b, keys, d, v * kLanes, n);
        else if (vectors - v == 1)
            scoreBlocks<1, 2 * kKeyBlock>(b, keys, d, v * kLanes, n);
        for (v = 0; v < vectors; ++v) {
            // Mask only tiles that some row of the vector does not see whole.
            int minLast = kNoLimit, maxFirst = -kNoLimit;
            for (int k = 0; k < kLanes; ++k) {
                minLast = minInt(minLast, b.last[v * kLanes + k]);
                maxFirst = -minInt(-maxFirst, -b.first[v * kLanes + k]);
            }
            softmax(b, v * kLanes, j0, n, minLast < j0 + n - 1 || maxFirst > j0);
        }
        v = 0;
        for (; v + kRowVectors <= vectors; v += kRowVectors)
            valueBlocks<kRowVectors, kDimBlock>(b, values, d, v * kLanes, n);
        if (vectors - v == 2)
            valueBlocks<2, kDimBlock>(b, values, d, v * kLanes, n);
        else if (vectors - v == 1)
            valueBlocks<1, 2 * kDimBlock>(b, values, d, v * kLanes, n);
    }
    for (int row = 0; row < r.rows; ++row) {
        float* acc = r.acc + static_cast<int64_t>(row) * d;
        for (int i = 0; i < d; ++i)
            acc[i] = b.oT[i * P + row];
        r.max[row] = b.max[row];
        r.sum[row] = b.sum[row];
    }
}

} // namespace

const AttentionKernels& avx2RangeAttentionKernels()
{
    static const AttentionKernels kernels = [] {
        AttentionKernels k = avx2AttentionKernels();
        k.range = fp32Range;
        return k;
    }();
    return kernels;
}

} // namespace folio::kernels
