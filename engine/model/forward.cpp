#include "engine/model/forward.h"

#include "engine/attention/dual_chunk_attention.h"
#include "engine/kernels/matmul.h"
#include "engine/kernels/ops.h"
#include "engine/gguf/quant.h"
#include "engine/kernels/thread_pool.h"
#include "engine/model/mixture_of_experts.h"

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <utility>
#include <stdexcept>
#include <string>

namespace folio {

namespace {

// Y[t] = W X[t] for t < n: one token takes the int8 matrix-vector kernel, a batch the GEMM path.
void project(const WeightMatrix& w, const float* x, int n, float* y, ThreadPool& pool)
{
    if (n == 1)
        matVec(w.type, w.data, w.rows, w.cols, x, y, &pool);
    else
        matMul(w.type, w.data, w.rows, w.cols, x, n, y, &pool);
}

void addBias(float* y, const std::vector<float>& bias, int n)
{
    if (bias.empty())
        return;
    const int width = static_cast<int>(bias.size());
    for (int t = 0; t < n; ++t)
        addInPlace(y + static_cast<std::size_t>(t) * width, bias.data(), width);
}

void embed(const WeightMatrix& table, const int32_t* tokens, int n, float* x)
{
    const std::size_t bytesPerRow = rowBytes(table.type, table.cols);
    for (int t = 0; t < n; ++t) {
        if (tokens[t] < 0 || tokens[t] >= table.rows)
            throw std::out_of_range("forward: token id " + std::to_string(tokens[t]) + " outside the vocabulary of "
                                    + std::to_string(table.rows));
        dequantizeRow(table.type, table.data + tokens[t] * bytesPerRow, x + static_cast<std::size_t>(t) * table.cols,
                      table.cols);
    }
}

// Token rows split over the pool (one row, in decode, runs inline).
void rmsNormRows(float* out, const float* x, const std::vector<float>& weight, int n, int width, float eps,
                 ThreadPool& pool)
{
    pool.parallelFor(
        n,
        [&](int64_t begin, int64_t end, int) {
            for (int64_t t = begin; t < end; ++t)
                rmsNorm(out + static_cast<std::size_t>(t) * width, x + static_cast<std::size_t>(t) * width,
                        weight.data(), width, eps);
        },
        8);
}

} // namespace

namespace {

// Floats per token of the fused projections' output (0 when the family has none).
std::size_t fusedWidth(const Model& model)
{
    const ModelHyperParams& p = model.params();
    const FamilyDescription& f = model.family();
    const std::size_t qkv = f.fusedQkv ? static_cast<std::size_t>(p.headCount + 2 * p.headCountKv) * p.headDim : 0;
    const std::size_t gateUp = f.fusedGateUp ? 2 * static_cast<std::size_t>(p.feedForwardLength) : 0;
    return std::max(qkv, gateUp);
}

// Rows of the gate and up scratch: the batch's tokens of the dense FFN, or of one
// expert (at most the batch), or a decoded token's chosen experts side by side.
std::size_t feedForwardFloats(const Model& model, int batch)
{
    const FamilyDescription& f = model.family();
    if (!f.mixtureOfExperts())
        return static_cast<std::size_t>(batch) * model.params().feedForwardLength;
    return static_cast<std::size_t>(std::max(batch, f.expertUsedCount)) * f.expertFeedForward;
}

// Floats and int32s of the mixture-of-experts scratch (0 for a dense model).
std::size_t expertScratchWords(const Model& model, int batch)
{
    const FamilyDescription& f = model.family();
    if (!f.mixtureOfExperts())
        return 0;
    const std::size_t n = static_cast<std::size_t>(batch);
    return n * f.expertCount + 4 * n * f.expertUsedCount + f.expertCount + 1
           + 2 * n * model.params().embeddingLength;
}

// Splits n rows of a fused projection into its parts, row by row.
void splitRows(const float* fused, int n, std::initializer_list<std::pair<float*, int>> parts)
{
    int width = 0;
    for (const auto& part : parts)
        width += part.second;
    for (int t = 0; t < n; ++t) {
        const float* row = fused + static_cast<std::size_t>(t) * width;
        for (const auto& [out, partWidth] : parts) {
            std::copy_n(row, partWidth, out + static_cast<std::size_t>(t) * partWidth);
            row += partWidth;
        }
    }
}

// s.proj = Wdown (act(Wgate xn) * Wup xn) for the n rows of s.xn.
void denseFeedForward(const Model& model, const LayerWeights& w, ForwardScratch& s, int n, ThreadPool& pool)
{
    const FamilyDescription& family = model.family();
    const int embd = model.params().embeddingLength;
    const int ff = model.params().feedForwardLength;
    if (family.fusedGateUp) {
        project(w.up, s.xn.data(), n, s.fused.data(), pool);
        splitRows(s.fused.data(), n, {{s.gate.data(), ff}, {s.up.data(), ff}});
    } else if (n == 1) {
        const MatVecTarget gateUp[] = {{w.gate.type, w.gate.data, w.gate.rows, s.gate.data()},
                                       {w.up.type, w.up.data, w.up.rows, s.up.data()}};
        matVecShared(gateUp, 2, embd, s.xn.data(), &pool);
    } else {
        project(w.gate, s.xn.data(), n, s.gate.data(), pool);
        project(w.up, s.xn.data(), n, s.up.data(), pool);
    }
    // Elementwise, so split by tokens over the pool: on one thread, with its exp per
    // element, it held the other core idle for 1.6% of an F16 prefill.
    pool.parallelFor(
        n,
        [&](int64_t begin, int64_t end, int) {
            const std::size_t at = static_cast<std::size_t>(begin) * ff;
            const int count = static_cast<int>((end - begin) * ff);
            if (family.activation == Activation::GeluTanh)
                geluTanhGlu(s.gate.data() + at, s.up.data() + at, count);
            else
                swiGlu(s.gate.data() + at, s.up.data() + at, count);
        },
        8);
    project(w.down, s.gate.data(), n, s.proj.data(), pool);
}

} // namespace

std::unique_ptr<AttentionMethod> makeModelAttention(const Model& model, const RopeConfig& rope,
                                                    const std::optional<DcaConfig>& dca, int threads)
{
    const ModelHyperParams& p = model.params();
    const FamilyDescription& family = model.family();
    const AttentionShape shape{p.headCount, p.headCountKv, p.headDim, model.attentionScale()};
    auto global = [&]() -> std::unique_ptr<AttentionMethod> {
        if (dca)
            return std::make_unique<DualChunkAttention>(shape, rope, *dca, threads);
        return std::make_unique<StandardAttention>(shape, rope, threads);
    };
    if (family.slidingWindow == 0)
        return global();
    // Method 0 for the global layers, 1 for the local ones.
    std::vector<std::unique_ptr<AttentionMethod>> methods;
    methods.push_back(global());
    methods.push_back(
        std::make_unique<StandardAttention>(shape, model.localRopeConfig(), threads, family.slidingWindow));
    std::vector<int> methodOfLayer(p.blockCount);
    for (int l = 0; l < p.blockCount; ++l)
        methodOfLayer[l] = family.isGlobalLayer(l) ? 0 : 1;
    // Evidence (AttentionObserver) comes from the global layers: a local one sees its window only.
    return std::make_unique<PerLayerAttention>(std::move(methods), std::move(methodOfLayer), std::vector<int>{0});
}

ForwardScratch::ForwardScratch(const Model& model, int batch) : batchSize(batch)
{
    const ModelHyperParams& p = model.params();
    const std::size_t n = static_cast<std::size_t>(batch);
    x.resize(n * p.embeddingLength);
    xn.resize(n * p.embeddingLength);
    q.resize(n * p.headCount * p.headDim);
    k.resize(n * p.headCountKv * p.headDim);
    v.resize(n * p.headCountKv * p.headDim);
    att.resize(n * p.headCount * p.headDim);
    proj.resize(n * p.embeddingLength);
    gate.resize(feedForwardFloats(model, batch));
    up.resize(feedForwardFloats(model, batch));
    fused.resize(n * fusedWidth(model));
    const FamilyDescription& f = model.family();
    if (f.mixtureOfExperts()) {
        const std::size_t pairs = n * f.expertUsedCount;
        routerLogits.resize(n * f.expertCount);
        chosenExperts.resize(pairs);
        chosenWeights.resize(pairs);
        expertStart.resize(f.expertCount + 1);
        expertTokens.resize(pairs);
        expertTokenWeights.resize(pairs);
        expertIn.resize(n * p.embeddingLength);
        expertOut.resize(n * p.embeddingLength);
    }
}

std::size_t ForwardScratch::bytesFor(const Model& model, int batch)
{
    const ModelHyperParams& p = model.params();
    const std::size_t perToken = 3 * static_cast<std::size_t>(p.embeddingLength)
                                 + 2 * static_cast<std::size_t>(p.headCount) * p.headDim
                                 + 2 * static_cast<std::size_t>(p.headCountKv) * p.headDim
                                 + fusedWidth(model);
    const std::size_t logits = static_cast<std::size_t>(p.vocabSize);
    // Attention tiles: per thread a query tile and key/value tiles; small, bounded by a few hundred KiB.
    const std::size_t attentionTiles = 64 * 1024;
    return (perToken * batch + 2 * feedForwardFloats(model, batch) + expertScratchWords(model, batch) + logits
            + attentionTiles)
           * sizeof(float);
}

bool forwardBatch(const Model& model, AttentionMethod& attention, KvCache& cache, ForwardScratch& s,
                  const int32_t* tokens, const int32_t* positions, int n, int firstSlot, LogitsMode mode,
                  float* logits, ThreadPool& pool, const std::atomic<bool>* cancel)
{
    const ModelHyperParams& p = model.params();
    if (n <= 0 || n > s.batchSize)
        throw std::invalid_argument("forward: batch of " + std::to_string(n) + " tokens, scratch holds "
                                    + std::to_string(s.batchSize));
    if (firstSlot + n > cache.capacity())
        throw std::out_of_range("forward: slots up to " + std::to_string(firstSlot + n) + " exceed the cache of "
                                + std::to_string(cache.capacity()));
    const int embd = p.embeddingLength;
    const int qWidth = p.headCount * p.headDim;
    const int kvWidth = p.headCountKv * p.headDim;

    const FamilyDescription& family = model.family();
    embed(model.tokenEmbedding(), tokens, n, s.x.data());
    if (family.scaleEmbedding)
        scaleInPlace(s.x.data(), std::sqrt(static_cast<float>(embd)), n * embd);
    attention.beginBatch(positions, n);

    for (int l = 0; l < p.blockCount; ++l) {
        // Between layers: a long micro-batch of a big model takes seconds, and a
        // cancelled batch commits nothing (its half-written slots lie beyond length()).
        if (cancel && cancel->load(std::memory_order_relaxed))
            return false;
        const LayerWeights& w = model.layer(l);

        // Attention block: x += Wo * attention(rope(Wq xn), rope(Wk xn), Wv xn)
        rmsNormRows(s.xn.data(), s.x.data(), w.attnNorm, n, embd, p.rmsEpsilon, pool);
        if (family.fusedQkv) {
            project(w.wqkv, s.xn.data(), n, s.fused.data(), pool);
            splitRows(s.fused.data(), n, {{s.q.data(), qWidth}, {s.k.data(), kvWidth}, {s.v.data(), kvWidth}});
        } else if (n == 1) {  // decode: one pass over the pool for the three
            const MatVecTarget qkv[] = {{w.wq.type, w.wq.data, w.wq.rows, s.q.data()},
                                        {w.wk.type, w.wk.data, w.wk.rows, s.k.data()},
                                        {w.wv.type, w.wv.data, w.wv.rows, s.v.data()}};
            matVecShared(qkv, 3, embd, s.xn.data(), &pool);
        } else {
            project(w.wq, s.xn.data(), n, s.q.data(), pool);
            project(w.wk, s.xn.data(), n, s.k.data(), pool);
            project(w.wv, s.xn.data(), n, s.v.data(), pool);
        }
        addBias(s.q.data(), w.bq, n);
        addBias(s.k.data(), w.bk, n);
        addBias(s.v.data(), w.bv, n);
        if (family.qkNorm) {  // every head vector on its own, before RoPE
            rmsNormRows(s.q.data(), s.q.data(), w.qNorm, n * p.headCount, p.headDim, p.rmsEpsilon, pool);
            rmsNormRows(s.k.data(), s.k.data(), w.kNorm, n * p.headCountKv, p.headDim, p.rmsEpsilon, pool);
        }

        AttentionBatch batch;
        batch.layer = l;
        batch.firstSlot = firstSlot;
        batch.count = n;
        batch.queries = s.q.data();
        batch.keys = s.k.data();
        batch.values = s.v.data();
        batch.queryStride = qWidth;
        batch.kvStride = kvWidth;
        batch.out = s.att.data();
        batch.outStride = qWidth;
        attention.attend(batch, cache, pool);

        project(w.wo, s.att.data(), n, s.proj.data(), pool);
        if (family.postNorms)
            rmsNormRows(s.proj.data(), s.proj.data(), w.postAttnNorm, n, embd, p.rmsEpsilon, pool);
        addInPlace(s.x.data(), s.proj.data(), n * embd);

        // Feed-forward block: x += Wdown (act(Wgate xn) * Wup xn), act SiLU or GELU-tanh;
        // for a mixture of experts the weighted sum of the chosen experts' such blocks.
        rmsNormRows(s.xn.data(), s.x.data(), w.ffnNorm, n, embd, p.rmsEpsilon, pool);
        if (family.mixtureOfExperts())
            mixtureOfExpertsFeedForward(model, w, s, n, pool);
        else
            denseFeedForward(model, w, s, n, pool);
        if (family.postNorms)
            rmsNormRows(s.proj.data(), s.proj.data(), w.postFfnNorm, n, embd, p.rmsEpsilon, pool);
        addInPlace(s.x.data(), s.proj.data(), n * embd);
    }
    cache.commit(firstSlot + n);

    // Final norm and logits, only for the rows asked for.
    if (mode == LogitsMode::None)
        return true;
    const int first = mode == LogitsMode::Last ? n - 1 : 0;
    const int rows = n - first;
    float* xLast = s.x.data() + static_cast<std::size_t>(first) * embd;
    rmsNormRows(s.xn.data(), xLast, model.outputNorm(), rows, embd, p.rmsEpsilon, pool);
    project(model.output(), s.xn.data(), rows, logits, pool);
    if (family.finalLogitSoftcap > 0.0f) {
        const float cap = family.finalLogitSoftcap;
        for (std::size_t i = 0; i < static_cast<std::size_t>(rows) * p.vocabSize; ++i)
            logits[i] = cap * std::tanh(logits[i] / cap);
    }
    return true;
}

} // namespace folio
