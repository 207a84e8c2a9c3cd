// Attention tile kernels of every SIMD level the CPU runs: the vector exp against
// std::exp, each tile kernel against the scalar one, and whole causal attention
// (GQA, causal edges, decode with split keys) against a full softmax in double.
#include "engine/attention/attention.h"
#include "engine/kernels/cpu_features.h"
#include "engine/gguf/fp16.h"
#include "engine/kernels/attention_kernels.h"
#include "engine/attention/kv_cache.h"
#include "engine/kernels/ops.h"
#include "engine/kernels/thread_pool.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

using namespace folio;

namespace {

const SimdLevel kLevels[] = {SimdLevel::Scalar, SimdLevel::Avx2, SimdLevel::Avx512};

bool runnable(SimdLevel level) { return clampSimdLevel(level) == level; }

std::vector<float> randomFloats(std::mt19937& rng, std::size_t n, float low, float high)
{
    std::uniform_real_distribution<float> dist(low, high);
    std::vector<float> v(n);
    for (float& x : v)
        x = dist(rng);
    return v;
}

TEST(AttentionKernels, VectorExpIsWithinAFewUlpOfStdExp)
{
    std::vector<float> x;
    for (float v = -87.0f; v <= 0.0f; v += 0.0037f)
        x.push_back(v);
    x.push_back(0.0f);
    x.push_back(-1e-7f);
    const std::size_t finite = x.size();
    x.push_back(-std::numeric_limits<float>::infinity());
    x.push_back(-100.0f);
    for (SimdLevel level : kLevels) {
        if (!runnable(level))
            continue;
        std::vector<float> y = x;
        kernels::attentionKernelsFor(level).expNonPositive(y.data(), static_cast<int>(y.size()));
        double worst = 0.0;
        for (std::size_t i = 0; i < finite; ++i) {
            const double expected = std::exp(static_cast<double>(x[i]));
            worst = std::max(worst, std::abs(y[i] - expected) / expected);
        }
        // Degree-6 Taylor on |f| <= ln2/2 is good to 1.7e-7; float rounding adds a few ulp.
        EXPECT_LT(worst, 1e-6) << simdLevelName(level);
        EXPECT_EQ(y[finite], 0.0f) << simdLevelName(level);      // -inf: a masked key
        EXPECT_LT(y[finite + 1], 1e-37f) << simdLevelName(level);  // under the normal range
    }
}

struct TileCase {
    int rows, headDim, tileKeys;
    bool half;
    bool freshState;
};

// Runs one tile at `level` from a given state; returns max, sum and acc concatenated.
std::vector<float> runTile(SimdLevel level, const TileCase& c, const std::vector<float>& queries,
                           const std::vector<uint16_t>& halfKeys, const std::vector<uint16_t>& halfValues,
                           const std::vector<float>& keys, const std::vector<float>& values,
                           const std::vector<int>& visible, std::vector<float> state)
{
    std::vector<float> scratch(kernels::attentionScratchFloats(c.rows, c.headDim), std::nanf(""));
    kernels::AttentionTile tile;
    tile.queries = queries.data();
    tile.rows = c.rows;
    tile.headDim = c.headDim;
    tile.keys = c.half ? static_cast<const void*>(halfKeys.data()) : keys.data();
    tile.values = c.half ? static_cast<const void*>(halfValues.data()) : values.data();
    tile.halfRows = c.half;
    tile.tileKeys = c.tileKeys;
    tile.visible = visible.data();
    tile.scale = 1.0f / std::sqrt(static_cast<float>(c.headDim));
    tile.max = state.data();
    tile.sum = state.data() + c.rows;
    tile.acc = state.data() + 2 * c.rows;
    tile.scratch = scratch.data();
    kernels::attentionKernelsFor(level).tile(tile);
    return state;
}

TEST(AttentionKernels, SwiGluIsWithinAFewUlpOfTheDefinitionAtEveryLevel)
{
    std::vector<float> gate, up;
    for (float z = -120.0f; z <= 120.0f; z += 0.0173f) {
        gate.push_back(z);
        up.push_back(0.5f + 0.001f * static_cast<float>(gate.size() % 1000));
    }
    gate.push_back(0.0f);
    up.push_back(3.0f);  // n not a multiple of the vector width: the tail too
    for (SimdLevel level : kLevels) {
        if (!runnable(level))
            continue;
        std::vector<float> y = gate;
        kernels::attentionKernelsFor(level).swiGlu(y.data(), up.data(), static_cast<int>(y.size()));
        for (std::size_t i = 0; i < y.size(); ++i) {
            const double z = gate[i];
            const double expected = z / (1.0 + std::exp(-z)) * up[i];
            // The exp's 1e-6 (above) plus a division and two multiplies in float.
            ASSERT_NEAR(y[i], expected, 2e-6 * std::abs(expected) + 1e-30)
                << simdLevelName(level) << " z=" << z;
        }
    }
}

// Gemma's GeGLU gate: values worked out by hand from 0.5 z (1 + tanh(sqrt(2/pi) (z + 0.044715 z^3))),
// then the definition in double over a range (large |z|: z or 0, no overflow in z^3).
TEST(AttentionKernels, GeluTanhGluFollowsItsDefinition)
{
    std::vector<float> gate{1.0f, -1.0f, 0.0f, 2.0f}, up{1.0f, 1.0f, 5.0f, 0.5f};
    geluTanhGlu(gate.data(), up.data(), 4);
    EXPECT_NEAR(gate[0], 0.841192f, 2e-6f);
    EXPECT_NEAR(gate[1], -0.158808f, 2e-6f);
    EXPECT_EQ(gate[2], 0.0f);
    EXPECT_NEAR(gate[3], 0.5f * 1.954598f, 2e-6f);
    std::vector<float> z, ones;
    for (float v = -60.0f; v <= 60.0f; v += 0.0371f) {
        z.push_back(v);
        ones.push_back(1.0f);
    }
    std::vector<float> y = z;
    geluTanhGlu(y.data(), ones.data(), static_cast<int>(y.size()));
    const double pi = std::acos(-1.0);
    for (std::size_t i = 0; i < y.size(); ++i) {
        const double v = z[i];
        const double expected = 0.5 * v * (1.0 + std::tanh(std::sqrt(2.0 / pi) * (v + 0.044715 * v * v * v)));
        ASSERT_NEAR(y[i], expected, 1e-5 * std::max(1.0, std::abs(expected))) << "z=" << v;
    }
}

TEST(AttentionKernels, EveryLevelMatchesTheScalarTile)
{
    std::mt19937 rng(7);
    const TileCase cases[] = {
        {1, 64, 64, true, true},   {4, 64, 64, true, false},  {5, 64, 13, true, false}, {37, 64, 64, true, true},
        {17, 128, 64, true, false}, {3, 128, 1, true, true},  {9, 80, 50, false, false}, {6, 24, 64, true, false},
        {8, 16, 33, false, true},  {7, 7, 19, true, false},   {2, 8, 64, true, false},
    };
    for (const TileCase& c : cases) {
        const std::size_t kv = static_cast<std::size_t>(c.tileKeys) * c.headDim;
        std::vector<float> queries = randomFloats(rng, static_cast<std::size_t>(c.rows) * c.headDim, -2.0f, 2.0f);
        std::vector<float> keys = randomFloats(rng, kv, -2.0f, 2.0f), values = randomFloats(rng, kv, -1.0f, 1.0f);
        std::vector<uint16_t> halfKeys(kv), halfValues(kv);
        for (std::size_t i = 0; i < kv; ++i) {
            halfKeys[i] = fp32ToFp16(keys[i]);
            halfValues[i] = fp32ToFp16(values[i]);
        }
        // Visible counts cover: none (negative and zero), a causal cut, all, and more than the tile.
        std::vector<int> visible(c.rows);
        for (int r = 0; r < c.rows; ++r)
            visible[r] = (r * 11) % (c.tileKeys + 4) - 2;
        std::vector<float> state(2 * c.rows + static_cast<std::size_t>(c.rows) * c.headDim);
        for (int r = 0; r < c.rows; ++r) {
            state[r] = c.freshState ? -std::numeric_limits<float>::infinity() : 0.5f * (r % 5) - 1.0f;
            state[c.rows + r] = c.freshState ? 0.0f : 3.0f + r;
        }
        if (!c.freshState) {
            const std::vector<float> acc = randomFloats(rng, static_cast<std::size_t>(c.rows) * c.headDim, -3.0f, 3.0f);
            std::copy(acc.begin(), acc.end(), state.begin() + 2 * c.rows);
        }
        const std::vector<float> expected =
            runTile(SimdLevel::Scalar, c, queries, halfKeys, halfValues, keys, values, visible, state);
        for (SimdLevel level : kLevels) {
            if (level == SimdLevel::Scalar || !runnable(level))
                continue;
            const std::vector<float> got = runTile(level, c, queries, halfKeys, halfValues, keys, values, visible, state);
            // Same inputs; only the summation order over headDim (scores of magnitude < 8,
            // float eps 6e-8 times ~d terms) and exp (< 1e-6 relative) differ.
            for (std::size_t i = 0; i < got.size(); ++i) {
                if (std::isinf(expected[i])) {
                    ASSERT_EQ(got[i], expected[i]) << simdLevelName(level) << " element " << i;
                    continue;
                }
                ASSERT_NEAR(got[i], expected[i], 2e-5 * (1.0 + std::abs(expected[i])))
                    << simdLevelName(level) << " rows " << c.rows << " d " << c.headDim << " keys " << c.tileKeys
                    << " element " << i;
            }
        }
    }
}

float roundToBf16(float x) { return bf16ToFp32(fp32ToBf16(x)); }

struct RangeCase {
    int rows, headDim, keys;
    bool half, freshState, causal, window;
};

// One RangeCase run both ways: random queries, keys and values drawn from rng, then the
// same start state (fresh, or a random earlier one, also from rng); the scalar tile
// kernel on the reference inputs (queries times the scale, keys and values as the range
// kernel should see them: F16-converted when the cache holds F16 rows; each passed
// through `round`), and rangeKernel on the inputs as the cache holds them.
struct RangeRun {
    std::vector<float> state, expected, got;  // max, sum, then rows x d outputs
};

// The Int8Keys kernel's row quantization, written out: one step amax / 127 per row (0
// for a zero row), codes round-to-nearest-even of x * (127 / amax) in float; the rows
// become code * step, what the kernel's integer products stand for.
void quantizeRowsToInt8(std::vector<float>& rows, int d)
{
    for (std::size_t at = 0; at < rows.size(); at += d) {
        float largest = 0.0f;
        for (int i = 0; i < d; ++i)
            largest = std::max(largest, std::abs(rows[at + i]));
        const float inverse = largest > 0.0f ? 127.0f / largest : 0.0f, step = largest / 127.0f;
        for (int i = 0; i < d; ++i)
            rows[at + i] = std::nearbyint(rows[at + i] * inverse) * step;
    }
}

// quantizeRows, when given, replaces `round` for the queries and keys (the Int8Keys
// kernel: int8 scores, BF16 values).
RangeRun runRangeCase(const RangeCase& c, std::mt19937& rng, float (*round)(float),
                      void (*rangeKernel)(const kernels::AttentionRange&),
                      void (*quantizeRows)(std::vector<float>&, int) = nullptr)
{
    const int d = c.headDim;
    const float scale = 1.0f / std::sqrt(static_cast<float>(d));
    const std::size_t kv = static_cast<std::size_t>(c.keys) * d;
    const std::vector<float> queries = randomFloats(rng, static_cast<std::size_t>(c.rows) * d, -2.0f, 2.0f);
    const std::vector<float> keys = randomFloats(rng, kv, -2.0f, 2.0f), values = randomFloats(rng, kv, -1.0f, 1.0f);
    std::vector<uint16_t> halfKeys(kv), halfValues(kv);
    std::vector<float> tileKeys(kv), tileValues(kv), tileQueries(queries.size());
    for (std::size_t i = 0; i < kv; ++i) {
        halfKeys[i] = fp32ToFp16(keys[i]);
        halfValues[i] = fp32ToFp16(values[i]);
        tileKeys[i] = c.half ? fp16ToFp32(halfKeys[i]) : keys[i];
        tileKeys[i] = quantizeRows ? tileKeys[i] : round(tileKeys[i]);
        tileValues[i] = round(c.half ? fp16ToFp32(halfValues[i]) : values[i]);
    }
    for (std::size_t i = 0; i < queries.size(); ++i)
        tileQueries[i] = quantizeRows ? queries[i] * scale : round(queries[i] * scale);
    if (quantizeRows) {
        quantizeRows(tileKeys, d);
        quantizeRows(tileQueries, d);
    }
    const float minusInfinity = -std::numeric_limits<float>::infinity();
    // Causal bounds reach from before the range to past it; windows start inside it.
    std::vector<int> last(c.rows), first(c.rows);
    for (int r = 0; r < c.rows; ++r) {
        last[r] = (r * 37) % (c.keys + 20) - 10;
        first[r] = c.window ? (r * 13) % (c.keys + 5) - 3 : 0;
    }
    std::vector<float> state(2 * c.rows + static_cast<std::size_t>(c.rows) * d);
    for (int r = 0; r < c.rows; ++r) {
        state[r] = c.freshState ? minusInfinity : 0.5f * (r % 5) - 1.0f;
        state[c.rows + r] = c.freshState ? 0.0f : 3.0f + r;
    }
    if (!c.freshState) {
        const std::vector<float> acc = randomFloats(rng, static_cast<std::size_t>(c.rows) * d, -3.0f, 3.0f);
        std::copy(acc.begin(), acc.end(), state.begin() + 2 * c.rows);
    }
    // Reference: scalar tiles of 64 keys, visible/hidden per tile from last/first.
    std::vector<float> expected = state;
    std::vector<float> scratch(kernels::attentionScratchFloats(c.rows, d));
    std::vector<int> visible(c.rows), hidden(c.rows);
    for (int j0 = 0; j0 < c.keys; j0 += kernels::kAttentionKeyTile) {
        kernels::AttentionTile tile;
        tile.queries = tileQueries.data();
        tile.rows = c.rows;
        tile.headDim = d;
        tile.keys = &tileKeys[static_cast<std::size_t>(j0) * d];
        tile.values = &tileValues[static_cast<std::size_t>(j0) * d];
        tile.halfRows = false;
        tile.tileKeys = std::min(kernels::kAttentionKeyTile, c.keys - j0);
        for (int r = 0; r < c.rows; ++r) {
            visible[r] = c.causal ? std::min(tile.tileKeys, last[r] - j0 + 1) : tile.tileKeys;
            hidden[r] = c.window ? std::max(0, first[r] - j0) : 0;
        }
        tile.visible = visible.data();
        tile.hidden = hidden.data();
        tile.scale = 1.0f;
        tile.max = expected.data();
        tile.sum = expected.data() + c.rows;
        tile.acc = expected.data() + 2 * c.rows;
        tile.scratch = scratch.data();
        kernels::scalarAttentionKernels().tile(tile);
    }
    std::vector<float> got = state;
    std::vector<float> rangeScratch(kernels::attentionRangeScratchFloats(c.rows, d), std::nanf(""));
    kernels::AttentionRange range;
    range.queries = queries.data();
    range.rows = c.rows;
    range.headDim = d;
    range.keys = c.half ? static_cast<const void*>(halfKeys.data()) : keys.data();
    range.values = c.half ? static_cast<const void*>(halfValues.data()) : values.data();
    range.halfRows = c.half;
    range.keyCount = c.keys;
    range.last = c.causal ? last.data() : nullptr;
    range.first = c.window ? first.data() : nullptr;
    range.scale = scale;
    range.max = got.data();
    range.sum = got.data() + c.rows;
    range.acc = got.data() + 2 * c.rows;
    range.scratch = rangeScratch.data();
    rangeKernel(range);
    return {std::move(state), std::move(expected), std::move(got)};
}

// The BF16 whole-range kernel against the scalar tile kernel fed the same BF16-rounded
// queries (times the scale), keys and values: what is left is FP32 summation order,
// exp (< 1e-6), and the probabilities' own rounding to BF16 (2^-9 relative each). The
// output is a convex combination whose weights are those rounded probabilities over
// their rounded sum, so it moves by at most 2 * 2^-9 of the largest |value| (the old
// state's normalised output counts as a value): the bound is that plus float noise.
// The Int8Keys kernel likewise, its reference fed the int8-quantized queries and keys
// (code * step) and BF16 values: its integer score products are exact, so the same
// bounds hold.
void expectRangeMatchesWithinBf16Rounding(void (*rangeKernel)(const kernels::AttentionRange&),
                                          void (*quantizeRows)(std::vector<float>&, int))
{
    std::mt19937 rng(11);
    const RangeCase cases[] = {
        {1, 64, 1, true, true, false, false},     {8, 64, 63, true, true, true, false},
        {16, 64, 64, false, false, false, false}, {37, 64, 65, true, false, true, false},
        {128, 64, 700, true, true, true, false},  {20, 32, 200, true, false, false, true},
        {5, 128, 129, false, true, true, true},   {128, 64, 1000, true, false, true, true},
    };
    for (const RangeCase& c : cases) {
        const int d = c.headDim;
        const auto [state, expected, got] = runRangeCase(c, rng, roundToBf16, rangeKernel, quantizeRows);

        for (int r = 0; r < c.rows; ++r) {
            const std::string where = "rows " + std::to_string(c.rows) + " d " + std::to_string(d) + " keys "
                                      + std::to_string(c.keys) + " row " + std::to_string(r);
            const float m = expected[r], l = expected[c.rows + r];
            if (std::isinf(m)) {
                ASSERT_EQ(got[r], m) << where;
                ASSERT_EQ(got[c.rows + r], 0.0f) << where;
                continue;
            }
            ASSERT_NEAR(got[r], m, 1e-5 * (1.0 + std::abs(m))) << where;
            // The sum of rounded probabilities: 2^-9 relative each.
            ASSERT_NEAR(got[c.rows + r], l, std::ldexp(1.0, -9) * l + 1e-5 * (1.0 + l)) << where;
            double largest = 1.0;  // |values| <= 1
            if (!c.freshState)
                for (int i = 0; i < d; ++i)
                    largest = std::max(largest, std::abs(double(state[2 * c.rows + r * d + i]) / state[c.rows + r]));
            for (int i = 0; i < d; ++i) {
                const double want = expected[2 * c.rows + r * d + i] / l;
                const double have = got[2 * c.rows + r * d + i] / got[c.rows + r];
                ASSERT_NEAR(have, want, std::ldexp(largest, -8) + 1e-5) << where << " dim " << i;
            }
        }
    }
}

TEST(AttentionKernels, Bf16RangeMatchesTheScalarTilesWithinBf16Rounding)
{
    if (!kernels::attentionHasBf16Products(SimdLevel::Avx512))
        GTEST_SKIP() << "this CPU has no AVX512_BF16";
    expectRangeMatchesWithinBf16Rounding(kernels::avx512Bf16AttentionKernels().range, nullptr);
}

TEST(AttentionKernels, Int8KeysRangeMatchesTheScalarTilesOnTheQuantizedRows)
{
    if (!kernels::attentionHasInt8Keys(SimdLevel::Avx512))
        GTEST_SKIP() << "this CPU has no AVX512_VNNI + AVX512_BF16";
    expectRangeMatchesWithinBf16Rounding(kernels::avx512Int8KeysAttentionKernels().range, quantizeRowsToInt8);
}

// The Int8 kernel's exp, written out (attention_bf16_avx512.cpp, CodeExp): top times
// 2^((s - shift) log2 e) as 2^floor(t) * poly(t - floor(t)), the coefficients times top.
float kernelExpShifted(float s, float shiftLog2E, float top = 1.0f)
{
    const float t = std::max(std::fma(s, 1.44269504088896341f, -shiftLog2E), -160.0f);
    const float n = std::floor(t), f = t - n;
    float p = std::fma(top * 0.07705804705619812f, f, top * 0.22764557600021362f);
    p = std::fma(p, f, top * 0.6951228976249695f);
    p = std::fma(p, f, top);
    return std::ldexp(p, static_cast<int>(n));
}

// The Int8 range algorithm in plain scalar code, one row at a time: int8 rows for the
// scores (quantizeRowsToInt8), then per tile of 64 keys: value codes per dimension
// (step amax / 127 over the tile's keys), probability codes round(255 exp(s - tile
// max)), weight exp(tile max - running max) / 255, the state updated as the kernel does
// (the same float operations in the same order where the order matters).
// Probability codes round(255 * 2^t) with the kernel's exp (kernelExpShifted).
void int8RangeReplica(const std::vector<float>& queries, const std::vector<float>& keys,
                      const std::vector<float>& values, int rows, int d, int keyCount, const int* last,
                      const int* first, float scale, float* max, float* sum, float* acc)
{
    const float minusInfinity = -std::numeric_limits<float>::infinity();
    std::vector<float> q(queries.size()), k = keys;
    for (std::size_t i = 0; i < q.size(); ++i)
        q[i] = queries[i] * scale;
    quantizeRowsToInt8(q, d);  // code * step: the score is (integer dot * step) * step below
    quantizeRowsToInt8(k, d);
    constexpr int kTile = kernels::kAttentionKeyTile;
    for (int j0 = 0; j0 < keyCount; j0 += kTile) {
        const int n = std::min(kTile, keyCount - j0);
        std::vector<float> valueStep(d);
        std::vector<int> valueCode(static_cast<std::size_t>(n) * d);
        for (int i = 0; i < d; ++i) {
            float amax = 0.0f;
            for (int j = 0; j < n; ++j)
                amax = std::max(amax, std::abs(values[static_cast<std::size_t>(j0 + j) * d + i]));
            const float inverse = amax != 0.0f ? 127.0f / amax : 0.0f;
            valueStep[i] = amax / 127.0f;
            for (int j = 0; j < n; ++j)
                valueCode[static_cast<std::size_t>(j) * d + i] =
                    static_cast<int>(std::nearbyint(values[static_cast<std::size_t>(j0 + j) * d + i] * inverse));
        }
        for (int r = 0; r < rows; ++r) {
            std::vector<float> s(n);
            float tileMax = minusInfinity;
            for (int j = 0; j < n; ++j) {
                const int key = j0 + j;
                const bool seen = (!last || key <= last[r]) && (!first || key >= first[r]);
                double dot = 0.0;  // exact: the kernel's integer dot of the codes, times the steps
                for (int i = 0; i < d; ++i)
                    dot += double(q[static_cast<std::size_t>(r) * d + i]) * k[static_cast<std::size_t>(key) * d + i];
                s[j] = seen ? static_cast<float>(dot) : minusInfinity;
                tileMax = std::max(tileMax, s[j]);
            }
            const float newMax = std::max(max[r], tileMax);
            const float shiftLog2E = (std::isinf(newMax) ? 0.0f : newMax) * 1.44269504088896341f;
            const float correction = kernelExpShifted(max[r], shiftLog2E);
            const float weight = kernelExpShifted(tileMax, shiftLog2E) * (1.0f / 255.0f);
            const float tileShiftLog2E = (std::isinf(tileMax) ? 0.0f : tileMax) * 1.44269504088896341f;
            std::vector<int> code(n);
            int codes = 0;
            for (int j = 0; j < n; ++j)
                codes += code[j] = static_cast<int>(std::nearbyint(kernelExpShifted(s[j], tileShiftLog2E, 255.0f)));
            sum[r] = std::fma(sum[r], correction, static_cast<float>(codes) * weight);
            max[r] = newMax;
            for (int i = 0; i < d; ++i) {
                int dot = 0;
                for (int j = 0; j < n; ++j)
                    dot += code[j] * valueCode[static_cast<std::size_t>(j) * d + i];
                float& out = acc[static_cast<std::size_t>(r) * d + i];
                out = std::fma(static_cast<float>(dot), weight * valueStep[i], out * correction);
            }
        }
    }
}

// The Int8 kernel (int8 scores and int8 values) against its scalar replica: the same
// codes, so what is left is float rounding where the two orders differ (the score's
// step products: a few ulp, which can move a probability code by one where 255 exp()
// lands within that of a rounding boundary: one code step, 1/255 of the tile's
// largest weight, moves a row's output by at most 2/255 of the largest |value|).
TEST(AttentionKernels, Int8RangeMatchesItsScalarReplica)
{
    if (!kernels::attentionHasInt8Keys(SimdLevel::Avx512))
        GTEST_SKIP() << "this CPU has no AVX512_VNNI + AVX512_BF16";
    std::mt19937 rng(13);
    const RangeCase cases[] = {
        {1, 64, 1, true, true, false, false},     {8, 64, 63, true, true, true, false},
        {16, 64, 64, false, false, false, false}, {37, 64, 65, true, false, true, false},
        {128, 64, 700, true, true, true, false},  {20, 32, 200, true, false, false, true},
        {5, 128, 129, false, true, true, true},   {128, 64, 1000, true, false, true, true},
    };
    int codeMoves = 0;
    double worst = 0.0;
    for (const RangeCase& c : cases) {
        const int d = c.headDim;
        const std::size_t kv = static_cast<std::size_t>(c.keys) * d;
        const std::vector<float> queries = randomFloats(rng, static_cast<std::size_t>(c.rows) * d, -2.0f, 2.0f);
        std::vector<float> keys = randomFloats(rng, kv, -2.0f, 2.0f), values = randomFloats(rng, kv, -1.0f, 1.0f);
        std::vector<uint16_t> halfKeys(kv), halfValues(kv);
        for (std::size_t i = 0; i < kv; ++i) {
            halfKeys[i] = fp32ToFp16(keys[i]);
            halfValues[i] = fp32ToFp16(values[i]);
            if (c.half) {
                keys[i] = fp16ToFp32(halfKeys[i]);
                values[i] = fp16ToFp32(halfValues[i]);
            }
        }
        std::vector<int> last(c.rows), first(c.rows);
        for (int r = 0; r < c.rows; ++r) {
            last[r] = (r * 37) % (c.keys + 20) - 10;
            first[r] = c.window ? (r * 13) % (c.keys + 5) - 3 : 0;
        }
        std::vector<float> state(2 * c.rows + static_cast<std::size_t>(c.rows) * d);
        for (int r = 0; r < c.rows; ++r) {
            state[r] = c.freshState ? -std::numeric_limits<float>::infinity() : 0.5f * (r % 5) - 1.0f;
            state[c.rows + r] = c.freshState ? 0.0f : 3.0f + r;
        }
        if (!c.freshState) {
            const std::vector<float> acc = randomFloats(rng, static_cast<std::size_t>(c.rows) * d, -3.0f, 3.0f);
            std::copy(acc.begin(), acc.end(), state.begin() + 2 * c.rows);
        }
        const float scale = 1.0f / std::sqrt(static_cast<float>(d));
        std::vector<float> expected = state, got = state;
        int8RangeReplica(queries, keys, values, c.rows, d, c.keys, c.causal ? last.data() : nullptr,
                         c.window ? first.data() : nullptr, scale, expected.data(), expected.data() + c.rows,
                         expected.data() + 2 * c.rows);
        std::vector<float> scratch(kernels::attentionRangeScratchFloats(c.rows, d), std::nanf(""));
        kernels::AttentionRange range;
        range.queries = queries.data();
        range.rows = c.rows;
        range.headDim = d;
        range.keys = c.half ? static_cast<const void*>(halfKeys.data()) : keys.data();
        range.values = c.half ? static_cast<const void*>(halfValues.data()) : values.data();
        range.halfRows = c.half;
        range.keyCount = c.keys;
        range.last = c.causal ? last.data() : nullptr;
        range.first = c.window ? first.data() : nullptr;
        range.scale = scale;
        range.max = got.data();
        range.sum = got.data() + c.rows;
        range.acc = got.data() + 2 * c.rows;
        range.scratch = scratch.data();
        kernels::avx512Int8AttentionKernels().range(range);

        for (int r = 0; r < c.rows; ++r) {
            const std::string where = "rows " + std::to_string(c.rows) + " d " + std::to_string(d) + " keys "
                                      + std::to_string(c.keys) + " row " + std::to_string(r);
            const float m = expected[r], l = expected[c.rows + r];
            if (std::isinf(m)) {
                ASSERT_EQ(got[r], m) << where;
                ASSERT_EQ(got[c.rows + r], 0.0f) << where;
                continue;
            }
            ASSERT_NEAR(got[r], m, 1e-5 * (1.0 + std::abs(m))) << where;
            ASSERT_NEAR(got[c.rows + r], l, 1e-5 * (1.0 + l) + 2.0 / 255.0 * l) << where;
            double largest = 1.0;
            if (!c.freshState)
                for (int i = 0; i < d; ++i)
                    largest = std::max(largest, std::abs(double(state[2 * c.rows + r * d + i]) / state[c.rows + r]));
            bool moved = false;
            for (int i = 0; i < d; ++i) {
                const double want = expected[2 * c.rows + r * d + i] / l;
                const double have = got[2 * c.rows + r * d + i] / got[c.rows + r];
                moved = moved || std::abs(have - want) > 1e-5 * largest;
                worst = std::max(worst, std::abs(have - want) / largest);
                ASSERT_NEAR(have, want, 2.0 / 255.0 * largest + 1e-5) << where << " dim " << i;
            }
            codeMoves += moved;
        }
    }
    std::printf("rows whose output differs from the replica's by more than float noise: %d; worst |error| %.3g "
                "(of the largest |value|; one code step at most 2/255 = 7.8e-3)\n",
                codeMoves, worst);
}

// The AVX2 whole-range kernel (FP32) against the scalar tile kernel fed the same
// scaled queries (q * scale in float, as the kernel forms them), F16-converted keys
// and values: only the summation order differs (over the head dimension in a score,
// over the keys in the sum and the output) and exp (the polynomial, < 1e-6 relative).
// A score of magnitude < 2 * sqrt(d) moves by a few float ulp, so the running max by
// < 1e-5 (1 + |m|); the log-sum-exp m + log l by < 2e-6 (1 + |lse|) and the normalised
// output (a convex combination of the values and the old state's output, all within
// `largest`) by < 2e-6 largest: 30 float ulp, where the rounding of sums of up to ~1000
// terms grows about as sqrt(n) ulp (the test prints the worst ratio to the bound; 0.12
// and 0.04 when written).
TEST(AttentionKernels, Avx2RangeMatchesTheScalarTilesWithinFloatRounding)
{
    if (!runnable(SimdLevel::Avx2))
        GTEST_SKIP() << "this CPU has no AVX2";
    std::mt19937 rng(23);
    const RangeCase cases[] = {
        {1, 64, 1, true, true, false, false},     {8, 64, 63, true, true, true, false},
        {16, 64, 64, false, false, false, false}, {37, 64, 65, true, false, true, false},
        {128, 64, 700, true, true, true, false},  {20, 32, 200, true, false, false, true},
        {5, 128, 129, false, true, true, true},   {128, 64, 1000, true, false, true, true},
        {9, 64, 7, false, false, true, true},     {24, 96, 301, true, true, true, false},
    };
    double worstOutput = 0.0, worstLse = 0.0;
    for (const RangeCase& c : cases) {
        const int d = c.headDim;
        const auto [state, expected, got] =
            runRangeCase(c, rng, [](float x) { return x; }, kernels::avx2RangeAttentionKernels().range);

        for (int r = 0; r < c.rows; ++r) {
            const std::string where = "rows " + std::to_string(c.rows) + " d " + std::to_string(d) + " keys "
                                      + std::to_string(c.keys) + " row " + std::to_string(r);
            const float m = expected[r], l = expected[c.rows + r];
            if (std::isinf(m)) {  // no key seen, fresh state: untouched
                ASSERT_EQ(got[r], m) << where;
                ASSERT_EQ(got[c.rows + r], 0.0f) << where;
                for (int i = 0; i < d; ++i)
                    ASSERT_EQ(got[2 * c.rows + r * d + i], 0.0f) << where;
                continue;
            }
            ASSERT_NEAR(got[r], m, 1e-5 * (1.0 + std::abs(m))) << where;
            const double lse = m + std::log(double(l));
            const double gotLse = got[r] + std::log(double(got[c.rows + r]));
            worstLse = std::max(worstLse, std::abs(gotLse - lse) / (1.0 + std::abs(lse)));
            ASSERT_NEAR(gotLse, lse, 2e-6 * (1.0 + std::abs(lse))) << where;
            double largest = 1.0;  // |values| <= 1, and the old state's normalised output
            if (!c.freshState)
                for (int i = 0; i < d; ++i)
                    largest = std::max(largest, std::abs(double(state[2 * c.rows + r * d + i]) / state[c.rows + r]));
            for (int i = 0; i < d; ++i) {
                const double want = expected[2 * c.rows + r * d + i] / l;
                const double have = got[2 * c.rows + r * d + i] / got[c.rows + r];
                worstOutput = std::max(worstOutput, std::abs(have - want) / largest);
                ASSERT_NEAR(have, want, 2e-6 * largest) << where << " dim " << i;
            }
        }
    }
    std::printf("worst |error| / bound: output %.3g, log-sum-exp %.3g\n", worstOutput / 2e-6, worstLse / 2e-6);
}

// Full softmax of query q against keys [0, last] of one kv head, in double.
std::vector<double> fullSoftmax(const KvCache& cache, int kvHead, const float* q, int last, float scale)
{
    const int d = cache.headDim();
    std::vector<float> k(d), v(d);
    std::vector<double> scores(last + 1), out(d, 0.0);
    double maximum = -1e300, total = 0.0;
    for (int j = 0; j <= last; ++j) {
        cache.rowsToFloat(cache.keyRow(0, kvHead, j), 1, k.data());
        double s = 0.0;
        for (int i = 0; i < d; ++i)
            s += static_cast<double>(q[i]) * k[i];
        scores[j] = s * scale;
        maximum = std::max(maximum, scores[j]);
    }
    for (int j = 0; j <= last; ++j)
        total += scores[j] = std::exp(scores[j] - maximum);
    for (int j = 0; j <= last; ++j) {
        cache.rowsToFloat(cache.valueRow(0, kvHead, j), 1, v.data());
        for (int i = 0; i < d; ++i)
            out[i] += scores[j] / total * v[i];
    }
    return out;
}

// products BFloat16: the kernel rounds q * scale, k and v to BF16 (2^-9 relative each),
// so a score moves by up to e = 2^-8 * scale * sum_i |q_i k_i| (plus float noise) and a
// softmax weight by a factor within exp(+-2e); with |v| <= 1 the output moves by at
// most expm1(2e) plus 2^-8 for the rounded values and probabilities. The test takes
// the largest e over the queries' keys.
void expectCausalMatches(int heads, int kvHeads, int d, int slots, int count, KvType type, int threads,
                         kernels::AttentionProducts products = kernels::AttentionProducts::Float32)
{
    std::mt19937 rng(static_cast<unsigned>(slots * 31 + count));
    const int first = slots - count;
    const float scale = 1.0f / std::sqrt(static_cast<float>(d));
    KvCache cache(1, kvHeads, d, slots, type);
    const std::size_t kvSize = static_cast<std::size_t>(slots) * kvHeads * d;
    const std::vector<float> k = randomFloats(rng, kvSize, -2.0f, 2.0f), v = randomFloats(rng, kvSize, -1.0f, 1.0f);
    cache.store(0, 0, slots, k.data(), v.data(), kvHeads * d);
    cache.commit(slots);
    const std::vector<float> q = randomFloats(rng, static_cast<std::size_t>(count) * heads * d, -2.0f, 2.0f);
    std::vector<float> out(q.size());
    ThreadPool pool(threads);
    for (SimdLevel level : kLevels) {
        if (!runnable(level))
            continue;
        // Long runs (BFloat16 asked for): BF16 products where the level has them, else
        // FP32 products (the AVX2 range kernel on AVX2, the tile kernel elsewhere).
        const bool int8Values =
            products == kernels::AttentionProducts::Int8 && kernels::attentionHasInt8Keys(level);
        const bool int8 = int8Values
                          || (products == kernels::AttentionProducts::Int8Keys && kernels::attentionHasInt8Keys(level));
        const bool bf16 =
            !int8 && products != kernels::AttentionProducts::Float32 && kernels::attentionHasBf16Products(level);
        CausalAttention attention({heads, kvHeads, d, scale}, pool.size(), level, products);
        attention.run(cache, 0, q.data(), heads * d, count, first, out.data(), heads * d, pool);
        for (int t = 0; t < count; ++t)
            for (int h = 0; h < heads; ++h) {
                const float* query = &q[(static_cast<std::size_t>(t) * heads + h) * d];
                const std::vector<double> expected = fullSoftmax(cache, h / (heads / kvHeads), query, first + t, scale);
                // Outputs are convex combinations of values in [-1, 1]: a score error e
                // moves them by about e; float scores over d terms stay well within 1e-5.
                double bound = 2e-5;
                if (bf16) {
                    double e = 0.0;
                    std::vector<float> k(d);
                    for (int j = 0; j <= first + t; ++j) {
                        cache.rowsToFloat(cache.keyRow(0, h / (heads / kvHeads), j), 1, k.data());
                        double s = 0.0;
                        for (int i = 0; i < d; ++i)
                            s += std::abs(static_cast<double>(query[i]) * k[i]);
                        e = std::max(e, s);
                    }
                    e = std::ldexp(e * scale, -8) + 1e-5;
                    bound = std::expm1(2.0 * e) + std::ldexp(1.0, -8);
                }
                if (int8) {
                    // Steps a (of q * scale) and b (of a key row): half a step per code, so a
                    // score moves by at most a/2 sum|k| + b/2 (sum|q * scale| + d a/2).
                    double qAbs = 0.0, largestQ = 0.0, e = 0.0;
                    for (int i = 0; i < d; ++i) {
                        qAbs += std::abs(double(query[i]) * scale);
                        largestQ = std::max(largestQ, std::abs(double(query[i]) * scale));
                    }
                    const double a = largestQ / 127.0;
                    std::vector<float> k(d);
                    for (int j = 0; j <= first + t; ++j) {
                        cache.rowsToFloat(cache.keyRow(0, h / (heads / kvHeads), j), 1, k.data());
                        double kAbs = 0.0, largestK = 0.0;
                        for (int i = 0; i < d; ++i) {
                            kAbs += std::abs(double(k[i]));
                            largestK = std::max(largestK, std::abs(double(k[i])));
                        }
                        const double b = largestK / 127.0;
                        e = std::max(e, 0.5 * a * kAbs + 0.5 * b * (qAbs + 0.5 * d * a));
                    }
                    bound = std::expm1(2.0 * (e + 1e-5)) + std::ldexp(1.0, -8);
                    if (int8Values) {
                        // Int8 values: each value code is off by at most half a step,
                        // amax / 254 <= 1/254 (|v| <= 1). Each probability code is off by at
                        // most half a code; a code stands for 1/255 of its tile's largest
                        // weight e^M_t, so the output moves by at most
                        // 2 * 0.5 sum_j e^M_t(j) / sum_j (255 e^s_j - 0.5 e^M_t(j)). A tile holds
                        // at most 64 consecutive keys: e^M_t(j) is at most the largest over
                        // the aligned blocks of 64 beside j's own (whatever the tiling);
                        // the kernel's scores are within e of these, hence e^(2e).
                        const int keys = first + t + 1;
                        std::vector<double> score(keys);
                        double top = -1e300;
                        for (int j = 0; j < keys; ++j) {
                            cache.rowsToFloat(cache.keyRow(0, h / (heads / kvHeads), j), 1, k.data());
                            double dot = 0.0;
                            for (int i = 0; i < d; ++i)
                                dot += double(query[i]) * k[i];
                            top = std::max(top, score[j] = dot * scale);
                        }
                        const int blocks = (keys + 63) / 64;
                        std::vector<double> blockMax(blocks, 0.0);
                        double all = 0.0, tiles = 0.0;
                        for (int j = 0; j < keys; ++j) {
                            const double w = std::exp(score[j] - top);
                            all += w;
                            blockMax[j / 64] = std::max(blockMax[j / 64], w);
                        }
                        for (int j = 0; j < keys; ++j) {
                            const int b = j / 64;
                            tiles += std::max({blockMax[b], b > 0 ? blockMax[b - 1] : 0.0,
                                               b + 1 < blocks ? blockMax[b + 1] : 0.0});
                        }
                        tiles *= std::exp(2.0 * e);
                        bound = std::expm1(2.0 * (e + 1e-5)) + tiles / (255.0 * all - 0.5 * tiles) + 1.0 / 254.0 + 1e-5;
                    }
                }
                for (int i = 0; i < d; ++i)
                    ASSERT_NEAR(out[(static_cast<std::size_t>(t) * heads + h) * d + i], expected[i], bound)
                        << simdLevelName(level) << " token " << t << " head " << h << " dim " << i;
            }
    }
}

TEST(AttentionKernels, CausalPrefillMatchesAFullSoftmaxWithGqa)
{
    expectCausalMatches(8, 2, 64, 150, 37, KvType::F16, 2);  // first query mid-tile, several tiles
    expectCausalMatches(6, 3, 32, 67, 67, KvType::F32, 3);   // whole prompt, last tile of 3 keys
    expectCausalMatches(4, 4, 20, 70, 21, KvType::F16, 1);   // no GQA, head size off the vector width
}

TEST(AttentionKernels, DecodeWithSplitKeysMatchesAFullSoftmax)
{
    expectCausalMatches(8, 2, 64, 2113, 1, KvType::F16, 3);  // keys split across threads, merged
    expectCausalMatches(4, 1, 128, 1500, 2, KvType::F16, 4);
}

// Past kBf16AttentionMinKeys the default products are BF16 where the CPU has them.
// The long-run cases every product kind is checked on, each within its own bound.
void expectLongRunsMatch(kernels::AttentionProducts products)
{
    expectCausalMatches(8, 2, 64, 2200, 150, KvType::F16, 2, products);  // prefill tiles with causal edges
    expectCausalMatches(8, 2, 64, 2113, 1, KvType::F16, 3, products);    // decode, keys split across threads
    expectCausalMatches(6, 3, 32, 2100, 40, KvType::F32, 2, products);   // F32 rows, d = 32
    expectCausalMatches(8, 2, 64, 2150, 70, KvType::Q8_0, 2, products);  // block rows read by the range kernel
    expectCausalMatches(4, 2, 64, 2100, 1, KvType::Q4_0, 2, products);
}

TEST(AttentionKernels, LongPrefillAndDecodeWithBf16ProductsStayWithinTheirBound)
{
    if (!kernels::attentionHasBf16Products(SimdLevel::Avx512))
        GTEST_SKIP() << "this CPU has no AVX512_BF16";
    expectLongRunsMatch(kernels::AttentionProducts::BFloat16);
}

// Int8Keys products (the default past kBf16AttentionMinKeys where the CPU has them):
// within their own bound (expectCausalMatches), at every level (the others run what
// they have for it: BF16, or FP32 products).
TEST(AttentionKernels, LongPrefillAndDecodeWithInt8KeysStayWithinTheirBound)
{
    expectLongRunsMatch(kernels::AttentionProducts::Int8Keys);
}

TEST(AttentionKernels, LongPrefillAndDecodeWithInt8ProductsStayWithinTheirBound)
{
    expectLongRunsMatch(kernels::AttentionProducts::Int8);
}

// Past kBf16AttentionMinKeys an AVX2 CPU without BF16 runs the FP32 range kernel: the
// same float bound as the tile kernel (2e-5 on outputs in [-1, 1], above).
TEST(AttentionKernels, LongPrefillAndDecodeWithTheAvx2RangeKernelMatchAFullSoftmax)
{
    if (!runnable(SimdLevel::Avx2))
        GTEST_SKIP() << "this CPU has no AVX2";
    const auto longRun = kernels::AttentionProducts::BFloat16;
    ASSERT_NE(kernels::attentionKernelsFor(SimdLevel::Avx2, longRun).range, nullptr);
    ASSERT_EQ(kernels::attentionKernelsFor(SimdLevel::Avx2, kernels::AttentionProducts::Float32).range, nullptr);
    expectCausalMatches(8, 2, 64, 2200, 150, KvType::F16, 2, longRun);  // prefill tiles with causal edges
    expectCausalMatches(8, 2, 64, 2113, 1, KvType::F16, 3, longRun);    // decode, keys split across threads
    expectCausalMatches(6, 3, 32, 2100, 40, KvType::F32, 2, longRun);   // F32 rows, d = 32
    expectCausalMatches(5, 5, 64, 2150, 19, KvType::F16, 2, longRun);   // no GQA: items of 16 and 3 rows
}

} // namespace
