// Dual Chunk Attention against its definition (notes/dca.md): the position table of
// §2, the paper's Figure 2 matrix recovered from the kernel's own attention weights,
// the merged three-part result against a direct softmax over the explicit
// relative-position matrix of §4 (GQA, several C/W/T, with and without the §7
// temperature), equality with plain attention when T <= C + 1, decode rows and
// micro-batched prefill against one-shot prefill.
#include "engine/attention/dual_chunk_attention.h"
#include "engine/attention/kv_cache.h"
#include "engine/kernels/thread_pool.h"

#include <cmath>
#include <random>
#include <vector>

#include <gtest/gtest.h>

using namespace folio;

namespace {

// §4, written from the text: the distance DCA presents for query i and key j <= i.
int dcaDistance(int i, int j, int c, int w)
{
    const int s = c - w;
    const int bi = i / s, bj = j / s, ri = i % s, rj = j % s;
    if (bi == bj)
        return i - j;
    if (bi == bj + 1)
        return std::min(s + ri, c) - rj;
    return std::min(2 * s - 1, c) - rj;
}

struct Problem {
    AttentionShape shape;
    RopeConfig rope;
    int tokens = 0;
    std::vector<float> q, k, v;  // unrotated, token-major
};

Problem makeProblem(int heads, int kvHeads, int headDim, int tokens, unsigned seed)
{
    Problem p;
    p.shape = {heads, kvHeads, headDim, 1.0f / std::sqrt(static_cast<float>(headDim))};
    p.rope.dims = headDim;
    p.rope.freqBase = 100.0f;  // fast rotations, so wrong positions show
    p.tokens = tokens;
    std::mt19937 rng(seed);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    p.q.resize(static_cast<std::size_t>(tokens) * heads * headDim);
    p.k.resize(static_cast<std::size_t>(tokens) * kvHeads * headDim);
    p.v.resize(p.k.size());
    for (float& x : p.q)
        x = 1.5f * normal(rng);
    for (float& x : p.k)
        x = 1.5f * normal(rng);
    for (float& x : p.v)
        x = normal(rng);
    return p;
}

// Runs the method over the problem in batches of the given sizes (cycled); returns
// the attention output, token-major.
std::vector<float> runMethod(AttentionMethod& method, const Problem& p, const std::vector<int>& batches,
                             KvType type = KvType::F32)
{
    const int h = p.shape.heads, hk = p.shape.kvHeads, d = p.shape.headDim;
    KvCache cache(1, hk, d, p.tokens, type);
    ThreadPool pool(2);
    std::vector<float> out(static_cast<std::size_t>(p.tokens) * h * d);
    for (int first = 0, b = 0; first < p.tokens; ++b) {
        const int count = std::min(batches[b % batches.size()], p.tokens - first);
        std::vector<int32_t> positions(count);
        for (int t = 0; t < count; ++t)
            positions[t] = first + t;
        std::vector<float> q(p.q.begin() + static_cast<std::ptrdiff_t>(first) * h * d,
                             p.q.begin() + static_cast<std::ptrdiff_t>(first + count) * h * d);
        std::vector<float> k(p.k.begin() + static_cast<std::ptrdiff_t>(first) * hk * d,
                             p.k.begin() + static_cast<std::ptrdiff_t>(first + count) * hk * d);
        AttentionBatch batch;
        batch.firstSlot = first;
        batch.count = count;
        batch.queries = q.data();
        batch.keys = k.data();
        batch.values = p.v.data() + static_cast<std::size_t>(first) * hk * d;
        batch.queryStride = h * d;
        batch.kvStride = hk * d;
        batch.out = out.data() + static_cast<std::size_t>(first) * h * d;
        batch.outStride = h * d;
        method.beginBatch(positions.data(), count);
        method.attend(batch, cache, pool);
        cache.commit(first + count);
        first += count;
    }
    return out;
}

// Direct softmax over the explicit matrix, in double: score(i, j) = sc * m2(i) *
// <R(q_i, M(i, j)), k_j>.
std::vector<double> explicitAttention(const Problem& p, int c, int w, float temperature, int trained)
{
    const int h = p.shape.heads, hk = p.shape.kvHeads, d = p.shape.headDim, group = h / hk;
    std::vector<double> out(static_cast<std::size_t>(p.tokens) * h * d, 0.0);
    for (int i = 0; i < p.tokens; ++i) {
        double m2 = 1.0;
        if (temperature > 0 && i + 1 > trained) {
            const double m = 1 + temperature * std::log((i + 1.0) / trained);
            m2 = m * m;
        }
        for (int head = 0; head < h; ++head) {
            const int g = head / group;
            const float* q = &p.q[(static_cast<std::size_t>(i) * h + head) * d];
            std::vector<double> scores(i + 1);
            double maximum = -1e300;
            for (int j = 0; j <= i; ++j) {
                const float* k = &p.k[(static_cast<std::size_t>(j) * hk + g) * d];
                const int distance = c > 0 ? dcaDistance(i, j, c, w) : i - j;
                double s = 0;
                for (int pair = 0; pair < d / 2; ++pair) {
                    const double angle = distance * std::pow(double(p.rope.freqBase), -2.0 * pair / d);
                    const double x = q[2 * pair], y = q[2 * pair + 1];
                    s += (x * std::cos(angle) - y * std::sin(angle)) * k[2 * pair]
                         + (x * std::sin(angle) + y * std::cos(angle)) * k[2 * pair + 1];
                }
                scores[j] = s * p.shape.scale * m2;
                maximum = std::max(maximum, scores[j]);
            }
            double total = 0;
            for (double& s : scores)
                total += s = std::exp(s - maximum);
            double* o = &out[(static_cast<std::size_t>(i) * h + head) * d];
            for (int j = 0; j <= i; ++j)
                for (int e = 0; e < d; ++e)
                    o[e] += scores[j] / total * p.v[(static_cast<std::size_t>(j) * hk + g) * d + e];
        }
    }
    return out;
}

DcaConfig dca(int c, int w, float temperature = 0.0f, int trained = 0)
{
    DcaConfig config;
    config.chunkSize = c;
    config.localWindow = w;
    config.temperature = temperature;
    config.trainedLength = trained;
    return config;
}

template <typename A, typename B>
void expectClose(const A& actual, const B& expected, double tolerance, const std::string& what)
{
    ASSERT_EQ(actual.size(), expected.size());
    double worst = 0;
    std::size_t at = 0;
    for (std::size_t i = 0; i < actual.size(); ++i) {
        const double error = std::abs(double(actual[i]) - double(expected[i]));
        if (error > worst)
            worst = error, at = i;
    }
    EXPECT_LE(worst, tolerance) << what << ": worst at element " << at;
}

} // namespace

