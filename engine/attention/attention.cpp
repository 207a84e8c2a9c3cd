#include "engine/attention/attention.h"

#include "engine/kernels/attention_kernels.h"
#include "engine/kernels/ops.h"
#include "engine/kernels/thread_pool.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>

namespace folio {

namespace {
constexpr float kNegativeInfinity = -std::numeric_limits<float>::infinity();

std::atomic<uint64_t> attentionNanoseconds{0};
std::atomic<uint64_t> attentionFlops{0};

// Adds the wall time of one run() to the counters when it goes out of scope.
class RunTimer {
public:
    explicit RunTimer(uint64_t flops) : start_(std::chrono::steady_clock::now()) { attentionFlops += flops; }
    ~RunTimer()
    {
        const auto elapsed = std::chrono::steady_clock::now() - start_;
        attentionNanoseconds += std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed).count();
    }

private:
    std::chrono::steady_clock::time_point start_;
};
} // namespace

int bf16AttentionMinKeys()
{
    static const int keys = [] {
        const char* env = std::getenv("FOLIO_ATTENTION");
        return env && (std::strcmp(env, "bf16") == 0 || std::strcmp(env, "int8keys") == 0
                       || std::strcmp(env, "int8") == 0) ? 0 : kBf16AttentionMinKeys;
    }();
    return keys;
}

AttentionCounters attentionCounters()
{
    return {static_cast<double>(attentionNanoseconds.load()) * 1e-9, static_cast<double>(attentionFlops.load())};
}

void resetAttentionCounters()
{
    attentionNanoseconds = 0;
    attentionFlops = 0;
}

AttentionAccumulator::AttentionAccumulator(int headDim, SimdLevel level, kernels::AttentionProducts products)
    : headDim_(headDim), level_(level), kernels_(&kernels::attentionKernelsFor(level, products))
{
}

void AttentionAccumulator::setProducts(kernels::AttentionProducts products)
{
    kernels_ = &kernels::attentionKernelsFor(level_, products);
}

void AttentionAccumulator::reset(int rows)
{
    rows_ = rows;
    max_.assign(rows, kNegativeInfinity);
    sum_.assign(rows, 0.0f);
    acc_.assign(static_cast<std::size_t>(rows) * headDim_, 0.0f);
    scratch_.resize(std::max(kernels::attentionScratchFloats(rows, headDim_),
                             kernels_->range ? kernels::attentionRangeScratchFloats(rows, headDim_) : 0));
    visible_.resize(rows);
    hidden_.resize(rows);
}

void AttentionAccumulator::add(const KvCache& cache, int layer, int kvHead, const float* queries, int keyBegin,
                               int keyEnd, const int* lastKey, float scale, const int* firstKey)
{
    const bool blockRows = cache.type() == KvType::Q8_0 || cache.type() == KvType::Q4_0;
    if (kernels_->range && headDim_ % 32 == 0
        && (cache.type() == KvType::F16 || cache.type() == KvType::F32 || (blockRows && kernels_->rangeTakesBlocks))) {
        addRanges(cache, layer, kvHead, queries, keyBegin, keyEnd, lastKey, scale, firstKey);
        return;
    }
    constexpr int kKeyTile = kernels::kAttentionKeyTile;
    kernels::AttentionTile tile;
    tile.queries = queries;
    tile.rows = rows_;
    tile.headDim = headDim_;
    tile.halfRows = cache.type() == KvType::F16;
    // Q8_0 / Q4_0 caches: the kernel dequantizes each tile as it loads it.
    tile.blocks = cache.type() == KvType::Q8_0   ? kernels::AttentionTile::Blocks::Q8_0
                  : cache.type() == KvType::Q4_0 ? kernels::AttentionTile::Blocks::Q4_0
                                                 : kernels::AttentionTile::Blocks::None;
    tile.scale = scale;
    tile.max = max_.data();
    tile.sum = sum_.data();
    tile.acc = acc_.data();
    tile.scratch = scratch_.data();
    tile.visible = visible_.data();
    tile.hidden = firstKey ? hidden_.data() : nullptr;
    for (int tileBegin = keyBegin; tileBegin < keyEnd; tileBegin += tile.tileKeys) {
        // A tile never crosses a ring's wrap (kv_cache.h): its rows are consecutive.
        tile.tileKeys = std::min({kKeyTile, keyEnd - tileBegin, cache.contiguousRows(layer, tileBegin)});
        // Keys of this tile that each row may see (the causal bound cuts the last tiles).
        int seen = 0;
        for (int r = 0; r < rows_; ++r) {
            visible_[r] = lastKey ? std::min(tile.tileKeys, lastKey[r] - tileBegin + 1) : tile.tileKeys;
            if (firstKey) {
                hidden_[r] = std::max(0, firstKey[r] - tileBegin);
                if (hidden_[r] >= visible_[r])
                    continue;  // the row sees none of this tile
            }
            seen = std::max(seen, visible_[r]);
        }
        if (seen <= 0)
            continue;
        tile.keys = cache.keyRow(layer, kvHead, tileBegin);
        tile.values = cache.valueRow(layer, kvHead, tileBegin);
        kernels_->tile(tile);
    }
}

