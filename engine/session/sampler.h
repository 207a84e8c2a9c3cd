// Choosing the next token from the logits: repetition penalty, greedy or
// top-k / temperature / top-p / min-p, then a seeded draw.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/session/stop_strings.h"

namespace folio {

struct SamplerParams {
    float temperature = 0.7f;    // <= 0 means greedy
    int topK = 40;               // <= 0 (or >= vocabulary size): off
    float topP = 0.95f;          // >= 1: off
    float minP = 0.05f;          // <= 0: off (keep tokens with p >= minP * p_max)
    float repeatPenalty = 1.1f;  // 1: off; divides positive logits, multiplies negative ones
    int repeatLastN = 64;        // how many of the last history tokens are penalised; 0: off, < 0: all
    uint64_t seed = 0;           // same seed + same logits -> same choices
};

// splitmix64: tiny, fast, and its output is fixed by its definition, so a seed
// gives the same draws with every compiler and standard library.
class SplitMix64 {
public:
    explicit SplitMix64(uint64_t seed = 0) : state_(seed) {}
    uint64_t next();
    double nextUnit();  // uniform in [0, 1), 53 random bits
private:
    uint64_t state_;
};

class Sampler {
public:
    explicit Sampler(SamplerParams params);

    // history: the tokens so far (prompt + generated); only its tail is read.
    int32_t sample(const float* logits, int32_t vocabSize, const std::vector<int32_t>& history);

    void reset(uint64_t seed);
    const SamplerParams& params() const { return params_; }

    // The candidates and their normalised probabilities that the last
    // non-greedy sample() drew from (in sampler order); for tests and debugging.
    struct Candidate { int32_t token; float probability; };
    std::vector<Candidate> lastCandidates() const;

private:
    void applyRepeatPenalty(const std::vector<int32_t>& history, int32_t vocabSize);
    void selectTopK(int32_t vocabSize);
    void computeProbabilities();
    void applyMinP();
    void applyTopP();
    int32_t draw();

    SamplerParams params_;
    SplitMix64 rng_;
    // Reused between calls so that a 150k vocabulary costs no allocation per token.
    std::vector<float> logits_;
    std::vector<int32_t> candidates_;   // token ids still in play
    bool candidatesSorted_ = false;     // candidates_ already in BetterToken order
    std::vector<float> probs_;          // unnormalised probability per token id (only candidates valid)
    double totalMass_ = 0.0;            // sum of probs_ over the top-k candidates (the softmax denominator)
    std::vector<int32_t> penalised_;
};

// Highest logit; ties go to the lowest token id.
int32_t argmaxToken(const float* logits, int32_t vocabSize);

} // namespace folio
