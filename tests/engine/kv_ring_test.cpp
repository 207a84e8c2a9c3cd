// KV rings of sliding-window layers (kv_cache.h): a gemma3 session whose local
// layers keep W + batch - 1 (+ slack) rows gives the logits of one that keeps every
// position, in prefill, micro-batches and decode; truncate() goes back as far as the
// rings allow and says so beyond; a saved state loads into the same rings; the
// memory estimate counts the rings.
#include "engine/attention/kv_cache.h"
#include "engine/model/model.h"
#include "engine/session/context_planner.h"
#include "engine/session/session.h"
#include "engine/session/session_state.h"

#include "tests/engine/reference_llama.h"
#include "tests/engine/test_models.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <sstream>
#include <stdexcept>

#include <gtest/gtest.h>

using namespace folio;
using namespace folio::test;

namespace {

struct ModelFile {
    std::string path;
    explicit ModelFile(const TinyModelSpec& spec) : path(tempModelPath("ring")) { writeTinyModel(spec, path); }
    ~ModelFile() { std::filesystem::remove(path); }
};

double relativeError(const std::vector<float>& a, const std::vector<float>& b)
{
    double diff = 0.0, scale = 1e-6;
    for (std::size_t i = 0; i < b.size(); ++i) {
        diff = std::max(diff, std::abs(double(a[i]) - b[i]));
        scale = std::max(scale, std::abs(double(b[i])));
    }
    return diff / scale;
}

std::vector<int32_t> someTokens(int n, int vocab)
{
    std::vector<int32_t> tokens;
    for (int t = 0; t < n; ++t)
        tokens.push_back((t * 29 + 5) % vocab);
    return tokens;
}

SessionOptions ringOptions(int context, int batch, int slack)
{
    SessionOptions options;
    options.contextLength = context;
    options.threads = 2;
    options.batchSize = batch;
    options.kvType = KvType::F32;
    options.ringSlack = slack;
    return options;
}

} // namespace

TEST(KvRing, SlotsWrapIntoRowsAndTilesStopAtTheWrap)
{
    KvCache cache(2, 1, 4, 100, KvType::F32, {5, 0}, 3, 0);  // layer 0: a ring of 5 + 3 - 1 = 7 rows
    EXPECT_EQ(cache.layerRows(0), 7);
    EXPECT_EQ(cache.layerRows(1), 100);
    EXPECT_EQ(cache.bytes(), 2u * (7 + 100) * 4 * sizeof(float));
    std::vector<float> k(12 * 4), v(12 * 4);
    for (std::size_t i = 0; i < k.size(); ++i)
        k[i] = v[i] = static_cast<float>(i / 4);  // token t: all t
    cache.store(0, 0, 12, k.data(), v.data(), 4);
    cache.commit(12);
    EXPECT_EQ(cache.keyRow(0, 0, 9), cache.keyRow(0, 0, 2));  // 9 mod 7
    float row[4];
    cache.rowsToFloat(cache.keyRow(0, 0, 9), 1, row);
    EXPECT_EQ(row[0], 9.0f);
    EXPECT_EQ(cache.contiguousRows(0, 9), 5);
    EXPECT_EQ(cache.contiguousRows(1, 9), 91);
    EXPECT_EQ(cache.oldestSlot(0), 5);
    EXPECT_EQ(cache.oldestSlot(1), 0);
    EXPECT_TRUE(cache.canTruncate(9));    // keys 5..8 still held
    EXPECT_FALSE(cache.canTruncate(8));   // key 4 is gone
    EXPECT_THROW(cache.truncate(8), std::logic_error);
    cache.truncate(10);
    EXPECT_EQ(cache.length(), 10);
    cache.truncate(0);  // forgetting everything is always possible
    EXPECT_EQ(cache.oldestSlot(0), 0);
}

