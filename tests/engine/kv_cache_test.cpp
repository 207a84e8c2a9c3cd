// KV cache element types: names and parsing, row sizes, the head-dim rule of the
// block types, store/load round-trip error per type, and attention over Q8_0 / Q4_0
// caches (exactly the attention of their dequantized values; close to F16).
#include "engine/attention/attention.h"
#include "engine/kernels/cpu_features.h"
#include "engine/attention/kv_cache.h"
#include "engine/kernels/attention_kernels.h"
#include "engine/gguf/quant.h"
#include "engine/kernels/thread_pool.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

using namespace folio;

namespace {

const KvType kAllTypes[] = {KvType::F16, KvType::F32, KvType::Q8_0, KvType::Q4_0};

std::vector<float> randomFloats(uint32_t seed, std::size_t n, float amplitude)
{
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> dist(-amplitude, amplitude);
    std::vector<float> v(n);
    for (float& x : v)
        x = dist(rng);
    return v;
}

// Keys and values of `slots` tokens (kvHeads heads each) stored in a fresh cache.
KvCache filledCache(KvType type, int kvHeads, int headDim, int slots, const std::vector<float>& keys,
                    const std::vector<float>& values)
{
    KvCache cache(1, kvHeads, headDim, slots, type);
    cache.store(0, 0, slots, keys.data(), values.data(), kvHeads * headDim);
    cache.commit(slots);
    return cache;
}

std::vector<float> loadRows(const KvCache& cache, bool values, int kvHead, int slots)
{
    std::vector<float> out(static_cast<std::size_t>(slots) * cache.headDim());
    cache.rowsToFloat(values ? cache.valueRow(0, kvHead, 0) : cache.keyRow(0, kvHead, 0), slots, out.data());
    return out;
}

TEST(KvCacheTypes, NamesParseBackAndUnknownNamesAreRefused)
{
    for (KvType type : kAllTypes)
        EXPECT_EQ(parseKvType(kvTypeName(type)), type);
    EXPECT_EQ(parseKvType("Q8_0"), KvType::Q8_0);
    EXPECT_TRUE(isQuantizedKvType(KvType::Q4_0));
    EXPECT_FALSE(isQuantizedKvType(KvType::F16));
    try {
        parseKvType("q4_k");
        FAIL() << "q4_k accepted";
    } catch (const std::invalid_argument& error) {
        const std::string message = error.what();
        EXPECT_NE(message.find("'q4_k'"), std::string::npos) << message;
        EXPECT_NE(message.find("f16, q8_0, q4_0"), std::string::npos) << message;
    }
}

TEST(KvCacheTypes, RowBytesFollowTheBlockLayouts)
{
    EXPECT_EQ(kvRowBytes(KvType::F16, 128), 256u);
    EXPECT_EQ(kvRowBytes(KvType::F32, 128), 512u);
    EXPECT_EQ(kvRowBytes(KvType::Q8_0, 128), 4u * 34u);  // fp16 scale + 32 int8 per block
    EXPECT_EQ(kvRowBytes(KvType::Q4_0, 64), 2u * 18u);   // fp16 scale + 16 bytes of nibbles
    const KvCache cache(2, 3, 64, 10, KvType::Q8_0);
    EXPECT_EQ(cache.rowBytes(), 68u);
    EXPECT_EQ(cache.bytes(), 2u * 2 * 3 * 10 * 68);
}

TEST(KvCacheTypes, BlockTypesRefuseAHeadDimThatIsNotWholeBlocks)
{
    EXPECT_EQ(kvRowBytes(KvType::F16, 80), 160u);  // the float types take any head dim
    for (KvType type : {KvType::Q8_0, KvType::Q4_0}) {
        try {
            KvCache cache(1, 1, 80, 4, type);
            FAIL() << kvTypeName(type) << " accepted head dim 80";
        } catch (const std::invalid_argument& error) {
            const std::string message = error.what();
            EXPECT_NE(message.find("multiple of 32"), std::string::npos) << message;
            EXPECT_NE(message.find("80"), std::string::npos) << message;
            EXPECT_NE(message.find(std::string(kvTypeName(type))), std::string::npos) << message;
        }
    }
}

// Per block of 32 components with largest magnitude a: F16 rounds to 2^-11 relative;
// Q8_0 to half a step a/127 plus the fp16 rounding of the scale (127 steps of
// a/127 * 2^-11); Q4_0's scale is the signed extreme / -8, so the opposite extreme
// clamps from +8 to +7 steps: up to one whole step a/8 (plus the scale's rounding).
double allowedError(KvType type, double blockMax, double value)
{
    switch (type) {
    case KvType::F32: return 0.0;
    case KvType::F16: return std::abs(value) * std::ldexp(1.0, -11) + 1e-7;
    case KvType::Q8_0: return blockMax * (0.5 / 127.0 + std::ldexp(1.0, -11)) + 1e-7;
    case KvType::Q4_0: return blockMax * (1.0 / 8.0 + 8.0 / 8.0 * std::ldexp(1.0, -11)) + 1e-7;
    }
    return 0.0;
}

TEST(KvCacheTypes, StoreAndLoadRoundTripWithinEachTypesBound)
{
    const int kvHeads = 2, d = 64, slots = 37;
    const std::vector<float> keys = randomFloats(1, static_cast<std::size_t>(slots) * kvHeads * d, 3.0f);
    const std::vector<float> values = randomFloats(2, keys.size(), 0.5f);
    for (KvType type : kAllTypes) {
        const KvCache cache = filledCache(type, kvHeads, d, slots, keys, values);
        double rms = 0.0, rmsInput = 0.0;
        for (bool isValue : {false, true}) {
            const std::vector<float>& input = isValue ? values : keys;
            for (int h = 0; h < kvHeads; ++h) {
                const std::vector<float> loaded = loadRows(cache, isValue, h, slots);
                for (int s = 0; s < slots; ++s) {
                    const float* x = &input[(static_cast<std::size_t>(s) * kvHeads + h) * d];
                    const float* y = &loaded[static_cast<std::size_t>(s) * d];
                    for (int b = 0; b < d; b += 32) {
                        double blockMax = 0.0;
                        for (int i = b; i < b + 32; ++i)
                            blockMax = std::max(blockMax, std::abs(static_cast<double>(x[i])));
                        for (int i = b; i < b + 32; ++i) {
                            ASSERT_LE(std::abs(static_cast<double>(y[i]) - x[i]), allowedError(type, blockMax, x[i]))
                                << kvTypeName(type) << (isValue ? " value" : " key") << " slot " << s << " dim " << i;
                            rms += (static_cast<double>(y[i]) - x[i]) * (y[i] - x[i]) / (blockMax * blockMax);
                            rmsInput += 1.0;
                        }
                    }
                }
            }
        }
        // Typical error relative to the block maximum, well inside the worst-case bound.
        const double relativeRms = std::sqrt(rms / rmsInput);
        if (type == KvType::Q8_0) {
            EXPECT_LT(relativeRms, 0.003);
        } else if (type == KvType::Q4_0) {
            EXPECT_LT(relativeRms, 0.05);
        }
    }
}

TEST(KvCacheTypes, QuantizedRowsDecodeLikeTheWeightReference)
{
    // The cache's dequantizer must give exactly what quant.cpp's reference gives.
    const int d = 96, slots = 5;
    const std::vector<float> keys = randomFloats(3, static_cast<std::size_t>(slots) * d, 2.0f);
    for (KvType type : {KvType::Q8_0, KvType::Q4_0}) {
        const KvCache cache = filledCache(type, 1, d, slots, keys, keys);
        const std::vector<float> loaded = loadRows(cache, false, 0, slots);
        std::vector<float> reference(loaded.size());
        dequantizeRow(type == KvType::Q8_0 ? GgmlType::Q8_0 : GgmlType::Q4_0, cache.keyRow(0, 0, 0), reference.data(),
                      static_cast<int64_t>(reference.size()));
        EXPECT_EQ(loaded, reference) << kvTypeName(type);
    }
}

// Full softmax in double of query q over rows [0, last] of dequantized keys k and values v.
std::vector<double> fullSoftmax(const std::vector<float>& k, const std::vector<float>& v, int d, const float* q,
                                int last, float scale)
{
    std::vector<double> scores(last + 1), out(d, 0.0);
    double maximum = -1e300, total = 0.0;
    for (int j = 0; j <= last; ++j) {
        double s = 0.0;
        for (int i = 0; i < d; ++i)
            s += static_cast<double>(q[i]) * k[static_cast<std::size_t>(j) * d + i];
        scores[j] = s * scale;
        maximum = std::max(maximum, scores[j]);
    }
    for (int j = 0; j <= last; ++j)
        total += scores[j] = std::exp(scores[j] - maximum);
    for (int j = 0; j <= last; ++j)
        for (int i = 0; i < d; ++i)
            out[i] += scores[j] / total * v[static_cast<std::size_t>(j) * d + i];
    return out;
}

struct AttentionRun {
    std::vector<float> out;
    KvCache cache;
};

// Causal attention of the last `count` of `slots` tokens (GQA 8:2, head dim 64).
constexpr int kHeads = 8, kKvHeads = 2, kDim = 64, kSlots = 300, kCount = 37, kFirst = kSlots - kCount;
constexpr float kScale = 0.125f;

AttentionRun runAttention(KvType type, int threads, SimdLevel level = activeSimdLevel())
{
    // Keys of amplitude 2 give scores spread over several units: a peaked softmax, so
    // key errors matter (uniform attention would hide them).
    const std::vector<float> keys = randomFloats(11, static_cast<std::size_t>(kSlots) * kKvHeads * kDim, 2.0f);
    const std::vector<float> values = randomFloats(12, keys.size(), 1.0f);
    const std::vector<float> q = randomFloats(13, static_cast<std::size_t>(kCount) * kHeads * kDim, 2.0f);
    AttentionRun run{std::vector<float>(q.size()), filledCache(type, kKvHeads, kDim, kSlots, keys, values)};
    ThreadPool pool(threads);
    CausalAttention attention({kHeads, kKvHeads, kDim, kScale}, pool.size(), level);
    attention.run(run.cache, 0, q.data(), kHeads * kDim, kCount, kFirst, run.out.data(), kHeads * kDim, pool);
    return run;
}

TEST(KvCacheAttention, QuantizedCachesAttendExactlyOverTheirDequantizedRows)
{
    // Every tile kernel the CPU runs dequantizes the blocks as it loads a tile.
    const std::vector<float> q = randomFloats(13, static_cast<std::size_t>(kCount) * kHeads * kDim, 2.0f);
    for (SimdLevel level : {SimdLevel::Scalar, SimdLevel::Avx2, SimdLevel::Avx512}) {
        if (clampSimdLevel(level) != level)
            continue;
        for (KvType type : {KvType::Q8_0, KvType::Q4_0}) {
            const AttentionRun run = runAttention(type, 2, level);
            std::vector<float> keys[kKvHeads], values[kKvHeads];
            for (int kv = 0; kv < kKvHeads; ++kv) {
                keys[kv] = loadRows(run.cache, false, kv, kSlots);
                values[kv] = loadRows(run.cache, true, kv, kSlots);
            }
            for (int t = 0; t < kCount; ++t)
                for (int h = 0; h < kHeads; ++h) {
                    const int kv = h / (kHeads / kKvHeads);
                    const float* query = &q[(static_cast<std::size_t>(t) * kHeads + h) * kDim];
                    const std::vector<double> expected =
                        fullSoftmax(keys[kv], values[kv], kDim, query, kFirst + t, kScale);
                    for (int i = 0; i < kDim; ++i)
                        ASSERT_NEAR(run.out[(static_cast<std::size_t>(t) * kHeads + h) * kDim + i], expected[i], 2e-5)
                            << simdLevelName(level) << " " << kvTypeName(type) << " token " << t << " head " << h
                            << " dim " << i;
                }
        }
    }
}

TEST(KvCacheAttention, QuantizedCachesStayCloseToF16)
{
    // Outputs are convex combinations of values in [-1, 1]. Measured on this case:
    // Q8_0 differs from F16 by at most ~0.003 (RMS ~5e-4), Q4_0 by ~0.04 (RMS ~8e-3).
    // Tolerances: Q8_0 max 0.01 / RMS 0.002; Q4_0 max 0.1 / RMS 0.02.
    const AttentionRun f16 = runAttention(KvType::F16, 1);
    for (KvType type : {KvType::Q8_0, KvType::Q4_0}) {
        const AttentionRun quantized = runAttention(type, 1);
        double maxDiff = 0.0, squares = 0.0;
        for (std::size_t i = 0; i < f16.out.size(); ++i) {
            const double diff = std::abs(static_cast<double>(quantized.out[i]) - f16.out[i]);
            maxDiff = std::max(maxDiff, diff);
            squares += diff * diff;
        }
        const double rms = std::sqrt(squares / static_cast<double>(f16.out.size()));
        RecordProperty(std::string(kvTypeName(type)) + "_max_abs_diff", std::to_string(maxDiff));
        RecordProperty(std::string(kvTypeName(type)) + "_rms_diff", std::to_string(rms));
        EXPECT_LT(maxDiff, type == KvType::Q8_0 ? 0.01 : 0.1) << kvTypeName(type);
        EXPECT_LT(rms, type == KvType::Q8_0 ? 0.002 : 0.02) << kvTypeName(type);
    }
}

TEST(KvCacheAttention, DecodeWithSplitKeysOverAQuantizedCacheMatchesOneThread)
{
    // A single query over a long Q8_0 cache splits the keys across threads. FP32
    // products: the exact merge is the point (the int8 and BF16 range kernels read
    // quantized rows too, within their own bounds: attention_kernels_test).
    const int slots = 2100, d = 64;
    const std::vector<float> keys = randomFloats(21, static_cast<std::size_t>(slots) * d, 2.0f);
    const std::vector<float> values = randomFloats(22, keys.size(), 1.0f);
    const std::vector<float> q = randomFloats(23, 4 * d, 2.0f);
    const KvCache cache = filledCache(KvType::Q8_0, 1, d, slots, keys, values);
    std::vector<float> one(q.size()), four(q.size());
    for (int threads : {1, 4}) {
        ThreadPool pool(threads);
        CausalAttention attention({4, 1, d, 0.125f}, pool.size(), activeSimdLevel(), kernels::AttentionProducts::Float32);
        attention.run(cache, 0, q.data(), 4 * d, 1, slots - 1, (threads == 1 ? one : four).data(), 4 * d, pool);
    }
    for (std::size_t i = 0; i < one.size(); ++i)
        ASSERT_NEAR(one[i], four[i], 1e-5) << i;
    const std::vector<double> expected =
        fullSoftmax(loadRows(cache, false, 0, slots), loadRows(cache, true, 0, slots), d, q.data(), slots - 1, 0.125f);
    for (int i = 0; i < d; ++i)
        ASSERT_NEAR(one[i], expected[i], 2e-5) << i;
}

} // namespace
