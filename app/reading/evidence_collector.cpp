#include "app/reading/evidence_collector.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace folio {

EvidenceCollector::EvidenceCollector(std::vector<std::pair<int, int>> pageRanges, std::vector<int> pageIndex,
                                     std::vector<int> layers)
    : ranges_(std::move(pageRanges)), pageIndex_(std::move(pageIndex)), layers_(std::move(layers)),
      mass_(ranges_.size(), 0.0)
{
}

bool EvidenceCollector::observesLayer(int layer) const
{
    return layers_.empty() || std::find(layers_.begin(), layers_.end(), layer) != layers_.end();
}

void EvidenceCollector::observe(int /*layer*/, int /*head*/, const float* rangeLse, float totalLse)
{
    if (!std::isfinite(totalLse))
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
