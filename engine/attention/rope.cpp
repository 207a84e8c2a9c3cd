#include "engine/attention/rope.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace folio {

RopeTable::RopeTable(const RopeConfig& config) : config_(config)
{
    if (config.dims <= 0 || config.dims % 2 != 0)
        throw std::invalid_argument("RoPE: rotated dimension count must be even and positive, got "
                                    + std::to_string(config.dims));
    const int pairCount = config.dims / 2;
    if (!config.freqFactors.empty() && static_cast<int>(config.freqFactors.size()) != pairCount)
        throw std::invalid_argument("RoPE: " + std::to_string(config.freqFactors.size())
                                    + " frequency factors for " + std::to_string(pairCount) + " pairs");
    if (!(config.freqBase > 1.0f) || !(config.freqScale > 0.0f) || !(config.attnFactor > 0.0f))
        throw std::invalid_argument("RoPE: base must exceed 1 and the frequency scale and attention factor be positive");
    const bool yarn = config.extFactor != 0.0f;
    if (yarn && config.originalContext <= 0)
        throw std::invalid_argument("RoPE: YaRN needs the original context length");
    double low = 0.0, high = 0.0;
    if (yarn) {
        low = std::max(0.0, std::floor(yarnCorrectionDim(config.dims, config.freqBase, config.originalContext,
                                                         config.betaFast)));
        high = std::min(config.dims - 1.0, std::ceil(yarnCorrectionDim(config.dims, config.freqBase,
                                                                        config.originalContext, config.betaSlow)));
    }
    theta_.resize(pairCount);
    for (int i = 0; i < pairCount; ++i) {
        double extrapolated = std::pow(static_cast<double>(config.freqBase), -2.0 * i / config.dims);
        if (!config.freqFactors.empty())
            extrapolated /= config.freqFactors[i];
        const double interpolated = extrapolated * config.freqScale;
        if (!yarn) {
            theta_[i] = interpolated;
            continue;
        }
        // Both angles are linear in the position, so their blend is one theta per pair.
        const double y = (i - low) / std::max(0.001, high - low);
        const double ramp = (1.0 - std::clamp(y, 0.0, 1.0)) * config.extFactor;
        theta_[i] = interpolated * (1.0 - ramp) + extrapolated * ramp;
    }
    mscale_ = config.attnFactor;
    if (yarn)
        mscale_ *= static_cast<float>(1.0 + 0.1 * std::log(1.0 / config.freqScale));
}

double yarnCorrectionDim(int dims, double base, int originalContext, double rotations)
{
    constexpr double kPi = 3.14159265358979323846;
    return dims * std::log(originalContext / (rotations * 2.0 * kPi)) / (2.0 * std::log(base));
}

void RopeTable::angles(double position, float* cosOut, float* sinOut, double extraScale) const
{
    const double magnitude = mscale_ * extraScale;
    for (std::size_t i = 0; i < theta_.size(); ++i) {
        const double angle = position * theta_[i];
        cosOut[i] = static_cast<float>(std::cos(angle) * magnitude);
        sinOut[i] = static_cast<float>(std::sin(angle) * magnitude);
    }
}

void RopeTable::rotate(float* vec, const float* cosValues, const float* sinValues) const
{
    const int pairCount = pairs();
    // Normal layout pairs neighbours; NeoX pairs the two halves of the rotated part.
    const int stride = config_.neox ? 1 : 2;
    const int partner = config_.neox ? pairCount : 1;
    for (int i = 0; i < pairCount; ++i) {
        float& a = vec[i * stride];
        float& b = vec[i * stride + partner];
        const float x = a, y = b;
        a = x * cosValues[i] - y * sinValues[i];
        b = x * sinValues[i] + y * cosValues[i];
    }
}

void RopeTable::rotateHeads(float* first, int count, int stride, const float* cosValues,
                            const float* sinValues) const
{
    for (int h = 0; h < count; ++h)
        rotate(first + static_cast<std::ptrdiff_t>(h) * stride, cosValues, sinValues);
}

void applyRope(float* vec, int headDim, double position, const RopeConfig& config)
{
    if (config.dims > headDim)
        throw std::invalid_argument("RoPE: rotated dimensions exceed the head dimension");
    const RopeTable table(config);
    std::vector<float> cosValues(table.pairs()), sinValues(table.pairs());
    table.angles(position, cosValues.data(), sinValues.data());
    table.rotate(vec, cosValues.data(), sinValues.data());
}

} // namespace folio
