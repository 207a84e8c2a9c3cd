// The forward pass of every family (model/family.h), one micro-batch of tokens at a
// time; it branches on the family description, never on the architecture name.
// It reads top to bottom like llama2.c; the speed lives in the kernels underneath
// (kernels/matmul.h) and in the attention component (attention/attention.h).
#pragma once

#include "engine/attention/attention.h"
#include "engine/attention/kv_cache.h"
#include "engine/model/model.h"
#include "engine/session/context_options.h"

#include <cstddef>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

namespace folio {

class ThreadPool;

// Activations of one micro-batch, allocated once per session.
struct ForwardScratch {
    ForwardScratch(const Model& model, int batchSize);
    static std::size_t bytesFor(const Model& model, int batchSize);

    int batchSize;
    std::vector<float> x;       // residual stream, batch x embd
    std::vector<float> xn;      // normalised input of a block, batch x embd
    std::vector<float> q, k, v; // projections, batch x (heads | kvHeads) x headDim
    std::vector<float> att;     // attention output, batch x heads x headDim
    std::vector<float> proj;    // output of attn_output / ffn_down, batch x embd
    std::vector<float> gate, up;  // batch x feed-forward (of one expert for a mixture: max(batch, used) rows)
    std::vector<float> fused;     // output of a fused projection (qkv, gate|up); empty if none

    // Mixture of experts (model/mixture_of_experts.h); empty for a dense model.
    std::vector<float> routerLogits;          // batch x experts
    std::vector<int32_t> chosenExperts;       // batch x used, per token in falling weight
    std::vector<float> chosenWeights;         // batch x used
    std::vector<int32_t> expertStart;         // experts + 1: each expert's first pair below
    std::vector<int32_t> expertTokens;        // batch x used (token, weight) pairs grouped by expert
    std::vector<float> expertTokenWeights;
    std::vector<float> expertIn, expertOut;   // batch x embd: one expert's tokens, gathered
};

// The attention of every layer of `model`, as its family describes it. Global layers
// rotate with `rope` (the session's, extensions applied) and run Dual Chunk Attention
// when `dca` is given; sliding-window layers (FamilyDescription::slidingWindow) see
// their window only, with the model's local RoPE, untouched by any extension, and
// report nothing to an AttentionObserver (evidence comes from the global layers).
std::unique_ptr<AttentionMethod> makeModelAttention(const Model& model, const RopeConfig& rope,
                                                    const std::optional<DcaConfig>& dca, int threads);

enum class LogitsMode { None, Last, All };

// Runs tokens[0..count) (count <= scratch.batchSize) that occupy cache slots
// [firstSlot, firstSlot + count) at the given absolute positions, and commits them
// to the cache. logits receives vocab floats for the last token (Last) or for every
// token, token-major (All). If *cancel becomes true it stops between layers and
// returns false: nothing is committed and the logits are not written.
bool forwardBatch(const Model& model, AttentionMethod& attention, KvCache& cache, ForwardScratch& scratch,
                  const int32_t* tokens, const int32_t* positions, int count, int firstSlot, LogitsMode mode,
                  float* logits, ThreadPool& pool, const std::atomic<bool>* cancel = nullptr);

} // namespace folio