void AttentionAccumulator::addRanges(const KvCache& cache, int layer, int kvHead, const float* queries,
                                     int keyBegin, int keyEnd, const int* lastKey, float scale, const int* firstKey)
{
    kernels::AttentionRange range;
    range.queries = queries;
    range.rows = rows_;
    range.headDim = headDim_;
    range.halfRows = cache.type() == KvType::F16;
    range.blocks = cache.type() == KvType::Q8_0   ? kernels::AttentionTile::Blocks::Q8_0
                   : cache.type() == KvType::Q4_0 ? kernels::AttentionTile::Blocks::Q4_0
                                                  : kernels::AttentionTile::Blocks::None;
    range.scale = scale;
    range.max = max_.data();
    range.sum = sum_.data();
    range.acc = acc_.data();
    range.scratch = scratch_.data();
    range.last = lastKey ? visible_.data() : nullptr;
    range.first = firstKey ? hidden_.data() : nullptr;
    for (int begin = keyBegin; begin < keyEnd; begin += range.keyCount) {
        // A run never crosses a ring's wrap: its rows are consecutive.
        range.keyCount = std::min(keyEnd - begin, cache.contiguousRows(layer, begin));
        // Bounds relative to the run; skip a run no row sees any key of.
        bool seen = false;
        for (int r = 0; r < rows_; ++r) {
            const int last = lastKey ? std::min(lastKey[r] - begin, range.keyCount - 1) : range.keyCount - 1;
            const int first = firstKey ? std::max(firstKey[r] - begin, 0) : 0;
            visible_[r] = last;
            hidden_[r] = first;
            seen = seen || first <= last;
        }
        if (!seen)
            continue;
        // Keys the causal bound cuts off at the end are not read at all.
        int lastSeen = -1;
        for (int r = 0; r < rows_; ++r)
            lastSeen = std::max(lastSeen, visible_[r]);
        const int count = range.keyCount;
        range.keyCount = lastSeen + 1;
        range.keys = cache.keyRow(layer, kvHead, begin);
        range.values = cache.valueRow(layer, kvHead, begin);
        kernels_->range(range);
        range.keyCount = count;
    }
}

void AttentionAccumulator::output(int row, float* out) const
{
    const float* acc = unnormalised(row);
    const float inverse = sum_[row] > 0.0f ? 1.0f / sum_[row] : 0.0f;
    for (int d = 0; d < headDim_; ++d)
        out[d] = acc[d] * inverse;
}

float AttentionAccumulator::logSumExp(int row) const
{
    return sum_[row] > 0.0f ? max_[row] + std::log(sum_[row]) : kNegativeInfinity;
}

