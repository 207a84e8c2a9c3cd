#include "engine/attention/kv_cache.h"

#include "engine/gguf/fp16.h"
#include "engine/gguf/quant.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <stdexcept>
#include <string>

namespace folio {

namespace {

// The block types' rows are whole blocks of kQK: one head vector never shares a block
// with another, so any row range converts on its own.
void dequantizeQ8_0(const BlockQ8_0* blocks, std::size_t count, float* out)
{
    for (std::size_t b = 0; b < count; ++b, out += kQK) {
        const float d = fp16ToFp32(blocks[b].d);
        const int8_t* q = blocks[b].qs;
        for (int j = 0; j < kQK; ++j)  // same products as quant.cpp's reference, so the same floats
            out[j] = d * static_cast<float>(q[j]);
    }
}

void dequantizeQ4_0(const BlockQ4_0* blocks, std::size_t count, float* out)
{
    for (std::size_t b = 0; b < count; ++b, out += kQK) {
        const float d = fp16ToFp32(blocks[b].d);
        const uint8_t* q = blocks[b].qs;
        for (int j = 0; j < kQK / 2; ++j) {
            out[j] = d * static_cast<float>((q[j] & 0xF) - 8);
            out[j + kQK / 2] = d * static_cast<float>((q[j] >> 4) - 8);
        }
    }
}

GgmlType blockTypeOf(KvType type) { return type == KvType::Q8_0 ? GgmlType::Q8_0 : GgmlType::Q4_0; }

} // namespace

std::string_view kvTypeName(KvType type)
{
    switch (type) {
    case KvType::F16: return "f16";
    case KvType::F32: return "f32";
    case KvType::Q8_0: return "q8_0";
    case KvType::Q4_0: return "q4_0";
    }
    return "unknown";
}

KvType parseKvType(std::string_view name)
{
    std::string lower(name);
    for (char& c : lower)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (KvType type : {KvType::F16, KvType::F32, KvType::Q8_0, KvType::Q4_0})
        if (lower == kvTypeName(type))
            return type;
    throw std::invalid_argument("unknown KV cache type '" + std::string(name) + "' (choose f16, q8_0, q4_0 or f32)");
}

bool isQuantizedKvType(KvType type) { return type == KvType::Q8_0 || type == KvType::Q4_0; }

std::size_t kvRowBytes(KvType type, int headDim)
{
    if (headDim <= 0)
        throw std::invalid_argument("KV cache: the head dimension must be positive");
    const std::size_t n = static_cast<std::size_t>(headDim);
    switch (type) {
    case KvType::F16: return 2 * n;
    case KvType::F32: return 4 * n;
    case KvType::Q8_0:
    case KvType::Q4_0:
        if (headDim % kQK != 0)
            throw std::invalid_argument("KV cache type " + std::string(kvTypeName(type))
                                        + " needs a head dimension that is a multiple of 32; this model's is "
                                        + std::to_string(headDim) + " (use f16)");
        return n / kQK * (type == KvType::Q8_0 ? sizeof(BlockQ8_0) : sizeof(BlockQ4_0));
    }
    throw std::invalid_argument("KV cache: unknown type");
}

int KvCache::ringRows(int window, int maxBatch, int capacity, int slack)
{
    if (window <= 0)
        return capacity;
    const int64_t rows = int64_t{window} + std::max(maxBatch, 1) - 1 + std::max(slack, 0);
    return static_cast<int>(std::min<int64_t>(capacity, rows));
}

KvCache::KvCache(int layers, int kvHeads, int headDim, int capacity, KvType type, std::vector<int> ringWindows,
                 int maxBatch, int slack)
    : layers_(layers), kvHeads_(kvHeads), headDim_(headDim), capacity_(capacity), type_(type), rowBytes_(0),
      windows_(std::move(ringWindows))
{
    if (layers <= 0 || kvHeads <= 0 || headDim <= 0 || capacity <= 0)
        throw std::invalid_argument("KV cache: layers, heads, head dim and capacity must be positive");
    if (!windows_.empty() && static_cast<int>(windows_.size()) != layers)
        throw std::invalid_argument("KV cache: one ring window per layer, or none");
    windows_.resize(layers, 0);
    rowBytes_ = kvRowBytes(type, headDim);
    std::size_t rows = 0;
    for (int l = 0; l < layers; ++l) {
        if (windows_[l] < 0)
            throw std::invalid_argument("KV cache: a ring window must be positive (0: none)");
        layerRows_.push_back(ringRows(windows_[l], maxBatch, capacity, slack));
        firstRow_.push_back(rows);
        rows += static_cast<std::size_t>(kvHeads) * layerRows_.back();
    }
    keys_.reset(new uint8_t[rows * rowBytes_]);
    values_.reset(new uint8_t[rows * rowBytes_]);
}

std::size_t KvCache::bytes() const
{
    std::size_t rows = 0;
    for (int r : layerRows_)
        rows += static_cast<std::size_t>(kvHeads_) * r;
    return 2 * rows * rowBytes_;
}

int KvCache::oldestSlot(int layer) const { return std::max(0, stored_ - layerRows_[layer]); }

const void* KvCache::rowPointer(const uint8_t* base, int layer, int kvHead, int slot) const
{
    const int rows = layerRows_[layer];
    const std::size_t row = firstRow_[layer] + static_cast<std::size_t>(kvHead) * rows + slot % rows;
    return base + row * rowBytes_;
}

uint8_t* KvCache::mutableRow(uint8_t* base, int layer, int kvHead, int slot)
{
    return const_cast<uint8_t*>(static_cast<const uint8_t*>(rowPointer(base, layer, kvHead, slot)));
}

void KvCache::store(int layer, int firstSlot, int count, const float* keys, const float* values, int tokenStride)
{
    if (layer < 0 || layer >= layers_ || firstSlot < 0 || count < 0 || firstSlot + count > capacity_)
        throw std::out_of_range("KV cache: store of slots [" + std::to_string(firstSlot) + ", "
                                + std::to_string(firstSlot + count) + ") in a cache of "
                                + std::to_string(capacity_));
    stored_ = std::max(stored_, firstSlot + count);
    for (int t = 0; t < count; ++t) {
        for (int h = 0; h < kvHeads_; ++h) {
            const float* k = keys + static_cast<std::size_t>(t) * tokenStride + static_cast<std::size_t>(h) * headDim_;
            const float* v = values + static_cast<std::size_t>(t) * tokenStride + static_cast<std::size_t>(h) * headDim_;
            uint8_t* kOut = mutableRow(keys_.get(), layer, h, firstSlot + t);
            uint8_t* vOut = mutableRow(values_.get(), layer, h, firstSlot + t);
            switch (type_) {
            case KvType::F32:
                std::memcpy(kOut, k, rowBytes_);
                std::memcpy(vOut, v, rowBytes_);
                break;
            case KvType::F16: {
                auto* k16 = reinterpret_cast<uint16_t*>(kOut);
                auto* v16 = reinterpret_cast<uint16_t*>(vOut);
                for (int d = 0; d < headDim_; ++d) {
                    k16[d] = fp32ToFp16(k[d]);
                    v16[d] = fp32ToFp16(v[d]);
                }
                break;
            }
            case KvType::Q8_0:
            case KvType::Q4_0:
                // The weights' reference quantizers: scale = max |x| / 127 (Q8_0), or the
                // signed extreme / -8 (Q4_0), per block of 32 components.
                quantizeRow(blockTypeOf(type_), k, kOut, headDim_);
                quantizeRow(blockTypeOf(type_), v, vOut, headDim_);
                break;
            }
        }
    }
}

void KvCache::commit(int newLength)
{
    if (newLength < 0 || newLength > capacity_)
        throw std::out_of_range("KV cache: length " + std::to_string(newLength) + " beyond capacity "
                                + std::to_string(capacity_));
    length_ = newLength;
    stored_ = std::max(stored_, newLength);  // rows written directly (a loaded state) count too
}

bool KvCache::canTruncate(int n) const
{
    for (int l = 0; l < layers_; ++l)
        if (windows_[l] > 0 && n - windows_[l] + 1 < oldestSlot(l) && n > 0)
            return false;
    return true;
}

void KvCache::truncate(int n)
{
    if (n < 0 || n > length_)
        throw std::out_of_range("KV cache: cannot truncate " + std::to_string(length_) + " slots to "
                                + std::to_string(n));
    if (!canTruncate(n))
        throw std::logic_error("KV cache: the sliding-window layers keep only their last "
                               + std::to_string(*std::min_element(layerRows_.begin(), layerRows_.end()))
                               + " positions and no longer hold those before position " + std::to_string(n)
                               + ": the text must be read again");
    length_ = n;
    if (n == 0)
        stored_ = 0;  // nothing left to keep
}

void KvCache::rowsToFloat(const void* row, int count, float* out) const
{
    const std::size_t n = static_cast<std::size_t>(count) * headDim_;
    switch (type_) {
    case KvType::F32:
        std::memcpy(out, row, n * sizeof(float));
        return;
    case KvType::F16: {
        const auto* h = static_cast<const uint16_t*>(row);
        for (std::size_t i = 0; i < n; ++i)
            out[i] = fp16ToFp32(h[i]);
        return;
    }
    case KvType::Q8_0:
        dequantizeQ8_0(static_cast<const BlockQ8_0*>(row), n / kQK, out);
        return;
    case KvType::Q4_0:
        dequantizeQ4_0(static_cast<const BlockQ4_0*>(row), n / kQK, out);
        return;
    }
}

} // namespace folio
