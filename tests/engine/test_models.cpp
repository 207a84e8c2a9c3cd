#include "tests/engine/test_models.h"

#include "engine/gguf/gguf_writer.h"
#include "engine/gguf/quant.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <functional>
#include <optional>
#include <stdexcept>
#include <thread>
#include <unistd.h>

namespace folio::test {

namespace {

// xorshift64*: fast enough for the 1.1B weights of the benchmark model.
class Random {
public:
    explicit Random(uint64_t seed) : state_(seed * 0x9E3779B97F4A7C15ull + 1) {}
    float uniform(float bound)  // in [-bound, bound)
    {
        state_ ^= state_ >> 12;
        state_ ^= state_ << 25;
        state_ ^= state_ >> 27;
        const uint64_t bits = state_ * 0x2545F4914F6CDD1Dull;
        return (static_cast<float>(bits >> 40) / 16777216.0f * 2.0f - 1.0f) * bound;
    }

private:
    uint64_t state_;
};

// A large tensor's rows, each from its own generator (seeded by the tensor's name
// and the row), so that the cores can share them.
void fillLarge(const std::string& name, uint64_t seed, GgmlType type, int64_t cols, int64_t rows, float bound,
               uint8_t* out)
{
    const uint64_t nameHash = std::hash<std::string>{}(name);
    const std::size_t rowSize = rowBytes(type, cols);
    const int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    std::vector<std::thread> workers;
    for (int w = 0; w < threads; ++w)
        workers.emplace_back([&, w] {
            std::vector<float> row(cols);
            for (int64_t r = w; r < rows; r += threads) {
                Random random(seed ^ nameHash ^ (static_cast<uint64_t>(r) * 0x9E3779B97F4A7C15ull));
                for (float& v : row)
                    v = random.uniform(bound);
                quantizeRow(type, row.data(), out + r * rowSize, cols);
            }
        });
    for (std::thread& worker : workers)
        worker.join();
}

class ModelWriter {
public:
    ModelWriter(const TinyModelSpec& spec) : spec_(spec), random_(spec.seed) {}

    // A rows x cols matrix with variance ~1/cols entries, so activations stay O(1);
    // with experts > 0 a 3-D tensor of that many such matrices. `type` overrides the
    // spec's type (itself overridden by spec.tensorTypes).
    void matrix(const std::string& name, int64_t cols, int64_t rows, float bound = 0.0f, int64_t experts = 0,
                std::optional<GgmlType> type = std::nullopt)
    {
        if (skip(name))
            return;
        if (bound == 0.0f)
            bound = std::sqrt(3.0f / static_cast<float>(cols));
        GgmlType chosen = type.value_or(spec_.type);
        for (const auto& [tensor, override] : spec_.tensorTypes)
            if (tensor == name)
                chosen = override;
        std::vector<int64_t> dims{cols, rows};
        if (name == spec_.wrongShapeTensor)
            dims = {rows, cols};
        if (experts > 0)
            dims.push_back(experts);
        const int64_t allRows = rows * std::max<int64_t>(experts, 1);
        if (cols * allRows >= (int64_t{1} << 24)) {
            writer.addTensor(name, chosen, dims, [=, seed = spec_.seed](uint8_t* out, std::size_t) {
                fillLarge(name, seed, chosen, cols, allRows, bound, out);
            });
            return;
        }
        const std::size_t rowSize = rowBytes(chosen, cols);
        std::vector<uint8_t> data(rowSize * allRows);
        std::vector<float> row(cols);
        for (int64_t r = 0; r < allRows; ++r) {
            for (float& v : row)
                v = random_.uniform(bound);
            quantizeRow(chosen, row.data(), data.data() + r * rowSize, cols);
        }
        writer.addTensor(name, chosen, dims, data.data(), data.size());
    }

    // An F32 vector around `center` (norm weights near 1, biases near 0).
    void vector(const std::string& name, int64_t length, float center, float spread)
    {
        if (skip(name))
            return;
        std::vector<float> values(length);
        for (float& v : values)
            v = center + random_.uniform(spread);
        std::vector<int64_t> dims{length};
        if (name == spec_.wrongShapeTensor)
            dims = {length + 1};
        if (name == spec_.wrongShapeTensor)
            values.push_back(0.0f);
        writer.addTensor(name, GgmlType::F32, dims, values.data(), values.size() * sizeof(float));
    }

    GgufWriter writer;

private:
    bool skip(const std::string& name) const
    {
        for (const std::string& omitted : spec_.omitTensors)
            if (omitted == name)
                return true;
        return false;
    }