CausalAttention::CausalAttention(const AttentionShape& shape, int threads, SimdLevel level,
                                 kernels::AttentionProducts products)
    : shape_(shape), products_(products)
{
    if (shape.heads <= 0 || shape.kvHeads <= 0 || shape.heads % shape.kvHeads != 0 || shape.headDim <= 0)
        throw std::invalid_argument("attention: head counts must be positive and heads a multiple of KV heads");
    const int group = shape.heads / shape.kvHeads;
    threads = std::max(threads, 1);
    perThread_.assign(threads, AttentionAccumulator(shape.headDim, level, products));
    // Room for the three query rotations of Dual Chunk Attention.
    queryTile_ = std::max(kMinQueryTile, kRowsPerItem / group);
    rowsPerThread_.assign(threads, std::vector<float>(3 * static_cast<std::size_t>(queryTile_) * group * shape.headDim));
    limitsPerThread_.assign(threads, std::vector<int>(static_cast<std::size_t>(queryTile_) * group));
    firstsPerThread_ = limitsPerThread_;
}

void CausalAttention::run(const KvCache& cache, int layer, const float* queries, int queryStride, int count,
                          int firstSlot, float* out, int outStride, ThreadPool& pool)
{
    AttentionQueries plain;
    plain.intra = queries;
    plain.stride = queryStride;
    run(cache, layer, plain, count, firstSlot, out, outStride, pool);
}

