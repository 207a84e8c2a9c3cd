#include "tests/engine/reference_llama.h"

#include "engine/gguf/gguf.h"
#include "engine/gguf/quant.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace folio::test {

namespace {

std::vector<std::vector<float>> readMatrix(const GgufFile& file, const std::string& name)
{
    const GgufTensor* t = file.findTensor(name);
    if (!t)
        throw std::runtime_error("reference: missing " + name);
    const int64_t cols = t->dims[0], rows = t->dims[1];
    std::vector<std::vector<float>> m(rows, std::vector<float>(cols));
    const std::size_t bytes = rowBytes(t->type, cols);
    for (int64_t r = 0; r < rows; ++r)
        dequantizeRow(t->type, t->data + r * bytes, m[r].data(), cols);
    return m;
}

// A 3-D tensor [cols, rows, experts] as one matrix per expert.
std::vector<std::vector<std::vector<float>>> readExperts(const GgufFile& file, const std::string& name)
{
    const GgufTensor* t = file.findTensor(name);
    if (!t || t->dims.size() != 3)
        throw std::runtime_error("reference: missing 3-D " + name);
    const int64_t cols = t->dims[0], rows = t->dims[1], experts = t->dims[2];
    const std::size_t bytes = rowBytes(t->type, cols);
    std::vector<std::vector<std::vector<float>>> m(experts, std::vector<std::vector<float>>(rows, std::vector<float>(cols)));
    for (int64_t e = 0; e < experts; ++e)
        for (int64_t r = 0; r < rows; ++r)
            dequantizeRow(t->type, t->data + (e * rows + r) * bytes, m[e][r].data(), cols);
    return m;
}

std::vector<float> readVector(const GgufFile& file, const std::string& name)
{
    const GgufTensor* t = file.findTensor(name);
    if (!t)
        return {};
    std::vector<float> v(t->dims[0]);
    dequantizeRow(t->type, t->data, v.data(), t->dims[0]);
    return v;
}

} // namespace

