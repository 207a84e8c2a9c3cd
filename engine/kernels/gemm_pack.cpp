// Repacking of 32-block weight rows (and of Q4_K/Q5_K rows, sub-block by sub-block)
// for the int8 GEMM, and its plain C++ kernel (see gemm.h). Packing is linear in the weights and runs once per matMul call, so
// next to the n-token product it costs about as much as one token's matVec.
#include "engine/kernels/gemm.h"

#include "engine/gguf/fp16.h"
#include "engine/gguf/quant.h"

#include <cstring>
#include <stdexcept>

namespace folio::kernels {
namespace {

struct BlockCodes {
    int8_t code[32];
    float scale, bias;  // two-scale types: the scales of elements 0..15 and 16..31
};

uint32_t fifthBits(const uint8_t* qh4)
{
    uint32_t bits;
    std::memcpy(&bits, qh4, 4);
    return bits;
}

// Unsigned 4-bit codes minus offset: low nibbles are elements 0..15, high 16..31.
void nibbles(const uint8_t* qs, int offset, int8_t* code)
{
    for (int j = 0; j < 16; ++j) {
        code[j] = static_cast<int8_t>((qs[j] & 0xF) - offset);
        code[j + 16] = static_cast<int8_t>((qs[j] >> 4) - offset);
    }
}

void addFifthBits(const uint8_t* qh4, int8_t* code)
{
    const uint32_t bits = fifthBits(qh4);
    for (int j = 0; j < 32; ++j)
        code[j] = static_cast<int8_t>(code[j] + static_cast<int>(((bits >> j) & 1u) << 4));
}

BlockCodes unpackBlock(GgmlType type, const std::byte* block)
{
    BlockCodes c{};
    switch (type) {
    case GgmlType::Q4_0: {
        BlockQ4_0 b;
        std::memcpy(&b, block, sizeof b);
        nibbles(b.qs, 8, c.code);
        c.scale = fp16ToFp32(b.d);
        break;
    }
    case GgmlType::Q4_1: {
        BlockQ4_1 b;
        std::memcpy(&b, block, sizeof b);
        nibbles(b.qs, 0, c.code);
        c.scale = fp16ToFp32(b.d);
        c.bias = fp16ToFp32(b.m);
        break;
    }
    case GgmlType::Q5_0: {
        BlockQ5_0 b;
        std::memcpy(&b, block, sizeof b);
        nibbles(b.qs, 16, c.code);  // the fifth bit adds 16 back where set
        addFifthBits(b.qh, c.code);
        c.scale = fp16ToFp32(b.d);
        break;
    }
    case GgmlType::Q5_1: {
        BlockQ5_1 b;
        std::memcpy(&b, block, sizeof b);
        nibbles(b.qs, 0, c.code);
        addFifthBits(b.qh, c.code);
        c.scale = fp16ToFp32(b.d);
        c.bias = fp16ToFp32(b.m);
        break;
    }
    case GgmlType::Q8_0: {
        BlockQ8_0 b;
        std::memcpy(&b, block, sizeof b);
        std::memcpy(c.code, b.qs, 32);
        c.scale = fp16ToFp32(b.d);
        break;
    }
    default:
        throw std::invalid_argument("gemm: type cannot be packed");
    }
    return c;
}

// Sub-block j (0..7, 32 elements) of a Q4_K/Q5_K super-block as a 32-block with a
// min: w = (d * sc_j) * q - dmin * m_j, the form of Q4_1/Q5_1 (scale, bias = -min).
template <typename Block, bool FiveBit>
BlockCodes unpackSubBlockK(const std::byte* superBlock, int j)
{
    Block b;
    std::memcpy(&b, superBlock, sizeof b);
    uint8_t sc = 0, m = 0;
    scaleMinK4(j, b.scales, sc, m);
    BlockCodes c{};
    const uint8_t* qs = b.qs + 32 * (j / 2);
    const int shift = (j % 2) * 4;
    for (int l = 0; l < 32; ++l) {
        int q = (qs[l] >> shift) & 0xF;
        if constexpr (FiveBit)
            q |= ((b.qh[l] >> j) & 1) << 4;
        c.code[l] = static_cast<int8_t>(q);
    }
    c.scale = fp16ToFp32(b.d) * sc;
    c.bias = -(fp16ToFp32(b.dmin) * m);
    return c;
}

// Sub-block j (0..7, 32 elements) of a Q6_K super-block: codes q - 32, and the
// scales d * sc of its two 16-element halves (the layout of dequantQ6_K).
BlockCodes unpackSubBlockQ6_K(const std::byte* superBlock, int j)
{
    BlockQ6_K b;
    std::memcpy(&b, superBlock, sizeof b);
    const int half = j / 4, k = j % 4;
    const uint8_t* ql = b.ql + 64 * half + (k % 2) * 32;
    const uint8_t* qh = b.qh + 32 * half;
    BlockCodes c{};
    for (int l = 0; l < 32; ++l) {
        const int low = k < 2 ? (ql[l] & 0xF) : (ql[l] >> 4);
        c.code[l] = static_cast<int8_t>((low | (((qh[l] >> (2 * k)) & 3) << 4)) - 32);
    }
    const float d = fp16ToFp32(b.d);
    c.scale = d * static_cast<float>(b.scales[2 * j]);
    c.bias = d * static_cast<float>(b.scales[2 * j + 1]);
    return c;
}

// Block b (32 elements) of a row of `type`.
BlockCodes unpackRowBlock(GgmlType type, const std::byte* row, int64_t b)
{
    if (type == GgmlType::Q6_K)
        return unpackSubBlockQ6_K(row + static_cast<std::size_t>(b / 8) * sizeof(BlockQ6_K), int(b % 8));
    if (type == GgmlType::Q4_K)
        return unpackSubBlockK<BlockQ4_K, false>(row + static_cast<std::size_t>(b / 8) * sizeof(BlockQ4_K), int(b % 8));
    if (type == GgmlType::Q5_K)
        return unpackSubBlockK<BlockQ5_K, true>(row + static_cast<std::size_t>(b / 8) * sizeof(BlockQ5_K), int(b % 8));
    return unpackBlock(type, row + static_cast<std::size_t>(b) * traitsOf(type).blockBytes);
}

} // namespace

bool isGemmPackable(GgmlType type)
{
    return type == GgmlType::Q4_0 || type == GgmlType::Q4_1 || type == GgmlType::Q5_0 || type == GgmlType::Q5_1 ||
           type == GgmlType::Q8_0 || type == GgmlType::Q4_K || type == GgmlType::Q5_K || type == GgmlType::Q6_K;
}

bool gemmHasTwoScales(GgmlType type) { return type == GgmlType::Q6_K; }

bool gemmHasBias(GgmlType type)
{
    return type == GgmlType::Q4_1 || type == GgmlType::Q5_1 || type == GgmlType::Q4_K || type == GgmlType::Q5_K;
}

void shiftActivationsUnsigned(Q8Block* blocks, int64_t count)
{
    for (int64_t b = 0; b < count; ++b)
        for (int8_t& q : blocks[b].qs)
            q = static_cast<int8_t>(static_cast<uint8_t>(q) ^ 0x80u);
}

void packRowGroup(GgmlType type, const void* rows, std::size_t rowSize, int count, int64_t cols,
                  const PackedGroupView& out)
{
    const int64_t blocks = cols / 32;
    const auto* bytes = static_cast<const std::byte*>(rows);
    for (int64_t b = 0; b < blocks; ++b) {
        int8_t* codes = out.codes + b * kGemmBlockBytes;
        for (int r = 0; r < kGemmGroupRows; ++r) {
            float* scale = out.scale + b * kGemmGroupRows + r;
            float* bias = out.bias + b * kGemmGroupRows + r;
            int32_t* correction = out.correction + b * kGemmGroupRows + r;
            int32_t* correctionHigh = out.correctionHigh ? out.correctionHigh + b * kGemmGroupRows + r : nullptr;
            if (r >= count) {
                for (int j = 0; j < 8; ++j)
                    std::memset(codes + j * 64 + r * 4, 0, 4);
                *scale = *bias = 0.0f;
                *correction = 0;
                if (correctionHigh)
                    *correctionHigh = 0;
                continue;
            }
            const BlockCodes c = unpackRowBlock(type, bytes + static_cast<std::size_t>(r) * rowSize, b);
            for (int j = 0; j < 8; ++j)
                std::memcpy(codes + j * 64 + r * 4, c.code + 4 * j, 4);
            int sum = 0, sumHigh = 0;
            for (int e = 0; e < 32; ++e)
                (e < 16 || !correctionHigh ? sum : sumHigh) += c.code[e];
            *scale = c.scale;
            *bias = c.bias;
            *correction = -128 * sum;
            if (correctionHigh)
                *correctionHigh = -128 * sumHigh;
        }
    }
}

void gemmPanelScalar(const PackedGroupView& panel, int64_t blocks, int groupCount, bool hasBias, const Q8Block* x,
                     int64_t n, float* Y, int64_t ldy, int rowCount)
{
    for (int64_t t = 0; t < n; ++t) {
        const Q8Block* xt = x + t * blocks;
        for (int row = 0; row < rowCount && row < groupCount * kGemmGroupRows; ++row) {
            const int g = row / kGemmGroupRows, r = row % kGemmGroupRows;
            const int8_t* codes = panel.codes + g * blocks * kGemmBlockBytes;
            const int64_t first = g * blocks * kGemmGroupRows;
            float sum = 0.0f;
            for (int64_t b = 0; b < blocks; ++b) {
                const int8_t* c = codes + b * kGemmBlockBytes + r * 4;
                const int64_t at = first + b * kGemmGroupRows + r;
                if (panel.correctionHigh) {  // two half-blocks, each with its scale
                    int dot[2] = {panel.correction[at], panel.correctionHigh[at]};
                    for (int j = 0; j < 8; ++j)
                        for (int e = 0; e < 4; ++e)
                            dot[j / 4] += c[j * 64 + e] * static_cast<uint8_t>(xt[b].qs[4 * j + e]);
                    sum += panel.scale[at] * xt[b].d * static_cast<float>(dot[0]);
                    sum += panel.bias[at] * xt[b].d * static_cast<float>(dot[1]);
                    continue;
                }
                int dot = panel.correction[at];
                for (int j = 0; j < 8; ++j)
                    for (int e = 0; e < 4; ++e)
                        dot += c[j * 64 + e] * static_cast<uint8_t>(xt[b].qs[4 * j + e]);
                sum += panel.scale[at] * xt[b].d * static_cast<float>(dot);
                if (hasBias)
                    sum += panel.bias[at] * xt[b].sum;
            }
            Y[t * ldy + row] = sum;
        }
    }
}

} // namespace folio::kernels
