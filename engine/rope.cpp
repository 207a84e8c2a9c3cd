#include "engine/rope.h"

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
    theta_.resize(pairCount);
    for (int i = 0; i < pairCount; ++i) {
        double theta = std::pow(static_cast<double>(config.freqBase), -2.0 * i / config.dims);
        if (!config.freqFactors.empty())
            theta /= config.freqFactors[i];
        theta_[i] = theta * config.freqScale;
    }
}

void RopeTable::angles(double position, float* cosOut, float* sinOut) const
{
    for (std::size_t i = 0; i < theta_.size(); ++i) {
        const double angle = position * theta_[i];
        cosOut[i] = static_cast<float>(std::cos(angle));
        sinOut[i] = static_cast<float>(std::sin(angle));
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