ReferenceLlama::ReferenceLlama(const std::string& path, int contextLength)
{
    const GgufFile file = GgufFile::open(path);
    const std::string arch = file.architecture();
    neox_ = arch == "qwen2" || arch == "qwen3" || arch == "qwen3moe" || arch == "phi3" || arch == "gemma3";
    gemma_ = arch == "gemma3";
    embd_ = static_cast<int>(*file.getInt(arch + ".embedding_length"));
    layers_ = static_cast<int>(*file.getInt(arch + ".block_count"));
    ff_ = static_cast<int>(file.getInt(arch + ".feed_forward_length").value_or(0));
    if (arch == "qwen3moe")
        expertsUsed_ = static_cast<int>(*file.getInt(arch + ".expert_used_count"));
    heads_ = static_cast<int>(*file.getInt(arch + ".attention.head_count"));
    kvHeads_ = static_cast<int>(file.getInt(arch + ".attention.head_count_kv").value_or(heads_));
    headDim_ = static_cast<int>(file.getInt(arch + ".attention.key_length").value_or(embd_ / heads_));
    ropeDims_ = static_cast<int>(file.getInt(arch + ".rope.dimension_count").value_or(headDim_));
    base_ = file.getFloat(arch + ".rope.freq_base").value_or(10000.0);
    eps_ = file.getFloat(arch + ".attention.layer_norm_rms_epsilon").value_or(1e-5);
    queryScalar_ = file.getFloat(arch + ".attention.query_pre_attn_scalar").value_or(headDim_);
    if (gemma_) {
        window_ = static_cast<int>(*file.getInt("gemma3.attention.sliding_window"));
        localBase_ = file.getFloat("gemma3.rope.freq_base_swa").value_or(10000.0);
        const char* pattern = "gemma3.attention.sliding_window_pattern";
        if (file.has(pattern) && file.typeOf(pattern) == GgufValueType::Array)
            localLayers_ = file.getBoolArray(pattern);
        else if (file.has(pattern))
            period_ = static_cast<int>(*file.getInt(pattern));
        if (file.getString("gemma3.rope.scaling.type").value_or("linear") == "linear")
            positionScale_ = 1.0 / file.getFloat("gemma3.rope.scaling.factor").value_or(1.0);
    }

    embedding_ = readMatrix(file, "token_embd.weight");
    vocab_ = static_cast<int>(embedding_.size());
    output_ = file.findTensor("output.weight") ? readMatrix(file, "output.weight") : embedding_;
    outputNorm_ = readVector(file, "output_norm.weight");
    freqFactors_ = readVector(file, "rope_freqs.weight");
    if (file.findTensor("rope_factors_long.weight")) {  // LongRoPE (phi3)
        const int trained = static_cast<int>(*file.getInt(arch + ".context_length"));
        const int original = static_cast<int>(*file.getInt(arch + ".rope.scaling.original_context_length"));
        const int context = contextLength > 0 ? contextLength : trained;
        freqFactors_ = readVector(file, context > original ? "rope_factors_long.weight" : "rope_factors_short.weight");
        const double s = static_cast<double>(trained) / original;
        ropeMagnitude_ = file.getFloat(arch + ".rope.scaling.attn_factor")
                             .value_or(s > 1.0 ? std::sqrt(1.0 + std::log(s) / std::log(double(original))) : 1.0);
    }
    for (int l = 0; l < layers_; ++l) {
        const std::string p = "blk." + std::to_string(l) + ".";
        Layer b;
        b.attnNorm = readVector(file, p + "attn_norm.weight");
        b.ffnNorm = readVector(file, p + "ffn_norm.weight");
        b.bq = readVector(file, p + "attn_q.bias");
        b.bk = readVector(file, p + "attn_k.bias");
        b.bv = readVector(file, p + "attn_v.bias");
        b.qNorm = readVector(file, p + "attn_q_norm.weight");
        b.kNorm = readVector(file, p + "attn_k_norm.weight");
        b.postAttnNorm = readVector(file, p + "post_attention_norm.weight");
        b.postFfnNorm = readVector(file, p + "post_ffw_norm.weight");
        if (file.findTensor(p + "attn_qkv.weight")) {  // fused: rows q | k | v
            const Matrix qkv = readMatrix(file, p + "attn_qkv.weight");
            const std::size_t q = static_cast<std::size_t>(heads_) * headDim_;
            const std::size_t kv = static_cast<std::size_t>(kvHeads_) * headDim_;
            b.wq.assign(qkv.begin(), qkv.begin() + q);
            b.wk.assign(qkv.begin() + q, qkv.begin() + q + kv);
            b.wv.assign(qkv.begin() + q + kv, qkv.end());
        } else {
            b.wq = readMatrix(file, p + "attn_q.weight");
            b.wk = readMatrix(file, p + "attn_k.weight");
            b.wv = readMatrix(file, p + "attn_v.weight");
        }
        b.wo = readMatrix(file, p + "attn_output.weight");
        if (file.findTensor(p + "ffn_gate_inp.weight")) {  // qwen3moe
            b.router = readMatrix(file, p + "ffn_gate_inp.weight");
            b.gateExps = readExperts(file, p + "ffn_gate_exps.weight");
            b.upExps = readExperts(file, p + "ffn_up_exps.weight");
            b.downExps = readExperts(file, p + "ffn_down_exps.weight");
            blocks_.push_back(std::move(b));
            continue;
        }
        b.up = readMatrix(file, p + "ffn_up.weight");
        if (file.findTensor(p + "ffn_gate.weight")) {
            b.gate = readMatrix(file, p + "ffn_gate.weight");
        } else {  // fused: gate rows, then up rows
            b.gate.assign(b.up.begin(), b.up.begin() + ff_);
            b.up.erase(b.up.begin(), b.up.begin() + ff_);
        }
        b.down = readMatrix(file, p + "ffn_down.weight");
        blocks_.push_back(std::move(b));
    }
}

std::vector<double> ReferenceLlama::rmsNorm(const std::vector<double>& x, const std::vector<float>& w) const
{
    double meanSquare = 0.0;
    for (double v : x)
        meanSquare += v * v;
    meanSquare /= static_cast<double>(x.size());
    const double scale = 1.0 / std::sqrt(meanSquare + eps_);
    std::vector<double> out(x.size());
    for (std::size_t i = 0; i < x.size(); ++i)
        out[i] = x[i] * scale * w[i];
    return out;
}

