#include "engine/session/sampler.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <numeric>

#include <gtest/gtest.h>

namespace folio {
namespace {

SamplerParams plainParams(float temperature = 1.0f)
{
    SamplerParams p;
    p.temperature = temperature;
    p.topK = 0;
    p.topP = 1.0f;
    p.minP = 0.0f;
    p.repeatPenalty = 1.0f;
    p.seed = 1234;
    return p;
}

std::vector<float> logitsFromProbabilities(const std::vector<double>& probs)
{
    std::vector<float> logits;
    for (double p : probs)
        logits.push_back(p > 0 ? static_cast<float>(std::log(p)) : -INFINITY);
    return logits;
}

std::vector<float> randomLogits(int32_t n, uint64_t seed)
{
    SplitMix64 rng(seed);
    std::vector<float> logits(static_cast<size_t>(n));
    for (float& l : logits)
        l = static_cast<float>(rng.nextUnit() * 20.0 - 10.0);
    return logits;
}

// Draws many tokens and returns the observed frequency of each.
std::map<int32_t, double> frequencies(Sampler& sampler, const std::vector<float>& logits, int draws)
{
    std::map<int32_t, double> counts;
    for (int i = 0; i < draws; ++i)
        counts[sampler.sample(logits.data(), static_cast<int32_t>(logits.size()), {})] += 1.0;
    for (auto& [token, count] : counts)
        count /= draws;
    return counts;
}

TEST(SamplerTest, ArgmaxPrefersLowestIdOnTies)
{
    const std::vector<float> logits{1.0f, 3.0f, -2.0f, 3.0f};
    EXPECT_EQ(argmaxToken(logits.data(), 4), 1);
    const std::vector<float> withNan{NAN, 0.5f, 0.5f};
    EXPECT_EQ(argmaxToken(withNan.data(), 3), 1);
}

TEST(SamplerTest, GreedyPicksArgmax)
{
    Sampler sampler(plainParams(0.0f));
    const auto logits = randomLogits(5000, 7);
    const int32_t expected = argmaxToken(logits.data(), 5000);
    for (int i = 0; i < 10; ++i)
        EXPECT_EQ(sampler.sample(logits.data(), 5000, {}), expected);
}

TEST(SamplerTest, SameSeedGivesSameChoices)
{
    SamplerParams params;  // defaults: top-k, top-p, min-p, penalty all on
    params.seed = 42;
    params.temperature = 1.5f;
    Sampler a(params), b(params);
    params.seed = 43;
    Sampler c(params);
    std::vector<int32_t> historyA, historyB;
    int differences = 0;
    std::vector<int32_t> firstRun;
    for (int step = 0; step < 300; ++step) {
        const auto logits = randomLogits(1000, 100 + static_cast<uint64_t>(step % 7));
        const int32_t ta = a.sample(logits.data(), 1000, historyA);
        const int32_t tb = b.sample(logits.data(), 1000, historyB);
        ASSERT_EQ(ta, tb) << "step " << step;
        differences += c.sample(logits.data(), 1000, historyA) != ta;
        historyA.push_back(ta);
        historyB.push_back(tb);
        firstRun.push_back(ta);
    }
    EXPECT_GT(differences, 0) << "a different seed should give different choices";

    a.reset(42);
    std::vector<int32_t> history;
    for (int step = 0; step < 300; ++step) {
        const auto logits = randomLogits(1000, 100 + static_cast<uint64_t>(step % 7));
        const int32_t t = a.sample(logits.data(), 1000, history);
        ASSERT_EQ(t, firstRun[static_cast<size_t>(step)]) << "after reset, step " << step;
        history.push_back(t);
    }
}

TEST(SamplerTest, TopKOneEqualsGreedy)
{
    SamplerParams params = plainParams(1.0f);
    params.topK = 1;
    params.topP = 0.9f;
    params.minP = 0.05f;
    Sampler sampler(params);
    for (uint64_t seed = 0; seed < 50; ++seed) {
        const auto logits = randomLogits(3000, seed);
        EXPECT_EQ(sampler.sample(logits.data(), 3000, {}), argmaxToken(logits.data(), 3000));
    }
}

TEST(SamplerTest, TemperatureReshapesTheDistribution)
{
    // p1/p0 = 3 at T=1; at T=2 the ratio becomes sqrt(3).
    const std::vector<float> logits{0.0f, static_cast<float>(std::log(3.0))};
    Sampler cold(plainParams(1.0f));
    auto f = frequencies(cold, logits, 20000);
    EXPECT_NEAR(f[1], 0.75, 0.015);
    Sampler warm(plainParams(2.0f));
    f = frequencies(warm, logits, 20000);
    EXPECT_NEAR(f[1], std::sqrt(3.0) / (1.0 + std::sqrt(3.0)), 0.015);
}

TEST(SamplerTest, TopPKeepsSmallestPrefixReachingP)
{
    // Ids deliberately not in probability order.
    // id:        0     1     2     3     4     5
    const std::vector<double> probs{0.07, 0.25, 0.03, 0.50, 0.15, 0.0};
    const auto logits = logitsFromProbabilities(probs);
    SamplerParams params = plainParams(1.0f);
    params.topP = 0.8f;  // 0.50 + 0.25 = 0.75 < 0.8, + 0.15 = 0.90: keep {3, 1, 4}
    Sampler sampler(params);
    sampler.sample(logits.data(), 6, {});
    const auto kept = sampler.lastCandidates();
    ASSERT_EQ(kept.size(), 3u);
    EXPECT_EQ(kept[0].token, 3);
    EXPECT_EQ(kept[1].token, 1);
    EXPECT_EQ(kept[2].token, 4);
    EXPECT_NEAR(kept[0].probability, 0.50 / 0.90, 1e-5);

    const auto f = frequencies(sampler, logits, 30000);
    EXPECT_NEAR(f.at(3), 0.50 / 0.90, 0.015);
    EXPECT_NEAR(f.at(1), 0.25 / 0.90, 0.015);
    EXPECT_NEAR(f.at(4), 0.15 / 0.90, 0.015);
    EXPECT_EQ(f.count(0), 0u);
    EXPECT_EQ(f.count(2), 0u);
    EXPECT_EQ(f.count(5), 0u);
}

TEST(SamplerTest, MinPKeepsTokensAboveFractionOfMax)
{
    // id:        0     1     2     3     4
    const std::vector<double> probs{0.06, 0.40, 0.20, 0.30, 0.04};
    const auto logits = logitsFromProbabilities(probs);
    SamplerParams params = plainParams(1.0f);
    params.minP = 0.2f;  // threshold 0.2 * 0.40 = 0.08: keep {1, 3, 2}
    Sampler sampler(params);
    const auto f = frequencies(sampler, logits, 30000);
    EXPECT_NEAR(f.at(1), 0.40 / 0.90, 0.015);
    EXPECT_NEAR(f.at(3), 0.30 / 0.90, 0.015);
    EXPECT_NEAR(f.at(2), 0.20 / 0.90, 0.015);
    EXPECT_EQ(f.count(0), 0u);
    EXPECT_EQ(f.count(4), 0u);
}

TEST(SamplerTest, TopPAndMinPTogetherKeepTheSmallerSet)
{
    const std::vector<double> probs{0.40, 0.30, 0.20, 0.06, 0.04};
    const auto logits = logitsFromProbabilities(probs);
    SamplerParams params = plainParams(1.0f);
    params.topP = 0.65f;  // alone: {0, 1}
    params.minP = 0.12f;  // alone: {0, 1, 2, 3} (threshold 0.048)
    Sampler sampler(params);
    sampler.sample(logits.data(), 5, {});
    EXPECT_EQ(sampler.lastCandidates().size(), 2u);

    params.topP = 0.99f;  // alone: all five
    params.minP = 0.5f;   // alone: {0, 1, 2}
    Sampler other(params);
    other.sample(logits.data(), 5, {});
    const auto kept = other.lastCandidates();
    ASSERT_EQ(kept.size(), 3u);
    EXPECT_NEAR(kept[2].probability, 0.20 / 0.90, 1e-5);
}

TEST(SamplerTest, RepeatPenaltyFlipsTheChoice)
{
    SamplerParams params = plainParams(0.0f);
    params.repeatPenalty = 1.1f;
    params.repeatLastN = 4;
    Sampler sampler(params);
    // Positive logit divided: 2.0 / 1.1 = 1.82 < 1.9.
    const std::vector<float> positive{2.0f, 1.9f, 0.0f};
    EXPECT_EQ(sampler.sample(positive.data(), 3, {}), 0);
    EXPECT_EQ(sampler.sample(positive.data(), 3, {0, 0, 0}), 1);  // repeats count once
    // Token 0 is outside the last 4 tokens: not penalised.
    EXPECT_EQ(sampler.sample(positive.data(), 3, {0, 2, 2, 2, 2}), 0);
    // Negative logit multiplied: -1.0 * 1.1 = -1.1 < -1.05.
    const std::vector<float> negative{-1.0f, -1.05f, -3.0f};
    EXPECT_EQ(sampler.sample(negative.data(), 3, {}), 0);
    EXPECT_EQ(sampler.sample(negative.data(), 3, {0}), 1);
    // Out-of-range history tokens are ignored.
    EXPECT_EQ(sampler.sample(negative.data(), 3, {-5, 99}), 0);
}

TEST(SamplerTest, AllImpossibleLogitsFallBackToLowestId)
{
    const std::vector<float> logits(5, -INFINITY);
    Sampler sampler(plainParams(1.0f));
    EXPECT_EQ(sampler.sample(logits.data(), 5, {}), 0);
}

TEST(SamplerTest, LargeVocabularyMatchesFullSortReference)
{
    const int32_t vocab = 150000;
    const auto logits = randomLogits(vocab, 99);
    std::vector<int32_t> order(static_cast<size_t>(vocab));
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
        return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
    });