void CausalAttention::run(const KvCache& cache, int layer, const AttentionQueries& queries, int count,
                          int firstSlot, float* out, int outStride, ThreadPool& pool)
{
    const int group = shape_.heads / shape_.kvHeads;
    const int headDim = shape_.headDim;
    const int chunk = queries.chunkLength;
    const int variants = chunk > 0 ? 3 : 1;
    if (chunk > 0 && (!queries.successive || !queries.inter))
        throw std::invalid_argument("attention: chunked attention needs all three query rotations");
    const int window = queries.window;
    if (window < 0 || (window > 0 && chunk > 0))
        throw std::invalid_argument("attention: a sliding window needs plain (unchunked) attention");
    // The first key query t may see: 0, or the start of its window.
    auto firstKeyOf = [&](int t) { return window > 0 ? std::max(0, firstSlot + t - window + 1) : 0; };
    const int totalKeys = firstSlot + count;
    uint64_t pairs = static_cast<uint64_t>(count) * firstSlot + static_cast<uint64_t>(count) * (count + 1) / 2;
    if (window > 0) {
        pairs = 0;
        for (int t = 0; t < count; ++t)
            pairs += static_cast<uint64_t>(firstSlot + t + 1 - firstKeyOf(t));
    }
    const RunTimer timer(4ull * shape_.heads * headDim * pairs);

    // Query tiles of at most queryTile_ tokens that never straddle a chunk boundary,
    // so every row of a tile reads the same three key ranges.
    tiles_.clear();
    for (int t = 0; t < count;) {
        int end = std::min(count, t + queryTile_);
        if (chunk > 0)
            end = std::min(end, ((firstSlot + t) / chunk + 1) * chunk - firstSlot);
        tiles_.push_back({t, end});
        t = end;
    }
    const int queryTiles = static_cast<int>(tiles_.size());

    // Few query tiles (decode) cannot keep the threads busy: split the keys instead,
    // each split a partial softmax, merged below by log-sum-exp.
    // Only keys from the first window on are read (all of them without a window).
    int keySplits = 1;
    const int keyFloor = firstKeyOf(0);
    if (keyFloor < cache.oldestSlot(layer))
        throw std::logic_error("attention: layer " + std::to_string(layer) + " keeps slots from "
                               + std::to_string(cache.oldestSlot(layer)) + " on, the queries need them from "
                               + std::to_string(keyFloor));
    const int keySpan = totalKeys - keyFloor;
    const int baseItems = shape_.kvHeads * queryTiles;
    if (baseItems < 2 * pool.size() && keySpan >= 1024)
        keySplits = std::clamp((2 * pool.size() + baseItems - 1) / baseItems, 1, keySpan / 512);
    const int splitLength = (keySpan + keySplits - 1) / keySplits;
    const std::size_t partialRow = static_cast<std::size_t>(headDim) + 2;
    const std::size_t rowsPerItem = static_cast<std::size_t>(queryTile_) * group;
    if (keySplits > 1)
        partials_.resize(static_cast<std::size_t>(baseItems) * keySplits * rowsPerItem * partialRow);
    const float* variantQueries[3] = {queries.intra, queries.successive, queries.inter};
    const kernels::AttentionProducts products = keySpan >= bf16AttentionMinKeys()
                                                    ? products_
                                                    : kernels::AttentionProducts::Float32;

    const int items = baseItems * keySplits;
    pool.parallelFor(items, [&](int64_t begin, int64_t end, int thread) {
        AttentionAccumulator& acc = perThread_[thread];
        std::vector<float>& rowBuffer = rowsPerThread_[thread];
        int* limits = limitsPerThread_[thread].data();
        int* firsts = firstsPerThread_[thread].data();
        for (int64_t item = begin; item < end; ++item) {
            const int split = static_cast<int>(item % keySplits);
            const int base = static_cast<int>(item / keySplits);
            const int kvHead = base % shape_.kvHeads;
            const auto [t0, t1] = tiles_[base / shape_.kvHeads];
            // Gather the rows that share this KV head (tokens of the tile x heads of the
            // group), once per query rotation.
            const int rowCount = (t1 - t0) * group;
            for (int v = 0; v < variants; ++v) {
                float* rows = rowBuffer.data() + static_cast<std::size_t>(v) * rowsPerItem * headDim;
                for (int t = t0, r = 0; t < t1; ++t) {
                    for (int g = 0; g < group; ++g, ++r) {
                        const int head = kvHead * group + g;
                        std::memcpy(rows + static_cast<std::size_t>(r) * headDim,
                                    variantQueries[v] + static_cast<std::size_t>(t) * queries.stride
                                        + static_cast<std::size_t>(head) * headDim,
                                    sizeof(float) * headDim);
                        limits[r] = firstSlot + t;
                        firsts[r] = firstKeyOf(t);
                    }
                }
            }
            // Key ranges of the tile: intra [chunkStart, i] (causal), successive (the
            // previous chunk) and inter (everything before it); plain attention is intra from 0
            // (or from the first row's window).
            const int chunkStart = chunk > 0 ? (firstSlot + t0) / chunk * chunk : firstKeyOf(t0);
            const int ranges[3][2] = {{chunkStart, firstSlot + t1},
                                      {std::max(0, chunkStart - chunk), chunkStart},
                                      {0, std::max(0, chunkStart - chunk)}};
            const int splitBegin = keyFloor + split * splitLength;
            const int splitEnd = std::min(totalKeys, splitBegin + splitLength);
            acc.setProducts(products);
            acc.reset(rowCount);
            for (int v = 0; v < variants; ++v) {
                const int keyBegin = std::max(ranges[v][0], splitBegin);
                const int keyEnd = std::min(ranges[v][1], splitEnd);
                if (keyBegin < keyEnd)
                    acc.add(cache, layer, kvHead, rowBuffer.data() + static_cast<std::size_t>(v) * rowsPerItem * headDim,
                            keyBegin, keyEnd, v == 0 ? limits : nullptr, shape_.scale,
                            window > 0 ? firsts : nullptr);
            }
            for (int r = 0; r < rowCount; ++r) {
                if (keySplits > 1) {
                    float* p = &partials_[(static_cast<std::size_t>(item) * rowsPerItem + r) * partialRow];
                    p[0] = acc.runningMax(r);
                    p[1] = acc.runningSum(r);
                    std::memcpy(p + 2, acc.unnormalised(r), sizeof(float) * headDim);
                } else {
                    const int t = t0 + r / group;
                    const int head = kvHead * group + r % group;
                    acc.output(r, out + static_cast<std::size_t>(t) * outStride + static_cast<std::size_t>(head) * headDim);
                }
            }
        }
    });
    if (observer_ && count == 1)
        observeDecode(cache, layer, queries, firstSlot, pool);
    if (keySplits == 1)
        return;

    // Merge: out = sum_s exp(m_s - M) acc_s / sum_s exp(m_s - M) l_s, M = max_s m_s.
    for (int base = 0; base < baseItems; ++base) {
        const int kvHead = base % shape_.kvHeads;
        const auto [t0, t1] = tiles_[base / shape_.kvHeads];
        const int rowCount = (t1 - t0) * group;
        for (int r = 0; r < rowCount; ++r) {
            auto partial = [&](int split) {
                return &partials_[((static_cast<std::size_t>(base) * keySplits + split) * rowsPerItem + r) * partialRow];
            };
            float maximum = kNegativeInfinity;
            for (int s = 0; s < keySplits; ++s)
                maximum = std::max(maximum, partial(s)[0]);
            const int t = t0 + r / group;
            const int head = kvHead * group + r % group;
            float* o = out + static_cast<std::size_t>(t) * outStride + static_cast<std::size_t>(head) * headDim;
            std::fill(o, o + headDim, 0.0f);
            float total = 0.0f;
            for (int s = 0; s < keySplits; ++s) {
                const float* p = partial(s);
                if (p[1] <= 0.0f)
                    continue;  // this split saw no key of the row
                const float weight = std::exp(p[0] - maximum);
                total += weight * p[1];
                addScaled(o, weight, p + 2, headDim);
            }
            if (total > 0.0f)
                scaleInPlace(o, 1.0f / total, headDim);
        }
    }
}

