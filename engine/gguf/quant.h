// Scalar reference code for the GGUF tensor types: dequantize, quantize and dot
// product of one row. This is the ground truth the SIMD kernels are tested
// against, and the simple path for cold code (embedding lookups, KV cache writes).
// Block layouts follow the public ggml layouts (ggml-common.h).
#pragma once

#include "engine/gguf/tensor_types.h"

#include <cstdint>

namespace folio {

constexpr int kQK = 32;    // elements per block of the *_0 / *_1 types
constexpr int kQKK = 256;  // elements per super-block of the K-quants

// The raw blocks, byte for byte as in GGUF files (f16 fields as uint16_t).
struct BlockQ4_0 { uint16_t d; uint8_t qs[kQK / 2]; };
struct BlockQ4_1 { uint16_t d, m; uint8_t qs[kQK / 2]; };
struct BlockQ5_0 { uint16_t d; uint8_t qh[4]; uint8_t qs[kQK / 2]; };
struct BlockQ5_1 { uint16_t d, m; uint8_t qh[4]; uint8_t qs[kQK / 2]; };
struct BlockQ8_0 { uint16_t d; int8_t qs[kQK]; };
struct BlockQ4_K { uint16_t d, dmin; uint8_t scales[12]; uint8_t qs[kQKK / 2]; };
struct BlockQ5_K { uint16_t d, dmin; uint8_t scales[12]; uint8_t qh[kQKK / 8]; uint8_t qs[kQKK / 2]; };
struct BlockQ6_K { uint8_t ql[kQKK / 2]; uint8_t qh[kQKK / 4]; int8_t scales[kQKK / 16]; uint16_t d; };
static_assert(sizeof(BlockQ4_0) == 18 && sizeof(BlockQ4_1) == 20 && sizeof(BlockQ5_0) == 22);
static_assert(sizeof(BlockQ5_1) == 24 && sizeof(BlockQ8_0) == 34);
static_assert(sizeof(BlockQ4_K) == 144 && sizeof(BlockQ5_K) == 176 && sizeof(BlockQ6_K) == 210);

// Unpacks the 6-bit scale and min of sub-block j (0..7) of a Q4_K/Q5_K super-block.
inline void scaleMinK4(int j, const uint8_t* packed, uint8_t& scale, uint8_t& min)
{
    if (j < 4) {
        scale = packed[j] & 63;
        min = packed[j + 4] & 63;
    } else {
        scale = static_cast<uint8_t>((packed[j + 4] & 0xF) | ((packed[j - 4] >> 6) << 4));
        min = static_cast<uint8_t>((packed[j + 4] >> 4) | ((packed[j] >> 6) << 4));
    }
}

// Types the functions below (and matVec/matMul) handle:
// F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K.
bool isComputeType(GgmlType type);

// n must be a multiple of the type's block size; throws std::invalid_argument for
// a type outside isComputeType.
void dequantizeRow(GgmlType type, const void* src, float* dst, int64_t n);
void quantizeRow(GgmlType type, const float* src, void* dst, int64_t n);
// sum_k dequant(row)[k] * x[k], accumulated in double: no activation quantization.
float dotRowReference(GgmlType type, const void* row, const float* x, int64_t n);

} // namespace folio
