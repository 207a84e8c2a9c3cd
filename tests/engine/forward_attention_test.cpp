// Tiled online-softmax attention against a full softmax over all keys.
#include "engine/attention/attention.h"
#include "engine/attention/kv_cache.h"
#include "engine/kernels/thread_pool.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <vector>

#include <gtest/gtest.h>

using namespace folio;

namespace {

float value(int a, int b, int c) { return std::sin(0.37f * a + 1.3f * b + 0.11f * c); }

// A cache of `slots` tokens with deterministic keys and values.
KvCache makeCache(int kvHeads, int headDim, int slots, KvType type)
{
    KvCache cache(1, kvHeads, headDim, slots, type);
    std::vector<float> k(static_cast<std::size_t>(slots) * kvHeads * headDim), v(k.size());
    for (std::size_t i = 0; i < k.size(); ++i) {
        k[i] = value(static_cast<int>(i), 1, 0) * 2.0f;
        v[i] = value(static_cast<int>(i), 2, 5);
    }
    cache.store(0, 0, slots, k.data(), v.data(), kvHeads * headDim);
    cache.commit(slots);
    return cache;
}

// Full softmax of query q against keys [first, last] of one kv head.
std::vector<double> naive(const KvCache& cache, int kvHead, const float* q, int last, float scale, int first = 0)
{
    const int d = cache.headDim();
    std::vector<float> k(d), v(d);
    std::vector<double> scores(last + 1), out(d, 0.0);
    double maximum = -1e300, total = 0;
    for (int j = first; j <= last; ++j) {
        cache.rowsToFloat(cache.keyRow(0, kvHead, j), 1, k.data());
        double s = 0;
        for (int i = 0; i < d; ++i)
            s += static_cast<double>(q[i]) * k[i];
        scores[j] = s * scale;
        maximum = std::max(maximum, scores[j]);
    }
    for (int j = first; j <= last; ++j)
        total += scores[j] = std::exp(scores[j] - maximum);
    for (int j = first; j <= last; ++j) {
        cache.rowsToFloat(cache.valueRow(0, kvHead, j), 1, v.data());
        for (int i = 0; i < d; ++i)
            out[i] += scores[j] / total * v[i];
    }
    return out;
}

TEST(Attention, CausalTilesMatchAFullSoftmaxWithGqa)
{
    const int heads = 6, kvHeads = 2, d = 16, slots = 150, count = 37, first = slots - count;
    const float scale = 0.25f;
    const KvCache cache = makeCache(kvHeads, d, slots, KvType::F32);
    std::vector<float> q(static_cast<std::size_t>(count) * heads * d), out(q.size());
    for (std::size_t i = 0; i < q.size(); ++i)
        q[i] = value(static_cast<int>(i), 3, 1);
    for (int threads : {1, 3}) {
        ThreadPool pool(threads);
        CausalAttention attention({heads, kvHeads, d, scale}, pool.size());
        attention.run(cache, 0, q.data(), heads * d, count, first, out.data(), heads * d, pool);
        for (int t = 0; t < count; ++t)
            for (int h = 0; h < heads; ++h) {
                const std::vector<double> expected =
                    naive(cache, h / (heads / kvHeads), &q[(t * heads + h) * d], first + t, scale);
                for (int i = 0; i < d; ++i)
                    ASSERT_NEAR(out[(t * heads + h) * d + i], expected[i], 1e-5)
                        << "token " << t << " head " << h << " threads " << threads;
            }
    }
}

TEST(Attention, DecodeOverALongCacheSplitsAndMerges)
{
    const int heads = 4, kvHeads = 1, d = 8, slots = 3000;
    const KvCache cache = makeCache(kvHeads, d, slots, KvType::F16);
    std::vector<float> q(heads * d), out(heads * d);
    for (int i = 0; i < heads * d; ++i)
        q[i] = value(i, 4, 2);
    ThreadPool pool(3);
    CausalAttention attention({heads, kvHeads, d, 0.3f}, pool.size());
    attention.run(cache, 0, q.data(), heads * d, 1, slots - 1, out.data(), heads * d, pool);
    for (int h = 0; h < heads; ++h) {
        const std::vector<double> expected = naive(cache, 0, &q[h * d], slots - 1, 0.3f);
        for (int i = 0; i < d; ++i)
            EXPECT_NEAR(out[h * d + i], expected[i], 1e-5);
    }
}

// A sliding-window layer (gemma3's local layers): query i sees keys (i - W, i] only.
// Windows that start inside a key tile, at every kernel level the CPU runs.
TEST(Attention, SlidingWindowMatchesAFullSoftmaxOverTheWindow)
{
    const int heads = 4, kvHeads = 2, d = 16, slots = 170, count = 40, first = slots - count;
    const float scale = 0.25f;
    const KvCache cache = makeCache(kvHeads, d, slots, KvType::F32);
    std::vector<float> q(static_cast<std::size_t>(count) * heads * d), out(q.size());
    for (std::size_t i = 0; i < q.size(); ++i)
        q[i] = value(static_cast<int>(i), 3, 2);
    for (SimdLevel level : {SimdLevel::Scalar, SimdLevel::Avx2, SimdLevel::Avx512})
        for (int window : {1, 5, 45, 140, 500}) {
            ThreadPool pool(3);
            CausalAttention attention({heads, kvHeads, d, scale}, pool.size(), level);
            AttentionQueries queries;
            queries.intra = q.data();
            queries.stride = heads * d;
            queries.window = window;
            attention.run(cache, 0, queries, count, first, out.data(), heads * d, pool);
            for (int t = 0; t < count; ++t)
                for (int h = 0; h < heads; ++h) {
                    const int last = first + t;
                    const std::vector<double> expected = naive(cache, h / (heads / kvHeads), &q[(t * heads + h) * d],
                                                               last, scale, std::max(0, last - window + 1));
                    for (int i = 0; i < d; ++i)
                        ASSERT_NEAR(out[(t * heads + h) * d + i], expected[i], 1e-5)
                            << "token " << t << " head " << h << " window " << window << " level "
                            << static_cast<int>(level);
                }
        }
}

// A decode step with a window wide enough that the keys are split across threads.
TEST(Attention, SlidingWindowDecodeSplitsOnlyTheWindow)
{
    const int heads = 4, kvHeads = 1, d = 8, slots = 3000, window = 2100;
    const KvCache cache = makeCache(kvHeads, d, slots, KvType::F16);
    std::vector<float> q(heads * d), out(heads * d);
    for (int i = 0; i < heads * d; ++i)
        q[i] = value(i, 4, 3);
    ThreadPool pool(3);
    CausalAttention attention({heads, kvHeads, d, 0.3f}, pool.size());
    AttentionQueries queries;
    queries.intra = q.data();
    queries.stride = heads * d;
    queries.window = window;
    attention.run(cache, 0, queries, 1, slots - 1, out.data(), heads * d, pool);
    for (int h = 0; h < heads; ++h) {
        const std::vector<double> expected = naive(cache, 0, &q[h * d], slots - 1, 0.3f, slots - window);
        for (int i = 0; i < d; ++i)
            EXPECT_NEAR(out[h * d + i], expected[i], 1e-5);
    }
    queries.successive = queries.inter = q.data();
    queries.chunkLength = 64;  // a window is for plain attention only
    EXPECT_THROW(attention.run(cache, 0, queries, 1, slots - 1, out.data(), heads * d, pool), std::invalid_argument);
}

TEST(Attention, AccumulatingRangesInPiecesIsOneSoftmax)
{
    // Dual Chunk Attention feeds the key ranges one by one; the result must be the
    // softmax over their union, and the log-sum-exp must be the union's.
    const int d = 16, slots = 200;
    const KvCache cache = makeCache(1, d, slots, KvType::F32);
    std::vector<float> q(d);
    for (int i = 0; i < d; ++i)
        q[i] = value(i, 5, 5);
    AttentionAccumulator whole(d), pieces(d);
    whole.reset(1);
    whole.add(cache, 0, 0, q.data(), 0, slots, nullptr, 0.5f);
    pieces.reset(1);
    pieces.add(cache, 0, 0, q.data(), 130, 200, nullptr, 0.5f);
    pieces.add(cache, 0, 0, q.data(), 0, 70, nullptr, 0.5f);
    pieces.add(cache, 0, 0, q.data(), 70, 130, nullptr, 0.5f);
    std::vector<float> a(d), b(d);
    whole.output(0, a.data());
    pieces.output(0, b.data());
    for (int i = 0; i < d; ++i)
        EXPECT_NEAR(a[i], b[i], 1e-6);
    EXPECT_NEAR(whole.logSumExp(0), pieces.logSumExp(0), 1e-5);
    AttentionAccumulator empty(d);
    empty.reset(1);
    empty.output(0, a.data());
    EXPECT_EQ(a[0], 0.0f);
    EXPECT_TRUE(std::isinf(empty.logSumExp(0)));
}

TEST(KvCacheTest, StoresF16RowsTruncatesAndChecksBounds)
{
    KvCache cache(2, 2, 4, 8, KvType::F16);
    EXPECT_EQ(cache.bytes(), 2u * 2 * 2 * 8 * 4 * 2);
    std::vector<float> k(8), v(8);
    for (int i = 0; i < 8; ++i) {
        k[i] = 0.5f * i;
        v[i] = -1.0f * i;
    }
    cache.store(1, 3, 1, k.data(), v.data(), 8);
    cache.commit(4);
    std::vector<float> row(4);
    cache.rowsToFloat(cache.keyRow(1, 1, 3), 1, row.data());
    EXPECT_EQ(row[2], 3.0f);
    cache.rowsToFloat(cache.valueRow(1, 0, 3), 1, row.data());
    EXPECT_EQ(row[3], -3.0f);
    cache.truncate(2);
    EXPECT_EQ(cache.length(), 2);
    EXPECT_THROW(cache.truncate(3), std::out_of_range);
    EXPECT_THROW(cache.store(0, 7, 2, k.data(), v.data(), 8), std::out_of_range);
}

} // namespace
