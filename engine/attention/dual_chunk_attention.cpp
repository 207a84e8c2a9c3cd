#include "engine/attention/dual_chunk_attention.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>

namespace folio {

DualChunkAttention::DualChunkAttention(const AttentionShape& shape, const RopeConfig& rope, const DcaConfig& dca,
                                       int threads)
    : shape_(shape), rope_(rope), dca_(dca), attention_(shape, threads)
{
    if (rope.dims > shape.headDim)
        throw std::invalid_argument("attention: RoPE dimensions exceed the head dimension");
    if (dca.localWindow < 0 || dca.chunkLength() < 1)
        throw std::invalid_argument("DCA: need 0 <= W < C");
}

DualChunkAttention::Positions DualChunkAttention::positionsOf(int index, const DcaConfig& dca)
{
    const int s = dca.chunkLength();
    const int r = index % s;
    return {r, r, std::min(s + r, dca.chunkSize), std::min(2 * s - 1, dca.chunkSize)};
}

double DualChunkAttention::logitMultiplier(int index, const DcaConfig& dca)
{
    const double seen = index + 1.0;
    if (dca.temperature <= 0.0f || dca.trainedLength <= 0 || seen <= dca.trainedLength)
        return 1.0;
    const double m = 1.0 + dca.temperature * std::log(seen / dca.trainedLength);
    return m * m;
}

void DualChunkAttention::beginBatch(const int32_t* positions, int count)
{
    const std::size_t pairs = rope_.pairs();
    for (int k = 0; k < 4; ++k) {
        cos_[k].resize(pairs * count);
        sin_[k].resize(pairs * count);
    }
    firstPosition_ = count > 0 ? positions[0] : 0;
    count_ = count;
    for (int t = 0; t < count; ++t) {
        if (positions[t] != firstPosition_ + t)
            throw std::invalid_argument("DCA: a batch's positions must be consecutive");
        const Positions p = positionsOf(positions[t], dca_);
        // The temperature goes on the queries only: scaling q by m^2 scales the logits
        // like m on both q and k, and cached keys never depend on the sequence length.
        const double m2 = logitMultiplier(positions[t], dca_);
        const int at[4] = {p.key, p.intra, p.successive, p.inter};
        for (int k = 0; k < 4; ++k)
            rope_.angles(at[k], &cos_[k][t * pairs], &sin_[k][t * pairs], k == 0 ? 1.0 : m2);
    }
}

void DualChunkAttention::attend(const AttentionBatch& batch, KvCache& cache, ThreadPool& pool)
{
    const std::size_t pairs = rope_.pairs();
    if (batch.count != count_ || batch.firstSlot != firstPosition_)
        throw std::logic_error("DCA: the batch does not match beginBatch (slots must equal positions)");
    const std::size_t queryFloats = static_cast<std::size_t>(batch.count) * batch.queryStride;
    successive_.resize(queryFloats);
    inter_.resize(queryFloats);
    const int s = dca_.chunkLength();
    for (int t = 0; t < batch.count; ++t) {
        const std::size_t at = t * pairs;
        const int chunk = (firstPosition_ + t) / s;
        float* q = batch.queries + static_cast<std::size_t>(t) * batch.queryStride;
        const std::size_t headFloats = static_cast<std::size_t>(shape_.heads) * shape_.headDim;
        // Copies only where a range exists: chunk 0 has no successive, chunks 0-1 no inter keys.
        if (chunk >= 1) {
            float* qs = successive_.data() + static_cast<std::size_t>(t) * batch.queryStride;
            std::memcpy(qs, q, headFloats * sizeof(float));
            rope_.rotateHeads(qs, shape_.heads, shape_.headDim, &cos_[2][at], &sin_[2][at]);
        }
        if (chunk >= 2) {
            float* qi = inter_.data() + static_cast<std::size_t>(t) * batch.queryStride;
            std::memcpy(qi, q, headFloats * sizeof(float));
            rope_.rotateHeads(qi, shape_.heads, shape_.headDim, &cos_[3][at], &sin_[3][at]);
        }
        rope_.rotateHeads(q, shape_.heads, shape_.headDim, &cos_[1][at], &sin_[1][at]);
        rope_.rotateHeads(batch.keys + static_cast<std::size_t>(t) * batch.kvStride, shape_.kvHeads, shape_.headDim,
                          &cos_[0][at], &sin_[0][at]);
    }
    cache.store(batch.layer, batch.firstSlot, batch.count, batch.keys, batch.values, batch.kvStride);
    AttentionQueries queries;
    queries.intra = batch.queries;
    queries.successive = successive_.data();
    queries.inter = inter_.data();
    queries.stride = batch.queryStride;
    queries.chunkLength = s;
    attention_.run(cache, batch.layer, queries, batch.count, batch.firstSlot, batch.out, batch.outStride, pool);
}

} // namespace folio
