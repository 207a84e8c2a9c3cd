// Attention over the KV cache, as a component separate from the forward pass.
//
// AttentionAccumulator is the FlashAttention recurrence for a block of query rows
// that read one KV head: keys and values are visited in tiles and each row keeps a
// running maximum, a running sum of exponentials and an unnormalised output, so no
// buffer grows with the number of keys. It can be fed several key ranges with
// different query vectors (Dual Chunk Attention's intra / successive / inter parts)
// and still produce one softmax over their union.
//
// AttentionMethod is the forward pass's plug-in point: it receives the projected,
// not yet rotated queries and keys of a batch, rotates them at the positions it
// chooses, stores keys and values in the cache and writes the attention output.
// StandardAttention is plain causal RoPE attention.
#pragma once

#include "engine/kernels/cpu_features.h"
#include "engine/attention/kv_cache.h"
#include "engine/attention/rope.h"

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

namespace folio {

class ThreadPool;
namespace kernels {
struct AttentionKernels;
enum class AttentionProducts;
AttentionProducts defaultAttentionProducts();
}

// Optional listener for decode steps (a single new query): how each query head's
// attention divides over caller-chosen key ranges (e.g. a document's pages), for
// evidence. For every (layer, head) it receives the log-sum-exp of the scores over
// each range and over all keys the query saw; the share of range r is exactly
// exp(rangeLse[r] - totalLse). Called on the thread that runs the attention, after
// the layer's attention, never concurrently.
class AttentionObserver {
public:
    virtual ~AttentionObserver() = default;
    // Sorted, disjoint [begin, end) key slots. Read once per decode step and layer.
    virtual const std::vector<std::pair<int, int>>& keyRanges() const = 0;
    virtual bool observesLayer(int /*layer*/) const { return true; }
    // rangeLse: keyRanges().size() values (-inf for a range with no visible key).
    virtual void observe(int layer, int head, const float* rangeLse, float totalLse) = 0;
};

struct AttentionShape {
    int heads = 0;
    int kvHeads = 0;     // query head h reads kv head h / (heads / kvHeads)
    int headDim = 0;
    float scale = 0.0f;  // usually 1 / sqrt(headDim)
};

class AttentionAccumulator {
public:
    // level: which tile kernel (tests compare them); clamped to what the CPU runs.
    // products: FP32 or BF16 score and value products (attention_kernels.h; BF16 only
    // where the CPU has it, the default unless FOLIO_ATTENTION=fp32).
    explicit AttentionAccumulator(int headDim, SimdLevel level = activeSimdLevel(),
                                  kernels::AttentionProducts products = kernels::defaultAttentionProducts());

    // Starts `rows` empty rows (running max -inf, sum 0, output 0).
    void reset(int rows);
    int rows() const { return rows_; }
    // Switches the products (for the next reset(); same SIMD level).
    void setProducts(kernels::AttentionProducts products);

    // Adds keys [keyBegin, keyEnd) of (layer, kvHead) to every row. `queries` holds
    // rows() vectors of headDim floats, contiguous. lastKey (optional) bounds each row
    // causally: key j counts for row r only if j <= lastKey[r]; firstKey (optional)
    // bounds it from below (a sliding window): only if j >= firstKey[r].
    void add(const KvCache& cache, int layer, int kvHead, const float* queries, int keyBegin, int keyEnd,
             const int* lastKey, float scale, const int* firstKey = nullptr);

    // Row r's normalised output (zeros if no key counted) and log-sum-exp of its scores.
    void output(int row, float* out) const;
    float logSumExp(int row) const;

    // Raw state, for merging partial results computed over disjoint key ranges.
    float runningMax(int row) const { return max_[row]; }
    float runningSum(int row) const { return sum_[row]; }
    const float* unnormalised(int row) const { return &acc_[static_cast<std::size_t>(row) * headDim_]; }

private:
    // add() through the kernel's whole-range entry (runs up to a ring's wrap).
    void addRanges(const KvCache& cache, int layer, int kvHead, const float* queries, int keyBegin, int keyEnd,
                   const int* lastKey, float scale, const int* firstKey);

