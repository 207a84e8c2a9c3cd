#include "engine/session/context_planner.h"

#include "engine/kernels/matmul.h"

#include "engine/session/context_options.h"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace folio {

std::string_view extensionMethodName(ExtensionMethod method)
{
    switch (method) {
    case ExtensionMethod::Auto: return "auto";
    case ExtensionMethod::None: return "none";
    case ExtensionMethod::Linear: return "pi";
    case ExtensionMethod::Ntk: return "ntk";
    case ExtensionMethod::Yarn: return "yarn";
    case ExtensionMethod::Dca: return "dca";
    }
    return "auto";
}

ExtensionMethod parseExtensionMethod(std::string_view name)
{
    for (ExtensionMethod m : {ExtensionMethod::Auto, ExtensionMethod::None, ExtensionMethod::Linear,
                              ExtensionMethod::Ntk, ExtensionMethod::Yarn, ExtensionMethod::Dca})
        if (name == extensionMethodName(m))
            return m;
    if (name == "linear")
        return ExtensionMethod::Linear;
    throw std::invalid_argument("unknown extension method '" + std::string(name) + "' (auto, none, pi, ntk, yarn, dca)");
}

std::size_t availableMemoryBytes()
{
    std::ifstream meminfo("/proc/meminfo");
    std::string key;
    std::size_t value = 0;
    std::string unit;
    while (meminfo >> key >> value >> unit)
        if (key == "MemAvailable:")
            return value * 1024;
    return 0;
}

std::string formatBytes(std::size_t bytes)
{
    char text[32];
    const double b = static_cast<double>(bytes);
    if (b >= 1024.0 * 1024 * 1024)
        std::snprintf(text, sizeof text, "%.2f GiB", b / (1024.0 * 1024 * 1024));
    else if (b >= 1024.0 * 1024)
        std::snprintf(text, sizeof text, "%.1f MiB", b / (1024.0 * 1024));
    else
        std::snprintf(text, sizeof text, "%.0f KiB", b / 1024.0);
    return text;
}

namespace {

// Session options for `method` at `tokens` (Auto already resolved).
SessionOptions optionsFor(const Model& model, ExtensionMethod method, int tokens, KvType kv, const PlanRequest& r)
{
    const int trained = model.params().contextLength;
    SessionOptions options;
    options.contextLength = tokens;
    options.kvType = kv;
    options.batchSize = r.batchSize > 0 ? r.batchSize : defaultBatchSize(model);
    options.threads = r.threads;
    const float factor = std::max(1.0f, static_cast<float>(tokens) / static_cast<float>(trained));
    switch (method) {
    case ExtensionMethod::Linear:
        options.rope.scaling = RopeScaling::Linear;
        options.rope.scale = factor;
        break;
    case ExtensionMethod::Ntk:
        options.rope.scaling = RopeScaling::Ntk;
        options.rope.scale = factor;
        break;
    case ExtensionMethod::Yarn:
        options.rope.scaling = RopeScaling::Yarn;
        options.rope.scale = factor;
        options.rope.yarnOriginalContext = trained;
        break;
    case ExtensionMethod::Dca:
        options.dca.enabled = true;
        break;
    case ExtensionMethod::None:
    case ExtensionMethod::Auto:
        break;
    }
    return options;
}

MemoryEstimate estimate(const Model& model, const SessionOptions& options)
{
    MemoryEstimate m = model.memoryEstimate(options.contextLength, options.kvType, options.batchSize, options.ringSlack);
    if (options.dca.enabled) {
        // DCA keeps two more rotated copies of a micro-batch's queries.
        const ModelHyperParams& p = model.params();
        m.scratchBytes += 2 * sizeof(float) * static_cast<std::size_t>(options.batchSize) * p.headCount * p.headDim;
    }
    return m;
}

bool headDimTakesBlocks(const Model& model) { return model.params().headDim % 32 == 0; }

} // namespace

int defaultBatchSize(const Model& model)
{
    constexpr int kDense = 512, kMost = 2048;
    const FamilyDescription& f = model.family();
    if (f.expertCount <= 0 || f.expertUsedCount <= 0)
        return kDense;
    const int64_t perExpert = 2 * kMatMulInt8GemmMinTokens;
    const int64_t wanted = (perExpert * f.expertCount + f.expertUsedCount - 1) / f.expertUsedCount;
    return static_cast<int>(std::clamp<int64_t>(wanted, kDense, kMost));
}

