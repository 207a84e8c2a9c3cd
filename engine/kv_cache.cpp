#include "engine/kv_cache.h"

#include "engine/fp16.h"

#include <cstring>
#include <stdexcept>
#include <string>

namespace folio {

std::string_view kvTypeName(KvType type)
{
    return type == KvType::F16 ? "f16" : "f32";
}

std::size_t kvElementBytes(KvType type)
{
    return type == KvType::F16 ? 2 : 4;
}

KvCache::KvCache(int layers, int kvHeads, int headDim, int capacity, KvType type)
    : layers_(layers), kvHeads_(kvHeads), headDim_(headDim), capacity_(capacity), type_(type),
      rowBytes_(static_cast<std::size_t>(headDim) * kvElementBytes(type))
{
    if (layers <= 0 || kvHeads <= 0 || headDim <= 0 || capacity <= 0)
        throw std::invalid_argument("KV cache: layers, heads, head dim and capacity must be positive");
    keys_.reset(new uint8_t[bytes() / 2]);
    values_.reset(new uint8_t[bytes() / 2]);
}

std::size_t KvCache::bytes() const
{
    return 2 * static_cast<std::size_t>(layers_) * kvHeads_ * capacity_ * rowBytes_;
}

const void* KvCache::rowPointer(const uint8_t* base, int layer, int kvHead, int slot) const
{
    const std::size_t row = (static_cast<std::size_t>(layer) * kvHeads_ + kvHead) * capacity_ + slot;
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
    for (int t = 0; t < count; ++t) {
        for (int h = 0; h < kvHeads_; ++h) {
            const float* k = keys + static_cast<std::size_t>(t) * tokenStride + static_cast<std::size_t>(h) * headDim_;
            const float* v = values + static_cast<std::size_t>(t) * tokenStride + static_cast<std::size_t>(h) * headDim_;
            uint8_t* kOut = mutableRow(keys_.get(), layer, h, firstSlot + t);
            uint8_t* vOut = mutableRow(values_.get(), layer, h, firstSlot + t);
            if (type_ == KvType::F32) {
                std::memcpy(kOut, k, rowBytes_);
                std::memcpy(vOut, v, rowBytes_);
            } else {
                auto* k16 = reinterpret_cast<uint16_t*>(kOut);
                auto* v16 = reinterpret_cast<uint16_t*>(vOut);
                for (int d = 0; d < headDim_; ++d) {
                    k16[d] = fp32ToFp16(k[d]);
                    v16[d] = fp32ToFp16(v[d]);
                }
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
}

void KvCache::truncate(int n)
{
    if (n < 0 || n > length_)
        throw std::out_of_range("KV cache: cannot truncate " + std::to_string(length_) + " slots to "
                                + std::to_string(n));
    length_ = n;
}

void KvCache::rowsToFloat(const void* row, int count, float* out) const
{
    const std::size_t n = static_cast<std::size_t>(count) * headDim_;
    if (type_ == KvType::F32) {
        std::memcpy(out, row, n * sizeof(float));
        return;
    }
    const auto* h = static_cast<const uint16_t*>(row);
    for (std::size_t i = 0; i < n; ++i)
        out[i] = fp16ToFp32(h[i]);
}

} // namespace folio