    const TinyModelSpec& spec_;
    Random random_;
};

void writeTokenizer(GgufWriter& w, const TinyModelSpec& spec)
{
    // Three special tokens, then single letters and numbered pieces: enough for a
    // complete, loadable vocabulary; the forward-pass tests use ids directly.
    std::vector<std::string> tokens{"<unk>", "<s>", "</s>"};
    std::vector<float> scores{0.0f, 0.0f, 0.0f};
    std::vector<int32_t> types{2, 3, 3};
    for (int i = 3; i < spec.vocab; ++i) {
        std::string piece(1, static_cast<char>('a' + (i - 3) % 26));
        if (i - 3 >= 26)
            piece += std::to_string(i);  // appended, not "t" + ...: GCC 12 warns falsely on that form
        tokens.push_back(piece);
        scores.push_back(-static_cast<float>(i));
        types.push_back(1);
    }
    if (spec.architecture.rfind("qwen", 0) == 0) {  // the Qwen families: byte-level BPE
        w.setString("tokenizer.ggml.model", "gpt2");
        w.setString("tokenizer.ggml.pre", "qwen2");
        w.setStringArray("tokenizer.ggml.merges", {"t 1"});
    } else {
        w.setString("tokenizer.ggml.model", "llama");
        w.setF32Array("tokenizer.ggml.scores", scores);
    }
    w.setStringArray("tokenizer.ggml.tokens", tokens);
    w.setI32Array("tokenizer.ggml.token_type", types);
    w.setU32("tokenizer.ggml.unknown_token_id", 0);
    w.setU32("tokenizer.ggml.bos_token_id", 1);
    w.setU32("tokenizer.ggml.eos_token_id", 2);
}

} // namespace

TinyModelSpec kQuantSpec(const std::string& architecture, GgmlType type)
{
    TinyModelSpec spec;
    spec.architecture = architecture;
    spec.type = type;
    spec.embd = 256;
    spec.feedForward = 256;
    spec.expertFeedForward = 256;
    spec.heads = 4;
    spec.kvHeads = 2;
    return spec;
}

TinyModelSpec gemma3Spec(GgmlType type)
{
    TinyModelSpec spec;
    spec.architecture = "gemma3";
    spec.type = type;
    spec.layers = 7;
    spec.headDim = 32;
    spec.slidingWindow = 8;
    spec.tiedOutput = true;
    spec.ropeFreqBase = 300.0f;  // fast rotations, so a wrong base or position shows
    spec.stringKeys = {{"gemma3.rope.scaling.type", "linear"}};
    spec.floatKeys = {{"gemma3.rope.scaling.factor", 2.0f}};
    return spec;
}

TinyModelSpec qwen3moeSpec(GgmlType type)
{
    TinyModelSpec spec;
    spec.architecture = "qwen3moe";
    spec.type = type;
    spec.headDim = 32;
    spec.experts = 8;
    spec.expertsUsed = 3;
    spec.expertFeedForward = 32;
    return spec;
}

std::string writeTinyModel(const TinyModelSpec& spec, const std::string& path)
{
    const std::string& arch = spec.architecture;
    const int headDim = spec.headDim > 0 ? spec.headDim : spec.embd / spec.heads;
    const int ropeDims = spec.ropeDims > 0 ? spec.ropeDims : headDim;
    ModelWriter m(spec);
    GgufWriter& w = m.writer;
    w.setString("general.architecture", arch);
    w.setString("general.name", "folio-test-" + arch);
    w.setU32(arch + ".context_length", spec.contextLength);
    w.setU32(arch + ".embedding_length", spec.embd);
    w.setU32(arch + ".block_count", spec.layers);
    w.setU32(arch + ".feed_forward_length", spec.feedForward);
    w.setU32(arch + ".attention.head_count", spec.heads);
    w.setU32(arch + ".attention.head_count_kv", spec.kvHeads);
    w.setU32(arch + ".rope.dimension_count", ropeDims);
    if (spec.headDim > 0) {
        w.setU32(arch + ".attention.key_length", spec.headDim);
        w.setU32(arch + ".attention.value_length", spec.headDim);
    }
    w.setF32(arch + ".rope.freq_base", spec.ropeFreqBase);
    w.setF32(arch + ".attention.layer_norm_rms_epsilon", arch == "llama" ? 1e-5f : 1e-6f);
    if (spec.slidingWindow > 0)
        w.setU32(arch + ".attention.sliding_window", spec.slidingWindow);
    if (arch == "qwen3moe") {
        w.setU32(arch + ".expert_count", spec.experts);
        w.setU32(arch + ".expert_used_count", spec.expertsUsed);
        w.setU32(arch + ".expert_feed_forward_length", spec.expertFeedForward);
    }
    for (const auto& [key, value] : spec.stringKeys)
        w.setString(key, value);
    for (const auto& [key, value] : spec.floatKeys)
        w.setF32(key, value);
    for (const auto& [key, value] : spec.intKeys)
        w.setU32(key, value);
    for (const auto& [key, value] : spec.boolArrayKeys)
        w.setBoolArray(key, value);
    writeTokenizer(w, spec);

    const int qWidth = spec.heads * headDim;
    const int kvWidth = spec.kvHeads * headDim;
    m.matrix("token_embd.weight", spec.embd, spec.vocab, 1.0f);
    m.vector("output_norm.weight", spec.embd, 1.0f, 0.2f);
    if (!spec.tiedOutput)
        m.matrix("output.weight", spec.embd, spec.vocab);
    if (spec.ropeFreqs) {
        // Llama 3.1 style: high-frequency pairs untouched, low ones divided by up to 8.
        std::vector<float> factors(ropeDims / 2);
        for (std::size_t i = 0; i < factors.size(); ++i)
            factors[i] = 1.0f + 7.0f * static_cast<float>(i) / static_cast<float>(factors.size());
        w.addTensor("rope_freqs.weight", GgmlType::F32, {static_cast<int64_t>(factors.size())}, factors.data(),
                    factors.size() * sizeof(float));
    }
    if (spec.longRopeOriginalContext > 0) {
        // Phi-3 style: short factors near 1, long ones growing to ~ctx / original context.
        w.setU32(arch + ".rope.scaling.original_context_length", spec.longRopeOriginalContext);
        const float stretch = static_cast<float>(spec.contextLength) / spec.longRopeOriginalContext;
        std::vector<float> shortFactors(ropeDims / 2), longFactors(ropeDims / 2);
        for (std::size_t i = 0; i < shortFactors.size(); ++i) {
            const float x = static_cast<float>(i) / static_cast<float>(shortFactors.size());
            shortFactors[i] = 1.0f + 0.5f * x;
            longFactors[i] = 1.0f + (stretch - 1.0f) * x * x;
        }
        for (const auto& [name, factors] : {std::pair{"rope_factors_short.weight", &shortFactors},
                                            std::pair{"rope_factors_long.weight", &longFactors}})
            if (std::find(spec.omitTensors.begin(), spec.omitTensors.end(), name) == spec.omitTensors.end())
                w.addTensor(name, GgmlType::F32, {static_cast<int64_t>(factors->size())}, factors->data(),
                            factors->size() * sizeof(float));
    }
    const bool fused = arch == "phi3";  // attn_qkv, and gate and up in ffn_up
    for (int l = 0; l < spec.layers; ++l) {
        const std::string p = "blk." + std::to_string(l) + ".";
        m.vector(p + "attn_norm.weight", spec.embd, 1.0f, 0.2f);
        if (fused) {
            m.matrix(p + "attn_qkv.weight", spec.embd, qWidth + 2 * kvWidth);
        } else {
            m.matrix(p + "attn_q.weight", spec.embd, qWidth);
            m.matrix(p + "attn_k.weight", spec.embd, kvWidth);
            m.matrix(p + "attn_v.weight", spec.embd, kvWidth);
        }
        if (arch == "qwen2") {
            m.vector(p + "attn_q.bias", qWidth, 0.0f, 0.5f);
            m.vector(p + "attn_k.bias", kvWidth, 0.0f, 0.5f);
            m.vector(p + "attn_v.bias", kvWidth, 0.0f, 0.5f);
        }
        if (arch == "qwen3" || arch == "qwen3moe" || arch == "gemma3") {  // RMSNorm weights per head, shared by the heads
            m.vector(p + "attn_q_norm.weight", headDim, 1.0f, 0.3f);
            m.vector(p + "attn_k_norm.weight", headDim, 1.0f, 0.3f);
        }
        m.matrix(p + "attn_output.weight", qWidth, spec.embd);
        if (arch == "gemma3")  // the converter's 1 + w: plain RMSNorm weights near 1
            m.vector(p + "post_attention_norm.weight", spec.embd, 1.0f, 0.2f);
        m.vector(p + "ffn_norm.weight", spec.embd, 1.0f, 0.2f);
        if (arch == "qwen3moe") {  // router rows of embd per expert; experts [cols, rows, experts]
            m.matrix(p + "ffn_gate_inp.weight", spec.embd, spec.experts, 0.0f, 0, GgmlType::F32);
            m.matrix(p + "ffn_gate_exps.weight", spec.embd, spec.expertFeedForward, 0.0f, spec.experts);
            m.matrix(p + "ffn_up_exps.weight", spec.embd, spec.expertFeedForward, 0.0f, spec.experts);
            m.matrix(p + "ffn_down_exps.weight", spec.expertFeedForward, spec.embd, 0.0f, spec.experts);
            continue;
        }
        if (fused) {
            m.matrix(p + "ffn_up.weight", spec.embd, 2 * spec.feedForward);
        } else {
            m.matrix(p + "ffn_gate.weight", spec.embd, spec.feedForward);
            m.matrix(p + "ffn_up.weight", spec.embd, spec.feedForward);
        }
        m.matrix(p + "ffn_down.weight", spec.feedForward, spec.embd);
        if (arch == "gemma3")
            m.vector(p + "post_ffw_norm.weight", spec.embd, 1.0f, 0.2f);
    }
    w.write(path);
    return path;
}

std::string tempModelPath(const std::string& stem)
{
    static int counter = 0;
    const std::string name = "folio_model_" + std::to_string(::getpid()) + "_" + std::to_string(counter++) + "_"
                             + stem + ".gguf";
    return (std::filesystem::temp_directory_path() / name).string();
}

const std::vector<GgmlType>& allWeightTypes()
{
    static const std::vector<GgmlType> types{GgmlType::F32,  GgmlType::F16,  GgmlType::BF16, GgmlType::Q8_0,
                                             GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q5_1,
                                             GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K};
    return types;
}

} // namespace folio::test
