#include "app/reading/evidence_collector.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>
#include <string>

namespace folio {

EvidenceCollector::EvidenceCollector(std::vector<std::pair<int, int>> pageRanges, std::vector<int> pageIndex,
                                     std::vector<int> layers)
    : ranges_(std::move(pageRanges)), pageIndex_(std::move(pageIndex)), layers_(std::move(layers)),
      mass_(ranges_.size(), 0.0)
{
}

std::vector<int> defaultEvidenceLayers(int layerCount)
{
    std::vector<int> layers;
    for (int l = layerCount / 4; l < layerCount; ++l)
        layers.push_back(l);
    return layers;
}

std::vector<int> resolveEvidenceLayers(const std::vector<int>& requested, int layerCount)
{
    if (requested.empty())
        return defaultEvidenceLayers(layerCount);
    if (requested.size() == 1 && requested.front() == kEveryLayer)
        return {};
    for (int layer : requested)
        if (layer < 0 || layer >= layerCount)
            throw std::invalid_argument("evidence layer " + std::to_string(layer) + ": the model has "
                                        + std::to_string(layerCount) + " layers (0 to "
                                        + std::to_string(layerCount - 1) + ")");
    return requested;
}

bool EvidenceCollector::observesLayer(int layer) const
{
    return layers_.empty() || std::find(layers_.begin(), layers_.end(), layer) != layers_.end();
}

void EvidenceCollector::observe(int /*layer*/, int /*head*/, const float* rangeLse, float totalLse)
{
    if (paused_ || !std::isfinite(totalLse))
        return;
    for (std::size_t r = 0; r < ranges_.size(); ++r)
        if (std::isfinite(rangeLse[r]))
            mass_[r] += std::exp(static_cast<double>(rangeLse[r]) - totalLse);
    ++observations_;
}

void EvidenceCollector::reset()
{
    std::fill(mass_.begin(), mass_.end(), 0.0);
    observations_ = 0;
}

std::vector<double> EvidenceCollector::meanShares() const
{
    std::vector<double> shares(mass_.size(), 0.0);
    if (observations_ > 0)
        for (std::size_t r = 0; r < mass_.size(); ++r)
            shares[r] = mass_[r] / static_cast<double>(observations_);
    return shares;
}

QVector<EvidencePage> EvidenceCollector::topPages(int count) const
{
    const std::vector<double> shares = meanShares();
    std::vector<std::size_t> order(shares.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return shares[a] > shares[b]; });
    QVector<EvidencePage> top;
    for (std::size_t i = 0; i < order.size() && top.size() < count; ++i)
        if (shares[order[i]] > 0.0)
            top.push_back({pageIndex_[order[i]], shares[order[i]]});
    return top;
}

} // namespace folio
