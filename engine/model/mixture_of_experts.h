// The feed-forward block of a mixture of experts (FamilyDescription::mixtureOfExperts):
// a router picks a few experts per token, and the block's output is the weighted sum
// of their SwiGLU (or GeGLU) feed-forward networks.
#pragma once

#include <cstdint>

namespace folio {

class Model;
class ThreadPool;
struct ForwardScratch;
struct LayerWeights;

// One token's routing from its router logits: softmax over all `experts`, the `used`
// largest (ties to the lower index), in falling order of weight, into chosen[0..used)
// with their probabilities in weights[0..used), those renormalised to sum 1 when
// `normalize` (Qwen3-MoE's norm_topk_prob).
void selectExperts(const float* logits, int experts, int used, bool normalize, int32_t* chosen, float* weights);

// s.proj[t] = sum over token t's chosen experts e of weight(t, e) * FFN_e(s.xn[t]),
// for the n tokens of the micro-batch. The tokens are grouped by expert, so each
// chosen expert's matrices are read once per batch (decode: only the chosen ones).
void mixtureOfExpertsFeedForward(const Model& model, const LayerWeights& layer, ForwardScratch& s, int n,
                                 ThreadPool& pool);

} // namespace folio
