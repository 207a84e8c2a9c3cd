// The context planner: method by length, forced methods, KV type fallback when
// memory is short, refusal with suggestions, and estimates that grow linearly.
#include "engine/session/context_planner.h"

#include "tests/engine/test_models.h"

#include <cstdio>

#include <gtest/gtest.h>

using namespace folio;

namespace {

class ContextPlanner : public ::testing::Test {
protected:
    static void SetUpTestSuite()
    {
        test::TinyModelSpec spec;
        spec.embd = 128;
        spec.heads = 2;
        spec.kvHeads = 1;  // head dim 64: quantized KV types allowed
        spec.contextLength = 512;
        path_ = new std::string(test::writeTinyModel(spec, test::tempModelPath("planner")));
        model_ = new std::shared_ptr<const Model>(Model::load(*path_));
    }
    static void TearDownTestSuite()
    {
        delete model_;
        std::remove(path_->c_str());
        delete path_;
    }
    static const Model& model() { return **model_; }
    static std::string* path_;
    static std::shared_ptr<const Model>* model_;
};
std::string* ContextPlanner::path_ = nullptr;
std::shared_ptr<const Model>* ContextPlanner::model_ = nullptr;

} // namespace

TEST_F(ContextPlanner, NoExtensionWithinTheTrainedLengthDcaBeyond)
{
    PlanRequest request;
    request.tokens = 500;
    request.availableBytes = std::size_t{1} << 30;
    ContextPlan plan = planContext(model(), request);
    EXPECT_EQ(plan.method, ExtensionMethod::None);
    EXPECT_FALSE(plan.options.dca.enabled);
    EXPECT_EQ(plan.options.kvType, KvType::F16);
    EXPECT_TRUE(plan.fits);
    EXPECT_EQ(plan.options.contextLength, 500);

    request.tokens = 8000;
    plan = planContext(model(), request);
    EXPECT_EQ(plan.method, ExtensionMethod::Dca);
    EXPECT_TRUE(plan.options.dca.enabled);
    EXPECT_NE(plan.extension.find("DCA (C 384, W 64)"), std::string::npos) << plan.extension;
    EXPECT_NE(plan.report().find("fits:       yes"), std::string::npos);
}

TEST_F(ContextPlanner, ForcedMethodsSetTheirScaling)
{
    PlanRequest request;
    request.tokens = 2048;  // 4x the trained 512
    request.availableBytes = std::size_t{1} << 30;
    request.method = ExtensionMethod::Linear;
    EXPECT_EQ(planContext(model(), request).options.rope.scale.value_or(0), 4.0f);
    request.method = ExtensionMethod::Yarn;
    ContextPlan plan = planContext(model(), request);
    EXPECT_EQ(plan.options.rope.scaling, RopeScaling::Yarn);
    EXPECT_NE(plan.extension.find("YaRN x4"), std::string::npos) << plan.extension;
    request.method = ExtensionMethod::Ntk;
    EXPECT_EQ(planContext(model(), request).options.rope.scaling, RopeScaling::Ntk);
    request.method = ExtensionMethod::None;
    plan = planContext(model(), request);
    ASSERT_FALSE(plan.suggestions.empty());  // longer than trained, no extension: said plainly
    EXPECT_NE(plan.suggestions[0].find("DCA"), std::string::npos);
    EXPECT_EQ(parseExtensionMethod("pi"), ExtensionMethod::Linear);
    EXPECT_THROW(parseExtensionMethod("rerope"), std::invalid_argument);
}

TEST_F(ContextPlanner, FallsBackToQuantizedCachesThenRefusesWithChoices)
{
    PlanRequest request;
    request.tokens = 100000;
    request.availableBytes = std::size_t{1} << 40;
    const ContextPlan roomy = planContext(model(), request);
    ASSERT_EQ(roomy.options.kvType, KvType::F16);
    const std::size_t f16Kv = roomy.memory.kvBytes;
    // KV grows linearly with the tokens (no n^2 term anywhere in the estimate).
    request.tokens = 200000;
    EXPECT_EQ(planContext(model(), request).memory.kvBytes, 2 * f16Kv);

    // Memory for weights + a Q8_0 cache but not F16: the planner picks Q8_0.
    request.tokens = 100000;
    request.availableBytes = roomy.memory.total() - f16Kv / 3;
    ContextPlan plan = planContext(model(), request);
    EXPECT_TRUE(plan.fits);
    EXPECT_EQ(plan.options.kvType, KvType::Q8_0);

    // Far too little: refused, with the choices spelled out and no silent truncation.
    request.availableBytes = roomy.memory.weightBytes + roomy.memory.scratchBytes + f16Kv / 10;
    plan = planContext(model(), request);
    EXPECT_FALSE(plan.fits);
    EXPECT_EQ(plan.options.contextLength, 100000);
    bool shorter = false;
    for (const std::string& s : plan.suggestions)
        shorter = shorter || s.find("a shorter range: at most") != std::string::npos;
    EXPECT_TRUE(shorter) << plan.report();
    EXPECT_NE(plan.report().find("fits:       no"), std::string::npos);
}

// The micro-batch: 512 for a dense model; for a mixture of experts enough that an
// expert's average share reaches 128 tokens (experts * 128 / used),
// never below 512 nor above 2048; an asked-for batch is kept.
TEST_F(ContextPlanner, MicroBatchGrowsWithTheExpertsPerChosenOne)
{
    EXPECT_EQ(defaultBatchSize(model()), 512);
    PlanRequest request;
    request.tokens = 500;
    request.availableBytes = std::size_t{1} << 30;
    EXPECT_EQ(planContext(model(), request).options.batchSize, 512);
    request.batchSize = 96;
    EXPECT_EQ(planContext(model(), request).options.batchSize, 96);

    struct Case {
        int experts, used, batch;
    };
    for (const Case c : {Case{8, 3, 512}, Case{32, 8, 512}, Case{64, 8, 1024}, Case{128, 8, 2048}, Case{128, 2, 2048}}) {
        test::TinyModelSpec spec = test::qwen3moeSpec();
        spec.experts = c.experts;
        spec.expertsUsed = c.used;
        const std::string path = test::writeTinyModel(spec, test::tempModelPath("planner-moe"));
        const auto moe = Model::load(path);
        EXPECT_EQ(defaultBatchSize(*moe), c.batch) << c.experts << " experts, " << c.used << " used";
        PlanRequest r;
        r.tokens = 200;
        r.availableBytes = std::size_t{1} << 30;
        EXPECT_EQ(planContext(*moe, r).options.batchSize, c.batch);
        std::remove(path.c_str());
    }
}