    int headDim_;
    SimdLevel level_;
    const kernels::AttentionKernels* kernels_;
    int rows_ = 0;
    std::vector<float> max_, sum_, acc_;
    std::vector<float> scratch_;  // the tile kernel's key, value and score buffers
    std::vector<int> visible_;    // per row, keys of the current tile that count
    std::vector<int> hidden_;     // per row, leading keys of the current tile that do not (firstKey)
};

// The queries of a batch and where each one looks. Plain causal attention
// (chunkLength 0): query i reads keys [0, i] with `intra`. Dual Chunk Attention
// (chunkLength S > 0, notes/dca.md §3-6): with b = i / S, query i reads keys
// [bS, i] with `intra`, [(b-1)S, bS) with `successive` and [0, (b-1)S) with `inter`,
// all in one softmax. A sliding window (window W > 0, plain attention only): query i
// reads keys (i - W, i]. Token t, head h of each array is at [t * stride + h * headDim].
struct AttentionQueries {
    const float* intra = nullptr;
    const float* successive = nullptr;
    const float* inter = nullptr;
    int stride = 0;
    int chunkLength = 0;
    int window = 0;
};

// BF16 products (where asked for and the CPU has them; on AVX2 the FP32 range kernel)
// serve runs whose queries see at least this many keys: there attention is a large part
// of the time. Shorter runs, and the observer's pass (exact shares), keep the FP32 tile
// kernel: their cost is the weights'.
inline constexpr int kBf16AttentionMinKeys = 2048;
// kBf16AttentionMinKeys, or 0 with FOLIO_ATTENTION=bf16, int8keys or int8 (those products at every
// length, to measure their accuracy); FOLIO_ATTENTION=fp32 turns them off (attention_kernels.h).
int bf16AttentionMinKeys();

// Causal attention of `count` new queries in slots [firstSlot, firstSlot + count):
// query t sees cache slots [0, firstSlot + t]. queries/out: token t, head h at
// [t * stride + h * headDim]. Parallel over KV heads and query tiles; a decode step
// over a long cache is split along the keys and merged by log-sum-exp.
class CausalAttention {
public:
    CausalAttention(const AttentionShape& shape, int threads, SimdLevel level = activeSimdLevel(),
                    kernels::AttentionProducts products = kernels::defaultAttentionProducts());
    void run(const KvCache& cache, int layer, const float* queries, int queryStride, int count, int firstSlot,
             float* out, int outStride, ThreadPool& pool);
    // The general form: query ranges as AttentionQueries describes (slot = position).
    void run(const KvCache& cache, int layer, const AttentionQueries& queries, int count, int firstSlot, float* out,
             int outStride, ThreadPool& pool);
    const AttentionShape& shape() const { return shape_; }
    // Decode steps (count == 1) then also report to `observer` (nullptr: none).
    void setObserver(AttentionObserver* observer) { observer_ = observer; }

private:
    // One more pass over the keys of a decode query, range by range (exact per-range
    // softmax partials, the DCA ranges merged as in run()).
    void observeDecode(const KvCache& cache, int layer, const AttentionQueries& queries, int firstSlot,
                       ThreadPool& pool);

