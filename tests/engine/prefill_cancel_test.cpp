// Cancelling a prefill: a micro-batch in flight stops between layers and is dropped
// whole (nothing committed, logits untouched), and the session continues from there
// to the same state as an uninterrupted prefill.
#include "engine/model/forward.h"
#include "engine/session/session.h"
#include "engine/kernels/thread_pool.h"

#include "tests/engine/test_models.h"

#include <atomic>
#include <cmath>
#include <cstdio>

#include <gtest/gtest.h>

using namespace folio;

TEST(PrefillCancel, ABatchCancelledBetweenLayersCommitsNothing)
{
    test::TinyModelSpec spec;
    spec.layers = 3;
    const std::string path = test::writeTinyModel(spec, test::tempModelPath("cancel"));
    const auto model = Model::load(path);
    const ModelHyperParams& p = model->params();
    KvCache cache(p.blockCount, p.headCountKv, p.headDim, 64, KvType::F16);
    ForwardScratch scratch(*model, 16);
    ThreadPool pool(2);
    StandardAttention attention({p.headCount, p.headCountKv, p.headDim, 1.0f / std::sqrt(float(p.headDim))},
                                model->ropeConfig(), pool.size());
    std::vector<int32_t> tokens(16), positions(16);
    for (int t = 0; t < 16; ++t)
        tokens[t] = 3 + t, positions[t] = t;
    std::vector<float> logits(p.vocabSize, 42.0f);
    const std::atomic<bool> cancelled{true};
    EXPECT_FALSE(forwardBatch(*model, attention, cache, scratch, tokens.data(), positions.data(), 16, 0,
                              LogitsMode::Last, logits.data(), pool, &cancelled));
    EXPECT_EQ(cache.length(), 0);
    EXPECT_EQ(logits[0], 42.0f);
    const std::atomic<bool> running{false};
    EXPECT_TRUE(forwardBatch(*model, attention, cache, scratch, tokens.data(), positions.data(), 16, 0,
                             LogitsMode::Last, logits.data(), pool, &running));
    EXPECT_EQ(cache.length(), 16);

    // Through a Session: cancel from the progress callback after the second batch;
    // whole batches only are kept, and continuing gives the uninterrupted logits.
    SessionOptions options;
    options.contextLength = 64;
    options.batchSize = 8;
    options.threads = 2;
    std::vector<int32_t> prompt(40);
    for (int t = 0; t < 40; ++t)
        prompt[t] = 3 + (t * 7) % 90;
    Session whole(model, options);
    whole.prefill(prompt);
    Session interrupted(model, options);
    std::atomic<bool> cancel{false};
    interrupted.prefill(prompt, [&](int done, int) { cancel = done >= 16; }, &cancel);
    EXPECT_EQ(interrupted.position(), 16);
    interrupted.prefill(std::vector<int32_t>(prompt.begin() + 16, prompt.end()));
    ASSERT_EQ(interrupted.position(), 40);
    for (int v = 0; v < p.vocabSize; ++v)
        ASSERT_NEAR(interrupted.logits()[v], whole.logits()[v], 1e-4f) << v;
    std::remove(path.c_str());
}
