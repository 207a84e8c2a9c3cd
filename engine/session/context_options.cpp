#include "engine/session/context_options.h"

#include "engine/model/model.h"

#include <cmath>
#include <sstream>
#include <stdexcept>

namespace folio {

std::string_view ropeScalingName(RopeScaling scaling)
{
    switch (scaling) {
    case RopeScaling::None: return "none";
    case RopeScaling::Linear: return "linear";
    case RopeScaling::Ntk: return "ntk";
    case RopeScaling::Yarn: return "yarn";
    }
    return "none";
}

RopeScaling parseRopeScaling(std::string_view name)
{
    if (name == "none")
        return RopeScaling::None;
    if (name == "linear" || name == "pi")
        return RopeScaling::Linear;
    if (name == "ntk")
        return RopeScaling::Ntk;
    if (name == "yarn")
        return RopeScaling::Yarn;
    throw std::invalid_argument("unknown RoPE scaling '" + std::string(name) + "' (none, linear, ntk, yarn)");
}

namespace {

void requirePositive(const std::optional<float>& value, const char* option)
{
    if (value && !(std::isfinite(*value) && *value > 0.0f))
        throw std::invalid_argument(std::string(option) + " must be a positive number");
}

RopeScaling modelScaling(const ModelHyperParams& p)
{
    if (p.ropeScalingType == "linear")
        return RopeScaling::Linear;
    if (p.ropeScalingType == "yarn")
        return RopeScaling::Yarn;
    return RopeScaling::None;
}

} // namespace

RopeConfig resolveRope(const Model& model, const RopeOverrides& o, int contextLength)
{
    const ModelHyperParams& p = model.params();
    requirePositive(o.scale, "--rope-scale");
    requirePositive(o.freqBase, "--rope-base");
    requirePositive(o.yarnAttnFactor, "--yarn-attn-factor");
    requirePositive(o.yarnBetaFast, "--yarn-beta-fast");
    requirePositive(o.yarnBetaSlow, "--yarn-beta-slow");
    if (o.yarnExtFactor && !(std::isfinite(*o.yarnExtFactor) && *o.yarnExtFactor >= 0.0f))
        throw std::invalid_argument("--yarn-ext-factor must be a number >= 0");
    if (o.yarnOriginalContext && *o.yarnOriginalContext <= 0)
        throw std::invalid_argument("--yarn-orig-ctx must be positive");
    if (o.freqBase && *o.freqBase <= 1.0f)
        throw std::invalid_argument("--rope-base must exceed 1");

    RopeConfig config;
    config.dims = p.ropeDims;
    config.neox = p.ropeNeox;
    config.freqFactors = model.ropeFreqFactors(contextLength > 0 ? contextLength : p.contextLength);
    config.freqBase = o.freqBase.value_or(p.ropeFreqBase);
    const RopeScaling scaling = o.scaling.value_or(modelScaling(p));
    const float factor = o.scale.value_or(p.ropeScalingFactor);
    config.freqScale = 1.0f;
    if (scaling == RopeScaling::Linear || scaling == RopeScaling::Yarn)
        config.freqScale = 1.0f / factor;
    if (scaling == RopeScaling::Ntk) {
        // NTK-aware: stretch the base so the lowest frequency slows by the factor.
        const double d = config.dims;
        config.freqBase = static_cast<float>(config.freqBase * std::pow(static_cast<double>(factor), d / (d - 2.0)));
    }
    config.extFactor = o.yarnExtFactor.value_or(scaling == RopeScaling::Yarn ? 1.0f : 0.0f);
    config.attnFactor = o.yarnAttnFactor.value_or(1.0f) * p.ropeAttnFactor;
    config.betaFast = o.yarnBetaFast.value_or(32.0f);
    config.betaSlow = o.yarnBetaSlow.value_or(1.0f);
    config.originalContext = o.yarnOriginalContext.value_or(p.ropeOriginalContext > 0 ? p.ropeOriginalContext
                                                                                      : p.contextLength);
    return config;
}

DcaConfig resolveDca(const Model& model, const DcaOptions& options)
{
    const ModelHyperParams& p = model.params();
    DcaConfig config;
    config.trainedLength = p.dcaOriginalContext > 0 ? p.dcaOriginalContext : p.contextLength;
    const int trained = config.trainedLength;
    config.chunkSize = options.chunkSize > 0 ? options.chunkSize
                       : p.dcaChunkSize > 0  ? p.dcaChunkSize
                                             : trained * 3 / 4;
    config.localWindow = options.localWindow >= 0 ? options.localWindow
                         : p.dcaChunkSize > 0  ? p.dcaLocalWindow
                                               : trained / 8;
    config.temperature = options.temperature >= 0.0f ? options.temperature : p.dcaTemperature;
    if (config.chunkSize < 1)
        throw std::invalid_argument("DCA chunk size must be positive");
    if (config.localWindow < 0 || config.chunkLength() < 1)
        throw std::invalid_argument("DCA local window " + std::to_string(config.localWindow)
                                    + " must be at least 0 and smaller than the chunk size "
                                    + std::to_string(config.chunkSize));
    if (!std::isfinite(config.temperature) || config.temperature < 0.0f)
        throw std::invalid_argument("DCA temperature must be a number >= 0");
    return config;
}

std::string describeExtension(const RopeConfig& rope, const std::optional<DcaConfig>& dca)
{
    std::ostringstream out;
    if (dca) {
        out << "DCA (C " << dca->chunkSize << ", W " << dca->localWindow;
        if (dca->temperature > 0.0f)
            out << ", temperature " << dca->temperature;
        out << ") over ";
    }
    if (rope.extFactor > 0.0f)
        out << "YaRN x" << 1.0f / rope.freqScale << " (original " << rope.originalContext << ")";
    else if (rope.freqScale != 1.0f)
        out << "linear RoPE x" << 1.0f / rope.freqScale;
    else
        out << "RoPE";
    out << ", base " << rope.freqBase;
    if (!rope.freqFactors.empty())
        out << ", frequency factors";
    return out.str();
}

} // namespace folio