    // Tokens per work item: about kRowsPerItem rows (tokens times the GQA group), at
    // least kMinQueryTile tokens. Each item converts its keys' tiles once for all its
    // rows: at 128 rows that conversion was about a third of the int8 kernel's time
    // (folio-bench attention: int8 186 -> 246 GFLOP/s from 128 to 256 rows; 512 rows were
    // slower, 144 against 230 in one run).
    static constexpr int kRowsPerItem = 256;
    static constexpr int kMinQueryTile = 16;
    int queryTile_ = kMinQueryTile;
    AttentionShape shape_;
    kernels::AttentionProducts products_;
    std::vector<AttentionAccumulator> perThread_;
    std::vector<std::vector<float>> rowsPerThread_;
    std::vector<std::vector<int>> limitsPerThread_, firstsPerThread_;
    std::vector<float> partials_;  // split-key results: per split, per row, headDim + 2 floats
    std::vector<std::pair<int, int>> tiles_;  // query tiles [t0, t1) of the current run
    AttentionObserver* observer_ = nullptr;
    std::vector<std::pair<int, int>> pieces_;  // observed ranges plus the gaps between them
    std::vector<int> rangePiece_;              // observed range -> its piece
    std::vector<float> pieceLse_;              // per query head, per piece
};

// Totals over every CausalAttention::run of the process (wall time of the calls and
// 4 * heads * headDim FLOPs per causal query-key pair), for benchmarks.
struct AttentionCounters {
    double seconds = 0.0;
    double flops = 0.0;
};
AttentionCounters attentionCounters();
void resetAttentionCounters();

// One batch of a layer as the forward pass hands it to the attention method.
struct AttentionBatch {
    int layer = 0;
    int firstSlot = 0;
    int count = 0;
    float* queries = nullptr;       // count tokens x heads x headDim, not yet rotated (rotated in place)
    float* keys = nullptr;          // count tokens x kvHeads x headDim, not yet rotated
    const float* values = nullptr;  // count tokens x kvHeads x headDim
    int queryStride = 0;            // floats between tokens
    int kvStride = 0;
    float* out = nullptr;           // count tokens x heads x headDim
    int outStride = 0;
};

class AttentionMethod {
public:
    virtual ~AttentionMethod() = default;
    // Once per batch, before the first layer: the absolute positions of its tokens.
    virtual void beginBatch(const int32_t* positions, int count) = 0;
    virtual void attend(const AttentionBatch& batch, KvCache& cache, ThreadPool& pool) = 0;
    // Decode steps report to `observer` (see AttentionObserver); nullptr stops it.
    virtual void setObserver(AttentionObserver* /*observer*/) {}
};

// Plain RoPE attention: query and key of token j rotated at position j; with a
// window W > 0, query j sees only the keys (j - W, j] (a sliding-window layer).
class StandardAttention : public AttentionMethod {
public:
    StandardAttention(const AttentionShape& shape, const RopeConfig& rope, int threads, int window = 0);
    void beginBatch(const int32_t* positions, int count) override;
    void attend(const AttentionBatch& batch, KvCache& cache, ThreadPool& pool) override;
    void setObserver(AttentionObserver* observer) override { attention_.setObserver(observer); }

private:
    AttentionShape shape_;
    RopeTable rope_;
    CausalAttention attention_;
    int window_;
    std::vector<float> cos_, sin_;  // per token of the batch, pairs() each
};

// Different attention per layer (interleaved local and global layers): each layer's
// batch goes to the method chosen for it; every method sees every batch begin.
// Only the methods in `observed` report to an observer: a sliding-window layer sees
// the last W keys only and says nothing about where in a long document the answer is.
class PerLayerAttention : public AttentionMethod {
public:
    // methodOfLayer[l] and observed[i] index `methods`.
    PerLayerAttention(std::vector<std::unique_ptr<AttentionMethod>> methods, std::vector<int> methodOfLayer,
                      std::vector<int> observed);
    void beginBatch(const int32_t* positions, int count) override;
    void attend(const AttentionBatch& batch, KvCache& cache, ThreadPool& pool) override;
    void setObserver(AttentionObserver* observer) override;
    AttentionMethod& method(int layer) { return *methods_.at(methodOfLayer_.at(layer)); }

private:
    std::vector<std::unique_ptr<AttentionMethod>> methods_;
    std::vector<int> methodOfLayer_, observed_;
};

} // namespace folio