void CausalAttention::observeDecode(const KvCache& cache, int layer, const AttentionQueries& queries, int firstSlot,
                                    ThreadPool& pool)
{
    if (!observer_->observesLayer(layer))
        return;
    // Cut [0, totalKeys) into the observed ranges and the gaps between them, so that
    // every key is visited once and the pieces' log-sum-exps merge into the total.
    const int totalKeys = firstSlot + 1;
    const std::vector<std::pair<int, int>>& ranges = observer_->keyRanges();
    pieces_.clear();
    rangePiece_.clear();
    int at = 0;
    for (const auto& [begin, end] : ranges) {
        const int b = std::clamp(begin, at, totalKeys);
        const int e = std::clamp(end, b, totalKeys);
        if (b > at)
            pieces_.push_back({at, b});
        rangePiece_.push_back(static_cast<int>(pieces_.size()));
        pieces_.push_back({b, e});
        at = e;
    }
    if (at < totalKeys)
        pieces_.push_back({at, totalKeys});
    const int pieceCount = static_cast<int>(pieces_.size());
    const int group = shape_.heads / shape_.kvHeads;
    const int headDim = shape_.headDim;
    pieceLse_.assign(static_cast<std::size_t>(shape_.heads) * pieceCount, kNegativeInfinity);

    // The key ranges of run() for the single query at slot firstSlot.
    const int chunk = queries.chunkLength;
    const int variants = chunk > 0 ? 3 : 1;
    const int chunkStart = chunk > 0 ? firstSlot / chunk * chunk
                           : queries.window > 0 ? std::max(0, firstSlot - queries.window + 1)
                                                : 0;
    const int variantRange[3][2] = {{chunkStart, totalKeys},
                                    {std::max(0, chunkStart - chunk), chunkStart},
                                    {0, std::max(0, chunkStart - chunk)}};
    const float* variantQueries[3] = {queries.intra, queries.successive, queries.inter};
    pool.parallelFor(shape_.kvHeads, [&](int64_t begin, int64_t end, int thread) {
        AttentionAccumulator& acc = perThread_[thread];
        float* rows = rowsPerThread_[thread].data();
        for (int64_t kvHead = begin; kvHead < end; ++kvHead) {
            for (int v = 0; v < variants; ++v)
                for (int g = 0; g < group; ++g)
                    std::memcpy(rows + (static_cast<std::size_t>(v) * group + g) * headDim,
                                variantQueries[v] + static_cast<std::size_t>(kvHead * group + g) * headDim,
                                sizeof(float) * headDim);
            for (int p = 0; p < pieceCount; ++p) {
                acc.setProducts(kernels::AttentionProducts::Float32);
                acc.reset(group);
                for (int v = 0; v < variants; ++v) {
                    const int keyBegin = std::max(pieces_[p].first, variantRange[v][0]);
                    const int keyEnd = std::min(pieces_[p].second, variantRange[v][1]);
                    if (keyBegin < keyEnd)
                        acc.add(cache, layer, static_cast<int>(kvHead), rows + static_cast<std::size_t>(v) * group * headDim,
                                keyBegin, keyEnd, nullptr, shape_.scale);
                }
                for (int g = 0; g < group; ++g)
                    pieceLse_[static_cast<std::size_t>(kvHead * group + g) * pieceCount + p] = acc.logSumExp(g);
            }
        }
    });
    std::vector<float> rangeLse(ranges.size());
    for (int head = 0; head < shape_.heads; ++head) {
        const float* lse = &pieceLse_[static_cast<std::size_t>(head) * pieceCount];
        float maximum = kNegativeInfinity;
        for (int p = 0; p < pieceCount; ++p)
            maximum = std::max(maximum, lse[p]);
        double sum = 0.0;
        for (int p = 0; p < pieceCount; ++p)
            if (lse[p] > kNegativeInfinity)
                sum += std::exp(static_cast<double>(lse[p]) - maximum);
        const float total = sum > 0.0 ? maximum + static_cast<float>(std::log(sum)) : kNegativeInfinity;
        for (std::size_t r = 0; r < ranges.size(); ++r)
            rangeLse[r] = lse[rangePiece_[r]];
        observer_->observe(layer, head, rangeLse.data(), total);
    }
}

