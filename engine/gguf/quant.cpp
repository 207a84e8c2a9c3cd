#include "engine/gguf/quant.h"

#include "engine/gguf/fp16.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>

namespace folio {
namespace {

int nearest(float v) { return static_cast<int>(std::lrintf(v)); }
int clampInt(int v, int lo, int hi) { return std::min(hi, std::max(lo, v)); }

// ---- dequantize one block ----------------------------------------------------

void dequantQ4_0(const BlockQ4_0& b, float* y)
{
    const float d = fp16ToFp32(b.d);
    for (int j = 0; j < kQK / 2; ++j) {
        y[j] = d * static_cast<float>((b.qs[j] & 0xF) - 8);
        y[j + kQK / 2] = d * static_cast<float>((b.qs[j] >> 4) - 8);
    }
}

void dequantQ4_1(const BlockQ4_1& b, float* y)
{
    const float d = fp16ToFp32(b.d), m = fp16ToFp32(b.m);
    for (int j = 0; j < kQK / 2; ++j) {
        y[j] = d * static_cast<float>(b.qs[j] & 0xF) + m;
        y[j + kQK / 2] = d * static_cast<float>(b.qs[j] >> 4) + m;
    }
}

// 5-bit values: low nibbles from qs, bit j of the 32-bit qh is the fifth bit of element j.
void unpack5(const uint8_t* qh4, const uint8_t* qs, int* q)
{
    uint32_t qh;
    std::memcpy(&qh, qh4, 4);
    for (int j = 0; j < kQK / 2; ++j) {
        q[j] = (qs[j] & 0xF) | static_cast<int>(((qh >> j) & 1u) << 4);
        q[j + kQK / 2] = (qs[j] >> 4) | static_cast<int>(((qh >> (j + 16)) & 1u) << 4);
    }
}

void dequantQ5_0(const BlockQ5_0& b, float* y)
{
    int q[kQK];
    unpack5(b.qh, b.qs, q);
    const float d = fp16ToFp32(b.d);
    for (int j = 0; j < kQK; ++j)
        y[j] = d * static_cast<float>(q[j] - 16);
}

void dequantQ5_1(const BlockQ5_1& b, float* y)
{
    int q[kQK];
    unpack5(b.qh, b.qs, q);
    const float d = fp16ToFp32(b.d), m = fp16ToFp32(b.m);
    for (int j = 0; j < kQK; ++j)
        y[j] = d * static_cast<float>(q[j]) + m;
}

void dequantQ8_0(const BlockQ8_0& b, float* y)
{
    const float d = fp16ToFp32(b.d);
    for (int j = 0; j < kQK; ++j)
        y[j] = d * static_cast<float>(b.qs[j]);
}

// Q4_K: 4 chunks of 64; in chunk c, low nibbles of qs[32c..] are sub-block 2c, high nibbles 2c+1.
void dequantQ4_K(const BlockQ4_K& b, float* y)
{
    const float d = fp16ToFp32(b.d), dmin = fp16ToFp32(b.dmin);
    for (int c = 0; c < 4; ++c) {
        uint8_t sc0, m0, sc1, m1;
        scaleMinK4(2 * c, b.scales, sc0, m0);
        scaleMinK4(2 * c + 1, b.scales, sc1, m1);
        const uint8_t* qs = b.qs + 32 * c;
        for (int l = 0; l < 32; ++l) {
            y[64 * c + l] = d * sc0 * static_cast<float>(qs[l] & 0xF) - dmin * m0;
            y[64 * c + 32 + l] = d * sc1 * static_cast<float>(qs[l] >> 4) - dmin * m1;
        }
    }
}

// Q5_K: as Q4_K, with the fifth bits of chunk c in bits 2c and 2c+1 of qh[l].
void dequantQ5_K(const BlockQ5_K& b, float* y)
{
    const float d = fp16ToFp32(b.d), dmin = fp16ToFp32(b.dmin);
    for (int c = 0; c < 4; ++c) {
        uint8_t sc0, m0, sc1, m1;
        scaleMinK4(2 * c, b.scales, sc0, m0);
        scaleMinK4(2 * c + 1, b.scales, sc1, m1);
        const uint8_t* qs = b.qs + 32 * c;
        for (int l = 0; l < 32; ++l) {
            const int lo = (qs[l] & 0xF) | (((b.qh[l] >> (2 * c)) & 1) << 4);
            const int hi = (qs[l] >> 4) | (((b.qh[l] >> (2 * c + 1)) & 1) << 4);
            y[64 * c + l] = d * sc0 * static_cast<float>(lo) - dmin * m0;
            y[64 * c + 32 + l] = d * sc1 * static_cast<float>(hi) - dmin * m1;
        }
    }
}

// Q6_K: 2 halves of 128; in a half, quarter k (32 elements) takes its low 4 bits
// from ql[l] (k = 0, 2: low/high nibble) or ql[l + 32] (k = 1, 3) and its top 2
// bits from bits 2k..2k+1 of qh[l]; codes are stored + 32. Scale index = element / 16.
void dequantQ6_K(const BlockQ6_K& b, float* y)
{
    const float d = fp16ToFp32(b.d);
    for (int half = 0; half < 2; ++half) {
        const uint8_t* ql = b.ql + 64 * half;
        const uint8_t* qh = b.qh + 32 * half;
        const int8_t* sc = b.scales + 8 * half;
        float* out = y + 128 * half;
        for (int l = 0; l < 32; ++l) {
            const int g = l / 16;
            const int q0 = ((ql[l] & 0xF) | ((qh[l] & 3) << 4)) - 32;
            const int q1 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
            const int q2 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
            const int q3 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
            out[l] = d * static_cast<float>(sc[g] * q0);
            out[l + 32] = d * static_cast<float>(sc[g + 2] * q1);
            out[l + 64] = d * static_cast<float>(sc[g + 4] * q2);
            out[l + 96] = d * static_cast<float>(sc[g + 6] * q3);
        }
    }
}

// ---- quantize one block ------------------------------------------------------

// The value of largest magnitude, with its sign: the *_0 types map it to the most
// negative code, which has one more step of range than the positive side.
float signedMaxAbs(const float* x, int n)
{
    float best = 0.0f;
    for (int i = 0; i < n; ++i)
        if (std::fabs(x[i]) > std::fabs(best))
            best = x[i];
    return best;
}

void quantQ4_0(const float* x, BlockQ4_0& b)
{
    const float d = signedMaxAbs(x, kQK) / -8.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    b.d = fp32ToFp16(d);
    for (int j = 0; j < kQK / 2; ++j) {
        const int lo = clampInt(nearest(x[j] * id) + 8, 0, 15);
        const int hi = clampInt(nearest(x[j + kQK / 2] * id) + 8, 0, 15);
        b.qs[j] = static_cast<uint8_t>(lo | (hi << 4));
    }
}

void quantQ4_1(const float* x, BlockQ4_1& b)
{
    const float lo = *std::min_element(x, x + kQK), hi = *std::max_element(x, x + kQK);
    const float d = (hi - lo) / 15.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    b.d = fp32ToFp16(d);
    b.m = fp32ToFp16(lo);
    for (int j = 0; j < kQK / 2; ++j) {
        const int q0 = clampInt(nearest((x[j] - lo) * id), 0, 15);
        const int q1 = clampInt(nearest((x[j + kQK / 2] - lo) * id), 0, 15);
        b.qs[j] = static_cast<uint8_t>(q0 | (q1 << 4));
    }
}

void pack5(const int* q, uint8_t* qh4, uint8_t* qs)
{
    uint32_t qh = 0;
    for (int j = 0; j < kQK / 2; ++j) {
        qs[j] = static_cast<uint8_t>((q[j] & 0xF) | ((q[j + kQK / 2] & 0xF) << 4));
        qh |= static_cast<uint32_t>((q[j] >> 4) & 1) << j;
        qh |= static_cast<uint32_t>((q[j + kQK / 2] >> 4) & 1) << (j + 16);
    }
    std::memcpy(qh4, &qh, 4);
}

void quantQ5_0(const float* x, BlockQ5_0& b)
{
    const float d = signedMaxAbs(x, kQK) / -16.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    b.d = fp32ToFp16(d);
    int q[kQK];
    for (int j = 0; j < kQK; ++j)
        q[j] = clampInt(nearest(x[j] * id) + 16, 0, 31);
    pack5(q, b.qh, b.qs);
}

void quantQ5_1(const float* x, BlockQ5_1& b)
{
    const float lo = *std::min_element(x, x + kQK), hi = *std::max_element(x, x + kQK);
    const float d = (hi - lo) / 31.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    b.d = fp32ToFp16(d);
    b.m = fp32ToFp16(lo);
    int q[kQK];
    for (int j = 0; j < kQK; ++j)
        q[j] = clampInt(nearest((x[j] - lo) * id), 0, 31);
    pack5(q, b.qh, b.qs);
}

void quantQ8_0(const float* x, BlockQ8_0& b)
{
    float amax = 0.0f;
    for (int j = 0; j < kQK; ++j)
        amax = std::max(amax, std::fabs(x[j]));
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    b.d = fp32ToFp16(d);
    for (int j = 0; j < kQK; ++j)
        b.qs[j] = static_cast<int8_t>(clampInt(nearest(x[j] * id), -127, 127));
}

// Fits x ~ scale * q - min with q in [0, nmax] and min >= 0 for one sub-block of 32:
// start from the full range, then alternate rounding and a least-squares refit of
// (scale, min), keeping the best squared error seen.
void fitScaleMin(const float* x, int nmax, float& bestScale, float& bestMin)
{
    const float lo = std::min(0.0f, *std::min_element(x, x + 32));
    const float hi = *std::max_element(x, x + 32);
    float scale = (hi - lo) / static_cast<float>(nmax), min = -lo;
    bestScale = scale;
    bestMin = min;
    if (scale <= 0.0f) {
        bestScale = 0.0f;
        return;
    }
    float bestError = INFINITY;
    for (int iter = 0; iter < 6 && scale > 0.0f; ++iter) {
        double sq = 0, sqq = 0, sx = 0, sqx = 0, error = 0;
        int q[32];
        for (int i = 0; i < 32; ++i) {
            q[i] = clampInt(nearest((x[i] + min) / scale), 0, nmax);
            const double diff = scale * q[i] - min - x[i];
            error += diff * diff;
            sq += q[i];
            sqq += static_cast<double>(q[i]) * q[i];
            sx += x[i];
            sqx += q[i] * static_cast<double>(x[i]);
        }
        if (error < bestError) {
            bestError = static_cast<float>(error);
            bestScale = scale;
            bestMin = min;
        }
        // Least squares for x = s*q - m over the current codes.
        const double det = 32 * sqq - sq * sq;
        if (det <= 0)
            break;
        double s = (32 * sqx - sq * sx) / det;
        double m = (s * sq - sx) / 32;
        if (m < 0) {  // min must stay non-negative: refit the scale alone
            m = 0;
            s = sqq > 0 ? sqx / sqq : 0;
        }
        scale = static_cast<float>(s);
        min = static_cast<float>(m);
    }
}

// Shared by Q4_K (nmax 15) and Q5_K (nmax 31): 8 sub-block (scale, min) pairs, each
// quantized to 6 bits against the super-block's d and dmin; returns the codes.
void quantKScalesMins(const float* x, int nmax, uint16_t& dOut, uint16_t& dminOut, uint8_t* scales, int* q)
{
    float subScale[8], subMin[8];
    float maxScale = 0.0f, maxMin = 0.0f;
    for (int j = 0; j < 8; ++j) {
        fitScaleMin(x + 32 * j, nmax, subScale[j], subMin[j]);
        maxScale = std::max(maxScale, subScale[j]);
        maxMin = std::max(maxMin, subMin[j]);
    }
    dOut = fp32ToFp16(maxScale / 63.0f);
    dminOut = fp32ToFp16(maxMin / 63.0f);
    const float d = fp16ToFp32(dOut), dmin = fp16ToFp32(dminOut);
    uint8_t sc[8], mn[8];
    for (int j = 0; j < 8; ++j) {
        sc[j] = static_cast<uint8_t>(d > 0 ? clampInt(nearest(subScale[j] / d), 0, 63) : 0);
        mn[j] = static_cast<uint8_t>(dmin > 0 ? clampInt(nearest(subMin[j] / dmin), 0, 63) : 0);
    }
    std::memset(scales, 0, 12);
    for (int j = 0; j < 8; ++j) {
        if (j < 4) {
            scales[j] |= sc[j];
            scales[j + 4] |= mn[j];
        } else {
            scales[j + 4] = static_cast<uint8_t>((sc[j] & 0xF) | ((mn[j] & 0xF) << 4));
            scales[j - 4] |= static_cast<uint8_t>((sc[j] >> 4) << 6);
            scales[j] |= static_cast<uint8_t>((mn[j] >> 4) << 6);
        }
    }
    // Requantize against the scales as stored, so rounding of d/sc is accounted for.
    for (int j = 0; j < 8; ++j) {
        const float step = d * sc[j], offset = dmin * mn[j];
        for (int i = 0; i < 32; ++i)
            q[32 * j + i] = step > 0 ? clampInt(nearest((x[32 * j + i] + offset) / step), 0, nmax) : 0;
    }
}

void quantQ4_K(const float* x, BlockQ4_K& b)
{
    int q[kQKK];
    quantKScalesMins(x, 15, b.d, b.dmin, b.scales, q);
    for (int c = 0; c < 4; ++c)
        for (int l = 0; l < 32; ++l)
            b.qs[32 * c + l] = static_cast<uint8_t>(q[64 * c + l] | (q[64 * c + 32 + l] << 4));
}

void quantQ5_K(const float* x, BlockQ5_K& b)
{
    int q[kQKK];
    quantKScalesMins(x, 31, b.d, b.dmin, b.scales, q);
    std::memset(b.qh, 0, sizeof b.qh);
    for (int c = 0; c < 4; ++c)
        for (int l = 0; l < 32; ++l) {
            const int lo = q[64 * c + l], hi = q[64 * c + 32 + l];
            b.qs[32 * c + l] = static_cast<uint8_t>((lo & 0xF) | ((hi & 0xF) << 4));
            b.qh[l] |= static_cast<uint8_t>(((lo >> 4) << (2 * c)) | ((hi >> 4) << (2 * c + 1)));
        }
}

void quantQ6_K(const float* x, BlockQ6_K& b)
{
    // Per 16-element sub-block: signed scale mapping the largest magnitude to -32.
    float subScale[16];
    float maxAbsScale = 0.0f;
    for (int j = 0; j < 16; ++j) {
        subScale[j] = signedMaxAbs(x + 16 * j, 16) / -32.0f;
        maxAbsScale = std::max(maxAbsScale, std::fabs(subScale[j]));
    }
    b.d = fp32ToFp16(maxAbsScale / 127.0f);
    const float d = fp16ToFp32(b.d);
    int q[kQKK];
    for (int j = 0; j < 16; ++j) {
        b.scales[j] = static_cast<int8_t>(d > 0 ? clampInt(nearest(subScale[j] / d), -127, 127) : 0);
        const float step = d * b.scales[j];
        for (int i = 0; i < 16; ++i)
            q[16 * j + i] = (step != 0.0f ? clampInt(nearest(x[16 * j + i] / step), -32, 31) : 0) + 32;
    }
    for (int half = 0; half < 2; ++half) {
        const int* h = q + 128 * half;
        for (int l = 0; l < 32; ++l) {
            b.ql[64 * half + l] = static_cast<uint8_t>((h[l] & 0xF) | ((h[l + 64] & 0xF) << 4));
            b.ql[64 * half + l + 32] = static_cast<uint8_t>((h[l + 32] & 0xF) | ((h[l + 96] & 0xF) << 4));
            b.qh[32 * half + l] = static_cast<uint8_t>((h[l] >> 4) | ((h[l + 32] >> 4) << 2) |
                                                       ((h[l + 64] >> 4) << 4) | ((h[l + 96] >> 4) << 6));
        }
    }
}

// Runs a per-block function over a row of blocks.
template <typename Block, typename Fn>
void forBlocks(const void* src, float* dst, int64_t n, int blockSize, Fn fn)
{
    const Block* blocks = static_cast<const Block*>(src);
    for (int64_t i = 0; i < n / blockSize; ++i)
        fn(blocks[i], dst + i * blockSize);
}

template <typename Block, typename Fn>
void forBlocksOut(const float* src, void* dst, int64_t n, int blockSize, Fn fn)
{
    Block* blocks = static_cast<Block*>(dst);
    for (int64_t i = 0; i < n / blockSize; ++i)
        fn(src + i * blockSize, blocks[i]);
}

void checkRow(GgmlType type, int64_t n)
{
    if (!isComputeType(type))
        throw std::invalid_argument("quant: unsupported tensor type " + std::string(traitsOf(type).name));
    if (n % traitsOf(type).blockSize != 0)
        throw std::invalid_argument("quant: row length is not a multiple of the block size");
}

} // namespace

bool isComputeType(GgmlType type)
{
    switch (type) {
    case GgmlType::F32: case GgmlType::F16: case GgmlType::BF16: case GgmlType::Q8_0:
    case GgmlType::Q4_0: case GgmlType::Q4_1: case GgmlType::Q5_0: case GgmlType::Q5_1:
    case GgmlType::Q4_K: case GgmlType::Q5_K: case GgmlType::Q6_K:
        return true;
    default:
        return false;
    }
}

void dequantizeRow(GgmlType type, const void* src, float* dst, int64_t n)
{
    checkRow(type, n);
    switch (type) {
    case GgmlType::F32: std::memcpy(dst, src, static_cast<std::size_t>(n) * sizeof(float)); break;
    case GgmlType::F16: {
        const uint16_t* h = static_cast<const uint16_t*>(src);
        for (int64_t i = 0; i < n; ++i)
            dst[i] = fp16ToFp32(h[i]);
        break;
    }
    case GgmlType::BF16: {
        const uint16_t* h = static_cast<const uint16_t*>(src);
        for (int64_t i = 0; i < n; ++i)
            dst[i] = bf16ToFp32(h[i]);
        break;
    }
    case GgmlType::Q4_0: forBlocks<BlockQ4_0>(src, dst, n, kQK, dequantQ4_0); break;
    case GgmlType::Q4_1: forBlocks<BlockQ4_1>(src, dst, n, kQK, dequantQ4_1); break;
    case GgmlType::Q5_0: forBlocks<BlockQ5_0>(src, dst, n, kQK, dequantQ5_0); break;
    case GgmlType::Q5_1: forBlocks<BlockQ5_1>(src, dst, n, kQK, dequantQ5_1); break;
    case GgmlType::Q8_0: forBlocks<BlockQ8_0>(src, dst, n, kQK, dequantQ8_0); break;
    case GgmlType::Q4_K: forBlocks<BlockQ4_K>(src, dst, n, kQKK, dequantQ4_K); break;
    case GgmlType::Q5_K: forBlocks<BlockQ5_K>(src, dst, n, kQKK, dequantQ5_K); break;
    case GgmlType::Q6_K: forBlocks<BlockQ6_K>(src, dst, n, kQKK, dequantQ6_K); break;
    default: break;
    }
}

void quantizeRow(GgmlType type, const float* src, void* dst, int64_t n)
{
    checkRow(type, n);
    switch (type) {
    case GgmlType::F32: std::memcpy(dst, src, static_cast<std::size_t>(n) * sizeof(float)); break;
    case GgmlType::F16: {
        uint16_t* h = static_cast<uint16_t*>(dst);
        for (int64_t i = 0; i < n; ++i)
            h[i] = fp32ToFp16(src[i]);
        break;
    }
    case GgmlType::BF16: {
        uint16_t* h = static_cast<uint16_t*>(dst);
        for (int64_t i = 0; i < n; ++i)
            h[i] = fp32ToBf16(src[i]);
        break;
    }
    case GgmlType::Q4_0: forBlocksOut<BlockQ4_0>(src, dst, n, kQK, quantQ4_0); break;
    case GgmlType::Q4_1: forBlocksOut<BlockQ4_1>(src, dst, n, kQK, quantQ4_1); break;
    case GgmlType::Q5_0: forBlocksOut<BlockQ5_0>(src, dst, n, kQK, quantQ5_0); break;
    case GgmlType::Q5_1: forBlocksOut<BlockQ5_1>(src, dst, n, kQK, quantQ5_1); break;
    case GgmlType::Q8_0: forBlocksOut<BlockQ8_0>(src, dst, n, kQK, quantQ8_0); break;
    case GgmlType::Q4_K: forBlocksOut<BlockQ4_K>(src, dst, n, kQKK, quantQ4_K); break;
    case GgmlType::Q5_K: forBlocksOut<BlockQ5_K>(src, dst, n, kQKK, quantQ5_K); break;
    case GgmlType::Q6_K: forBlocksOut<BlockQ6_K>(src, dst, n, kQKK, quantQ6_K); break;
    default: break;
    }
}

float dotRowReference(GgmlType type, const void* row, const float* x, int64_t n)
{
    checkRow(type, n);
    const TypeTraits& traits = traitsOf(type);
    // Dequantize in pieces of at most one super-block so no buffer grows with n.
    const int64_t piece = traits.blockSize == 1 ? kQKK : traits.blockSize;
    const std::size_t pieceBytes = rowBytes(type, piece);
    float values[kQKK];
    double sum = 0.0;
    const uint8_t* bytes = static_cast<const uint8_t*>(row);
    for (int64_t start = 0; start < n; start += piece) {
        const int64_t count = std::min(piece, n - start);
        dequantizeRow(type, bytes, values, count);
        for (int64_t i = 0; i < count; ++i)
            sum += static_cast<double>(values[i]) * x[start + i];
        bytes += pieceBytes;
    }
    return static_cast<float>(sum);
}

} // namespace folio
