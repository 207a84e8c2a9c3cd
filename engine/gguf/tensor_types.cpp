#include "engine/gguf/tensor_types.h"

#include <array>
#include <stdexcept>

namespace folio {
namespace {

// Block sizes and byte counts follow the public ggml block layouts:
// Q4_0 = {f16 d; u8 qs[16]}, Q4_1 = {f16 d, m; u8 qs[16]}, Q5_0 = {f16 d; u8 qh[4]; u8 qs[16]},
// Q5_1 = {f16 d, m; u8 qh[4]; u8 qs[16]}, Q8_0 = {f16 d; i8 qs[32]}, Q8_1 = {f32 d, s; i8 qs[32]},
// K-quants use super-blocks of 256 (QK_K) with 12-byte packed 6-bit scales for Q4_K/Q5_K.
constexpr std::array kTraits{
    TypeTraits{GgmlType::F32, "f32", 1, 4, true},
    TypeTraits{GgmlType::F16, "f16", 1, 2, true},
    TypeTraits{GgmlType::Q4_0, "q4_0", 32, 18, true},
    TypeTraits{GgmlType::Q4_1, "q4_1", 32, 20, true},
    TypeTraits{GgmlType::Q5_0, "q5_0", 32, 22, true},
    TypeTraits{GgmlType::Q5_1, "q5_1", 32, 24, true},
    TypeTraits{GgmlType::Q8_0, "q8_0", 32, 34, true},
    TypeTraits{GgmlType::Q8_1, "q8_1", 32, 40, false},
    TypeTraits{GgmlType::Q2_K, "q2_K", 256, 84, false},
    TypeTraits{GgmlType::Q3_K, "q3_K", 256, 110, false},
    TypeTraits{GgmlType::Q4_K, "q4_K", 256, 144, true},
    TypeTraits{GgmlType::Q5_K, "q5_K", 256, 176, true},
    TypeTraits{GgmlType::Q6_K, "q6_K", 256, 210, true},
    TypeTraits{GgmlType::Q8_K, "q8_K", 256, 292, false},
    TypeTraits{GgmlType::I8, "i8", 1, 1, false},
    TypeTraits{GgmlType::I16, "i16", 1, 2, false},
    TypeTraits{GgmlType::I32, "i32", 1, 4, false},
    TypeTraits{GgmlType::I64, "i64", 1, 8, false},
    TypeTraits{GgmlType::F64, "f64", 1, 8, false},
    TypeTraits{GgmlType::BF16, "bf16", 1, 2, true},
};

} // namespace

std::optional<TypeTraits> typeTraits(uint32_t rawType)
{
    for (const TypeTraits& t : kTraits)
        if (static_cast<uint32_t>(t.type) == rawType)
            return t;
    return std::nullopt;
}

const TypeTraits& traitsOf(GgmlType type)
{
    for (const TypeTraits& t : kTraits)
        if (t.type == type)
            return t;
    throw std::invalid_argument("unknown ggml type " + std::to_string(static_cast<uint32_t>(type)));
}

} // namespace folio