ContextPlan planContext(const Model& model, const PlanRequest& request)
{
    if (request.tokens <= 0)
        throw std::invalid_argument("planner: the token count must be positive");
    const int trained = model.params().contextLength;
    ContextPlan plan;
    plan.method = request.method;
    if (plan.method == ExtensionMethod::Auto)
        plan.method = request.tokens <= trained ? ExtensionMethod::None : ExtensionMethod::Dca;
    plan.availableBytes = request.availableBytes ? request.availableBytes : availableMemoryBytes();

    std::vector<KvType> candidates;
    if (request.kvType)
        candidates = {*request.kvType};
    else if (headDimTakesBlocks(model))
        candidates = {KvType::F16, KvType::Q8_0, KvType::Q4_0};
    else
        candidates = {KvType::F16};
    std::string tooBig;
    for (KvType kv : candidates) {
        plan.options = optionsFor(model, plan.method, request.tokens, kv, request);
        plan.memory = estimate(model, plan.options);
        plan.fits = plan.availableBytes == 0 || plan.memory.total() <= plan.availableBytes;
        if (plan.fits)
            break;
        tooBig += (tooBig.empty() ? "" : ", ") + std::string(kvTypeName(kv)) + " would need " + formatBytes(plan.memory.total());
    }
    if (plan.fits && !tooBig.empty())
        plan.kvReason = tooBig;
    plan.extension = describeExtension(resolveRope(model, plan.options.rope, plan.options.contextLength),
                                       plan.options.dca.enabled
                                           ? std::optional<DcaConfig>(resolveDca(model, plan.options.dca))
                                           : std::nullopt);
    if (plan.method == ExtensionMethod::None && request.tokens > trained)
        plan.suggestions.push_back("the text is longer than the " + std::to_string(trained)
                                   + " tokens the model was trained on: without extension it will not read it "
                                     "reliably; use DCA (--dca)");
    if (!plan.fits) {
        if (headDimTakesBlocks(model)) {
            for (KvType kv : {KvType::Q8_0, KvType::Q4_0}) {
                if (request.kvType && *request.kvType == kv)
                    continue;
                SessionOptions o = optionsFor(model, plan.method, request.tokens, kv, request);
                const MemoryEstimate m = estimate(model, o);
                plan.suggestions.push_back(std::string("KV cache ") + std::string(kvTypeName(kv)) + ": needs "
                                           + formatBytes(m.total())
                                           + (m.total() <= plan.availableBytes ? " (fits)" : " (does not fit either)"));
            }
        }
        // The longest range that fits with the smallest cache this model allows.
        const KvType smallest = headDimTakesBlocks(model) ? KvType::Q4_0 : KvType::F16;
        SessionOptions one = optionsFor(model, plan.method, 1, smallest, request);
        const MemoryEstimate base = estimate(model, one);
        const std::size_t perToken = estimate(model, optionsFor(model, plan.method, 2, smallest, request)).kvBytes
                                     - base.kvBytes;
        if (plan.availableBytes > base.total() && perToken > 0) {
            const std::size_t room = (plan.availableBytes - base.total()) / perToken;
            plan.suggestions.push_back("a shorter range: at most " + std::to_string(room) + " tokens fit with a "
                                       + std::string(kvTypeName(smallest)) + " KV cache");
        } else {
            plan.suggestions.push_back("the model's weights alone (" + formatBytes(base.weightBytes)
                                       + ") exceed the available memory: choose a smaller or more quantized model");
        }
    }
    return plan;
}

std::string ContextPlan::report() const
{
    std::ostringstream out;
    out << "tokens:     " << options.contextLength << "\n"
        << "method:     " << extensionMethodName(method) << " — " << extension << "\n"
        << "KV cache:   " << kvTypeName(options.kvType) << (kvReason.empty() ? "" : " (" + kvReason + ")") << "\n"
        << "memory:     weights " << formatBytes(memory.weightBytes) << " (mapped) + KV " << formatBytes(memory.kvBytes)
        << " + scratch " << formatBytes(memory.scratchBytes) << " = " << formatBytes(memory.total()) << "\n"
        << "available:  " << (availableBytes ? formatBytes(availableBytes) : std::string("unknown")) << "\n"
        << "fits:       " << (fits ? "yes" : "no") << "\n";
    for (const std::string& s : suggestions)
        out << "suggestion: " << s << "\n";
    return out.str();
}

} // namespace folio
