// Writes GGUF version 3 files: the tests make their own small models with it, and
// tools can convert or edit models. Keys are written in insertion order; setting a
// key again replaces its value in place.
#pragma once

#include "engine/gguf/gguf.h"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace folio {

class GgufWriter {
public:
    void setString(const std::string& key, const std::string& value);
    void setU8(const std::string& key, uint8_t value);
    void setI8(const std::string& key, int8_t value);
    void setU16(const std::string& key, uint16_t value);
    void setI16(const std::string& key, int16_t value);
    void setU32(const std::string& key, uint32_t value);
    void setI32(const std::string& key, int32_t value);
    void setU64(const std::string& key, uint64_t value);
    void setI64(const std::string& key, int64_t value);
    void setF32(const std::string& key, float value);
    void setF64(const std::string& key, double value);
    void setBool(const std::string& key, bool value);
    void setStringArray(const std::string& key, const std::vector<std::string>& values);
    void setF32Array(const std::string& key, const std::vector<float>& values);
    void setI32Array(const std::string& key, const std::vector<int32_t>& values);
    void setI64Array(const std::string& key, const std::vector<int64_t>& values);
    void setBoolArray(const std::string& key, const std::vector<bool>& values);

    // A value given as its exact encoding (what follows the u32 type in the file):
    // for nested arrays and for tests that need values the typed setters cannot make.
    void setRaw(const std::string& key, GgufValueType type, std::vector<uint8_t> encoded);

    // Copies the data; nbytes must be what `type` and `dims` (ggml order) take.
    // Throws std::invalid_argument otherwise.
    void addTensor(std::string name, GgmlType type, std::vector<int64_t> dims, const void* data,
                   std::size_t nbytes);

    // A tensor whose bytes `fill` writes into a buffer of the size type and dims take,
    // when the file is written: write() then holds one such tensor at a time, so a
    // file larger than memory (a benchmark model of 17 GB) can be made.
    using TensorFill = std::function<void(uint8_t* out, std::size_t nbytes)>;
    void addTensor(std::string name, GgmlType type, std::vector<int64_t> dims, TensorFill fill);

    // Power of two; a value other than 32 is also written as general.alignment (u32).
    void setAlignment(uint32_t alignment);

    std::vector<uint8_t> serialize() const;
    void write(const std::string& path) const;  // throws GgufError on I/O errors

    // Encoding helpers for setRaw: a u32 element type + u64 count + the elements.
    static std::vector<uint8_t> encodeArrayHeader(GgufValueType elementType, uint64_t count);
    static void appendString(std::vector<uint8_t>& out, const std::string& s);

private:
    struct Entry {
        std::string key;
        GgufValueType type;
        std::vector<uint8_t> encoded;
    };
    struct Tensor {
        std::string name;
        GgmlType type;
        std::vector<int64_t> dims;
        std::vector<uint8_t> data;  // empty when `fill` makes it
        std::size_t nbytes = 0;
        TensorFill fill;
    };
    static std::size_t checkedBytes(const std::string& name, GgmlType type, const std::vector<int64_t>& dims);
    std::vector<uint8_t> header() const;  // up to the (aligned) start of the data section

    template <typename T>
    void setScalar(const std::string& key, GgufValueType type, T value);
    template <typename T>
    void setArray(const std::string& key, GgufValueType elementType, const std::vector<T>& values);

    std::vector<Entry> entries_;
    std::vector<Tensor> tensors_;
    uint32_t alignment_ = 32;
};

} // namespace folio
