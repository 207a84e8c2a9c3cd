// RoPE: both layouts, partial rotary, frequency factors and linear scaling against
// angles computed directly in double, at positions where accumulated theta drifts.
#include "engine/attention/rope.h"

#include <cmath>
#include <vector>

#include <gtest/gtest.h>

using namespace folio;

namespace {

std::vector<float> sample(int n)
{
    std::vector<float> v(n);
    for (int i = 0; i < n; ++i)
        v[i] = std::sin(0.7 * i + 0.3) + 0.1f * i;
    return v;
}

// The rotation spelled out: pair i of the rotated part at angle p * theta_i.
std::vector<double> direct(const std::vector<float>& x, double p, const RopeConfig& c)
{
    std::vector<double> y(x.begin(), x.end());
    for (int i = 0; i < c.dims / 2; ++i) {
        double theta = c.freqScale * p * std::pow(static_cast<double>(c.freqBase), -2.0 * i / c.dims);
        if (!c.freqFactors.empty())
            theta /= c.freqFactors[i];
        const int a = c.neox ? i : 2 * i;
        const int b = c.neox ? i + c.dims / 2 : 2 * i + 1;
        y[a] = x[a] * std::cos(theta) - x[b] * std::sin(theta);
        y[b] = x[a] * std::sin(theta) + x[b] * std::cos(theta);
    }
    return y;
}

void expectMatches(const RopeConfig& config, int headDim, double position)
{
    const std::vector<float> x = sample(headDim);
    std::vector<float> y = x;
    applyRope(y.data(), headDim, position, config);
    const std::vector<double> expected = direct(x, position, config);
    for (int i = 0; i < headDim; ++i)
        EXPECT_NEAR(y[i], expected[i], 2e-5 * (1 + std::abs(expected[i]))) << "component " << i << " at " << position;
}

TEST(Rope, NormalAndNeoxLayoutsMatchDirectAngles)
{
    for (bool neox : {false, true}) {
        RopeConfig config;
        config.dims = 64;
        config.neox = neox;
        for (double p : {0.0, 1.0, 17.0, 5000.0, 131071.0})
            expectMatches(config, 64, p);
    }
}

TEST(Rope, PartialRotaryLeavesTheRestAlone)
{
    RopeConfig config;
    config.dims = 16;
    config.neox = true;
    config.freqBase = 1e6f;
    expectMatches(config, 40, 12345.0);
    const std::vector<float> x = sample(40);
    std::vector<float> y = x;
    applyRope(y.data(), 40, 99.0, config);
    for (int i = 16; i < 40; ++i)
        EXPECT_EQ(y[i], x[i]);
}

TEST(Rope, FrequencyFactorsAndLinearScale)
{
    RopeConfig config;
    config.dims = 32;
    config.freqBase = 500000.0f;
    for (int i = 0; i < 16; ++i)
        config.freqFactors.push_back(1.0f + i * 0.5f);
    expectMatches(config, 32, 70000.0);
    config.freqFactors.clear();
    config.freqScale = 0.25f;  // position interpolation: position p acts like p / 4
    RopeConfig unscaled = config;
    unscaled.freqScale = 1.0f;
    std::vector<float> a = sample(32), b = sample(32);
    applyRope(a.data(), 32, 4000.0, config);
    applyRope(b.data(), 32, 1000.0, unscaled);
    for (int i = 0; i < 32; ++i)
        EXPECT_NEAR(a[i], b[i], 1e-5);
}

TEST(Rope, ScoresDependOnlyOnTheDistance)
{
    RopeConfig config;
    config.dims = 64;
    const RopeTable table(config);
    auto score = [&](double pq, double pk) {
        std::vector<float> q = sample(64), k = sample(64);
        std::reverse(k.begin(), k.end());
        std::vector<float> c(32), s(32);
        table.angles(pq, c.data(), s.data());
        table.rotate(q.data(), c.data(), s.data());
        table.angles(pk, c.data(), s.data());
        table.rotate(k.data(), c.data(), s.data());
        double dot = 0;
        for (int i = 0; i < 64; ++i)
            dot += q[i] * k[i];
        return dot;
    };
    EXPECT_NEAR(score(10, 3), score(100007, 100000), 1e-3);
}

TEST(Rope, RejectsBadConfigurations)
{
    RopeConfig odd;
    odd.dims = 7;
    EXPECT_THROW(RopeTable{odd}, std::invalid_argument);
    RopeConfig factors;
    factors.dims = 8;
    factors.freqFactors = {1, 2, 3};
    EXPECT_THROW(RopeTable{factors}, std::invalid_argument);
}

} // namespace
