// Scalar conversions between float and the 16-bit float formats of GGUF files
// (IEEE half and bfloat16). Round-to-nearest-even; inf, NaN and subnormals kept.
#pragma once

#include <cstdint>
#include <cstring>

namespace folio {

inline uint32_t floatBits(float f)
{
    uint32_t u;
    std::memcpy(&u, &f, sizeof u);
    return u;
}

inline float bitsToFloat(uint32_t u)
{
    float f;
    std::memcpy(&f, &u, sizeof f);
    return f;
}

inline float fp16ToFp32(uint16_t h)
{
    const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
    const uint32_t exponent = (h >> 10) & 0x1Fu;
    const uint32_t mantissa = h & 0x3FFu;
    if (exponent == 0x1F)  // inf or NaN: keep the payload
        return bitsToFloat(sign | 0x7F800000u | (mantissa << 13));
    if (exponent == 0) {
        // Zero or subnormal: mantissa * 2^-24 is exact in float.
        const float magnitude = static_cast<float>(mantissa) * 5.9604644775390625e-8f;
        return sign ? -magnitude : magnitude;
    }
    return bitsToFloat(sign | ((exponent + 112) << 23) | (mantissa << 13));
}

inline uint16_t fp32ToFp16(float f)
{
    const uint32_t u = floatBits(f);
    const uint16_t sign = static_cast<uint16_t>((u >> 16) & 0x8000u);
    const uint32_t absBits = u & 0x7FFFFFFFu;
    if (absBits >= 0x7F800000u) {  // inf or NaN (NaN stays NaN: force a mantissa bit)
        const uint16_t nanBit = absBits > 0x7F800000u ? static_cast<uint16_t>(0x200u | ((absBits >> 13) & 0x3FFu)) : 0;
        return static_cast<uint16_t>(sign | 0x7C00u | nanBit);
    }
    if (absBits >= 0x477FF000u)  // rounds to a value beyond 65504
        return static_cast<uint16_t>(sign | 0x7C00u);
    if (absBits < 0x38800000u) {
        // Result is subnormal (or zero): count units of 2^-24. magnitude * 2^24 < 1024, and
        // adding 2^23 leaves a float whose ulp is 1, so the adder rounds to nearest even
        // and the units land in the low mantissa bits (1024 becomes the smallest normal).
        const float magnitude = bitsToFloat(absBits);
        const uint32_t units = floatBits(magnitude * 16777216.0f + 8388608.0f) - 0x4B000000u;
        return static_cast<uint16_t>(sign | units);
    }
    // Normal: rebias the exponent and round the 13 dropped mantissa bits to nearest even;
    // a carry out of the mantissa correctly bumps the exponent.
    const uint32_t rebased = absBits - (112u << 23);
    const uint32_t rounded = rebased + 0xFFFu + ((rebased >> 13) & 1u);
    return static_cast<uint16_t>(sign | (rounded >> 13));
}

inline float bf16ToFp32(uint16_t b)
{
    return bitsToFloat(static_cast<uint32_t>(b) << 16);
}

inline uint16_t fp32ToBf16(float f)
{
    const uint32_t u = floatBits(f);
    if ((u & 0x7FFFFFFFu) > 0x7F800000u)  // NaN: keep it quiet and non-zero
        return static_cast<uint16_t>((u >> 16) | 0x40u);
    return static_cast<uint16_t>((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16);
}

} // namespace folio
