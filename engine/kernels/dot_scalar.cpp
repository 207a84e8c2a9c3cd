// Scalar dot kernels (the fallback level) plus activation quantization and the
// per-type dispatch shared by all levels. Same integer math as the SIMD kernels.
#include "engine/kernels/kernels.h"
#include "engine/kernels/gemm.h"

#include "engine/gguf/fp16.h"
#include "engine/gguf/quant.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>

namespace folio::kernels {
namespace {

int8_t roundToInt8(float v) { return static_cast<int8_t>(std::lrintf(v)); }

float absMax(const float* x, int n)
{
    float m = 0.0f;
    for (int i = 0; i < n; ++i)
        m = std::max(m, std::fabs(x[i]));
    return m;
}

float dotF32(const void* row, const void* x, int64_t n)
{
    const float* w = static_cast<const float*>(row);
    const float* v = static_cast<const float*>(x);
    float sum = 0.0f;
    for (int64_t i = 0; i < n; ++i)
        sum += w[i] * v[i];
    return sum;
}

float dotF16(const void* row, const void* x, int64_t n)
{
    const uint16_t* w = static_cast<const uint16_t*>(row);
    const float* v = static_cast<const float*>(x);
    float sum = 0.0f;
    for (int64_t i = 0; i < n; ++i)
        sum += fp16ToFp32(w[i]) * v[i];
    return sum;
}

float dotBF16(const void* row, const void* x, int64_t n)
{
    const uint16_t* w = static_cast<const uint16_t*>(row);
    const float* v = static_cast<const float*>(x);
    float sum = 0.0f;
    for (int64_t i = 0; i < n; ++i)
        sum += bf16ToFp32(w[i]) * v[i];
    return sum;
}

// Unsigned 4-bit codes of a 32-block: low nibbles are elements 0..15, high 16..31.
int dotNibbles(const uint8_t* qs, const int8_t* x)
{
    int sum = 0;
    for (int j = 0; j < 16; ++j)
        sum += (qs[j] & 0xF) * x[j] + (qs[j] >> 4) * x[j + 16];
    return sum;
}

int dotFiveBit(const uint8_t* qh4, const uint8_t* qs, const int8_t* x)
{
    uint32_t qh;
    std::memcpy(&qh, qh4, 4);
    int sum = 0;
    for (int j = 0; j < 16; ++j) {
        const int lo = (qs[j] & 0xF) | static_cast<int>(((qh >> j) & 1u) << 4);
        const int hi = (qs[j] >> 4) | static_cast<int>(((qh >> (j + 16)) & 1u) << 4);
        sum += lo * x[j] + hi * x[j + 16];
    }
    return sum;
}

float dotQ4_0(const void* row, const void* x, int64_t n)
{
    const BlockQ4_0* w = static_cast<const BlockQ4_0*>(row);
    const Q8Block* a = static_cast<const Q8Block*>(x);
    float sum = 0.0f;
    for (int64_t b = 0; b < n / kQK; ++b) {
        const float d = fp16ToFp32(w[b].d);
        sum += d * a[b].d * static_cast<float>(dotNibbles(w[b].qs, a[b].qs)) - 8.0f * d * a[b].sum;
    }
    return sum;
}

float dotQ4_1(const void* row, const void* x, int64_t n)
{
    const BlockQ4_1* w = static_cast<const BlockQ4_1*>(row);
    const Q8Block* a = static_cast<const Q8Block*>(x);
    float sum = 0.0f;
    for (int64_t b = 0; b < n / kQK; ++b)
        sum += fp16ToFp32(w[b].d) * a[b].d * static_cast<float>(dotNibbles(w[b].qs, a[b].qs)) +
               fp16ToFp32(w[b].m) * a[b].sum;
    return sum;
}

float dotQ5_0(const void* row, const void* x, int64_t n)
{
    const BlockQ5_0* w = static_cast<const BlockQ5_0*>(row);
    const Q8Block* a = static_cast<const Q8Block*>(x);
    float sum = 0.0f;
    for (int64_t b = 0; b < n / kQK; ++b) {
        const float d = fp16ToFp32(w[b].d);
        sum += d * a[b].d * static_cast<float>(dotFiveBit(w[b].qh, w[b].qs, a[b].qs)) - 16.0f * d * a[b].sum;
    }
    return sum;
}

float dotQ5_1(const void* row, const void* x, int64_t n)
{
    const BlockQ5_1* w = static_cast<const BlockQ5_1*>(row);
    const Q8Block* a = static_cast<const Q8Block*>(x);
    float sum = 0.0f;
    for (int64_t b = 0; b < n / kQK; ++b)
        sum += fp16ToFp32(w[b].d) * a[b].d * static_cast<float>(dotFiveBit(w[b].qh, w[b].qs, a[b].qs)) +
               fp16ToFp32(w[b].m) * a[b].sum;
    return sum;
}

float dotQ8_0(const void* row, const void* x, int64_t n)
{
    const BlockQ8_0* w = static_cast<const BlockQ8_0*>(row);
    const Q8Block* a = static_cast<const Q8Block*>(x);
    float sum = 0.0f;
    for (int64_t b = 0; b < n / kQK; ++b) {
        int sumi = 0;
        for (int j = 0; j < kQK; ++j)
            sumi += w[b].qs[j] * a[b].qs[j];
        sum += fp16ToFp32(w[b].d) * a[b].d * static_cast<float>(sumi);
    }
    return sum;
}

// Sum over sub-blocks j of min_j * (sum of the 32 activation codes of sub-block j).
int minsTimesSums(const uint8_t* scales, const int16_t* bsums)
{
    int sum = 0;
    for (int j = 0; j < 8; ++j) {
        uint8_t sc, m;
        scaleMinK4(j, scales, sc, m);
        sum += m * (bsums[2 * j] + bsums[2 * j + 1]);
    }
    return sum;
}

float dotQ4_K(const void* row, const void* x, int64_t n)
{
    const BlockQ4_K* w = static_cast<const BlockQ4_K*>(row);
    const Q8KBlock* a = static_cast<const Q8KBlock*>(x);
    float sum = 0.0f;
    for (int64_t b = 0; b < n / kQKK; ++b) {
        int sumi = 0;
        for (int c = 0; c < 4; ++c) {
            uint8_t sc0, m0, sc1, m1;
            scaleMinK4(2 * c, w[b].scales, sc0, m0);
            scaleMinK4(2 * c + 1, w[b].scales, sc1, m1);
            const uint8_t* qs = w[b].qs + 32 * c;
            const int8_t* q8 = a[b].qs + 64 * c;
            int lo = 0, hi = 0;
            for (int l = 0; l < 32; ++l) {
                lo += (qs[l] & 0xF) * q8[l];
                hi += (qs[l] >> 4) * q8[l + 32];
            }
            sumi += sc0 * lo + sc1 * hi;
        }
        sum += a[b].d * (fp16ToFp32(w[b].d) * static_cast<float>(sumi) -
                         fp16ToFp32(w[b].dmin) * static_cast<float>(minsTimesSums(w[b].scales, a[b].bsums)));
    }
    return sum;
}

float dotQ5_K(const void* row, const void* x, int64_t n)
{
    const BlockQ5_K* w = static_cast<const BlockQ5_K*>(row);
    const Q8KBlock* a = static_cast<const Q8KBlock*>(x);
    float sum = 0.0f;
    for (int64_t b = 0; b < n / kQKK; ++b) {
        int sumi = 0;
        for (int c = 0; c < 4; ++c) {
            uint8_t sc0, m0, sc1, m1;
            scaleMinK4(2 * c, w[b].scales, sc0, m0);
            scaleMinK4(2 * c + 1, w[b].scales, sc1, m1);
            const uint8_t* qs = w[b].qs + 32 * c;
            const int8_t* q8 = a[b].qs + 64 * c;
            int lo = 0, hi = 0;
            for (int l = 0; l < 32; ++l) {
                lo += ((qs[l] & 0xF) | (((w[b].qh[l] >> (2 * c)) & 1) << 4)) * q8[l];
                hi += ((qs[l] >> 4) | (((w[b].qh[l] >> (2 * c + 1)) & 1) << 4)) * q8[l + 32];
            }
            sumi += sc0 * lo + sc1 * hi;
        }
        sum += a[b].d * (fp16ToFp32(w[b].d) * static_cast<float>(sumi) -
                         fp16ToFp32(w[b].dmin) * static_cast<float>(minsTimesSums(w[b].scales, a[b].bsums)));
    }
    return sum;
}

float dotQ6_K(const void* row, const void* x, int64_t n)
{
    const BlockQ6_K* w = static_cast<const BlockQ6_K*>(row);
    const Q8KBlock* a = static_cast<const Q8KBlock*>(x);
    float sum = 0.0f;
    for (int64_t b = 0; b < n / kQKK; ++b) {
        // Codes are stored +32; subtract 32 * scale * (activation sum) per group of 16.
        int sumi = 0;
        for (int half = 0; half < 2; ++half) {
            const uint8_t* ql = w[b].ql + 64 * half;
            const uint8_t* qh = w[b].qh + 32 * half;
            const int8_t* q8 = a[b].qs + 128 * half;
            for (int k = 0; k < 4; ++k) {
                int groupSum[2] = {0, 0};
                for (int l = 0; l < 32; ++l) {
                    const int low = (k & 1) ? ql[l + 32] : ql[l];
                    const int code = ((k < 2) ? (low & 0xF) : (low >> 4)) | (((qh[l] >> (2 * k)) & 3) << 4);
                    groupSum[l / 16] += code * q8[32 * k + l];
                }
                const int group = 8 * half + 2 * k;
                sumi += w[b].scales[group] * groupSum[0] + w[b].scales[group + 1] * groupSum[1];
            }
        }
        int offset = 0;
        for (int g = 0; g < 16; ++g)
            offset += w[b].scales[g] * a[b].bsums[g];
        sum += fp16ToFp32(w[b].d) * a[b].d * static_cast<float>(sumi - 32 * offset);
    }
    return sum;
}

} // namespace

ActivationKind activationKindOf(GgmlType type)
{
    switch (type) {
    case GgmlType::Q4_0: case GgmlType::Q4_1: case GgmlType::Q5_0: case GgmlType::Q5_1: case GgmlType::Q8_0:
        return ActivationKind::Q8;
    case GgmlType::Q4_K: case GgmlType::Q5_K: case GgmlType::Q6_K:
        return ActivationKind::Q8K;
    default:
        return ActivationKind::Float;
    }
}

int64_t activationBytes(ActivationKind kind, int64_t n)
{
    switch (kind) {
    case ActivationKind::Q8: {
        const int64_t blocks = n / 32;  // the blocks, then their wide view (kernels.h)
        return blocks * static_cast<int64_t>(sizeof(Q8Block) + 2 * sizeof(float)) + (blocks + 1) / 2 * 64;
    }
    case ActivationKind::Q8K: return n / 256 * static_cast<int64_t>(sizeof(Q8KBlock));
    case ActivationKind::Float: break;
    }
    return 0;
}

void quantizeQ8Blocks(const float* x, Q8Block* blocks, int64_t n)
{
    for (int64_t b = 0; b < n / 32; ++b) {
        const float* v = x + 32 * b;
        const float d = absMax(v, 32) / 127.0f;
        const float id = d > 0.0f ? 1.0f / d : 0.0f;
        int sum = 0;
        for (int j = 0; j < 32; ++j) {
            blocks[b].qs[j] = roundToInt8(v[j] * id);
            sum += blocks[b].qs[j];
        }
        blocks[b].d = d;
        blocks[b].sum = d * static_cast<float>(sum);
    }
}

void quantizeActivations(ActivationKind kind, const float* x, void* out, int64_t n, SimdLevel level)
{
    if (kind == ActivationKind::Q8) {
        Q8Block* blocks = static_cast<Q8Block*>(out);
        // Vectorized where the CPU allows: the scalar loop was 2% of Q4_0 decode.
        if (clampSimdLevel(level) == SimdLevel::Avx512)
            quantizeQ8BlocksAvx512(x, blocks, n);
        else
            quantizeQ8Blocks(x, blocks, n);
        const int64_t count = n / 32;
        auto* wideD = reinterpret_cast<float*>(blocks + count);
        auto* pairs = reinterpret_cast<int8_t*>(wideD + 2 * count);
        for (int64_t b = 0; b < count; ++b) {
            wideD[b] = blocks[b].d;
            wideD[count + b] = blocks[b].sum;
            int8_t* pair = pairs + 64 * (b / 2) + 16 * (b % 2);
            std::memcpy(pair, blocks[b].qs, 16);
            std::memcpy(pair + 32, blocks[b].qs + 16, 16);
        }
        if (count % 2) {
            std::memset(pairs + 64 * (count / 2) + 16, 0, 16);
            std::memset(pairs + 64 * (count / 2) + 48, 0, 16);
        }
    } else if (kind == ActivationKind::Q8K) {
        Q8KBlock* blocks = static_cast<Q8KBlock*>(out);
        if (clampSimdLevel(level) == SimdLevel::Avx512) {  // 2% of Q4_K_M decode when scalar
            quantizeQ8KBlocksAvx512(x, blocks, n);
            return;
        }
        for (int64_t b = 0; b < n / 256; ++b) {
            const float* v = x + 256 * b;
            const float d = absMax(v, 256) / 127.0f;
            const float id = d > 0.0f ? 1.0f / d : 0.0f;
            for (int j = 0; j < 256; ++j)
                blocks[b].qs[j] = roundToInt8(v[j] * id);
            for (int g = 0; g < 16; ++g) {
                int sum = 0;
                for (int j = 0; j < 16; ++j)
                    sum += blocks[b].qs[16 * g + j];
                blocks[b].bsums[g] = static_cast<int16_t>(sum);
            }
            blocks[b].d = d;
        }
    }
}

const DotKernels& scalarDotKernels()
{
    static const DotKernels kernels{dotF32,  dotF16,  dotBF16, dotQ4_0, dotQ4_1, dotQ5_0,
                                    dotQ5_1, dotQ8_0, dotQ4_K, dotQ5_K, dotQ6_K, nullptr};
    return kernels;
}

const DotKernels& dotKernelsFor(SimdLevel level)
{
    switch (clampSimdLevel(level)) {
    case SimdLevel::Avx512: return avx512DotKernels();
    case SimdLevel::Avx2: return avx2DotKernels();
    case SimdLevel::Scalar: break;
    }
    return scalarDotKernels();
}

RowsDotFn rowsDotFor(const DotKernels& k, GgmlType type)
{
    static const bool off = [] {
        const char* v = std::getenv("FOLIO_DECODE_ROWS");
        return v && std::strcmp(v, "1") == 0;
    }();
    if (off)
        return nullptr;
    // Q4_0 only: a wide Q8_0 kernel of the same design ran 1.55x faster from L2 but
    // 0.7x from memory (folio-bench matvec, see the commit), so Q8_0 keeps dotQ8_0.
    return type == GgmlType::Q4_0 ? k.q4_0Rows : nullptr;
}

RowDotFn rowDotFor(const DotKernels& k, GgmlType type)
{
    switch (type) {
    case GgmlType::F32: return k.f32;
    case GgmlType::F16: return k.f16;
    case GgmlType::BF16: return k.bf16;
    case GgmlType::Q4_0: return k.q4_0;
    case GgmlType::Q4_1: return k.q4_1;
    case GgmlType::Q5_0: return k.q5_0;
    case GgmlType::Q5_1: return k.q5_1;
    case GgmlType::Q8_0: return k.q8_0;
    case GgmlType::Q4_K: return k.q4_K;
    case GgmlType::Q5_K: return k.q5_K;
    case GgmlType::Q6_K: return k.q6_K;
    default: break;
    }
    throw std::invalid_argument("matmul: unsupported tensor type " + std::string(traitsOf(type).name));
}

} // namespace folio::kernels
