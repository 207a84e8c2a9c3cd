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

struct AttentionKernels {
    void (*tile)(const AttentionTile& tile);
    // x[i] = exp(x[i]) for x <= 0 (what the softmax needs); 0 below about -87.3.
    void (*expNonPositive)(float* x, int n);
    // gate[i] = silu(gate[i]) * up[i], the FFN's SwiGLU gate, on the same exp: with
    // e = exp(-|z|), silu(z) = z / (1 + e) for z >= 0 and z e / (1 + e) below.
    void (*swiGlu)(float* gate, const float* up, int n);
};

const AttentionKernels& scalarAttentionKernels();
const AttentionKernels& avx2AttentionKernels();    // only with AVX2+FMA+F16C
const AttentionKernels& avx512AttentionKernels();  // only with the Avx512 level
const AttentionKernels& attentionKernelsFor(SimdLevel level);  // level clamped to the CPU

} // namespace folio::kernels
