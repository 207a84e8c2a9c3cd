#include "engine/model/family.h"

#include "engine/gguf/gguf.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <stdexcept>

namespace folio {

const std::vector<std::string>& supportedArchitectures()
{
    static const std::vector<std::string> names{"llama", "qwen2", "qwen3", "qwen3moe", "phi3", "gemma3"};
    return names;
}

std::string supportedArchitectureList()
{
    std::string list;
    for (const std::string& name : supportedArchitectures())
        list += (list.empty() ? "" : ", ") + name;
    return list;
}

namespace {

[[noreturn]] void invalidKey(const std::string& key, const std::string& value)
{
    throw std::invalid_argument("key '" + key + "' has the invalid value " + value);
}

// Five local layers, then one global: the pattern of every Gemma 3 size, which the
// converted files do not say (llama.cpp and transformers fix it too). A file may say
// otherwise with {arch}.attention.sliding_window_pattern, as newer converters write it
// for other families: an integer period P (layer l global when (l + 1) % P == 0; 1:
// every layer global) or one bool per layer (true: sliding window).
constexpr int kGemma3GlobalLayerPeriod = 6;

void readLayerPattern(const GgufFile& file, const std::string& arch, FamilyDescription& f)
{
    const std::string key = arch + ".attention.sliding_window_pattern";
    if (!file.has(key))
        return;
    const int64_t layers = file.getInt(arch + ".block_count").value_or(0);
    if (file.typeOf(key) == GgufValueType::Array) {
        std::vector<bool> local = file.getBoolArray(key);
        if (static_cast<int64_t>(local.size()) != layers)
            throw std::invalid_argument("key '" + key + "' lists " + std::to_string(local.size())
                                        + " layers, the model has " + std::to_string(layers));
        f.localLayers = std::move(local);
        return;
    }
    const std::optional<int64_t> period = file.getInt(key);
    if (!period || *period < 1 || *period > std::max<int64_t>(layers, 1))
        invalidKey(key, file.describeValue(key) + " (a period from 1 to the " + std::to_string(layers) + " layers)");
    f.globalLayerPeriod = static_cast<int>(*period);
}

void describeGemma3Attention(const GgufFile& file, FamilyDescription& f)
{
    const std::string arch = "gemma3";
    const std::optional<int64_t> window = file.getInt(arch + ".attention.sliding_window");
    if (!window)
        throw std::invalid_argument("missing key '" + arch + ".attention.sliding_window'");
    if (*window <= 0 || *window > (int64_t{1} << 30))
        invalidKey(arch + ".attention.sliding_window", std::to_string(*window));
    f.slidingWindow = static_cast<int>(*window);
    f.globalLayerPeriod = kGemma3GlobalLayerPeriod;
    readLayerPattern(file, arch, f);
    const double localBase = file.getFloat(arch + ".rope.freq_base_swa").value_or(10000.0);
    if (!std::isfinite(localBase) || localBase <= 1.0)
        invalidKey(arch + ".rope.freq_base_swa", std::to_string(localBase));
    f.localRopeBase = static_cast<float>(localBase);

    if (const std::optional<double> scalar = file.getFloat(arch + ".attention.query_pre_attn_scalar")) {
        if (!std::isfinite(*scalar) || *scalar <= 0.0)
            invalidKey(arch + ".attention.query_pre_attn_scalar", std::to_string(*scalar));
        f.queryPreAttnScalar = static_cast<float>(*scalar);
        return;
    }
    // Gemma 3 27B scales by n_embd / n_head (5376 / 32 = 168) instead of its head dim
    // of 128; the files do not say so, the layer count (62) identifies the size.
    const int64_t embd = file.getInt(arch + ".embedding_length").value_or(0);
    const int64_t heads = file.getInt(arch + ".attention.head_count").value_or(0);
    const int64_t layers = file.getInt(arch + ".block_count").value_or(0);
    const int64_t headDim = file.getInt(arch + ".attention.key_length").value_or(heads > 0 ? embd / heads : 0);
    if (layers == 62 && heads > 0 && embd % heads == 0 && embd / heads != headDim)
        f.queryPreAttnScalar = static_cast<float>(embd / heads);
}

// {arch}.expert_count, expert_used_count and expert_feed_forward_length. The
// converters write all three; llama.cpp falls back to feed_forward_length /
// expert_used_count for the last, and so does this.
void describeExperts(const GgufFile& file, const std::string& arch, FamilyDescription& f)
{
    auto count = [&](const std::string& suffix) -> std::optional<int64_t> {
        const std::string key = arch + "." + suffix;
        const std::optional<int64_t> value = file.getInt(key);
        if (value && (*value <= 0 || *value > (int64_t{1} << 20)))
            invalidKey(key, std::to_string(*value));
        return value;
    };
    const std::optional<int64_t> experts = count("expert_count");
    const std::optional<int64_t> used = count("expert_used_count");
    if (!experts)
        throw std::invalid_argument("missing key '" + arch + ".expert_count'");
    if (!used)
        throw std::invalid_argument("missing key '" + arch + ".expert_used_count'");
    if (*used > *experts)
        throw std::invalid_argument("key '" + arch + ".expert_used_count' (" + std::to_string(*used)
                                    + ") exceeds '" + arch + ".expert_count' (" + std::to_string(*experts) + ")");
    std::optional<int64_t> ff = count("expert_feed_forward_length");
    if (!ff) {
        const std::optional<int64_t> dense = file.getInt(arch + ".feed_forward_length");
        if (!dense || *dense <= 0 || *dense % *used != 0)
            throw std::invalid_argument("missing key '" + arch + ".expert_feed_forward_length'");
        ff = *dense / *used;
    }
    f.expertCount = static_cast<int>(*experts);
    f.expertUsedCount = static_cast<int>(*used);
    f.expertFeedForward = static_cast<int>(*ff);
}

} // namespace

FamilyDescription describeFamily(const GgufFile& file, const std::string& arch)
{
    FamilyDescription f;
    f.architecture = arch;
    if (arch == "llama") {
        f.displayName = "Llama";
    } else if (arch == "qwen2") {
        f.displayName = "Qwen2";
        f.qkvBias = true;
        f.ropeNeox = true;
        f.defaultRmsEpsilon = 1e-6;
    } else if (arch == "qwen3") {
        f.displayName = "Qwen3";
        f.qkNorm = true;
        f.ropeNeox = true;
        f.defaultRmsEpsilon = 1e-6;
    } else if (arch == "qwen3moe") {  // Qwen3-30B-A3B, Qwen3-235B-A22B: qwen3 with experts in every layer
        // llama.cpp's graph for this architecture renormalises the chosen weights
        // (Qwen3-MoE's norm_topk_prob is true); the files carry no key for it.
        f.displayName = "Qwen3-MoE";
        f.qkNorm = true;
        f.ropeNeox = true;
        f.defaultRmsEpsilon = 1e-6;
        f.normalizeExpertWeights = true;
        describeExperts(file, arch, f);
    } else if (arch == "phi3") {  // Phi-3, Phi-3.5-mini, Phi-4-mini
        // phi3.attention.sliding_window (Phi-3-mini-4k: 2047) is not applied: the
        // public converters write it for files that were used with full attention,
        // and llama.cpp disables it for this architecture too.
        f.displayName = "Phi-3";
        f.fusedQkv = true;
        f.fusedGateUp = true;
        f.ropeNeox = true;
        f.longRope = true;
    } else if (arch == "gemma3") {  // Gemma 3 1B-27B (text)
        // The public converter has already added Gemma's 1 to every norm weight, so
        // they are plain RMSNorm weights here.
        f.displayName = "Gemma 3";
        f.qkNorm = true;
        f.ropeNeox = true;
        f.activation = Activation::GeluTanh;
        f.postNorms = true;
        f.scaleEmbedding = true;
        f.defaultRmsEpsilon = 1e-6;
        describeGemma3Attention(file, f);
    } else {
        throw std::invalid_argument("unsupported architecture '" + arch + "' (supported: "
                                    + supportedArchitectureList() + ")");
    }
    // Soft-capping is a property of the file (gemma2 writes it), not of the name.
    if (const std::optional<double> cap = file.getFloat(arch + ".final_logit_softcapping")) {
        if (!std::isfinite(*cap) || *cap < 0.0)
            throw std::invalid_argument("key '" + arch + ".final_logit_softcapping' has the invalid value "
                                        + std::to_string(*cap));
        f.finalLogitSoftcap = static_cast<float>(*cap);
    }
    return f;
}

} // namespace folio
