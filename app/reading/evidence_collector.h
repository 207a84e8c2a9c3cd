// Evidence pages: while an answer is generated, the attention mass its tokens put on
// each page's token range (from the engine's AttentionObserver: exact per-range
// softmax shares), averaged over the decode steps, heads and observed layers.
#pragma once

#include "app/store/library_store.h"
#include "engine/attention/attention.h"

#include <QVector>

#include <utility>
#include <vector>

namespace folio {

// ReadingOptions::evidenceLayers holding only this: every layer.
inline constexpr int kEveryLayer = -1;

// The layers counted by default: all but the first quarter of the model's depth. The
// first layers attend by position more than by content; measured with folio-bench
// evidence on the demo model (4 layers): layers 1-3 put the planted page first in
// 97-99% of answers, all four layers in 90-97%, layer 0 alone in 8-25%.
std::vector<int> defaultEvidenceLayers(int layerCount);

// What the collector counts for a requested list: empty -> the default set,
// {kEveryLayer} -> every layer (the collector's empty list), else the list itself.
// Throws std::invalid_argument naming a layer the model does not have.
std::vector<int> resolveEvidenceLayers(const std::vector<int>& requested, int layerCount);

class EvidenceCollector : public AttentionObserver {
public:
    // pageRanges[i]: the tokens of page pageIndex[i]. layers: the layers to count
    // (empty: all).
    EvidenceCollector(std::vector<std::pair<int, int>> pageRanges, std::vector<int> pageIndex,
                      std::vector<int> layers = {});

    const std::vector<std::pair<int, int>>& keyRanges() const override { return ranges_; }
    bool observesLayer(int layer) const override;
    void observe(int layer, int head, const float* rangeLse, float totalLse) override;

    void reset();
    // While paused (a reasoning model thinking), attention is not counted as evidence.
    void setPaused(bool paused) { paused_ = paused; }
    long observations() const { return observations_; }
    // Mean share of the attention per page (same order as the ranges).
    std::vector<double> meanShares() const;
    // The `count` pages with the largest share, largest first (weight = mean share).
    QVector<EvidencePage> topPages(int count) const;

private:
    std::vector<std::pair<int, int>> ranges_;
    std::vector<int> pageIndex_;
    std::vector<int> layers_;
    std::vector<double> mass_;
    long observations_ = 0;
    bool paused_ = false;
};

} // namespace folio
