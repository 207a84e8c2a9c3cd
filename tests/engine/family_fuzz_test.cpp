// The keys a family description reads, given values no real file has: each file either
// loads, and then reads a few tokens with finite logits, or is refused with a
// ModelError that says what is wrong. Never a crash, a hang, an allocation of the
// whole machine or a NaN (the sanitizer build runs this too).
#include "engine/model/model.h"
#include "engine/session/context_options.h"
#include "engine/session/session.h"

#include "tests/engine/test_models.h"

#include <cmath>
#include <filesystem>
#include <limits>

#include <gtest/gtest.h>

using namespace folio;
using namespace folio::test;

namespace {

struct Outcome {
    int loaded = 0, refused = 0;
};

// Loads the file; if it loads, reads a few tokens and checks the logits.
void tryFile(const TinyModelSpec& spec, const std::string& what, Outcome& outcome)
{
    const std::string path = tempModelPath("fuzz");
    writeTinyModel(spec, path);
    try {
        SessionOptions options;
        options.contextLength = 32;
        options.threads = 1;
        Session session(Model::load(path), options);
        session.prefill({3, 7, 11, 5, 9, 2, 8, 13, 4, 6});
        for (const float l : session.logits())
            ASSERT_TRUE(std::isfinite(l)) << what << ": a logit is not finite";
        ++outcome.loaded;
    } catch (const ModelError& e) {
        EXPECT_GT(std::string(e.what()).size(), 10u) << what;
        ++outcome.refused;
    } catch (const std::exception& e) {
        // Other engine errors (the session's own checks) are fine too, if they say why.
        EXPECT_GT(std::string(e.what()).size(), 10u) << what;
        ++outcome.refused;
    }
    std::filesystem::remove(path);
}

TinyModelSpec familySpec(const std::string& family)
{
    if (family == "gemma3")
        return gemma3Spec();
    if (family == "qwen3moe")
        return qwen3moeSpec();
    TinyModelSpec spec;
    spec.architecture = family;
    if (family == "phi3")
        spec.longRopeOriginalContext = 64;
    return spec;
}

} // namespace

TEST(FamilyFuzz, OddIntegerKeysLoadOrAreRefusedWithAReason)
{
    const std::vector<std::string> keys = {
        "block_count", "embedding_length", "feed_forward_length", "context_length", "attention.head_count",
        "attention.head_count_kv", "attention.key_length", "attention.value_length", "rope.dimension_count",
        "attention.sliding_window", "rope.scaling.original_context_length", "expert_count", "expert_used_count",
        "expert_feed_forward_length", "attention.sliding_window_pattern",
    };
    const std::vector<uint32_t> values = {0, 1, 3, 7, 1u << 20, 0x7FFFFFFFu, 0xFFFFFFFFu};
    for (const std::string family : {"llama", "qwen3", "qwen3moe", "phi3", "gemma3"}) {
        Outcome outcome;
        for (const std::string& key : keys)
            for (const uint32_t value : values) {
                TinyModelSpec spec = familySpec(family);
                spec.intKeys.push_back({family + "." + key, value});
                tryFile(spec, family + "." + key + " = " + std::to_string(value), outcome);
                if (HasFatalFailure())
                    return;
            }
        EXPECT_GT(outcome.refused, 0) << family;
        EXPECT_GT(outcome.loaded, 0) << family;   // some odd values are harmless (a longer context)
    }
}

TEST(FamilyFuzz, OddFloatKeysLoadOrAreRefusedWithAReason)
{
    const std::vector<std::string> keys = {
        "rope.freq_base", "rope.freq_base_swa", "attention.layer_norm_rms_epsilon", "attention.query_pre_attn_scalar",
        "final_logit_softcapping", "attn_logit_softcapping", "rope.scaling.factor", "rope.scaling.attn_factor",
        "dca.temperature",
    };
    const float inf = std::numeric_limits<float>::infinity();
    const std::vector<float> values = {0.0f, -1.0f, 1e-30f, 1e30f, inf, -inf, std::nanf("")};
    for (const std::string family : {"llama", "qwen3", "qwen3moe", "phi3", "gemma3"}) {
        Outcome outcome;
        for (const std::string& key : keys)
            for (const float value : values) {
                TinyModelSpec spec = familySpec(family);
                spec.floatKeys.push_back({family + "." + key, value});
                tryFile(spec, family + "." + key + " = " + std::to_string(value), outcome);
                if (HasFatalFailure())
                    return;
            }
        EXPECT_GT(outcome.refused, 0) << family;
    }
}