void ReferenceLlama::headNorm(std::vector<double>& head, const std::vector<float>& w) const
{
    if (!w.empty())
        head = rmsNorm(head, w);
}

std::vector<double> ReferenceLlama::times(const Matrix& w, const std::vector<double>& x)
{
    std::vector<double> y(w.size(), 0.0);
    for (std::size_t r = 0; r < w.size(); ++r)
        for (std::size_t c = 0; c < x.size(); ++c)
            y[r] += static_cast<double>(w[r][c]) * x[c];
    return y;
}

void ReferenceLlama::rope(std::vector<double>& head, int position, double base, double positionScale) const
{
    for (int i = 0; i < ropeDims_ / 2; ++i) {
        double theta = position * positionScale * std::pow(base, -2.0 * i / ropeDims_);
        if (!freqFactors_.empty())
            theta /= freqFactors_[i];
        // llama ("normal") rotates neighbours; qwen2 (NeoX) the two halves.
        const int a = neox_ ? i : 2 * i;
        const int b = neox_ ? i + ropeDims_ / 2 : 2 * i + 1;
        const double x = head[a], y = head[b];
        head[a] = (x * std::cos(theta) - y * std::sin(theta)) * ropeMagnitude_;
        head[b] = (x * std::sin(theta) + y * std::cos(theta)) * ropeMagnitude_;
    }
}

std::vector<double> ReferenceLlama::gatedFfn(const Matrix& gateW, const Matrix& upW, const Matrix& downW,
                                             const std::vector<double>& xn) const
{
    std::vector<double> gate = times(gateW, xn);
    const std::vector<double> up = times(upW, xn);
    const double pi = std::acos(-1.0);
    for (std::size_t i = 0; i < gate.size(); ++i) {
        const double z = gate[i];
        const double act = gemma_ ? 0.5 * z * (1.0 + std::tanh(std::sqrt(2.0 / pi) * (z + 0.044715 * z * z * z)))
                                  : z / (1.0 + std::exp(-z));
        gate[i] = act * up[i];
    }
    return times(downW, gate);
}

std::vector<double> ReferenceLlama::feedForward(const Layer& b, const std::vector<double>& xn, double& margin) const
{
    if (b.router.empty())
        return gatedFfn(b.gate, b.up, b.down, xn);
    const std::vector<double> logits = times(b.router, xn);
    const int experts = static_cast<int>(logits.size());
    double maximum = logits[0];
    for (double l : logits)
        maximum = std::max(maximum, l);
    std::vector<double> p(experts);
    double total = 0.0;
    for (int e = 0; e < experts; ++e)
        total += p[e] = std::exp(logits[e] - maximum);
    for (double& v : p)
        v /= total;
    // The used largest, one at a time (the first of equals wins).
    std::vector<bool> taken(experts, false);
    std::vector<int> chosen;
    double chosenTotal = 0.0;
    for (int k = 0; k < expertsUsed_; ++k) {
        int best = -1;
        for (int e = 0; e < experts; ++e)
            if (!taken[e] && (best < 0 || p[e] > p[best]))
                best = e;
        taken[best] = true;
        chosen.push_back(best);
        chosenTotal += p[best];
    }
    for (int e = 0; e < experts; ++e)
        if (!taken[e])
            margin = std::min(margin, logits[chosen.back()] - logits[e]);
    std::vector<double> out(embd_, 0.0);
    for (int e : chosen) {
        const double weight = normalizeExperts_ ? p[e] / chosenTotal : p[e];
        const std::vector<double> y = gatedFfn(b.gateExps[e], b.upExps[e], b.downExps[e], xn);
        for (int i = 0; i < embd_; ++i)
            out[i] += weight * y[i];
    }
    return out;
}