StandardAttention::StandardAttention(const AttentionShape& shape, const RopeConfig& rope, int threads, int window)
    : shape_(shape), rope_(rope), attention_(shape, threads), window_(window)
{
    if (rope.dims > shape.headDim)
        throw std::invalid_argument("attention: RoPE dimensions exceed the head dimension");
    if (window < 0)
        throw std::invalid_argument("attention: the sliding window must be positive (0: none)");
}

void StandardAttention::beginBatch(const int32_t* positions, int count)
{
    const std::size_t pairs = rope_.pairs();
    cos_.resize(pairs * count);
    sin_.resize(pairs * count);
    for (int t = 0; t < count; ++t)
        rope_.angles(positions[t], &cos_[t * pairs], &sin_[t * pairs]);
}

void StandardAttention::attend(const AttentionBatch& batch, KvCache& cache, ThreadPool& pool)
{
    const std::size_t pairs = rope_.pairs();
    if (cos_.size() < pairs * batch.count)
        throw std::logic_error("attention: beginBatch was not called for this batch");
    for (int t = 0; t < batch.count; ++t) {
        const float* c = &cos_[t * pairs];
        const float* s = &sin_[t * pairs];
        rope_.rotateHeads(batch.queries + static_cast<std::size_t>(t) * batch.queryStride, shape_.heads,
                          shape_.headDim, c, s);
        rope_.rotateHeads(batch.keys + static_cast<std::size_t>(t) * batch.kvStride, shape_.kvHeads,
                          shape_.headDim, c, s);
    }
    cache.store(batch.layer, batch.firstSlot, batch.count, batch.keys, batch.values, batch.kvStride);
    AttentionQueries queries;
    queries.intra = batch.queries;
    queries.stride = batch.queryStride;
    queries.window = window_;
    attention_.run(cache, batch.layer, queries, batch.count, batch.firstSlot, batch.out, batch.outStride, pool);
}

PerLayerAttention::PerLayerAttention(std::vector<std::unique_ptr<AttentionMethod>> methods,
                                     std::vector<int> methodOfLayer, std::vector<int> observed)
    : methods_(std::move(methods)), methodOfLayer_(std::move(methodOfLayer)), observed_(std::move(observed))
{
    for (const std::vector<int>* indices : {&methodOfLayer_, &observed_})
        for (int m : *indices)
            if (m < 0 || m >= static_cast<int>(methods_.size()) || !methods_[m])
                throw std::invalid_argument("attention: a layer names no attention method");
}

void PerLayerAttention::beginBatch(const int32_t* positions, int count)
{
    for (const auto& m : methods_)
        m->beginBatch(positions, count);
}

void PerLayerAttention::attend(const AttentionBatch& batch, KvCache& cache, ThreadPool& pool)
{
    method(batch.layer).attend(batch, cache, pool);
}

void PerLayerAttention::setObserver(AttentionObserver* observer)
{
    for (int m : observed_)
        methods_[m]->setObserver(observer);
}

} // namespace folio
