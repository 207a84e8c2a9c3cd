// The int8 GEMM kernels (engine/kernels/gemm.h) on random data: packing plus the
// plain C++ kernel against the scalar row dot kernels (the same integer math, so
// they agree up to float summation order), and the AVX-512 kernel, when the CPU
// has it, against the plain one, for every packable type, row counts that do not
// fill a group of 16 and token counts that leave every tail of the 4-token tile.
#include "engine/cpu_features.h"
#include "engine/kernels/gemm.h"
#include "engine/kernels/kernels.h"
#include "engine/quant.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

namespace folio {
namespace {

using kernels::Q8Block;

const GgmlType kPackable[] = {GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q5_1, GgmlType::Q8_0};

struct GemmCase {
    int64_t cols, blocks;
    int rows;
    int64_t n;
    std::vector<uint8_t> weights;
    std::vector<Q8Block> acts;
};

GemmCase makeCase(GgmlType type, int rows, int64_t cols, int64_t n, unsigned seed)
{
    GemmCase c{cols, cols / 32, rows, n, {}, {}};
    std::mt19937 rng(seed);
    std::normal_distribution<float> dist(0.0f, 1.0f);
    const std::size_t rb = rowBytes(type, cols);
    c.weights.resize(rb * static_cast<std::size_t>(rows));
    std::vector<float> row(static_cast<std::size_t>(cols));
    for (int r = 0; r < rows; ++r) {
        for (float& v : row)
            v = dist(rng) * (1.0f + static_cast<float>(r % 3)) + (r % 2 ? 0.5f : 0.0f);  // *_1 types get a min
        quantizeRow(type, row.data(), c.weights.data() + static_cast<std::size_t>(r) * rb, cols);
    }
    c.acts.resize(static_cast<std::size_t>(c.blocks * n));
    for (int64_t t = 0; t < n; ++t) {
        for (float& v : row)
            v = dist(rng);
        row[5] = -7.0f;  // an outlier, so blocks have different scales
        kernels::quantizeActivations(kernels::ActivationKind::Q8, row.data(), c.acts.data() + t * c.blocks, cols);
    }
    return c;
}

struct Packed {
    std::vector<uint8_t> codes;
    std::vector<float> scale, bias;
    kernels::PackedGroupView view() { return {codes.data(), scale.data(), bias.data()}; }
};

Packed pack(GgmlType type, const GemmCase& c, int firstRow, int count)
{
    Packed p{std::vector<uint8_t>(static_cast<std::size_t>(c.blocks * kernels::kGemmBlockBytes), 0xAA),
             std::vector<float>(static_cast<std::size_t>(c.blocks * 16), NAN),
             std::vector<float>(static_cast<std::size_t>(c.blocks * 16), NAN)};
    const std::size_t rb = rowBytes(type, c.cols);
    kernels::packRowGroup(type, c.weights.data() + static_cast<std::size_t>(firstRow) * rb, rb, count, c.cols,
                          p.view());
    return p;
}

class GemmKernel : public ::testing::TestWithParam<GgmlType> {};

TEST_P(GemmKernel, ScalarKernelMatchesRowDots)
{
    const GgmlType type = GetParam();
    const GemmCase c = makeCase(type, 21, 352, 7, 11);  // 11 blocks; a full group and a group of 5
    const kernels::RowDotFn dot = kernels::rowDotFor(kernels::scalarDotKernels(), type);
    const std::size_t rb = rowBytes(type, c.cols);
    for (int first = 0; first < c.rows; first += 16) {
        const int count = std::min(16, c.rows - first);
        Packed p = pack(type, c, first, count);
        for (int r = count; r < 16; ++r)  // padding rows are all zero
            EXPECT_EQ(p.scale[static_cast<std::size_t>(r)], 0.0f);
        const int64_t ldy = 17;  // wider than the group: nothing past `count` may be written
        std::vector<float> Y(static_cast<std::size_t>(c.n * ldy), -1.0f);
        kernels::gemmGroupScalar(p.codes.data(), p.scale.data(), p.bias.data(), c.blocks, c.acts.data(), c.n, Y.data(),
                                 ldy, count);
        for (int64_t t = 0; t < c.n; ++t) {
            for (int r = 0; r < count; ++r) {
                const float expected = dot(c.weights.data() + static_cast<std::size_t>(first + r) * rb,
                                           c.acts.data() + t * c.blocks, c.cols);
                EXPECT_NEAR(Y[static_cast<std::size_t>(t * ldy + r)], expected, 1e-4 * (std::fabs(expected) + 1))
                    << traitsOf(type).name << " t=" << t << " row " << first + r;
            }
            for (int r = count; r < ldy; ++r)
                EXPECT_EQ(Y[static_cast<std::size_t>(t * ldy + r)], -1.0f) << "wrote past the group";
        }
    }
}

TEST_P(GemmKernel, Avx512KernelMatchesScalarKernel)
{
    if (maxSupportedSimdLevel() < SimdLevel::Avx512)
        GTEST_SKIP() << "no AVX-512 VNNI on this CPU";
    const GgmlType type = GetParam();
    for (int64_t n : {int64_t{1}, int64_t{2}, int64_t{3}, int64_t{4}, int64_t{9}, int64_t{14}}) {
        const GemmCase c = makeCase(type, 16 + 9, 96, n, 20 + static_cast<unsigned>(n));
        for (int first = 0; first < c.rows; first += 16) {
            const int count = std::min(16, c.rows - first);
            Packed p = pack(type, c, first, count);
            const int64_t ldy = 19;
            std::vector<float> expected(static_cast<std::size_t>(n * ldy), -1.0f), actual = expected;
            kernels::gemmGroupScalar(p.codes.data(), p.scale.data(), p.bias.data(), c.blocks, c.acts.data(), n,
                                     expected.data(), ldy, count);
            kernels::gemmGroupAvx512(p.codes.data(), p.scale.data(), p.bias.data(), c.blocks, c.acts.data(), n,
                                     actual.data(), ldy, count);
            for (std::size_t i = 0; i < expected.size(); ++i)
                ASSERT_NEAR(actual[i], expected[i], 1e-5 * (std::fabs(expected[i]) + 1))
                    << traitsOf(type).name << " n=" << n << " first=" << first << " index " << i;
        }
    }
}

INSTANTIATE_TEST_SUITE_P(Types, GemmKernel, ::testing::ValuesIn(kPackable),
                         [](const auto& info) { return std::string(traitsOf(info.param).name); });

TEST(GemmKernelPacking, OnlyThirtyTwoBlockTypes)
{
    for (GgmlType type : kPackable)
        EXPECT_TRUE(kernels::isGemmPackable(type));
    EXPECT_FALSE(kernels::isGemmPackable(GgmlType::F32));
    EXPECT_FALSE(kernels::isGemmPackable(GgmlType::Q4_K));
    EXPECT_FALSE(kernels::isGemmPackable(GgmlType::Q6_K));
}

} // namespace
} // namespace folio
