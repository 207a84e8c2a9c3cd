// Internal interface between attention.cpp and the per-instruction-set attention
// tile kernels: one online-softmax step of a block of query rows (same KV head)
// against one tile of at most kAttentionKeyTile keys read straight from the cache.
#pragma once

#include "engine/kernels/cpu_features.h"

#include <cstdint>

namespace folio::kernels {

inline constexpr int kAttentionKeyTile = 64;

struct AttentionTile {
    const float* queries = nullptr;  // rows x headDim, contiguous
    int rows = 0;
    int headDim = 0;
    const void* keys = nullptr;      // tileKeys cache rows (F16 or F32), contiguous
    const void* values = nullptr;
    bool halfRows = true;            // F16 rows, else F32 (when blocks is None)
    // Block-quantized rows (a Q8_0 / Q4_0 KV cache: GGUF blocks of 32 along the head
    // dimension, headDim a multiple of 32), dequantized as the tile is loaded.
    enum class Blocks : uint8_t { None, Q8_0, Q4_0 };
    Blocks blocks = Blocks::None;
    int tileKeys = 0;                // 1..kAttentionKeyTile
    const int* visible = nullptr;    // per row: the first visible[r] keys count (<= 0: none)
    const int* hidden = nullptr;     // per row, optional: of those, the first hidden[r] do not (a sliding window)
    float scale = 0.0f;
    float* max = nullptr;            // per row running state, updated in place
    float* sum = nullptr;
    float* acc = nullptr;            // rows x headDim unnormalised outputs
    float* scratch = nullptr;        // attentionScratchFloats(rows, headDim) floats
};

inline int attentionScratchFloats(int rows, int headDim)
{
    return 2 * kAttentionKeyTile * headDim + rows * kAttentionKeyTile;
}

// A whole contiguous key range at once, for kernels whose working layout differs
// from the row-major state (the BF16 and the AVX2 range kernels keep rows in vector
// lanes: they convert queries and state once per range, not once per tile). F16 or
// F32 rows (and Q8_0 / Q4_0 block rows where rangeTakesBlocks), a head dimension that
// is a multiple of 32.
struct AttentionRange {
    const float* queries = nullptr;  // rows x headDim, contiguous
    int rows = 0;
    int headDim = 0;
    const void* keys = nullptr;      // keyCount consecutive cache rows from the range's first key
    const void* values = nullptr;
    bool halfRows = true;            // F16 rows, else F32 (when blocks is None)
    // Q8_0 / Q4_0 cache rows, for range kernels that take them (rangeTakesBlocks).
    AttentionTile::Blocks blocks = AttentionTile::Blocks::None;
    int keyCount = 0;
    const int* last = nullptr;       // optional, per row: key j (from 0) counts only if j <= last[r]
    const int* first = nullptr;      // optional, per row: and only if j >= first[r]
    float scale = 0.0f;
    float* max = nullptr;            // per row running state, as in AttentionTile
    float* sum = nullptr;
    float* acc = nullptr;
    float* scratch = nullptr;        // attentionRangeScratchFloats(rows, headDim) floats
};

int attentionRangeScratchFloats(int rows, int headDim);

// How the score and value products are taken. Float32: FP32 inputs, FP32 FMA (the
// reference precision). BFloat16: queries, keys, values and probabilities rounded to
// BF16 (8-bit significand), products summed in FP32 by vdpbf16ps, FP32 online
// softmax; twice the arithmetic rate where the CPU has AVX512_BF16. Where it does not
// but has AVX2, BFloat16 (the long-run request) takes the FP32 range kernel instead
// (attention_range_avx2.cpp): FP32 products, rows in vector lanes. Int8Keys: the score
// products in int8 (each query row times the scale, and each key row, rounded to int8
// codes with one step per row; vpdpbusd, twice vdpbf16ps's rate), probabilities and
// values as BFloat16; where the CPU lacks AVX512_VNNI + AVX512_BF16 it is BFloat16.
// Int8: the value products in int8 too (each tile's probabilities as codes 0..255 of
// their tile's largest, values as int8 codes with one step per dimension and tile).
enum class AttentionProducts { Float32, BFloat16, Int8Keys, Int8 };

// The engine's default, which CausalAttention applies to runs over many keys only
// (kBf16AttentionMinKeys, attention.h): Int8, or what FOLIO_ATTENTION names (read
// once): fp32 (Float32), bf16 (BFloat16), int8keys (Int8Keys) or int8 (Int8).
AttentionProducts defaultAttentionProducts();

struct AttentionKernels {
    void (*tile)(const AttentionTile& tile);
    void (*range)(const AttentionRange& range);  // nullptr: the caller loops tiles
    // x[i] = exp(x[i]) for x <= 0 (what the softmax needs); 0 below about -87.3.
    void (*expNonPositive)(float* x, int n);
    // gate[i] = silu(gate[i]) * up[i], the FFN's SwiGLU gate, on the same exp: with
    // e = exp(-|z|), silu(z) = z / (1 + e) for z >= 0 and z e / (1 + e) below.
    void (*swiGlu)(float* gate, const float* up, int n);
    bool rangeTakesBlocks = false;  // range reads Q8_0 / Q4_0 rows too (the AVX-512 range kernels)
};

const AttentionKernels& scalarAttentionKernels();
const AttentionKernels& avx2AttentionKernels();    // only with AVX2+FMA+F16C
const AttentionKernels& avx512AttentionKernels();  // only with the Avx512 level
const AttentionKernels& avx512Bf16AttentionKernels();  // only with Avx512 and AVX512_BF16
const AttentionKernels& avx512Int8KeysAttentionKernels();  // and AVX512_VNNI
const AttentionKernels& avx512Int8AttentionKernels();      // likewise
const AttentionKernels& avx2RangeAttentionKernels();   // AVX2's table with the FP32 range kernel
// Level clamped to the CPU; BFloat16 products only where the CPU has them (else FP32:
// the AVX2 range kernel at the Avx2 level, the tile kernel at the others).
const AttentionKernels& attentionKernelsFor(SimdLevel level,
                                            AttentionProducts products = defaultAttentionProducts());
// What attentionKernelsFor(level, products) runs: "int8 range", "int8 keys + bf16 range", "bf16 range",
// "fp32 range" or "fp32 tile".
const char* attentionKernelName(SimdLevel level, AttentionProducts products = defaultAttentionProducts());
bool attentionHasBf16Products(SimdLevel level);  // whether BFloat16 would take effect at this level
bool attentionHasInt8Keys(SimdLevel level);      // and Int8Keys

} // namespace folio::kernels
