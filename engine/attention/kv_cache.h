// Keys and values of the tokens seen so far: per layer, per KV head, per slot.
// Slot j holds token j of the session. Keys are stored already rotated, at whatever
// position the attention method chose (j for plain RoPE, j mod S for Dual Chunk
// Attention), so the cache itself knows nothing of positions.
//
// Element types: F16 (default), F32, and the GGUF block types Q8_0 and Q4_0
// quantized along the head dimension (blocks of 32 components of one head vector,
// so a row is whole blocks and every row converts on its own). Q8_0 takes 34/64 of
// F16's memory, Q4_0 18/64.
//
// Capacity is fixed at creation: the memory is reserved up front (the pages are
// only touched as slots fill), so running out shows up when a session is created,
// not in the middle of a long document.
//
// Rings: a layer whose queries see only the last W keys (a sliding-window layer)
// may hold fewer rows than the capacity; slot j then lives in row j mod rows, and a
// row is overwritten once the slot rows later is stored. Slots stay positions; only
// the rows wrap, so a range of slots is contiguous in memory up to the wrap
// (contiguousRows). Such a layer must hold W + the largest batch - 1 rows, and the
// cache can only be truncated back to where those layers still hold W - 1 earlier keys.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

namespace folio {

enum class KvType { F16, F32, Q8_0, Q4_0 };

// "f16", "f32", "q8_0", "q4_0".
std::string_view kvTypeName(KvType type);
// The inverse of kvTypeName (case-insensitive); throws std::invalid_argument listing the choices.
KvType parseKvType(std::string_view name);
bool isQuantizedKvType(KvType type);
// Bytes of one cache row (one head vector of headDim components). Throws
// std::invalid_argument when a block type meets a head dim that is not a multiple of 32.
std::size_t kvRowBytes(KvType type, int headDim);

class KvCache {
public:
    // ringWindows (optional, one per layer): 0 keeps every slot of the layer; W > 0 keeps
    // a ring of ringRows(W, ...) rows, enough for W keys behind a batch of maxBatch.
    KvCache(int layers, int kvHeads, int headDim, int capacity, KvType type, std::vector<int> ringWindows = {},
            int maxBatch = 1, int slack = kRingSlack);

    // Slots a ring may be truncated back beyond what a batch needs (regenerating an answer).
    static constexpr int kRingSlack = 2048;
    // Rows a layer with window W keeps for batches of at most maxBatch tokens (and
    // `slack` more slots that truncate() may go back): min(capacity, W + maxBatch - 1 + slack).
    static int ringRows(int window, int maxBatch, int capacity, int slack);

    int layers() const { return layers_; }
    int kvHeads() const { return kvHeads_; }
    int headDim() const { return headDim_; }
    int capacity() const { return capacity_; }
    KvType type() const { return type_; }
    std::size_t rowBytes() const { return rowBytes_; }
    std::size_t bytes() const;   // reserved for keys and values together
    int layerRows(int layer) const { return layerRows_[layer]; }  // capacity() unless a ring
    // From `slot`, how many consecutive slots of `layer` are consecutive rows (up to the wrap).
    int contiguousRows(int layer, int slot) const { return layerRows_[layer] - slot % layerRows_[layer]; }
    // The oldest slot whose row `layer` still holds (0 unless a ring has wrapped).
    int oldestSlot(int layer) const;

    // Slots [0, length()) hold valid tokens.
    int length() const { return length_; }

    // Writes keys and values of `count` tokens into slots [firstSlot, firstSlot + count)
    // of one layer (converting or quantizing to type()). Each token is kvHeads * headDim
    // floats, heads consecutive; consecutive tokens are `tokenStride` floats apart.
    // Slots may lie beyond length(): a batch is written layer by layer and made valid
    // by commit().
    void store(int layer, int firstSlot, int count, const float* keys, const float* values, int tokenStride);

    // Declares slots [0, newLength) valid (after every layer was stored).
    void commit(int newLength);

    // Forgets slots >= n (regenerate, cancel); n <= length(). Throws std::logic_error
    // when a ring no longer holds the W - 1 keys before slot n (canTruncate(n) false).
    void truncate(int n);
    bool canTruncate(int n) const;

    // Raw rows: rowBytes() bytes of type() for one (layer, kv head, slot); the slots
    // of one head are contiguous, so a tile of keys is one pointer and a count.
    const void* keyRow(int layer, int kvHead, int slot) const { return rowPointer(keys_.get(), layer, kvHead, slot); }
    const void* valueRow(int layer, int kvHead, int slot) const { return rowPointer(values_.get(), layer, kvHead, slot); }

    // The same rows for writing raw bytes (restoring a saved state); commit() afterwards.
    void* writableKeyRow(int layer, int kvHead, int slot) { return mutableRow(keys_.get(), layer, kvHead, slot); }
    void* writableValueRow(int layer, int kvHead, int slot) { return mutableRow(values_.get(), layer, kvHead, slot); }

    // Converts (dequantizes) `count` consecutive rows starting at `row` (a keyRow/valueRow pointer) to float.
    void rowsToFloat(const void* row, int count, float* out) const;

private:
    const void* rowPointer(const uint8_t* base, int layer, int kvHead, int slot) const;
    uint8_t* mutableRow(uint8_t* base, int layer, int kvHead, int slot);

    int layers_, kvHeads_, headDim_, capacity_;
    KvType type_;
    std::size_t rowBytes_;
    int length_ = 0;
    int stored_ = 0;                    // 1 + the highest slot ever stored (rings: what was overwritten)
    std::vector<int> windows_;          // per layer: 0, or the ring's window
    std::vector<int> layerRows_;        // per layer: rows held
    std::vector<std::size_t> firstRow_; // per layer: index of its first row (head-major within the layer)
    std::unique_ptr<uint8_t[]> keys_;     // not value-initialised: pages stay untouched until used
    std::unique_ptr<uint8_t[]> values_;
};

} // namespace folio
