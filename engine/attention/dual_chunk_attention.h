// Dual Chunk Attention (An et al., ICML 2024; notes/dca.md is the specification).
// The sequence is cut into chunks of S = C - W tokens. Keys are rotated once, at
// j mod S, when written to the cache; each query is rotated three times: at its
// offset r in its chunk (intra: keys of its own chunk), at min(S + r, C) (successive:
// the previous chunk) and at min(2S - 1, C) (inter: every earlier chunk). No
// relative distance presented to the model exceeds C, so a model trained on L
// tokens reads many times L. The three key ranges are contiguous and share one
// online softmax (CausalAttention with AttentionQueries), so memory stays linear.
#pragma once

#include "engine/attention/attention.h"
#include "engine/session/context_options.h"

#include <vector>

namespace folio {

class DualChunkAttention : public AttentionMethod {
public:
    DualChunkAttention(const AttentionShape& shape, const RopeConfig& rope, const DcaConfig& dca, int threads);

    // Positions (notes/dca.md §2) of absolute index i.
    struct Positions {
        int key, intra, successive, inter;
    };
    static Positions positionsOf(int index, const DcaConfig& dca);

    // §7: the logit multiplier m^2 for a query at absolute index i (1 without temperature).
    static double logitMultiplier(int index, const DcaConfig& dca);

    void beginBatch(const int32_t* positions, int count) override;
    void attend(const AttentionBatch& batch, KvCache& cache, ThreadPool& pool) override;
    void setObserver(AttentionObserver* observer) override { attention_.setObserver(observer); }
    const DcaConfig& config() const { return dca_; }

private:
    AttentionShape shape_;
    RopeTable rope_;
    DcaConfig dca_;
    CausalAttention attention_;
    int firstPosition_ = 0;
    int count_ = 0;
    // Per token of the batch, pairs() values each: key, intra, successive, inter angles.
    std::vector<float> cos_[4], sin_[4];
    std::vector<float> successive_, inter_;  // rotated copies of the batch's queries
};

} // namespace folio