TEST(KvRing, Gemma3RingsGiveTheLogitsOfAFullCache)
{
    const TinyModelSpec spec = gemma3Spec();  // window 8
    const ModelFile file(spec);
    const auto model = Model::load(file.path);
    const int n = 90;
    const std::vector<int32_t> tokens = someTokens(n, spec.vocab);
    const auto expected = ReferenceLlama(file.path).logits(tokens);

    Session full(model, ringOptions(n, 9, n));  // slack n: every position kept
    EXPECT_EQ(full.cache().layerRows(0), n);
    const std::vector<float> fullAll = full.prefillWithLogits(tokens, n);

    Session ring(model, ringOptions(n, 9, 0));  // rings of 8 + 9 - 1 = 16 rows
    EXPECT_EQ(ring.cache().layerRows(0), 16);
    EXPECT_EQ(ring.cache().layerRows(5), n);  // the global layer keeps every position
    EXPECT_LT(ring.cache().bytes(), full.cache().bytes() / 3);
    const std::vector<float> ringAll = ring.prefillWithLogits(tokens, n);
    // The same keys in the same order; only the tiles split at the wrap (rounding).
    EXPECT_LT(relativeError(ringAll, fullAll), 1e-5);
    const std::vector<float> last(ringAll.end() - spec.vocab, ringAll.end());
    EXPECT_LT(relativeError(last, expected.back()), 2e-3);

    Session decode(model, ringOptions(n, 1, 0));  // rings of 8 rows
    EXPECT_EQ(decode.cache().layerRows(0), 8);
    for (int t = 0; t < n; ++t) {
        decode.decode(tokens[t]);
        ASSERT_LT(relativeError(decode.logits(), expected[t]), 2e-3) << "token " << t;
    }

    // Back as far as the rings hold the window: 16 rows after 90 tokens keep 74..89,
    // enough for position 81 (keys 74..80); for 40 the session reads 0..39 again.
    EXPECT_TRUE(ring.cache().canTruncate(81));
    ring.truncate(81);
    ring.decode(tokens[81]);
    EXPECT_LT(relativeError(ring.logits(), expected[81]), 2e-3);
    EXPECT_FALSE(ring.cache().canTruncate(40));
    ring.truncate(40);
    EXPECT_EQ(ring.position(), 40);
    EXPECT_TRUE(ring.logits().empty());
    ring.decode(tokens[40]);
    EXPECT_LT(relativeError(ring.logits(), expected[40]), 2e-3);
}

TEST(KvRing, Gemma3StateLoadsIntoTheSameRings)
{
    const TinyModelSpec spec = gemma3Spec();
    const ModelFile file(spec);
    const auto model = Model::load(file.path);
    const std::vector<int32_t> tokens = someTokens(60, spec.vocab);
    Session original(model, ringOptions(80, 9, 0));
    original.prefill(tokens);
    std::stringstream stream;
    OstreamStateWriter out(stream);
    original.saveState(out);

    Session restored(model, ringOptions(80, 9, 0));
    IstreamStateReader in(stream);
    restored.loadState(in);
    original.decode(7);
    restored.decode(7);
    EXPECT_EQ(restored.logits(), original.logits());

    Session otherRings(model, ringOptions(80, 4, 0));  // rings of 11 rows: refused, named
    std::stringstream again;
    OstreamStateWriter out2(again);
    original.saveState(out2);
    IstreamStateReader in2(again);
    try {
        otherRings.loadState(in2);
        ADD_FAILURE() << "loaded into other rings";
    } catch (const SessionStateError& error) {
        EXPECT_NE(std::string(error.what()).find("KV ring rows"), std::string::npos) << error.what();
    }
}

TEST(KvRing, TheMemoryEstimateCountsTheRings)
{
    const ModelFile file(gemma3Spec());
    const auto model = Model::load(file.path);
    const std::size_t row = kvRowBytes(KvType::F16, 32) * 2;  // 2 KV heads
    // 6 local layers of min(1000, 8 + 16 - 1 + 0) rows and 1 global layer of 1000.
    EXPECT_EQ(model->memoryEstimate(1000, KvType::F16, 16, 0).kvBytes, 2 * row * (6 * 23 + 1000));
    EXPECT_EQ(model->memoryEstimate(1000, KvType::F16, 16).kvBytes,
              2 * row * (6 * std::min(1000, 8 + 15 + KvCache::kRingSlack) + 1000));
    SessionOptions options = ringOptions(1000, 16, 0);
    options.kvType = KvType::F16;
    const Session session(model, options);
    EXPECT_EQ(session.cache().bytes(), model->memoryEstimate(1000, KvType::F16, 16, 0).kvBytes);

    // The planner's figure for a long document: the local layers hold their rings only.
    PlanRequest request;
    request.tokens = 20000;
    request.kvType = KvType::F16;
    request.batchSize = 64;
    request.availableBytes = std::size_t{1} << 40;
    const ContextPlan plan = planContext(*model, request);
    const int ringRows = 8 + 63 + KvCache::kRingSlack;
    EXPECT_EQ(plan.memory.kvBytes, 2 * row * (6 * std::size_t(ringRows) + 20000));
}
