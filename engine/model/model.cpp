#include "engine/model/model.h"

#include "engine/gguf/checksum.h"
#include "engine/model/forward.h"
#include "engine/gguf/quant.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>

namespace folio {

namespace {

std::string shapeText(const std::vector<int64_t>& dims)
{
    std::string text = "[";
    for (std::size_t i = 0; i < dims.size(); ++i)
        text += (i ? ", " : "") + std::to_string(dims[i]);
    return text + "]";
}

std::string mebibytes(std::size_t bytes)
{
    std::ostringstream out;
    out.precision(1);
    out << std::fixed << static_cast<double>(bytes) / (1024.0 * 1024.0) << " MiB";
    return out.str();
}

// 1.10B, 494.0M, 12.3K: three significant figures or so.
std::string parameterText(int64_t count)
{
    std::ostringstream out;
    out.precision(count >= 1'000'000'000 ? 2 : 1);
    out << std::fixed;
    if (count >= 1'000'000'000)
        out << static_cast<double>(count) / 1e9 << "B";
    else if (count >= 1'000'000)
        out << static_cast<double>(count) / 1e6 << "M";
    else if (count >= 1'000)
        out << static_cast<double>(count) / 1e3 << "K";
    else
        out << count;
    return out.str();
}

} // namespace

Model::Model(GgufFile file) : file_(std::move(file)) {}

std::shared_ptr<const Model> Model::load(const std::string& path)
{
    std::shared_ptr<Model> model;
    try {
        model = std::make_shared<Model>(GgufFile::open(path));
    } catch (const GgufError& error) {
        throw ModelError(error.what());  // already names the file
    }
    model->readHyperParams();
    model->readWeights();
    model->readTokenizer();
    model->computeFingerprint();
    return model;
}

void Model::fail(const std::string& what) const
{
    throw ModelError(path() + ": " + what);
}

void Model::readHyperParams()
{
    const std::string arch = file_.architecture();
    if (arch.empty())
        fail("missing key 'general.architecture'");
    try {
        family_ = describeFamily(file_, arch);
    } catch (const std::invalid_argument& error) {
        fail(error.what());
    } catch (const GgufError& error) {
        throw ModelError(error.what());
    }
    params_.architecture = arch;

    auto readInt = [&](const std::string& suffix, std::optional<int64_t> fallback) -> int {
        const std::string key = arch + "." + suffix;
        std::optional<int64_t> value;
        try {
            value = file_.getInt(key);
        } catch (const GgufError& error) {
            throw ModelError(error.what());
        }
        if (!value) {
            if (!fallback)
                fail("missing key '" + key + "'");
            value = fallback;
        }
        if (*value <= 0 || *value > (int64_t{1} << 30))
            fail("key '" + key + "' has the out-of-range value " + std::to_string(*value));
        return static_cast<int>(*value);
    };
    auto readFloat = [&](const std::string& suffix, double fallback) -> float {
        const std::string key = arch + "." + suffix;
        try {
            const double value = file_.getFloat(key).value_or(fallback);
            if (!std::isfinite(value) || value <= 0.0)
                fail("key '" + key + "' has the invalid value " + std::to_string(value));
            return static_cast<float>(value);
        } catch (const GgufError& error) {
            throw ModelError(error.what());
        }
    };

    ModelHyperParams& p = params_;
    p.contextLength = readInt("context_length", std::nullopt);
    p.embeddingLength = readInt("embedding_length", std::nullopt);
    p.blockCount = readInt("block_count", std::nullopt);
    // A mixture of experts' dense width is unused (every layer has experts); a file
    // without it is complete.
    p.feedForwardLength = readInt("feed_forward_length", family_.mixtureOfExperts()
                                                             ? std::optional<int64_t>(family_.expertFeedForward)
                                                             : std::nullopt);
    p.headCount = readInt("attention.head_count", std::nullopt);
    p.headCountKv = readInt("attention.head_count_kv", p.headCount);
    if (p.embeddingLength % p.headCount != 0 && !file_.has(arch + ".attention.key_length"))
        fail("embedding length " + std::to_string(p.embeddingLength) + " is not a multiple of the head count "
             + std::to_string(p.headCount) + " and 'attention.key_length' is absent");
    p.headDim = readInt("attention.key_length", p.embeddingLength / p.headCount);
    const int valueLength = readInt("attention.value_length", p.headDim);
    if (valueLength != p.headDim)
        fail("attention.value_length " + std::to_string(valueLength) + " differs from key_length "
             + std::to_string(p.headDim) + " (not supported)");
    if (p.headCount % p.headCountKv != 0)
        fail("head count " + std::to_string(p.headCount) + " is not a multiple of the KV head count "
             + std::to_string(p.headCountKv));
    p.ropeDims = readInt("rope.dimension_count", p.headDim);
    if (p.ropeDims > p.headDim || p.ropeDims % 2 != 0)
        fail("rope.dimension_count " + std::to_string(p.ropeDims) + " must be even and at most the head dim "
             + std::to_string(p.headDim));
    p.ropeFreqBase = readFloat("rope.freq_base", 10000.0);
    p.rmsEpsilon = readFloat("attention.layer_norm_rms_epsilon", family_.defaultRmsEpsilon);
    p.ropeNeox = family_.ropeNeox;
    readRopeScaling();
}

void Model::readRopeScaling()
{
    ModelHyperParams& p = params_;
    const std::string prefix = p.architecture + ".";
    try {
        std::optional<double> factor = file_.getFloat(prefix + "rope.scaling.factor");
        if (!factor || *factor == 0.0)
            factor = file_.getFloat(prefix + "rope.scale_linear");
        if (factor && *factor != 0.0) {
            if (!std::isfinite(*factor) || *factor < 0.0)
                fail("key '" + prefix + "rope.scaling.factor' has the invalid value " + std::to_string(*factor));
            p.ropeScalingFactor = static_cast<float>(*factor);
        }
        // llama.cpp's rule: a factor without a type means linear.
        std::string type = file_.getString(prefix + "rope.scaling.type").value_or("linear");
        if (family_.longRope && (type == "longrope" || type == "su"))
            type = "none";  // LongRoPE is the factor tensors (readLongRope), not a frequency scale
        if (type != "none" && type != "linear" && type != "yarn")
            fail("unsupported RoPE scaling type '" + type + "' (supported: none, linear, yarn)");
        if (type == "linear" && p.ropeScalingFactor == 1.0f)
            type = "none";
        p.ropeScalingType = type;
        const double attn = file_.getFloat(prefix + "rope.scaling.attn_factor").value_or(1.0);
        // It scales q and k (YaRN's mscale, about 1 + 0.1 ln s; Phi-3's 1.19): far beyond
        // that the attention logits overflow (found by tests/engine/family_fuzz_test).
        if (!std::isfinite(attn) || attn <= 0.0 || attn > 16.0)
            fail("key '" + prefix + "rope.scaling.attn_factor' has the invalid value " + std::to_string(attn)
                 + " (real models use a factor between 0 and 16)");
        p.ropeAttnFactor = static_cast<float>(attn);
        auto positiveInt = [&](const std::string& key) -> int {
            const std::optional<int64_t> value = file_.getInt(prefix + key);
            if (!value)
                return 0;
            if (*value <= 0 || *value > (int64_t{1} << 30))
                fail("key '" + prefix + key + "' has the out-of-range value " + std::to_string(*value));
            return static_cast<int>(*value);
        };
        p.ropeOriginalContext = positiveInt("rope.scaling.original_context_length");
        p.dcaChunkSize = positiveInt("dca.chunk_size");
        p.dcaLocalWindow = positiveInt("dca.local_window");
        p.dcaOriginalContext = positiveInt("dca.original_context_length");
        const double dcaTemperature = file_.getFloat(prefix + "dca.temperature").value_or(0.0);
        if (!std::isfinite(dcaTemperature) || dcaTemperature < 0.0 || dcaTemperature > 10.0)
            fail("key '" + prefix + "dca.temperature' has the invalid value " + std::to_string(dcaTemperature));
        p.dcaTemperature = static_cast<float>(dcaTemperature);
    } catch (const GgufError& error) {
        throw ModelError(error.what());
    }
}

const GgufTensor& Model::requireTensor(const std::string& name, std::vector<int64_t> dims) const
{
    const GgufTensor* tensor = file_.findTensor(name);
    if (!tensor)
        fail("missing tensor '" + name + "'");
    if (!isComputeType(tensor->type))
        fail("tensor '" + name + "' has the unsupported type " + std::string(traitsOf(tensor->type).name));
    if (tensor->dims != dims)
        fail("tensor '" + name + "' has shape " + shapeText(tensor->dims) + ", expected " + shapeText(dims));
    if (dims[0] % traitsOf(tensor->type).blockSize != 0)
        fail("tensor '" + name + "' rows of " + std::to_string(dims[0]) + " are not whole "
             + std::string(traitsOf(tensor->type).name) + " blocks");
    // Rows of whole blocks, so each expert of a 3-D tensor is a run of whole blocks too.
    int64_t rows = 1;
    for (std::size_t i = 1; i < dims.size(); ++i)
        rows *= dims[i];
    if (tensor->nbytes < rowBytes(tensor->type, dims[0]) * static_cast<std::size_t>(rows))
        fail("tensor '" + name + "' holds fewer bytes than its shape needs");
    return *tensor;
}

WeightMatrix Model::matrix(const std::string& name, int64_t cols, int64_t rows) const
{
    const GgufTensor& t = requireTensor(name, {cols, rows});
    return WeightMatrix{name, t.type, t.data, rows, cols};
}

ExpertMatrices Model::expertMatrices(const std::string& name, int64_t cols, int64_t rows) const
{
    const int64_t experts = family_.expertCount;
    const GgufTensor& t = requireTensor(name, {cols, rows, experts});
    return ExpertMatrices{name, t.type, t.data, rows, cols, experts,
                          rowBytes(t.type, cols) * static_cast<std::size_t>(rows)};
}

void Model::readExperts(const std::string& prefix, LayerWeights& layer) const
{
    const int64_t embd = params_.embeddingLength;
    const int64_t ff = family_.expertFeedForward;
    const std::string router = prefix + "ffn_gate_inp.weight";
    const GgufTensor* routerTensor = file_.findTensor(router);
    // A router for another expert count names both, not just a shape.
    if (routerTensor && routerTensor->dims.size() == 2 && routerTensor->dims[0] == embd
        && routerTensor->dims[1] != family_.expertCount)
        fail("tensor '" + router + "' routes to " + std::to_string(routerTensor->dims[1]) + " experts, but '"
             + params_.architecture + ".expert_count' is " + std::to_string(family_.expertCount));
    layer.router = matrix(router, embd, family_.expertCount);
    layer.gateExperts = expertMatrices(prefix + "ffn_gate_exps.weight", embd, ff);
    layer.upExperts = expertMatrices(prefix + "ffn_up_exps.weight", embd, ff);
    layer.downExperts = expertMatrices(prefix + "ffn_down_exps.weight", ff, embd);
}

std::vector<float> Model::vectorTensor(const std::string& name, int64_t length) const
{
    const GgufTensor& t = requireTensor(name, {length});
    std::vector<float> values(length);
    dequantizeRow(t.type, t.data, values.data(), length);
    for (float v : values)
        if (!std::isfinite(v))
            fail("tensor '" + name + "' contains a non-finite value");
    return values;
}

void Model::readWeights()
{
    ModelHyperParams& p = params_;
    const GgufTensor* embedding = file_.findTensor("token_embd.weight");
    if (!embedding)
        fail("missing tensor 'token_embd.weight'");
    if (embedding->dims.size() != 2 || embedding->dims[0] != p.embeddingLength || embedding->dims[1] <= 0
        || embedding->dims[1] > (int64_t{1} << 30))
        fail("tensor 'token_embd.weight' has shape " + shapeText(embedding->dims) + ", expected ["
             + std::to_string(p.embeddingLength) + ", vocabulary size]");
    p.vocabSize = static_cast<int>(embedding->dims[1]);

    const int64_t embd = p.embeddingLength;
    const int64_t qWidth = int64_t{p.headCount} * p.headDim;
    const int64_t kvWidth = int64_t{p.headCountKv} * p.headDim;
    tokenEmbedding_ = matrix("token_embd.weight", embd, p.vocabSize);
    outputNorm_ = vectorTensor("output_norm.weight", embd);
    tiedOutput_ = file_.findTensor("output.weight") == nullptr;
    output_ = tiedOutput_ ? tokenEmbedding_ : matrix("output.weight", embd, p.vocabSize);
    if (file_.findTensor("rope_freqs.weight"))
        ropeFreqFactors_ = vectorTensor("rope_freqs.weight", p.ropeDims / 2);
    if (family_.longRope)
        readLongRope();

    const bool biases = family_.qkvBias;
    layers_.resize(p.blockCount);
    for (int i = 0; i < p.blockCount; ++i) {
        const std::string prefix = "blk." + std::to_string(i) + ".";
        LayerWeights& layer = layers_[i];
        layer.attnNorm = vectorTensor(prefix + "attn_norm.weight", embd);
        if (family_.fusedQkv) {
            layer.wqkv = matrix(prefix + "attn_qkv.weight", embd, qWidth + 2 * kvWidth);
        } else {
            layer.wq = matrix(prefix + "attn_q.weight", embd, qWidth);
            layer.wk = matrix(prefix + "attn_k.weight", embd, kvWidth);
            layer.wv = matrix(prefix + "attn_v.weight", embd, kvWidth);
        }
        layer.wo = matrix(prefix + "attn_output.weight", qWidth, embd);
        if (family_.qkNorm) {
            layer.qNorm = vectorTensor(prefix + "attn_q_norm.weight", p.headDim);
            layer.kNorm = vectorTensor(prefix + "attn_k_norm.weight", p.headDim);
        }
        if (biases) {
            layer.bq = vectorTensor(prefix + "attn_q.bias", qWidth);
            layer.bk = vectorTensor(prefix + "attn_k.bias", kvWidth);
            layer.bv = vectorTensor(prefix + "attn_v.bias", kvWidth);
        }
        if (family_.postNorms) {
            layer.postAttnNorm = vectorTensor(prefix + "post_attention_norm.weight", embd);
            layer.postFfnNorm = vectorTensor(prefix + "post_ffw_norm.weight", embd);
        }
        layer.ffnNorm = vectorTensor(prefix + "ffn_norm.weight", embd);
        if (family_.mixtureOfExperts()) {
            readExperts(prefix, layer);
            continue;
        }
        if (family_.fusedGateUp) {
            layer.up = matrix(prefix + "ffn_up.weight", embd, 2 * int64_t{p.feedForwardLength});
        } else {
            layer.gate = matrix(prefix + "ffn_gate.weight", embd, p.feedForwardLength);
            layer.up = matrix(prefix + "ffn_up.weight", embd, p.feedForwardLength);
        }
        layer.down = matrix(prefix + "ffn_down.weight", p.feedForwardLength, embd);
    }
}

void Model::readLongRope()
{
    ModelHyperParams& p = params_;
    const bool hasShort = file_.findTensor("rope_factors_short.weight") != nullptr;
    const bool hasLong = file_.findTensor("rope_factors_long.weight") != nullptr;
    if (!hasShort && !hasLong)
        return;  // Phi-3-mini-4k and the like: plain RoPE
    if (!hasShort || !hasLong)
        fail(std::string("missing tensor '") + (hasShort ? "rope_factors_long.weight" : "rope_factors_short.weight")
             + "' (LongRoPE needs both factor tensors)");
    if (!ropeFreqFactors_.empty())
        fail("tensor 'rope_freqs.weight' next to LongRoPE factors (one kind of factors only)");
    ropeFactorsShort_ = vectorTensor("rope_factors_short.weight", p.ropeDims / 2);
    ropeFactorsLong_ = vectorTensor("rope_factors_long.weight", p.ropeDims / 2);
    for (const std::vector<float>* factors : {&ropeFactorsShort_, &ropeFactorsLong_})
        for (float f : *factors)
            if (!(f > 0.0f))
                fail("LongRoPE factor tensors must hold positive values");
    const std::string key = p.architecture + ".rope.scaling.original_context_length";
    if (p.ropeOriginalContext == 0)
        fail("missing key '" + key + "' (LongRoPE factors need the original context)");
    if (p.ropeOriginalContext > p.contextLength)
        fail("key '" + key + "' (" + std::to_string(p.ropeOriginalContext) + ") exceeds the context length "
             + std::to_string(p.contextLength));
    // The attention factor of LongRoPE, sqrt(1 + ln(s) / ln(L_orig)) with s the
    // extension ratio, when the converter did not write it (it usually does).
    if (!file_.has(p.architecture + ".rope.scaling.attn_factor")) {
        const double scale = static_cast<double>(p.contextLength) / p.ropeOriginalContext;
        p.ropeAttnFactor = scale <= 1.0 ? 1.0f
                                        : static_cast<float>(std::sqrt(1.0 + std::log(scale)
                                                                                 / std::log(double(p.ropeOriginalContext))));
    }
}

const std::vector<float>& Model::ropeFreqFactors(int contextLength) const
{
    if (ropeFactorsLong_.empty())
        return ropeFreqFactors_;
    // As llama.cpp and transformers: the long factors once the context exceeds the original one.
    return contextLength > params_.ropeOriginalContext ? ropeFactorsLong_ : ropeFactorsShort_;
}

void Model::readTokenizer()
{
    try {
        tokenizer_.emplace(Tokenizer::fromGguf(file_));
    } catch (const std::exception& error) {
        fail(std::string("tokenizer: ") + error.what());
    }
    if (tokenizer_->vocabSize() != params_.vocabSize)
        fail("tokenizer has " + std::to_string(tokenizer_->vocabSize()) + " tokens, token_embd.weight "
             + std::to_string(params_.vocabSize));
    endTokens_ = tokenizer_->endOfGenerationTokens();
}

void Model::computeFingerprint()
{
    Hash64 hash;
    hash.addText("folio model fingerprint 1");
    hash.addInt(static_cast<int64_t>(file_.fileSize()));
    const ModelHyperParams& p = params_;
    hash.addText(p.architecture);
    for (int value : {p.contextLength, p.embeddingLength, p.blockCount, p.feedForwardLength, p.headCount,
                      p.headCountKv, p.headDim, p.ropeDims, p.vocabSize})
        hash.addInt(value);
    const std::vector<GgufTensor>& tensors = file_.tensors();
    // The header (metadata and tensor descriptions) is [0, dataSectionOffset) of the
    // mapping; GgufFile exposes the mapping only through the tensors' data pointers
    // (data = mapping + dataSectionOffset + offset), so the start is recovered from one.
    const uint8_t* mapping = tensors.empty() ? nullptr
                                             : tensors.front().data - file_.dataSectionOffset() - tensors.front().offset;
    if (mapping)
        hash.add(mapping, file_.dataSectionOffset());
    constexpr std::size_t kEdge = 1024;
    for (const GgufTensor& t : tensors) {
        hash.addText(t.name);
        hash.addInt(static_cast<int64_t>(t.type));
        for (int64_t d : t.dims)
            hash.addInt(d);
        const std::size_t edge = std::min(kEdge, t.nbytes);
        hash.add(t.data, edge);
        hash.add(t.data + t.nbytes - edge, edge);
    }
    constexpr std::size_t kWindow = 4096, kWindows = 64;
    if (mapping && file_.fileSize() > file_.dataSectionOffset() + kWindow) {
        const std::size_t span = file_.fileSize() - file_.dataSectionOffset() - kWindow;
        for (std::size_t w = 0; w < kWindows; ++w)
            hash.add(mapping + file_.dataSectionOffset() + span / (kWindows - 1) * w, kWindow);
    }
    fingerprint_ = hash.hex();
}

bool Model::isEndOfGeneration(int32_t token) const
{
    return std::find(endTokens_.begin(), endTokens_.end(), token) != endTokens_.end();
}

RopeConfig Model::ropeConfig() const
{
    RopeConfig config;
    config.dims = params_.ropeDims;
    config.freqBase = params_.ropeFreqBase;
    config.neox = params_.ropeNeox;
    config.freqFactors = ropeFreqFactors(params_.contextLength);
    config.attnFactor = params_.ropeAttnFactor;
    if (params_.ropeScalingType != "none")
        config.freqScale = 1.0f / params_.ropeScalingFactor;
    if (params_.ropeScalingType == "yarn") {
        config.extFactor = 1.0f;
        config.originalContext = params_.ropeOriginalContext > 0 ? params_.ropeOriginalContext : params_.contextLength;
    }
    return config;
}

RopeConfig Model::localRopeConfig() const
{
    RopeConfig config;
    config.dims = params_.ropeDims;
    config.freqBase = family_.localRopeBase;
    config.neox = params_.ropeNeox;
    return config;
}

float Model::attentionScale() const
{
    const float scalar = family_.queryPreAttnScalar > 0.0f ? family_.queryPreAttnScalar
                                                           : static_cast<float>(params_.headDim);
    return 1.0f / std::sqrt(scalar);
}

MemoryEstimate Model::memoryEstimate(int contextTokens, KvType kvType, int batchSize, int ringSlack) const
{
    MemoryEstimate estimate;
    for (const GgufTensor& tensor : file_.tensors())
        estimate.weightBytes += tensor.nbytes;
    const int context = std::max(contextTokens, 0);
    std::size_t rows = 0;  // per KV head, over the layers (KvCache's own rule for rings)
    for (int window : kvRingWindows())
        rows += static_cast<std::size_t>(context > 0 ? KvCache::ringRows(window, batchSize, context, ringSlack) : 0);
    estimate.kvBytes = 2 * rows * params_.headCountKv * kvRowBytes(kvType, params_.headDim);
    estimate.scratchBytes = ForwardScratch::bytesFor(*this, batchSize);
    return estimate;
}

std::vector<int> Model::kvRingWindows() const
{
    std::vector<int> windows(params_.blockCount);
    for (int l = 0; l < params_.blockCount; ++l)
        windows[l] = family_.layerWindow(l);
    return windows;
}

int64_t Model::totalParameters() const
{
    int64_t total = 0;
    for (const GgufTensor& tensor : file_.tensors())
        total += tensor.elements();
    return total;
}

int64_t Model::activeParameters() const
{
    // A token reads expertUsedCount of expertCount experts of every 3-D expert tensor.
    int64_t active = totalParameters();
    if (!family_.mixtureOfExperts())
        return active;
    const int64_t unused = family_.expertCount - family_.expertUsedCount;
    for (const LayerWeights& layer : layers_)
        for (const ExpertMatrices* m : {&layer.gateExperts, &layer.upExperts, &layer.downExperts})
            active -= m->rows * m->cols * unused;
    return active;
}

std::string Model::layerPattern() const
{
    int local = 0;
    for (int l = 0; l < params_.blockCount; ++l)
        local += family_.isGlobalLayer(l) ? 0 : 1;
    const std::string global = std::to_string(params_.blockCount - local) + " global";
    if (local == 0)
        return global;
    return std::to_string(local) + " local (window " + std::to_string(family_.slidingWindow) + ") + " + global;
}

std::string Model::describe() const
{
    const ModelHyperParams& p = params_;
    std::map<std::string, int> typeCounts;
    std::size_t weightBytes = 0;
    for (const GgufTensor& tensor : file_.tensors()) {
        ++typeCounts[std::string(traitsOf(tensor.type).name)];
        weightBytes += tensor.nbytes;
    }
    std::ostringstream out;
    out << "architecture " << p.architecture << " (" << family_.displayName << ")\n"
        << "parameters " << parameterText(totalParameters()) << " (" << parameterText(activeParameters())
        << " active per token)\n"
        << "layers " << layerPattern() << ", trained context " << p.contextLength << "\n"
        << p.blockCount << " layers, embedding " << p.embeddingLength << ", feed-forward "
        << (family_.mixtureOfExperts() ? std::to_string(family_.expertUsedCount) + " of "
                                             + std::to_string(family_.expertCount) + " experts of "
                                             + std::to_string(family_.expertFeedForward)
                                       : std::to_string(p.feedForwardLength))
        << "\n"
        << p.headCount << " heads (" << p.headCountKv << " KV), head dim " << p.headDim << "\n"
        << "vocabulary " << p.vocabSize << ", training context " << p.contextLength << "\n"
        << "RoPE " << (p.ropeNeox ? "neox" : "normal") << ", base " << p.ropeFreqBase << ", " << p.ropeDims
        << " dims"
        << (longRope() ? ", LongRoPE factors from " + std::to_string(p.ropeOriginalContext)
                       : ropeFreqFactors_.empty() ? "" : ", frequency factors")
        << "\n"
        << (family_.slidingWindow > 0 ? "local layers: RoPE base " + std::to_string(static_cast<int>(family_.localRopeBase))
                                            + ", window " + std::to_string(family_.slidingWindow) + "\n"
                                      : std::string())
        << "output " << (tiedOutput_ ? "tied to the embedding" : "separate") << "\n"
        << "weights " << mebibytes(weightBytes) << ":";
    for (const auto& [name, count] : typeCounts)
        out << " " << name << " x" << count;
    out << "\n";
    return out.str();
}

} // namespace folio