    SamplerParams params = plainParams(1.0f);
    params.topK = 40;
    Sampler topK(params);
    topK.sample(logits.data(), vocab, {});
    auto kept = topK.lastCandidates();
    ASSERT_EQ(kept.size(), 40u);
    for (size_t i = 0; i < kept.size(); ++i)
        EXPECT_EQ(kept[i].token, order[i]);

    // Top-p alone over the whole vocabulary: compare with a full-sort reference.
    params = plainParams(1.0f);
    params.topP = 0.9f;
    Sampler topP(params);
    topP.sample(logits.data(), vocab, {});
    kept = topP.lastCandidates();
    const float maxLogit = logits[order[0]];
    double total = 0.0;
    for (float l : logits)
        total += std::exp(l - maxLogit);
    double cumulative = 0.0;
    size_t expectedCount = 0;
    while (cumulative < 0.9 * total)
        cumulative += std::exp(logits[order[expectedCount++]] - maxLogit);
    ASSERT_EQ(kept.size(), expectedCount);
    for (size_t i = 0; i < kept.size(); ++i)
        ASSERT_EQ(kept[i].token, order[i]);

    // Default settings on a 150k vocabulary should take well under a millisecond
    // or so per token; print it rather than assert, machines differ.
    Sampler defaults{SamplerParams{}};
    std::vector<int32_t> history(64, 5);
    const auto start = std::chrono::steady_clock::now();
    const int iterations = 50;
    for (int i = 0; i < iterations; ++i)
        defaults.sample(logits.data(), vocab, history);
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    std::printf("[ info ] default sampler, 150k vocabulary: %.3f ms per token\n", ms / iterations);
}

} // namespace
} // namespace folio
