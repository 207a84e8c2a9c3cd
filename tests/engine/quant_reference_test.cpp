// The scalar reference: hand-built blocks with values computed by hand, and
// quantize -> dequantize round trips with per-type error bounds.
#include "engine/gguf/fp16.h"
#include "engine/gguf/quant.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <stdexcept>
#include <vector>

namespace folio {
namespace {

template <typename Block>
std::vector<float> dequantBlock(GgmlType type, const Block& block, int n)
{
    std::vector<float> out(static_cast<std::size_t>(n));
    dequantizeRow(type, &block, out.data(), n);
    return out;
}

TEST(QuantReference, Q4_0HandBuilt)
{
    BlockQ4_0 b{};
    b.d = fp32ToFp16(0.5f);
    b.qs[0] = 0xF0;  // element 0: nibble 0 -> (0-8)*0.5 = -4; element 16: nibble 15 -> 3.5
    b.qs[3] = 0x98;  // element 3: nibble 8 -> 0; element 19: nibble 9 -> 0.5
    const auto y = dequantBlock(GgmlType::Q4_0, b, 32);
    EXPECT_EQ(y[0], -4.0f);
    EXPECT_EQ(y[16], 3.5f);
    EXPECT_EQ(y[3], 0.0f);
    EXPECT_EQ(y[19], 0.5f);
    EXPECT_EQ(y[1], -4.0f);  // nibble 0
}

TEST(QuantReference, Q4_1HandBuilt)
{
    BlockQ4_1 b{};
    b.d = fp32ToFp16(0.25f);
    b.m = fp32ToFp16(1.0f);
    b.qs[0] = 0xC3;  // element 0: 3*0.25+1 = 1.75; element 16: 12*0.25+1 = 4
    const auto y = dequantBlock(GgmlType::Q4_1, b, 32);
    EXPECT_EQ(y[0], 1.75f);
    EXPECT_EQ(y[16], 4.0f);
    EXPECT_EQ(y[5], 1.0f);
}

TEST(QuantReference, Q5_0HandBuilt)
{
    BlockQ5_0 b{};
    b.d = fp32ToFp16(1.0f);
    const uint32_t qh = (1u << 0) | (1u << 16);  // fifth bits of elements 0 and 16
    std::memcpy(b.qh, &qh, 4);
    b.qs[0] = 0xF0;  // element 0: 16+0-16 = 0; element 16: 16+15-16 = 15
    b.qs[1] = 0x0F;  // element 1: 15-16 = -1; element 17: 0-16 = -16
    const auto y = dequantBlock(GgmlType::Q5_0, b, 32);
    EXPECT_EQ(y[0], 0.0f);
    EXPECT_EQ(y[16], 15.0f);
    EXPECT_EQ(y[1], -1.0f);
    EXPECT_EQ(y[17], -16.0f);
}

TEST(QuantReference, Q5_1HandBuilt)
{
    BlockQ5_1 b{};
    b.d = fp32ToFp16(0.5f);
    b.m = fp32ToFp16(-2.0f);
    const uint32_t qh = 1u << 31;  // fifth bit of element 31
    std::memcpy(b.qh, &qh, 4);
    b.qs[15] = 0x21;  // element 15: 1*0.5-2 = -1.5; element 31: (2+16)*0.5-2 = 7
    const auto y = dequantBlock(GgmlType::Q5_1, b, 32);
    EXPECT_EQ(y[15], -1.5f);
    EXPECT_EQ(y[31], 7.0f);
    EXPECT_EQ(y[0], -2.0f);
}

TEST(QuantReference, Q8_0HandBuilt)
{
    BlockQ8_0 b{};
    b.d = fp32ToFp16(0.125f);
    b.qs[5] = -8;
    b.qs[31] = 127;
    const auto y = dequantBlock(GgmlType::Q8_0, b, 32);
    EXPECT_EQ(y[5], -1.0f);
    EXPECT_EQ(y[31], 15.875f);
    EXPECT_EQ(y[0], 0.0f);
}

TEST(QuantReference, Q4_KHandBuilt)
{
    BlockQ4_K b{};
    b.d = fp32ToFp16(1.0f);
    b.dmin = fp32ToFp16(0.5f);
    // Sub-block 0: scale 2, min 4 (plain 6-bit fields).
    b.scales[0] = 2;
    b.scales[4] = 4;
    // Sub-block 5: scale 33 = 0b10'0001, min 40 = 0b10'1000: low 4 bits in scales[9],
    // top 2 bits in bits 6-7 of scales[1] (scale) and scales[5] (min).
    b.scales[9] = static_cast<uint8_t>((33 & 0xF) | ((40 & 0xF) << 4));
    b.scales[1] = static_cast<uint8_t>((33 >> 4) << 6);
    b.scales[5] = static_cast<uint8_t>((40 >> 4) << 6);
    b.qs[0] = 0x05;        // element 0 (sub-block 0, low nibble): 1*2*5 - 0.5*4 = 8
    b.qs[64 + 3] = 0x70;   // element 163 (chunk 2, high nibbles = sub-block 5): 33*7 - 0.5*40 = 211
    const auto y = dequantBlock(GgmlType::Q4_K, b, 256);
    EXPECT_EQ(y[0], 8.0f);
    EXPECT_EQ(y[1], -2.0f);
    EXPECT_EQ(y[163], 211.0f);
    EXPECT_EQ(y[160], -20.0f);
    EXPECT_EQ(y[100], 0.0f);  // sub-block 3: scale 0, min 0
}

TEST(QuantReference, Q5_KHandBuilt)
{
    BlockQ5_K b{};
    b.d = fp32ToFp16(1.0f);
    b.dmin = fp32ToFp16(0.5f);
    b.scales[9] = static_cast<uint8_t>((33 & 0xF) | ((40 & 0xF) << 4));
    b.scales[1] = static_cast<uint8_t>((33 >> 4) << 6);
    b.scales[5] = static_cast<uint8_t>((40 >> 4) << 6);
    b.qs[64 + 3] = 0x70;
    b.qh[3] = 1 << 5;  // chunk 2, high half: bit 2*2+1 -> code 7 + 16 = 23
    const auto y = dequantBlock(GgmlType::Q5_K, b, 256);
    EXPECT_EQ(y[163], 33.0f * 23 - 20);
    EXPECT_EQ(y[164], -20.0f);
}

TEST(QuantReference, Q6_KHandBuilt)
{
    BlockQ6_K b{};
    b.d = fp32ToFp16(0.5f);
    b.scales[0] = 1;
    b.scales[12] = -3;
    // Element 200: second half (128..255), offset 72 = quarter 2, l = 8: high nibble of
    // ql[64 + 8], bits 4-5 of qh[32 + 8]. Code 10 | (2 << 4) = 42 -> 42 - 32 = 10.
    b.ql[64 + 8] = 0xA0;
    b.qh[32 + 8] = 2 << 4;
    const auto y = dequantBlock(GgmlType::Q6_K, b, 256);
    EXPECT_EQ(y[200], 0.5f * -3 * 10);
    EXPECT_EQ(y[0], 0.5f * 1 * -32);  // code 0 means -32
    EXPECT_EQ(y[16], 0.0f);           // scale 0
}

TEST(QuantReference, PlainTypes)
{
    const float x[4] = {1.0f, -0.5f, 3.140625f, 0.0f};
    uint16_t h[4];
    float y[4];
    quantizeRow(GgmlType::F16, x, h, 4);
    dequantizeRow(GgmlType::F16, h, y, 4);
    EXPECT_EQ(h[0], 0x3C00);
    for (int i = 0; i < 4; ++i)
        EXPECT_EQ(y[i], x[i]);
    quantizeRow(GgmlType::BF16, x, h, 4);
    dequantizeRow(GgmlType::BF16, h, y, 4);
    EXPECT_EQ(h[0], 0x3F80);
    for (int i = 0; i < 4; ++i)
        EXPECT_EQ(y[i], x[i]);
    EXPECT_FLOAT_EQ(dotRowReference(GgmlType::F32, x, x, 4), 1.0f + 0.25f + 3.140625f * 3.140625f);
}

TEST(QuantReference, RejectsUnsupportedTypesAndShapes)
{
    float x[256] = {};
    uint8_t buf[1024];
    EXPECT_THROW(quantizeRow(GgmlType::Q2_K, x, buf, 256), std::invalid_argument);
    EXPECT_THROW(dequantizeRow(GgmlType::Q4_0, buf, x, 48), std::invalid_argument);
    EXPECT_FALSE(isComputeType(GgmlType::Q8_1));
    EXPECT_TRUE(isComputeType(GgmlType::Q6_K));
}

struct RoundTripCase {
    GgmlType type;
    double maxRelativeRms;  // RMS error / RMS value on Gaussian data
};

// Bounds from the step size of each format on Gaussian data (|x| max ~ 3.3 sigma
// per 32-block): *_0 steps are max/8 (4 bit), max/16 (5 bit), max/127 (8 bit);
// rounding error RMS is step/sqrt(12). K-quants use finer sub-blocks and fitted
// scales, so they must do at least as well as the 32-block types of equal width.
class QuantRoundTrip : public ::testing::TestWithParam<RoundTripCase> {};

TEST_P(QuantRoundTrip, ErrorWithinBound)
{
    const RoundTripCase c = GetParam();
    constexpr int64_t n = 4096;
    std::mt19937 rng(42);
    std::normal_distribution<float> dist(0.0f, 1.0f);
    std::vector<float> x(n), y(n);
    for (float& v : x)
        v = dist(rng);
    x[7] = 0.0f;
    std::fill(x.begin() + 512, x.begin() + 768, 0.0f);  // an all-zero super-block must stay zero
    std::vector<uint8_t> q(rowBytes(c.type, n));
    quantizeRow(c.type, x.data(), q.data(), n);
    dequantizeRow(c.type, q.data(), y.data(), n);
    double err = 0, ref = 0;
    for (int64_t i = 0; i < n; ++i) {
        err += (x[i] - y[i]) * (x[i] - y[i]);
        ref += x[i] * x[i];
    }
    const double relRms = std::sqrt(err / ref);
    EXPECT_LT(relRms, c.maxRelativeRms) << traitsOf(c.type).name;
    for (int64_t i = 512; i < 768; ++i)
        ASSERT_EQ(y[i], 0.0f) << traitsOf(c.type).name << " at " << i;
    std::printf("[ %s round trip relative RMS error %.4f ]\n", std::string(traitsOf(c.type).name).c_str(), relRms);
}

INSTANTIATE_TEST_SUITE_P(Types, QuantRoundTrip,
                         ::testing::Values(RoundTripCase{GgmlType::F32, 1e-9}, RoundTripCase{GgmlType::F16, 4e-4},
                                           RoundTripCase{GgmlType::BF16, 3e-3}, RoundTripCase{GgmlType::Q8_0, 0.007},
                                           RoundTripCase{GgmlType::Q4_0, 0.10}, RoundTripCase{GgmlType::Q4_1, 0.09},
                                           RoundTripCase{GgmlType::Q5_0, 0.05}, RoundTripCase{GgmlType::Q5_1, 0.045},
                                           RoundTripCase{GgmlType::Q4_K, 0.085}, RoundTripCase{GgmlType::Q5_K, 0.045},
                                           RoundTripCase{GgmlType::Q6_K, 0.025}),
                         [](const auto& info) { return std::string(traitsOf(info.param.type).name); });

TEST(QuantReference, DotMatchesDequantizedDot)
{
    constexpr int64_t n = 512;
    std::mt19937 rng(7);
    std::normal_distribution<float> dist(0.0f, 1.0f);
    std::vector<float> w(n), x(n), deq(n);
    for (int64_t i = 0; i < n; ++i) {
        w[i] = dist(rng);
        x[i] = dist(rng);
    }
    for (GgmlType type : {GgmlType::Q4_0, GgmlType::Q6_K, GgmlType::F16}) {
        std::vector<uint8_t> q(rowBytes(type, n));
        quantizeRow(type, w.data(), q.data(), n);
        dequantizeRow(type, q.data(), deq.data(), n);
        double expected = 0;
        for (int64_t i = 0; i < n; ++i)
            expected += static_cast<double>(deq[i]) * x[i];
        EXPECT_NEAR(dotRowReference(type, q.data(), x.data(), n), expected, 1e-4);
    }
}

} // namespace
} // namespace folio