TEST(DualChunkAttention, PositionsFollowTheSpecificationTable)
{
    const DcaConfig config = dca(9, 3);  // S = 6
    for (int i = 0; i < 40; ++i) {
        const auto p = DualChunkAttention::positionsOf(i, config);
        EXPECT_EQ(p.key, i % 6);
        EXPECT_EQ(p.intra, i % 6);
        EXPECT_EQ(p.successive, std::min(6 + i % 6, 9));
        EXPECT_EQ(p.inter, 9);  // min(2S - 1, C) = C when W < S
    }
    EXPECT_EQ(DualChunkAttention::positionsOf(5, dca(10, 6)).inter, 7);  // W >= S: 2S - 1
}

// The paper's Figure 2 (s = 6, c = 10, w = 4; code C = 9, W = 3), read back from the
// attention weights the kernel actually computes: with a 2-wide rotation at 0.3
// rad per position, unit query and key and one-hot values, a weight gives
// cos(0.3 M) relative to the diagonal (M = 0), hence M.
TEST(DualChunkAttention, ReproducesThePapersFigure2FromTheKernelsWeights)
{
    const int tokens = 18, d = 32;  // values one-hot in the first 18 components
    Problem p;
    p.shape = {1, 1, d, 4.0f};
    p.rope.dims = 2;  // only the first pair rotates: theta = freqScale rad per position
    p.rope.freqScale = 0.3f;
    p.tokens = tokens;
    p.q.assign(static_cast<std::size_t>(tokens) * d, 0.0f);
    p.k = p.q;
    p.v = p.q;
    for (int t = 0; t < tokens; ++t) {
        p.q[t * d] = 1.0f;
        p.k[t * d] = 1.0f;
        p.v[t * d + t] = 1.0f;
    }
    DualChunkAttention method(p.shape, p.rope, dca(9, 3), 2);
    const std::vector<float> out = runMethod(method, p, {tokens});
    std::vector<std::vector<int>> m(tokens, std::vector<int>(tokens, -1));
    for (int i = 0; i < tokens; ++i) {
        const float* weights = &out[static_cast<std::size_t>(i) * d];
        for (int j = 0; j <= i; ++j) {
            const double cosine = 1.0 + std::log(weights[j] / weights[i]) / p.shape.scale;
            m[i][j] = static_cast<int>(std::lround(std::acos(std::clamp(cosine, -1.0, 1.0)) / 0.3));
        }
    }
    const std::vector<std::vector<int>> chunk1VsChunk0 = {{6, 5, 4, 3, 2, 1}, {7, 6, 5, 4, 3, 2}, {8, 7, 6, 5, 4, 3},
                                                          {9, 8, 7, 6, 5, 4}, {9, 8, 7, 6, 5, 4}, {9, 8, 7, 6, 5, 4}};
    for (int r = 0; r < 6; ++r)
        for (int j = 0; j < 6; ++j)
            EXPECT_EQ(m[6 + r][j], chunk1VsChunk0[r][j]) << "row " << 6 + r << " key " << j;
    for (int i = 12; i < tokens; ++i) {
        for (int j = 0; j < 6; ++j)
            EXPECT_EQ(m[i][j], 9 - j) << "chunk 2 row " << i << " against chunk 0 key " << j;
        for (int j = 12; j <= i; ++j)
            EXPECT_EQ(m[i][j], i - j) << "intra-chunk distances are exact";
    }
}

