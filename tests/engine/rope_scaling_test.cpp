// RoPE scaling (notes/dca.md §9): linear / PI, NTK-aware base change, YaRN and
// frequency factors, in both layouts, against angles computed here in double from
// the specification's equations, at positions up to 100K; the spec's numeric
// anchors; and resolution of GGUF metadata plus user overrides (§9.1).
#include "engine/session/context_options.h"
#include "engine/model/model.h"
#include "engine/attention/rope.h"

#include "tests/engine/test_models.h"

#include <cmath>
#include <cstdio>
#include <vector>

#include <gtest/gtest.h>

using namespace folio;

namespace {

constexpr double kPi = 3.14159265358979323846;

// The equations of §9, written out independently of RopeTable.
std::vector<double> expectedRotation(const std::vector<float>& x, double p, const RopeConfig& c)
{
    const int n = c.dims;
    double low = 0, high = 0, mscale = c.attnFactor;
    if (c.extFactor != 0.0f) {
        auto corr = [&](double rotations) {
            return n * std::log(c.originalContext / (2 * kPi * rotations)) / (2 * std::log(double(c.freqBase)));
        };
        low = std::max(0.0, std::floor(corr(c.betaFast)));
        high = std::min(n - 1.0, std::ceil(corr(c.betaSlow)));
        mscale *= 1 + 0.1 * std::log(1.0 / c.freqScale);
    }
    std::vector<double> y(x.begin(), x.end());
    for (int i = 0; i < n / 2; ++i) {
        double extrap = p * std::pow(double(c.freqBase), -2.0 * i / n);
        if (!c.freqFactors.empty())
            extrap /= c.freqFactors[i];
        const double interp = c.freqScale * extrap;
        double theta = interp;
        if (c.extFactor != 0.0f) {
            const double ramp = (1 - std::clamp((i - low) / std::max(0.001, high - low), 0.0, 1.0)) * c.extFactor;
            theta = interp * (1 - ramp) + extrap * ramp;
        }
        const int a = c.neox ? i : 2 * i;
        const int b = c.neox ? i + n / 2 : 2 * i + 1;
        y[a] = (x[a] * std::cos(theta) - x[b] * std::sin(theta)) * mscale;
        y[b] = (x[a] * std::sin(theta) + x[b] * std::cos(theta)) * mscale;
    }
    return y;
}

void expectRotation(const RopeConfig& config, int headDim, const char* what)
{
    std::vector<float> x(headDim);
    for (int i = 0; i < headDim; ++i)
        x[i] = static_cast<float>(std::sin(0.37 * i + 0.1) + 0.05 * i);
    for (double p : {0.0, 3.0, 4095.0, 32768.0, 100000.0}) {
        std::vector<float> y = x;
        applyRope(y.data(), headDim, p, config);
        const std::vector<double> expected = expectedRotation(x, p, config);
        for (int i = 0; i < headDim; ++i)
            ASSERT_NEAR(y[i], expected[i], 2e-5 * (1 + std::abs(expected[i])))
                << what << ", neox " << config.neox << ", component " << i << " at position " << p;
    }
}

RopeConfig base(bool neox)
{
    RopeConfig c;
    c.dims = 64;
    c.neox = neox;
    return c;
}

} // namespace

TEST(RopeScaling, EveryVariantInBothLayoutsMatchesTheEquations)
{
    for (bool neox : {false, true}) {
        RopeConfig plain = base(neox);
        expectRotation(plain, 64, "plain");

        RopeConfig linear = base(neox);
        linear.freqScale = 0.25f;
        expectRotation(linear, 64, "linear x4");

        RopeConfig ntk = base(neox);
        ntk.freqBase = static_cast<float>(10000.0 * std::pow(4.0, 64.0 / 62.0));
        expectRotation(ntk, 64, "NTK x4");

        RopeConfig abf = base(neox);
        abf.freqBase = 1e6f;  // CodeLlama's RoPE ABF base
        expectRotation(abf, 64, "base 1e6");

        RopeConfig yarn = base(neox);
        yarn.freqScale = 1.0f / 8;
        yarn.extFactor = 1.0f;
        yarn.originalContext = 4096;
        expectRotation(yarn, 64, "YaRN x8");
        yarn.attnFactor = 0.8f;
        yarn.betaFast = 16.0f;
        yarn.betaSlow = 2.0f;
        yarn.extFactor = 0.5f;
        expectRotation(yarn, 64, "YaRN, custom factors");

        RopeConfig factors = base(neox);
        for (int i = 0; i < 32; ++i)
            factors.freqFactors.push_back(i < 12 ? 1.0f : 1.0f + 0.25f * (i - 12));
        factors.freqScale = 0.5f;
        expectRotation(factors, 64, "frequency factors + linear");

        RopeConfig partial = base(neox);
        partial.dims = 32;  // half of a 64-wide head rotated
        expectRotation(partial, 64, "partial rotary");
    }
}

