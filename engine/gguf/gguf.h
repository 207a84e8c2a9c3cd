// Read-only access to a GGUF model file (versions 2 and 3, little-endian).
// open() maps the file and validates the whole header, every metadata value and
// every tensor description before anything is handed out, so that a damaged file
// is a GgufError naming the file and the key or tensor at fault, never a crash.
#pragma once

#include "engine/gguf/tensor_types.h"

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace folio {

class GgufError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

enum class GgufValueType : uint32_t {
    UInt8 = 0,
    Int8 = 1,
    UInt16 = 2,
    Int16 = 3,
    UInt32 = 4,
    Int32 = 5,
    Float32 = 6,
    Bool = 7,
    String = 8,
    Array = 9,
    UInt64 = 10,
    Int64 = 11,
    Float64 = 12,
};

// "u8", "i32", "f32", "string", "array", ...; "unknown" for numbers outside the enum.
std::string_view ggufValueTypeName(GgufValueType type);

struct GgufTensor {
    std::string name;
    GgmlType type = GgmlType::F32;
    std::vector<int64_t> dims;      // ggml order: dims[0] is the contiguous (fastest) dimension
    uint64_t offset = 0;            // relative to the data section
    const uint8_t* data = nullptr;  // into the mapping, validated to lie inside the file
    std::size_t nbytes = 0;
    int64_t elements() const;
    int64_t rows() const;           // product of dims[1..]
};

class GgufFile {  // movable, not copyable; owns the read-only mmap (munmap on destruction)
public:
    static GgufFile open(const std::string& path);   // throws GgufError("<path>: <what is wrong>")

    GgufFile(GgufFile&& other) noexcept;
    GgufFile& operator=(GgufFile&& other) noexcept;
    GgufFile(const GgufFile&) = delete;
    GgufFile& operator=(const GgufFile&) = delete;
    ~GgufFile();

    const std::string& path() const { return path_; }
    uint32_t version() const { return version_; }
    std::size_t fileSize() const { return size_; }
    std::size_t alignment() const { return alignment_; }
    std::size_t dataSectionOffset() const { return dataOffset_; }  // absolute, in the file

    bool has(std::string_view key) const;
    GgufValueType typeOf(std::string_view key) const;                   // throws if missing
    std::optional<std::string> getString(std::string_view key) const;   // throws GgufError if present with another type
    std::optional<int64_t> getInt(std::string_view key) const;    // any integer type (u64 beyond int64 range -> error)
    std::optional<double> getFloat(std::string_view key) const;   // f32/f64 (integers accepted too)
    std::optional<bool> getBool(std::string_view key) const;
    GgufValueType arrayElementType(std::string_view key) const;   // throws if missing / not array
    std::size_t arrayLength(std::string_view key) const;          // 0 if missing
    std::vector<std::string> getStringArray(std::string_view key) const;  // empty if missing; throws on wrong type
    std::vector<float> getFloatArray(std::string_view key) const;         // f32/f64 arrays
    std::vector<int64_t> getIntArray(std::string_view key) const;         // any integer array
    std::vector<bool> getBoolArray(std::string_view key) const;           // bool array (items 0 or 1)
    std::vector<std::string> keys() const;                        // in file order
    std::string architecture() const;                             // general.architecture or ""
    const std::vector<GgufTensor>& tensors() const { return tensors_; }
    const GgufTensor* findTensor(std::string_view name) const;    // nullptr if absent
    std::string describeValue(std::string_view key, std::size_t maxArrayItems = 8) const; // human-readable, for a metadata viewer

private:
    // One metadata value, kept as a position in the mapping: values are decoded on
    // request, which keeps open() cheap for 150,000-entry vocabularies.
    struct Entry {
        std::string key;
        GgufValueType type = GgufValueType::UInt8;
        std::size_t valueOffset = 0;                              // absolute, first byte of the value
        GgufValueType elementType = GgufValueType::UInt8;         // arrays only
        uint64_t count = 0;                                       // arrays only
        std::size_t elementsOffset = 0;                           // arrays only: first element
    };

    GgufFile() = default;
    const Entry* find(std::string_view key) const;
    const Entry& require(std::string_view key) const;
    [[noreturn]] void fail(std::string_view key, const std::string& what) const;
    void release() noexcept;

    std::string path_;
    const uint8_t* base_ = nullptr;
    std::size_t size_ = 0;
    uint32_t version_ = 0;
    std::size_t alignment_ = 32;
    std::size_t dataOffset_ = 0;
    std::vector<Entry> entries_;
    std::map<std::string, std::size_t, std::less<>> entryIndex_;
    std::vector<GgufTensor> tensors_;
    std::map<std::string, std::size_t, std::less<>> tensorIndex_;

    friend class GgufParser;
};

} // namespace folio
