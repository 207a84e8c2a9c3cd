#include "engine/gguf/fp16.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace folio {
namespace {

TEST(Fp16, KnownValues)
{
    EXPECT_EQ(fp32ToFp16(1.0f), 0x3C00);
    EXPECT_EQ(fp32ToFp16(-2.0f), 0xC000);
    EXPECT_EQ(fp32ToFp16(0.5f), 0x3800);
    EXPECT_EQ(fp32ToFp16(65504.0f), 0x7BFF);
    EXPECT_EQ(fp32ToFp16(0.0f), 0x0000);
    EXPECT_EQ(fp32ToFp16(-0.0f), 0x8000);
    EXPECT_FLOAT_EQ(fp16ToFp32(0x3C00), 1.0f);
    EXPECT_FLOAT_EQ(fp16ToFp32(0x7BFF), 65504.0f);
    EXPECT_FLOAT_EQ(fp16ToFp32(0x3555), 0.333251953125f);
}

TEST(Fp16, InfinityNanAndOverflow)
{
    const float inf = std::numeric_limits<float>::infinity();
    EXPECT_EQ(fp32ToFp16(inf), 0x7C00);
    EXPECT_EQ(fp32ToFp16(-inf), 0xFC00);
    EXPECT_EQ(fp32ToFp16(65520.0f), 0x7C00);  // halfway to 65536 rounds to even: infinity
    EXPECT_EQ(fp32ToFp16(65519.0f), 0x7BFF);
    EXPECT_EQ(fp32ToFp16(1e10f), 0x7C00);
    EXPECT_TRUE(std::isinf(fp16ToFp32(0x7C00)));
    const uint16_t nan = fp32ToFp16(std::numeric_limits<float>::quiet_NaN());
    EXPECT_EQ(nan & 0x7C00, 0x7C00);
    EXPECT_NE(nan & 0x3FF, 0);
    EXPECT_TRUE(std::isnan(fp16ToFp32(0x7E00)));
    EXPECT_TRUE(std::isnan(fp16ToFp32(0x7C01)));
}

TEST(Fp16, Subnormals)
{
    const float tiny = std::ldexp(1.0f, -24);  // smallest half subnormal
    EXPECT_EQ(fp16ToFp32(0x0001), tiny);
    EXPECT_EQ(fp16ToFp32(0x03FF), 1023 * tiny);
    EXPECT_EQ(fp32ToFp16(tiny), 0x0001);
    EXPECT_EQ(fp32ToFp16(-tiny), 0x8001);
    EXPECT_EQ(fp32ToFp16(0.5f * tiny), 0x0000);   // tie rounds to even (0)
    EXPECT_EQ(fp32ToFp16(1.5f * tiny), 0x0002);   // tie rounds to even (2)
    EXPECT_EQ(fp32ToFp16(0.51f * tiny), 0x0001);
    EXPECT_EQ(fp32ToFp16(1023.5f * tiny), 0x0400);  // rounds up into the smallest normal
    EXPECT_EQ(fp32ToFp16(std::ldexp(1.0f, -30)), 0x0000);
}

TEST(Fp16, RoundsToNearestEven)
{
    const float ulp = std::ldexp(1.0f, -10);  // spacing of halves in [1, 2)
    EXPECT_EQ(fp32ToFp16(1.0f + 0.5f * ulp), 0x3C00);
    EXPECT_EQ(fp32ToFp16(1.0f + 1.5f * ulp), 0x3C02);
    EXPECT_EQ(fp32ToFp16(1.0f + 0.5001f * ulp), 0x3C01);
    EXPECT_EQ(fp32ToFp16(2.0f - 0.5f * ulp), 0x4000);  // carry into the exponent
}

TEST(Fp16, EveryHalfRoundTrips)
{
    for (uint32_t h = 0; h < 0x10000; ++h) {
        const float f = fp16ToFp32(static_cast<uint16_t>(h));
        if (std::isnan(f))
            continue;
        ASSERT_EQ(fp32ToFp16(f), h) << "half 0x" << std::hex << h;
    }
}

TEST(Bf16, ConversionsAndRounding)
{
    EXPECT_EQ(fp32ToBf16(1.0f), 0x3F80);
    EXPECT_EQ(fp32ToBf16(-2.0f), 0xC000);
    EXPECT_FLOAT_EQ(bf16ToFp32(0x3F80), 1.0f);
    EXPECT_FLOAT_EQ(bf16ToFp32(0x4049), 3.140625f);
    const float ulp = std::ldexp(1.0f, -7);
    EXPECT_EQ(fp32ToBf16(1.0f + 0.5f * ulp), 0x3F80);   // tie to even
    EXPECT_EQ(fp32ToBf16(1.0f + 1.5f * ulp), 0x3F82);
    EXPECT_EQ(fp32ToBf16(std::numeric_limits<float>::infinity()), 0x7F80);
    EXPECT_TRUE(std::isnan(bf16ToFp32(fp32ToBf16(std::numeric_limits<float>::quiet_NaN()))));
    EXPECT_EQ(fp32ToBf16(std::ldexp(1.0f, -130)), 0x0008);  // float subnormal keeps its top bits
    for (uint32_t b = 0; b < 0x10000; ++b) {
        const float f = bf16ToFp32(static_cast<uint16_t>(b));
        if (!std::isnan(f)) {
            ASSERT_EQ(fp32ToBf16(f), b);
        }
    }
}

} // namespace
} // namespace folio