TEST(RopeScaling, SpecificationAnchors)
{
    auto corrDims = [](int dims, double b, int ctx) {
        return std::pair<double, double>(std::max(0.0, std::floor(yarnCorrectionDim(dims, b, ctx, 32))),
                                         std::min(dims - 1.0, std::ceil(yarnCorrectionDim(dims, b, ctx, 1))));
    };
    EXPECT_EQ(corrDims(128, 1e4, 4096), std::make_pair(20.0, 46.0));
    EXPECT_EQ(corrDims(128, 1e6, 32768), std::make_pair(23.0, 40.0));
    EXPECT_EQ(corrDims(128, 5e5, 8192), std::make_pair(18.0, 35.0));

    const double expectedSquares[] = {1.1434, 1.2965, 1.4591};
    int k = 0;
    for (float s : {2.0f, 4.0f, 8.0f}) {
        RopeConfig c = base(false);
        c.freqScale = 1.0f / s;
        c.extFactor = 1.0f;
        c.originalContext = 4096;
        const RopeTable table(c);
        EXPECT_NEAR(double(table.magnitude()) * table.magnitude(), expectedSquares[k++], 1e-4) << "s = " << s;
    }
}

TEST(RopeScaling, ResolvesGgufMetadataAndUserOverrides)
{
    test::TinyModelSpec spec;
    spec.embd = 128;
    spec.heads = 1;
    spec.kvHeads = 1;  // head dim 128, as in the §9 NTK anchor
    spec.contextLength = 4096;
    const auto plainModel = Model::load(test::writeTinyModel(spec, test::tempModelPath("rope-plain")));
    RopeConfig c = resolveRope(*plainModel, {});
    EXPECT_EQ(c.freqScale, 1.0f);
    EXPECT_EQ(c.extFactor, 0.0f);
    EXPECT_EQ(c.freqBase, 10000.0f);

    RopeOverrides ntk;
    ntk.scaling = RopeScaling::Ntk;
    ntk.scale = 4.0f;
    EXPECT_NEAR(resolveRope(*plainModel, ntk).freqBase, 40889.94, 0.05);  // §9 anchor
    EXPECT_EQ(resolveRope(*plainModel, ntk).freqScale, 1.0f);

    RopeOverrides pi;
    pi.scaling = RopeScaling::Linear;
    pi.scale = 8.0f;
    EXPECT_EQ(resolveRope(*plainModel, pi).freqScale, 0.125f);

    RopeOverrides yarn;
    yarn.scaling = RopeScaling::Yarn;
    yarn.scale = 4.0f;
    c = resolveRope(*plainModel, yarn);
    EXPECT_EQ(c.extFactor, 1.0f);
    EXPECT_EQ(c.originalContext, 4096);
    EXPECT_EQ(c.betaFast, 32.0f);
    EXPECT_EQ(c.betaSlow, 1.0f);

    // A YaRN model (Qwen2 style metadata): the file's factor, attention factor and
    // original context, then user values winning over them.
    spec.architecture = "qwen2";
    spec.contextLength = 32768;
    spec.stringKeys = {{"qwen2.rope.scaling.type", "yarn"}};
    spec.floatKeys = {{"qwen2.rope.scaling.factor", 4.0f}, {"qwen2.rope.scaling.attn_factor", 0.9f}};
    spec.intKeys = {{"qwen2.rope.scaling.original_context_length", 8192}};
    const auto yarnModel = Model::load(test::writeTinyModel(spec, test::tempModelPath("rope-yarn")));
    c = resolveRope(*yarnModel, {});
    EXPECT_TRUE(c.neox);
    EXPECT_EQ(c.freqScale, 0.25f);
    EXPECT_EQ(c.extFactor, 1.0f);
    EXPECT_NEAR(c.attnFactor, 0.9f, 1e-7);
    EXPECT_EQ(c.originalContext, 8192);
    RopeOverrides user;
    user.yarnAttnFactor = 2.0f;
    user.yarnOriginalContext = 16384;
    user.freqBase = 1e6f;
    c = resolveRope(*yarnModel, user);
    EXPECT_NEAR(c.attnFactor, 1.8f, 1e-6);  // the user's factor times the file's
    EXPECT_EQ(c.originalContext, 16384);
    EXPECT_EQ(c.freqBase, 1e6f);
    RopeOverrides none;
    none.scaling = RopeScaling::None;
    c = resolveRope(*yarnModel, none);
    EXPECT_EQ(c.freqScale, 1.0f);
    EXPECT_EQ(c.extFactor, 0.0f);

    // Legacy linear factor without a type: linear (llama.cpp's rule).
    spec.architecture = "llama";
    spec.stringKeys.clear();
    spec.intKeys.clear();
    spec.floatKeys = {{"llama.rope.scale_linear", 2.0f}};
    const auto linearModel = Model::load(test::writeTinyModel(spec, test::tempModelPath("rope-linear")));
    EXPECT_EQ(resolveRope(*linearModel, {}).freqScale, 0.5f);

    RopeOverrides bad;
    bad.scale = -1.0f;
    EXPECT_THROW(resolveRope(*plainModel, bad), std::invalid_argument);
    EXPECT_THROW(parseRopeScaling("dynamic"), std::invalid_argument);
    for (const char* path : {plainModel->path().c_str(), yarnModel->path().c_str(), linearModel->path().c_str()})
        std::remove(path);
}

TEST(RopeScaling, UnknownScalingTypeInTheFileIsAClearError)
{
    test::TinyModelSpec spec;
    spec.stringKeys = {{"llama.rope.scaling.type", "longrope"}};
    const std::string path = test::writeTinyModel(spec, test::tempModelPath("rope-bad"));
    try {
        Model::load(path);
        FAIL() << "expected ModelError";
    } catch (const ModelError& error) {
        EXPECT_NE(std::string(error.what()).find("longrope"), std::string::npos) << error.what();
        EXPECT_NE(std::string(error.what()).find(path), std::string::npos) << error.what();
    }
    std::remove(path.c_str());
}
