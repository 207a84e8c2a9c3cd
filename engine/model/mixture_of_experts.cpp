#include "engine/model/mixture_of_experts.h"

#include "engine/kernels/matmul.h"
#include "engine/kernels/ops.h"
#include "engine/kernels/thread_pool.h"
#include "engine/model/forward.h"
#include "engine/model/model.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

namespace folio {

void selectExperts(const float* logits, int experts, int used, bool normalize, int32_t* chosen, float* weights)
{
    // Chosen by logit (the softmax keeps the order, and float rounding of exp could
    // tie two logits that differ).
    std::vector<int32_t> order(experts);
    std::iota(order.begin(), order.end(), 0);
    std::partial_sort(order.begin(), order.begin() + used, order.end(), [&](int32_t a, int32_t b) {
        return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
    });
    const float maximum = logits[order[0]];
    double total = 0.0;
    for (int e = 0; e < experts; ++e)
        total += std::exp(static_cast<double>(logits[e]) - maximum);
    double chosenTotal = 0.0;
    for (int i = 0; i < used; ++i) {
        chosen[i] = order[i];
        weights[i] = static_cast<float>(std::exp(static_cast<double>(logits[order[i]]) - maximum) / total);
        chosenTotal += weights[i];
    }
    if (normalize)
        for (int i = 0; i < used; ++i)
            weights[i] = static_cast<float>(weights[i] / chosenTotal);
}

namespace {

// Y[t] = W_e X[t] for the m rows of X, W_e an expert's rows x cols slice.
void projectExpert(const ExpertMatrices& w, int expert, const float* x, int m, float* y, ThreadPool& pool)
{
    if (m == 1)
        matVec(w.type, w.expert(expert), w.rows, w.cols, x, y, &pool);
    else
        matMul(w.type, w.expert(expert), w.rows, w.cols, x, m, y, &pool);
}

void gatedActivation(const Model& model, float* gate, const float* up, int m, int ff, ThreadPool& pool)
{
    const bool gelu = model.family().activation == Activation::GeluTanh;
    pool.parallelFor(
        m,
        [&](int64_t begin, int64_t end, int) {
            const std::size_t at = static_cast<std::size_t>(begin) * ff;
            const int count = static_cast<int>((end - begin) * ff);
            if (gelu)
                geluTanhGlu(gate + at, up + at, count);
            else
                swiGlu(gate + at, up + at, count);
        },
        8);
}

// One token (decode): the gate and up matrices of its chosen experts in one pass
// over the pool, x quantized once; then each chosen expert's down matrix.
void decodeToken(const Model& model, const LayerWeights& layer, ForwardScratch& s, ThreadPool& pool)
{
    const FamilyDescription& f = model.family();
    const int used = f.expertUsedCount, ff = f.expertFeedForward;
    const int embd = model.params().embeddingLength;
    std::vector<MatVecTarget> targets;
    targets.reserve(2 * static_cast<std::size_t>(used));
    for (int i = 0; i < used; ++i) {
        const int e = s.chosenExperts[i];
        targets.push_back({layer.gateExperts.type, layer.gateExperts.expert(e), ff, s.gate.data() + i * ff});
        targets.push_back({layer.upExperts.type, layer.upExperts.expert(e), ff, s.up.data() + i * ff});
    }
    matVecShared(targets.data(), static_cast<int>(targets.size()), embd, s.xn.data(), &pool);
    gatedActivation(model, s.gate.data(), s.up.data(), used, ff, pool);
    std::fill_n(s.proj.begin(), embd, 0.0f);
    for (int i = 0; i < used; ++i) {
        projectExpert(layer.downExperts, s.chosenExperts[i], s.gate.data() + i * ff, 1, s.expertOut.data(), pool);
        addScaled(s.proj.data(), s.chosenWeights[i], s.expertOut.data(), embd);
    }
}

} // namespace

void mixtureOfExpertsFeedForward(const Model& model, const LayerWeights& layer, ForwardScratch& s, int n,
                                 ThreadPool& pool)
{
    const FamilyDescription& f = model.family();
    const int experts = f.expertCount, used = f.expertUsedCount, ff = f.expertFeedForward;
    const int embd = model.params().embeddingLength;
    const WeightMatrix& router = layer.router;
    if (n == 1)
        matVec(router.type, router.data, router.rows, router.cols, s.xn.data(), s.routerLogits.data(), &pool);
    else
        matMul(router.type, router.data, router.rows, router.cols, s.xn.data(), n, s.routerLogits.data(), &pool);
    pool.parallelFor(
        n,
        [&](int64_t begin, int64_t end, int) {
            for (int64_t t = begin; t < end; ++t)
                selectExperts(s.routerLogits.data() + t * experts, experts, used, f.normalizeExpertWeights,
                              s.chosenExperts.data() + t * used, s.chosenWeights.data() + t * used);
        },
        16);
    if (n == 1) {
        decodeToken(model, layer, s, pool);
        return;
    }

    // Group the (token, expert) pairs by expert (a counting sort, tokens in order).
    std::vector<int32_t>& start = s.expertStart;
    std::fill(start.begin(), start.end(), 0);
    for (int i = 0; i < n * used; ++i)
        ++start[s.chosenExperts[i] + 1];
    for (int e = 0; e < experts; ++e)
        start[e + 1] += start[e];
    std::vector<int32_t> next(start.begin(), start.end() - 1);
    for (int t = 0; t < n; ++t)
        for (int i = 0; i < used; ++i) {
            const int slot = next[s.chosenExperts[t * used + i]]++;
            s.expertTokens[slot] = t;
            s.expertTokenWeights[slot] = s.chosenWeights[t * used + i];
        }

    std::fill_n(s.proj.begin(), static_cast<std::size_t>(n) * embd, 0.0f);
    for (int e = 0; e < experts; ++e) {
        const int first = start[e], m = start[e + 1] - start[e];
        if (m == 0)
            continue;
        for (int i = 0; i < m; ++i)
            std::copy_n(s.xn.data() + static_cast<std::size_t>(s.expertTokens[first + i]) * embd, embd,
                        s.expertIn.data() + static_cast<std::size_t>(i) * embd);
        projectExpert(layer.gateExperts, e, s.expertIn.data(), m, s.gate.data(), pool);
        projectExpert(layer.upExperts, e, s.expertIn.data(), m, s.up.data(), pool);
        gatedActivation(model, s.gate.data(), s.up.data(), m, ff, pool);
        projectExpert(layer.downExperts, e, s.gate.data(), m, s.expertOut.data(), pool);
        for (int i = 0; i < m; ++i)
            addScaled(s.proj.data() + static_cast<std::size_t>(s.expertTokens[first + i]) * embd,
                      s.expertTokenWeights[first + i], s.expertOut.data() + static_cast<std::size_t>(i) * embd, embd);
    }
}

} // namespace folio
