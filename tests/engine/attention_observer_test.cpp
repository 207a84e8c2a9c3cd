// AttentionObserver: for a decode query, the per-range log-sum-exps CausalAttention
// reports give each range's share of the softmax exactly: the shares of ranges that
// cover every key sum to 1 and match a naive softmax, for plain causal attention and
// for Dual Chunk Attention's three query rotations, with long caches (split keys) too.
#include "engine/attention/attention.h"
#include "engine/attention/kv_cache.h"
#include "engine/kernels/thread_pool.h"

#include <cmath>
#include <random>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

using namespace folio;

namespace {

struct RecordingObserver : AttentionObserver {
    std::vector<std::pair<int, int>> ranges;
    std::vector<std::vector<double>> shares;  // per head, per range
    std::vector<int> calls;                   // per head
    const std::vector<std::pair<int, int>>& keyRanges() const override { return ranges; }
    void observe(int /*layer*/, int head, const float* rangeLse, float totalLse) override
    {
        ++calls[head];
        for (std::size_t r = 0; r < ranges.size(); ++r)
            shares[head][r] = std::exp(static_cast<double>(rangeLse[r]) - totalLse);
    }
};

struct Case {
    int keys;
    int chunkLength;  // 0: plain causal attention
};

void checkCase(const Case& c, const std::vector<std::pair<int, int>>& ranges, bool coverAll)
{
    const int heads = 4, kvHeads = 2, headDim = 32, group = heads / kvHeads;
    const float scale = 1.0f / std::sqrt(static_cast<float>(headDim));
    std::mt19937 rng(static_cast<unsigned>(c.keys * 7 + c.chunkLength));
    std::normal_distribution<float> normal(0.0f, 1.0f);
    KvCache cache(1, kvHeads, headDim, c.keys, KvType::F32);
    std::vector<float> k(static_cast<std::size_t>(c.keys) * kvHeads * headDim), v(k.size());
    for (float& x : k)
        x = 2.0f * normal(rng);
    for (float& x : v)
        x = normal(rng);
    cache.store(0, 0, c.keys, k.data(), v.data(), kvHeads * headDim);
    cache.commit(c.keys);
    std::vector<float> q[3];
    for (auto& variant : q) {
        variant.resize(static_cast<std::size_t>(heads) * headDim);
        for (float& x : variant)
            x = 2.0f * normal(rng);
    }
    AttentionQueries queries;
    queries.intra = q[0].data();
    queries.successive = q[1].data();
    queries.inter = q[2].data();
    queries.stride = heads * headDim;
    queries.chunkLength = c.chunkLength;

    RecordingObserver observer;
    observer.ranges = ranges;
    observer.shares.assign(heads, std::vector<double>(ranges.size(), -1.0));
    observer.calls.assign(heads, 0);
    ThreadPool pool(2);
    CausalAttention attention({heads, kvHeads, headDim, scale}, pool.size());
    attention.setObserver(&observer);
    std::vector<float> out(static_cast<std::size_t>(heads) * headDim);
    const int slot = c.keys - 1;  // the decode query sees every key
    attention.run(cache, 0, queries, 1, slot, out.data(), heads * headDim, pool);

    const int s = c.chunkLength;
    const int chunkStart = s > 0 ? slot / s * s : 0;
    for (int head = 0; head < heads; ++head) {
        ASSERT_EQ(observer.calls[head], 1);
        const int kvHead = head / group;
        // Naive softmax; DCA picks the query rotation by the key's range.
        std::vector<double> score(c.keys);
        double maximum = -1e30;
        for (int j = 0; j < c.keys; ++j) {
            const int variant = s == 0 || j >= chunkStart ? 0 : (j >= chunkStart - s ? 1 : 2);
            double dot = 0;
            for (int d = 0; d < headDim; ++d)
                dot += double(q[variant][head * headDim + d]) * k[(static_cast<std::size_t>(j) * kvHeads + kvHead) * headDim + d];
            score[j] = dot * scale;
            maximum = std::max(maximum, score[j]);
        }
        double total = 0;
        for (double x : score)
            total += std::exp(x - maximum);
        double sumOfShares = 0;
        for (std::size_t r = 0; r < ranges.size(); ++r) {
            double mass = 0;
            for (int j = ranges[r].first; j < ranges[r].second; ++j)
                mass += std::exp(score[j] - maximum) / total;
            EXPECT_NEAR(observer.shares[head][r], mass, 2e-4) << "head " << head << " range " << r;
            sumOfShares += observer.shares[head][r];
        }
        if (coverAll) {
            EXPECT_NEAR(sumOfShares, 1.0, 1e-4);
        }
    }
}

std::vector<std::pair<int, int>> evenRanges(int keys, int count)
{
    std::vector<std::pair<int, int>> ranges;
    for (int r = 0; r < count; ++r)
        ranges.push_back({keys * r / count, keys * (r + 1) / count});
    return ranges;
}

} // namespace

TEST(AttentionObserver, PlainCausalSharesMatchNaiveSoftmax)
{
    checkCase({200, 0}, evenRanges(200, 7), true);
}

TEST(AttentionObserver, LongCacheWithSplitKeys)
{
    checkCase({2500, 0}, evenRanges(2500, 5), true);
}

TEST(AttentionObserver, DualChunkRangesMergeTheThreeRotations)
{
    checkCase({300, 64}, evenRanges(300, 9), true);
}

TEST(AttentionObserver, GapsCountInTheTotalOnly)
{
    // Pages with a header before, a gap between and a question after them.
    checkCase({180, 0}, {{10, 50}, {60, 120}, {120, 150}}, false);
    checkCase({180, 50}, {{10, 50}, {60, 120}, {120, 150}}, false);
}
