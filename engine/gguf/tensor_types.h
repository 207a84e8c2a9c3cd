// The tensor element types of GGUF files (ggml numbering) and their block layouts.
// A quantized row of n elements is n / blockSize blocks of blockBytes bytes each.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace folio {

enum class GgmlType : uint32_t {
    F32 = 0,
    F16 = 1,
    Q4_0 = 2,
    Q4_1 = 3,
    Q5_0 = 6,
    Q5_1 = 7,
    Q8_0 = 8,
    Q8_1 = 9,
    Q2_K = 10,
    Q3_K = 11,
    Q4_K = 12,
    Q5_K = 13,
    Q6_K = 14,
    Q8_K = 15,
    I8 = 24,
    I16 = 25,
    I32 = 26,
    I64 = 27,
    F64 = 28,
    BF16 = 30,
};

struct TypeTraits {
    GgmlType type;
    std::string_view name;   // as ggml prints it: "f32", "q4_K", ...
    int blockSize;           // elements per block (1 for plain types)
    int blockBytes;          // bytes per block
    bool supported;          // whether the engine can compute with it
};

// Traits of a known type; std::nullopt for a number no ggml type has.
std::optional<TypeTraits> typeTraits(uint32_t rawType);
const TypeTraits& traitsOf(GgmlType type);  // type must be a known enumerator

// Bytes that a row of `elements` values of `type` occupies; elements must be a
// multiple of the block size (checked by callers that validate files).
inline std::size_t rowBytes(GgmlType type, int64_t elements)
{
    const TypeTraits& t = traitsOf(type);
    return static_cast<std::size_t>(elements / t.blockSize) * static_cast<std::size_t>(t.blockBytes);
}

} // namespace folio
