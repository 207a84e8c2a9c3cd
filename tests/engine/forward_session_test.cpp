// Session behaviour: whole-prompt prefill == micro-batches == token-by-token decode,
// thread counts, a full context, truncate and re-decode, cancel, generate.
#include "engine/model/model.h"
#include "engine/session/sampler.h"
#include "engine/session/session.h"

#include "tests/engine/test_models.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include <gtest/gtest.h>

using namespace folio;
using namespace folio::test;

namespace {

class SessionTest : public ::testing::Test {
protected:
    static void SetUpTestSuite()
    {
        TinyModelSpec spec;  // F32 weights: one-token and batch products agree to float rounding
        spec.vocab = 80;
        path_ = new std::string(tempModelPath("session"));
        writeTinyModel(spec, *path_);
    }
    static void TearDownTestSuite()
    {
        std::filesystem::remove(*path_);
        delete path_;
    }
    static std::shared_ptr<const Model> model() { return Model::load(*path_); }

    static SessionOptions options(int context, int threads, int batch)
    {
        SessionOptions o;
        o.contextLength = context;
        o.threads = threads;
        o.batchSize = batch;
        return o;
    }

    static std::vector<int32_t> prompt(int n)
    {
        std::vector<int32_t> tokens;
        for (int t = 0; t < n; ++t)
            tokens.push_back((t * 13 + 5) % 80);
        return tokens;
    }

    static double maxDifference(const std::vector<float>& a, const std::vector<float>& b)
    {
        double d = 0.0;
        for (std::size_t i = 0; i < a.size(); ++i)
            d = std::max(d, std::abs(static_cast<double>(a[i]) - b[i]));
        return d;
    }

    static std::string* path_;
};

std::string* SessionTest::path_ = nullptr;

TEST_F(SessionTest, PrefillAtOnceEqualsMicroBatchesEqualsDecode)
{
    const auto m = model();
    const std::vector<int32_t> tokens = prompt(40);
    Session whole(m, options(64, 1, 64));
    whole.prefill(tokens);
    Session batches(m, options(64, 1, 9));  // 9, 9, 9, 9, 4: partial batches and batches below the GEMM limit
    int lastDone = 0, calls = 0;
    batches.prefill(tokens, [&](int done, int total) {
        EXPECT_GT(done, lastDone);
        EXPECT_EQ(total, 40);
        lastDone = done;
        ++calls;
    });
    EXPECT_EQ(lastDone, 40);
    EXPECT_EQ(calls, 5);
    Session stepwise(m, options(64, 1, 64));
    for (int32_t t : tokens)
        stepwise.decode(t);
    ASSERT_EQ(whole.logits().size(), 80u);
    EXPECT_LT(maxDifference(whole.logits(), batches.logits()), 1e-3);
    EXPECT_LT(maxDifference(whole.logits(), stepwise.logits()), 1e-3);
    EXPECT_EQ(whole.position(), 40);
    EXPECT_EQ(stepwise.tokens(), tokens);
}

TEST_F(SessionTest, ThreadCountsGiveTheSameLogits)
{
    const auto m = model();
    const std::vector<int32_t> tokens = prompt(33);
    Session one(m, options(64, 1, 16));
    Session three(m, options(64, 3, 16));
    one.prefill(tokens);
    three.prefill(tokens);
    EXPECT_LT(maxDifference(one.logits(), three.logits()), 1e-4);
    one.decode(7);
    three.decode(7);
    EXPECT_LT(maxDifference(one.logits(), three.logits()), 1e-4);
}

TEST_F(SessionTest, LongCacheDecodeSplitsKeysAndStillMatches)
{
    // 1100 cached tokens make a decode step split the keys across threads; the
    // log-sum-exp merge must give what one thread computes in a single pass.
    const auto m = model();
    const std::vector<int32_t> tokens = prompt(1100);
    Session one(m, options(1200, 1, 256));
    Session three(m, options(1200, 3, 256));
    one.prefill(tokens);
    three.prefill(tokens);
    one.decode(3);
    three.decode(3);
    EXPECT_LT(maxDifference(one.logits(), three.logits()), 1e-4);
}

TEST_F(SessionTest, FullContextIsAnErrorNotATruncation)
{
    const auto m = model();
    Session session(m, options(10, 1, 4));
    EXPECT_THROW(session.prefill(prompt(11)), ContextFullError);
    EXPECT_EQ(session.position(), 0);
    session.prefill(prompt(10));
    EXPECT_EQ(session.position(), 10);
    EXPECT_THROW(session.decode(1), ContextFullError);
    EXPECT_EQ(session.position(), 10);
}

TEST_F(SessionTest, TruncateThenDecodeAgainGivesTheSameLogits)
{
    const auto m = model();
    const std::vector<int32_t> tokens = prompt(20);
    Session session(m, options(32, 2, 8));
    session.prefill(tokens);
    const std::vector<float> expected = session.logits();
    session.decode(50);
    session.decode(51);
    session.truncate(19);
    EXPECT_TRUE(session.logits().empty());
    EXPECT_EQ(session.position(), 19);
    session.decode(tokens[19]);
    EXPECT_LT(maxDifference(session.logits(), expected), 1e-4);
    EXPECT_THROW(session.truncate(21), std::out_of_range);
}

TEST_F(SessionTest, CancelStopsBetweenMicroBatchesKeepingTheWorkDone)
{
    const auto m = model();
    Session session(m, options(64, 1, 8));
    std::atomic<bool> cancel{false};
    session.prefill(prompt(40), [&](int done, int) { cancel = done >= 16; }, &cancel);
    EXPECT_EQ(session.position(), 16);
    // The rest can be prefilled later and gives the same result as one go.
    cancel = false;
    const std::vector<int32_t> all = prompt(40);
    session.prefill(std::vector<int32_t>(all.begin() + 16, all.end()));
    Session whole(m, options(64, 1, 64));
    whole.prefill(all);
    EXPECT_LT(maxDifference(session.logits(), whole.logits()), 1e-3);
}

TEST_F(SessionTest, GenerateIsDeterministicAndStopsWhereAsked)
{
    const auto m = model();
    SamplerParams params;
    params.temperature = 0.0f;  // greedy
    params.repeatPenalty = 1.0f;
    std::vector<int32_t> first, second;
    for (std::vector<int32_t>* out : {&first, &second}) {
        Session session(m, options(64, 1, 16));
        session.prefill(prompt(5));
        Sampler sampler(params);
        const GenerationStop stop = session.generate(sampler, 6, [&](int32_t t) {
            out->push_back(t);
            return true;
        });
        // Random weights may produce the eos id (2) early; either way it stops cleanly.
        EXPECT_TRUE(stop == GenerationStop::MaxTokens || stop == GenerationStop::EndOfGeneration);
        EXPECT_EQ(session.position(), 5 + static_cast<int>(out->size()));
    }
    EXPECT_EQ(first, second);

    Session session(m, options(7, 1, 16));
    session.prefill(prompt(5));
    Sampler sampler(params);
    int emitted = 0;
    const GenerationStop stop = session.generate(sampler, 10, [&](int32_t) { return ++emitted < 1; });
    if (stop != GenerationStop::EndOfGeneration) {
        EXPECT_EQ(stop, GenerationStop::Callback);
        EXPECT_EQ(session.position(), 6);
        EXPECT_EQ(session.generate(sampler, 10, {}), GenerationStop::ContextFull);
        EXPECT_EQ(session.position(), 7);
    }
}

} // namespace
