// Scalar attention tile: the reference the SIMD levels are tested against, and the
// path for CPUs without AVX2 or head sizes the vector kernels do not cover.
#include "engine/kernels/attention_kernels.h"

#include "engine/gguf/fp16.h"
#include "engine/gguf/quant.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>

namespace folio::kernels {
namespace {

void rowsToFloat(const void* rows, const AttentionTile& t, int count, int headDim, float* out)
{
    const int n = count * headDim;
    if (t.blocks != AttentionTile::Blocks::None) {
        dequantizeRow(t.blocks == AttentionTile::Blocks::Q8_0 ? GgmlType::Q8_0 : GgmlType::Q4_0, rows, out, n);
        return;
    }
    if (!t.halfRows) {
        std::memcpy(out, rows, sizeof(float) * n);
        return;
    }
    const auto* h = static_cast<const uint16_t*>(rows);
    for (int i = 0; i < n; ++i)
        out[i] = fp16ToFp32(h[i]);
}

void scalarTile(const AttentionTile& t)
{
    const int d = t.headDim;
    float* keys = t.scratch;
    float* values = keys + kAttentionKeyTile * d;
    float* scores = values + kAttentionKeyTile * d;
    rowsToFloat(t.keys, t, t.tileKeys, d, keys);
    rowsToFloat(t.values, t, t.tileKeys, d, values);
    for (int r = 0; r < t.rows; ++r) {
        const int visible = std::min(t.visible[r], t.tileKeys);
        const int first = t.hidden ? std::max(t.hidden[r], 0) : 0;
        if (visible <= first)
            continue;
        const float* q = t.queries + r * d;
        float tileMax = -std::numeric_limits<float>::infinity();
        for (int j = first; j < visible; ++j) {
            float s = 0.0f;
            for (int i = 0; i < d; ++i)
                s += q[i] * keys[j * d + i];
            scores[j] = s * t.scale;
            tileMax = std::max(tileMax, scores[j]);
        }
        // Online softmax: rescale what was accumulated under the old maximum.
        const float newMax = std::max(t.max[r], tileMax);
        const float correction = std::exp(t.max[r] - newMax);  // exp(-inf) = 0 on the first tile
        float tileSum = 0.0f;
        for (int j = first; j < visible; ++j) {
            scores[j] = std::exp(scores[j] - newMax);
            tileSum += scores[j];
        }
        float* acc = t.acc + r * d;
        for (int i = 0; i < d; ++i)
            acc[i] *= correction;
        for (int j = first; j < visible; ++j)
            for (int i = 0; i < d; ++i)
                acc[i] += scores[j] * values[j * d + i];
        t.sum[r] = t.sum[r] * correction + tileSum;
        t.max[r] = newMax;
    }
}

void scalarExp(float* x, int n)
{
    for (int i = 0; i < n; ++i)
        x[i] = std::exp(x[i]);
}

void scalarSwiGlu(float* gate, const float* up, int n)
{
    for (int i = 0; i < n; ++i)
        gate[i] = gate[i] / (1.0f + std::exp(-gate[i])) * up[i];
}

} // namespace

const AttentionKernels& scalarAttentionKernels()
{
    static const AttentionKernels kernels{scalarTile, nullptr, scalarExp, scalarSwiGlu, false};
    return kernels;
}

int attentionRangeScratchFloats(int rows, int headDim)
{
    // attention_bf16_avx512.cpp's buffers: rows padded to 16 lanes times (transposed
    // queries, output, scores, probability pairs, five per-row values), plus a key and
    // a value tile; attention_range_avx2.cpp's: rows padded to 8 times (transposed
    // queries, output, scores, five per-row values), plus a key and a value tile in FP32.
    const int padded = (rows + 15) / 16 * 16;
    const int bf16 = padded * (headDim / 2 + headDim + kAttentionKeyTile + kAttentionKeyTile / 2 + 6)
                     + kAttentionKeyTile * headDim;
    const int padded8 = (rows + 7) / 8 * 8;
    const int fp32 = padded8 * (2 * headDim + kAttentionKeyTile + 5) + 2 * kAttentionKeyTile * headDim;
    return std::max(bf16, fp32);
}

AttentionProducts defaultAttentionProducts()
{
    static const AttentionProducts products = [] {
        const char* env = std::getenv("FOLIO_ATTENTION");
        if (env && std::strcmp(env, "fp32") == 0)
            return AttentionProducts::Float32;
        if (env && std::strcmp(env, "bf16") == 0)
            return AttentionProducts::BFloat16;
        if (env && std::strcmp(env, "int8keys") == 0)
            return AttentionProducts::Int8Keys;
        return AttentionProducts::Int8;
    }();
    return products;
}

bool attentionHasBf16Products(SimdLevel level)
{
    return clampSimdLevel(level) == SimdLevel::Avx512 && cpuFeatures().avx512bf16;
}

bool attentionHasInt8Keys(SimdLevel level)
{
    return attentionHasBf16Products(level) && cpuFeatures().avx512vnni;
}

const AttentionKernels& attentionKernelsFor(SimdLevel level, AttentionProducts products)
{
    switch (clampSimdLevel(level)) {
    case SimdLevel::Avx512:
        if (products == AttentionProducts::Int8 && attentionHasInt8Keys(level))
            return avx512Int8AttentionKernels();
        if (products == AttentionProducts::Int8Keys && attentionHasInt8Keys(level))
            return avx512Int8KeysAttentionKernels();
        if (products != AttentionProducts::Float32 && attentionHasBf16Products(level))
            return avx512Bf16AttentionKernels();
        return avx512AttentionKernels();
    case SimdLevel::Avx2:
        if (products != AttentionProducts::Float32)
            return avx2RangeAttentionKernels();
        return avx2AttentionKernels();
    case SimdLevel::Scalar: break;
    }
    return scalarAttentionKernels();
}

const char* attentionKernelName(SimdLevel level, AttentionProducts products)
{
    const AttentionKernels& kernels = attentionKernelsFor(level, products);
    if (!kernels.range)
        return "fp32 tile";
    if (&kernels == &avx2RangeAttentionKernels())
        return "fp32 range";
    if (&kernels == &avx512Int8AttentionKernels())
        return "int8 range";
    return &kernels == &avx512Int8KeysAttentionKernels() ? "int8 keys + bf16 range" : "bf16 range";
}

} // namespace folio::kernels