TEST(DualChunkAttention, MergedPartsEqualADirectSoftmaxOverTheExplicitMatrix)
{
    struct Case {
        int c, w, tokens, heads, kvHeads;
    };
    for (const Case& cs : {Case{9, 3, 40, 4, 2}, Case{12, 4, 53, 2, 2}, Case{16, 0, 45, 6, 2}, Case{10, 6, 37, 4, 1},
                           Case{30, 6, 100, 4, 4}}) {
        const Problem p = makeProblem(cs.heads, cs.kvHeads, 16, cs.tokens, cs.c * 7 + cs.w);
        DualChunkAttention method(p.shape, p.rope, dca(cs.c, cs.w), 2);
        expectClose(runMethod(method, p, {cs.tokens}), explicitAttention(p, cs.c, cs.w, 0, 0), 2e-5,
                    "C " + std::to_string(cs.c) + " W " + std::to_string(cs.w));
    }
}

TEST(DualChunkAttention, TemperatureScalesLogitsBeyondTheTrainedLength)
{
    const Problem p = makeProblem(4, 2, 16, 60, 3);
    DualChunkAttention method(p.shape, p.rope, dca(12, 2, 0.1f, 16), 2);
    expectClose(runMethod(method, p, {60}), explicitAttention(p, 12, 2, 0.1f, 16), 2e-5, "temperature 0.1");
}

TEST(DualChunkAttention, EqualsPlainAttentionUpToChunkSizePlusOne)
{
    const int c = 20, w = 5;
    const Problem p = makeProblem(4, 2, 16, c + 1, 11);
    DualChunkAttention chunked(p.shape, p.rope, dca(c, w), 2);
    StandardAttention plain(p.shape, p.rope, 2);
    const std::vector<float> a = runMethod(chunked, p, {c + 1});
    const std::vector<float> b = runMethod(plain, p, {c + 1});
    expectClose(a, b, 5e-6, "T = C + 1");  // float rounding only: tiles split at the chunk boundary
    expectClose(b, explicitAttention(p, 0, 0, 0, 0), 2e-5, "plain against its own definition");
    // One more token and the two differ (§4: at T = C + 2 DCA first departs).
    const Problem longer = makeProblem(4, 2, 16, c + 2, 11);
    DualChunkAttention chunked2(longer.shape, longer.rope, dca(c, w), 2);
    StandardAttention plain2(longer.shape, longer.rope, 2);
    const std::vector<float> a2 = runMethod(chunked2, longer, {c + 2});
    const std::vector<float> b2 = runMethod(plain2, longer, {c + 2});
    double lastRowDifference = 0;
    for (std::size_t i = static_cast<std::size_t>(c + 1) * 4 * 16; i < a2.size(); ++i)
        lastRowDifference = std::max(lastRowDifference, double(std::abs(a2[i] - b2[i])));
    EXPECT_GT(lastRowDifference, 1e-4);
}

TEST(DualChunkAttention, DecodeAndMicroBatchesEqualOneShotPrefill)
{
    const Problem p = makeProblem(4, 2, 16, 90, 5);
    const DcaConfig config = dca(14, 4);
    DualChunkAttention oneShot(p.shape, p.rope, config, 2), decode(p.shape, p.rope, config, 2),
        micro(p.shape, p.rope, config, 2);
    const std::vector<float> reference = runMethod(oneShot, p, {90});
    // Every row decoded alone equals its prefill row.
    expectClose(runMethod(decode, p, {1}), reference, 1e-5, "token by token");
    // Micro-batches that start mid-chunk and straddle chunk boundaries.
    expectClose(runMethod(micro, p, {7, 3, 11, 5}), reference, 1e-5, "micro-batches");
}

TEST(DualChunkAttention, LongCacheSplitAcrossThreadsMatchesTheDefinition)
{
    // 1,300 keys: a decode step is split along the keys and merged by log-sum-exp.
    const Problem p = makeProblem(2, 1, 16, 1300, 9);
    DualChunkAttention method(p.shape, p.rope, dca(96, 16), 2);
    const std::vector<float> out = runMethod(method, p, {1100, 199, 1});
    const std::vector<double> expected = explicitAttention(p, 96, 16, 0, 0);
    const std::size_t row = 2 * 16;
    for (int i : {1099, 1200, 1298, 1299})
        expectClose(std::vector<float>(out.begin() + i * row, out.begin() + (i + 1) * row),
                    std::vector<double>(expected.begin() + i * row, expected.begin() + (i + 1) * row), 2e-5,
                    "row " + std::to_string(i));
}

TEST(DualChunkAttention, RejectsAWindowAsLargeAsTheChunk)
{
    const Problem p = makeProblem(2, 1, 16, 4, 1);
    EXPECT_THROW(DualChunkAttention(p.shape, p.rope, dca(8, 8), 1), std::invalid_argument);
    EXPECT_THROW(DualChunkAttention(p.shape, p.rope, dca(8, -1), 1), std::invalid_argument);
}
