#include "engine/session/sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace folio {

uint64_t SplitMix64::next()
{
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

double SplitMix64::nextUnit()
{
    return static_cast<double>(next() >> 11) * 0x1.0p-53;
}

int32_t argmaxToken(const float* logits, int32_t vocabSize)
{
    if (vocabSize <= 0)
        return -1;
    int32_t best = 0;
    float bestLogit = logits[0];
    for (int32_t i = 1; i < vocabSize; ++i) {
        // Strictly greater keeps the lowest id on ties; NaN never wins.
        if (logits[i] > bestLogit || (std::isnan(bestLogit) && !std::isnan(logits[i]))) {
            best = i;
            bestLogit = logits[i];
        }
    }
    return best;
}

Sampler::Sampler(SamplerParams params) : params_(params), rng_(params.seed) {}

void Sampler::reset(uint64_t seed)
{
    params_.seed = seed;
    rng_ = SplitMix64(seed);
}

int32_t Sampler::sample(const float* logits, int32_t vocabSize, const std::vector<int32_t>& history)
{
    if (vocabSize <= 0)
        return -1;
    logits_.assign(logits, logits + vocabSize);
    // A NaN would poison every comparison below; treat it as "impossible".
    for (float& l : logits_)
        if (std::isnan(l))
            l = -std::numeric_limits<float>::infinity();
    applyRepeatPenalty(history, vocabSize);

    if (params_.temperature <= 0.0f) {
        candidates_.clear();
        return argmaxToken(logits_.data(), vocabSize);
    }

    selectTopK(vocabSize);
    computeProbabilities();
    if (totalMass_ <= 0.0 || !std::isfinite(totalMass_)) {
        // Every logit is -inf: nothing to draw from, fall back to the lowest id.
        const int32_t fallback = argmaxToken(logits_.data(), vocabSize);
        candidates_.assign(1, fallback);
        probs_[fallback] = 1.0f;
        return fallback;
    }
    // top-p then min-p is the documented order. min-p's threshold is relative to
    // p_max, and both filters keep a prefix of the tokens sorted by probability,
    // so applying the cheap linear min-p filter first leaves the same set while
    // top-p then sorts far fewer tokens (top-p still uses the full softmax mass).
    applyMinP();
    applyTopP();
    return draw();
}

void Sampler::applyRepeatPenalty(const std::vector<int32_t>& history, int32_t vocabSize)
{
    const float penalty = params_.repeatPenalty;
    if (penalty == 1.0f || penalty <= 0.0f || params_.repeatLastN == 0 || history.empty())
        return;
    const size_t window = params_.repeatLastN < 0
                              ? history.size()
                              : std::min(history.size(), static_cast<size_t>(params_.repeatLastN));
    penalised_.assign(history.end() - static_cast<std::ptrdiff_t>(window), history.end());
    // Each token is penalised once, however often it repeats.
    std::sort(penalised_.begin(), penalised_.end());
    penalised_.erase(std::unique(penalised_.begin(), penalised_.end()), penalised_.end());
    for (int32_t token : penalised_) {
        if (token < 0 || token >= vocabSize)
            continue;
        float& l = logits_[token];
        l = l > 0.0f ? l / penalty : l * penalty;
    }
}

namespace {

// Candidate order used everywhere: higher logit first, then lower id, so that
// results never depend on how the sort algorithm treats ties.
struct BetterToken {
    const float* logits;
    bool operator()(int32_t a, int32_t b) const
    {
        return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
    }
};

} // namespace

void Sampler::selectTopK(int32_t vocabSize)
{
    const BetterToken better{logits_.data()};
    const int32_t k = params_.topK;
    candidates_.clear();
    if (k <= 0 || k >= vocabSize) {
        candidates_.resize(static_cast<size_t>(vocabSize));
        for (int32_t i = 0; i < vocabSize; ++i)
            candidates_[static_cast<size_t>(i)] = i;
        candidatesSorted_ = false;
        return;
    }
    // One pass with a k-element heap whose front is the worst kept token: most
    // tokens are rejected by a single comparison, so 150k logits cost ~0.2 ms.
    candidates_.reserve(static_cast<size_t>(k));
    for (int32_t i = 0; i < k; ++i)
        candidates_.push_back(i);
    std::make_heap(candidates_.begin(), candidates_.end(), better);
    for (int32_t i = k; i < vocabSize; ++i) {
        if (better(i, candidates_.front())) {
            std::pop_heap(candidates_.begin(), candidates_.end(), better);
            candidates_.back() = i;
            std::push_heap(candidates_.begin(), candidates_.end(), better);
        }
    }
    std::sort(candidates_.begin(), candidates_.end(), better);
    candidatesSorted_ = true;
}

void Sampler::computeProbabilities()
{
    probs_.resize(logits_.size());
    float maxLogit = -std::numeric_limits<float>::infinity();
    for (int32_t t : candidates_)
        maxLogit = std::max(maxLogit, logits_[t]);
    totalMass_ = 0.0;
    if (!std::isfinite(maxLogit))
        return;
    const float invTemperature = 1.0f / params_.temperature;
    double sum = 0.0;
    for (int32_t t : candidates_) {
        // Relative to the maximum, so the best token has exactly 1 before normalising.
        const float p = std::exp((logits_[t] - maxLogit) * invTemperature);
        probs_[t] = p;
        sum += p;
    }
    totalMass_ = sum;
}

void Sampler::applyMinP()
{
    const float minP = params_.minP;
    if (minP <= 0.0f)
        return;
    // p_max is exactly 1 in the unnormalised probabilities.
    const float threshold = std::min(minP, 1.0f);
    std::erase_if(candidates_, [&](int32_t t) { return probs_[t] < threshold; });
}

void Sampler::applyTopP()
{
    const float topP = params_.topP;
    if (topP >= 1.0f || candidates_.size() <= 1)
        return;
    const BetterToken better{logits_.data()};
    const double target = static_cast<double>(std::max(topP, 0.0f)) * totalMass_;
    const auto begin = candidates_.begin();
    const size_t n = candidates_.size();
    // Sort only as far as needed: the best `chunk` tokens first, doubling the
    // chunk until the kept mass reaches topP (usually within the first chunk).
    size_t sorted = candidatesSorted_ ? n : 0;
    size_t chunk = 64;
    double cumulative = 0.0;
    for (size_t i = 0; i < n; ++i) {
        if (i == sorted) {
            const size_t end = std::min(n, sorted + chunk);
            if (end < n)
                std::nth_element(begin + static_cast<std::ptrdiff_t>(sorted),
                                 begin + static_cast<std::ptrdiff_t>(end), candidates_.end(), better);
            std::sort(begin + static_cast<std::ptrdiff_t>(sorted), begin + static_cast<std::ptrdiff_t>(end),
                      better);
            sorted = end;
            chunk *= 2;
        }
        cumulative += probs_[candidates_[i]];
        if (cumulative >= target) {
            candidates_.resize(i + 1);  // the token that crosses topP is kept
            break;
        }
    }
    candidatesSorted_ = true;
}

int32_t Sampler::draw()
{
    double kept = 0.0;
    for (int32_t t : candidates_)
        kept += probs_[t];
    const double u = rng_.nextUnit() * kept;
    double cumulative = 0.0;
    for (int32_t t : candidates_) {
        cumulative += probs_[t];
        if (u < cumulative)
            return t;
    }
    return candidates_.back();  // rounding left u at the very top
}

std::vector<Sampler::Candidate> Sampler::lastCandidates() const
{
    double kept = 0.0;
    for (int32_t t : candidates_)
        kept += probs_[t];
    std::vector<Candidate> out;
    out.reserve(candidates_.size());
    for (int32_t t : candidates_)
        out.push_back({t, kept > 0.0 ? static_cast<float>(probs_[t] / kept) : 0.0f});
    return out;
}

} // namespace folio