std::vector<std::vector<float>> ReferenceLlama::logits(const std::vector<int32_t>& tokens) const
{
    const int n = static_cast<int>(tokens.size());
    routingMargins_.assign(n, std::numeric_limits<double>::infinity());
    std::vector<std::vector<double>> x(n);
    for (int t = 0; t < n; ++t) {
        x[t].assign(embedding_.at(tokens[t]).begin(), embedding_.at(tokens[t]).end());
        if (gemma_)
            for (double& v : x[t])
                v *= std::sqrt(static_cast<double>(embd_));
    }

    for (int layer = 0; layer < layers_; ++layer) {
        const Layer& b = blocks_[layer];
        const bool local = isLocal(layer);
        const double base = local ? localBase_ : base_;
        const double positionScale = local ? 1.0 : positionScale_;
        const bool explicitPositions = relative_ && !local;
        // keys[t][kvHead] and values[t][kvHead]: one head vector each.
        std::vector<std::vector<std::vector<double>>> keys(n), values(n), queries(n);
        for (int t = 0; t < n; ++t) {
            const std::vector<double> xn = rmsNorm(x[t], b.attnNorm);
            std::vector<double> q = times(b.wq, xn), k = times(b.wk, xn), v = times(b.wv, xn);
            for (std::size_t i = 0; i < b.bq.size(); ++i)
                q[i] += b.bq[i];
            for (std::size_t i = 0; i < b.bk.size(); ++i)
                k[i] += b.bk[i];
            for (std::size_t i = 0; i < b.bv.size(); ++i)
                v[i] += b.bv[i];
            for (int h = 0; h < heads_; ++h) {
                queries[t].emplace_back(q.begin() + h * headDim_, q.begin() + (h + 1) * headDim_);
                headNorm(queries[t].back(), b.qNorm);
                if (!explicitPositions)
                    rope(queries[t].back(), t, base, positionScale);
            }
            for (int h = 0; h < kvHeads_; ++h) {
                keys[t].emplace_back(k.begin() + h * headDim_, k.begin() + (h + 1) * headDim_);
                headNorm(keys[t].back(), b.kNorm);
                if (!explicitPositions)
                    rope(keys[t].back(), t, base, positionScale);
                values[t].emplace_back(v.begin() + h * headDim_, v.begin() + (h + 1) * headDim_);
            }
        }
        for (int t = 0; t < n; ++t) {
            std::vector<double> attended(static_cast<std::size_t>(heads_) * headDim_, 0.0);
            for (int h = 0; h < heads_; ++h) {
                const int g = h / (heads_ / kvHeads_);
                // A local layer's query sees only the last window_ keys; the others are
                // left out of the softmax (their score is -infinity).
                const int firstKey = local ? std::max(0, t - window_ + 1) : 0;
                std::vector<double> scores(t + 1, 0.0);
                double maximum = -1e300;
                for (int j = firstKey; j <= t; ++j) {
                    std::vector<double> query = queries[t][h];
                    if (explicitPositions)
                        rope(query, relative_(t, j), base, positionScale);  // keys stay unrotated
                    double s = 0.0;
                    for (int d = 0; d < headDim_; ++d)
                        s += query[d] * keys[j][g][d];
                    scores[j] = s / std::sqrt(queryScalar_);
                    maximum = std::max(maximum, scores[j]);
                }
                double total = 0.0;
                for (int j = firstKey; j <= t; ++j) {
                    scores[j] = std::exp(scores[j] - maximum);
                    total += scores[j];
                }
                for (int j = firstKey; j <= t; ++j)
                    for (int d = 0; d < headDim_; ++d)
                        attended[h * headDim_ + d] += scores[j] / total * values[j][g][d];
            }
            std::vector<double> o = times(b.wo, attended);
            if (!b.postAttnNorm.empty())
                o = rmsNorm(o, b.postAttnNorm);
            for (int i = 0; i < embd_; ++i)
                x[t][i] += o[i];
            std::vector<double> down = feedForward(b, rmsNorm(x[t], b.ffnNorm), routingMargins_[t]);
            if (!b.postFfnNorm.empty())
                down = rmsNorm(down, b.postFfnNorm);
            for (int i = 0; i < embd_; ++i)
                x[t][i] += down[i];
        }
    }
    std::vector<std::vector<float>> result(n);
    for (int t = 0; t < n; ++t) {
        const std::vector<double> logits = times(output_, rmsNorm(x[t], outputNorm_));
        result[t].assign(logits.begin(), logits.end());
    }
    return result;
}

} // namespace folio::test
