// How a session stretches a model's context: the RoPE scaling (the model's own,
// or a user override: none, linear / PI, NTK-aware base change, YaRN) and Dual
// Chunk Attention. notes/dca.md §9.1 is the resolution rule: every user value that
// is set wins over the GGUF metadata, every unset one falls back to it.
#pragma once

#include "engine/attention/rope.h"

#include <optional>
#include <string>
#include <string_view>

namespace folio {

class Model;

enum class RopeScaling { None, Linear, Ntk, Yarn };

std::string_view ropeScalingName(RopeScaling scaling);
// "none", "linear" (or "pi"), "ntk", "yarn"; throws std::invalid_argument otherwise.
RopeScaling parseRopeScaling(std::string_view name);

// User overrides; unset fields keep the model's value.
struct RopeOverrides {
    std::optional<RopeScaling> scaling;
    std::optional<float> scale;          // factor s: linear / YaRN freq_scale = 1/s; NTK base * s^(d/(d-2))
    std::optional<float> freqBase;
    std::optional<int> yarnOriginalContext;
    std::optional<float> yarnExtFactor;
    std::optional<float> yarnAttnFactor;
    std::optional<float> yarnBetaFast;
    std::optional<float> yarnBetaSlow;
    bool operator==(const RopeOverrides&) const = default;
};

// The model's RoPE with the overrides applied (throws std::invalid_argument on a
// nonsensical value, naming the option), for a session of contextLength tokens
// (LongRoPE picks its factors by it; 0: the trained context).
RopeConfig resolveRope(const Model& model, const RopeOverrides& overrides, int contextLength = 0);

// Dual Chunk Attention (notes/dca.md §1-7). C = chunkSize (largest position a query
// receives), W = localWindow, S = C - W chunk length.
struct DcaOptions {
    bool enabled = false;
    int chunkSize = 0;       // 0: from GGUF dca.chunk_size, else 3L/4 of the trained length L
    int localWindow = -1;    // < 0: from GGUF dca.local_window, else L/8
    // k of §7: logits x m^2, m = 1 + k ln(n/L) for n > L (0: the paper; < 0: from GGUF
    // dca.temperature, else 0).
    float temperature = -1.0f;
    bool operator==(const DcaOptions&) const = default;
};

struct DcaConfig {
    int chunkSize = 0;      // C
    int localWindow = 0;    // W
    int trainedLength = 0;  // L, for the temperature
    float temperature = 0.0f;
    int chunkLength() const { return chunkSize - localWindow; }  // S
};

// Fills the defaults from the model; throws std::invalid_argument when W < 0 or S < 1.
DcaConfig resolveDca(const Model& model, const DcaOptions& options);

// One line for status bars and logs, e.g. "DCA (C 3072, W 512) over RoPE base 10000".
std::string describeExtension(const RopeConfig& rope, const std::optional<DcaConfig>& dca);

} // namespace folio
