// The int8 GEMM kernels (engine/kernels/gemm.h) on random data: packing plus the
// plain C++ kernel against the scalar row dot kernels (the same integer math, so
// they agree up to float summation order; for Q4_K/Q5_K/Q6_K against the dequantized row), and the AVX-512 kernel, when the CPU
// has it, against the plain one, for every packable type, row counts that do not
// fill a group of 16 and token counts that leave every tail of the 4-token tile.
#include "engine/kernels/cpu_features.h"
#include "engine/kernels/gemm.h"
#include "engine/kernels/kernels.h"
#include "engine/gguf/quant.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace folio {
namespace {

using kernels::Q8Block;

const GgmlType kPackable[] = {GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q5_1,
                              GgmlType::Q8_0, GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K};

bool isKType(GgmlType type) { return traitsOf(type).blockSize == 256; }

struct GemmCase {
    int64_t cols, blocks;
    int rows;
    int64_t n;
    std::vector<uint8_t> weights;
    std::vector<Q8Block> acts;
};

// cols is rounded up to the type's block size (256 for the K types).
GemmCase makeCase(GgmlType type, int rows, int64_t cols, int64_t n, unsigned seed)
{
    const int64_t blockSize = traitsOf(type).blockSize;
    cols = (cols + blockSize - 1) / blockSize * blockSize;
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
        kernels::quantizeQ8Blocks(row.data(), c.acts.data() + t * c.blocks, cols);
    }
    return c;
}

// A panel of consecutive packed groups, laid out as gemm.h describes.
struct Packed {
    int groups;
    int64_t blocks;
    std::vector<int8_t> codes;
    std::vector<float> scale, bias;
    std::vector<int32_t> correction, correctionHigh;  // the second only for two-scale types
    kernels::PackedGroupView view(int g)
    {
        const int64_t values = blocks * kernels::kGemmGroupRows;
        return {codes.data() + g * blocks * kernels::kGemmBlockBytes, scale.data() + g * values,
                bias.data() + g * values, correction.data() + g * values,
                correctionHigh.empty() ? nullptr : correctionHigh.data() + g * values};
    }
};

Packed pack(GgmlType type, const GemmCase& c, int firstRow, int rowCount)
{
    const int groups = (rowCount + 15) / 16;
    const auto values = static_cast<std::size_t>(groups * c.blocks * 16);
    Packed p{groups,
             c.blocks,
             std::vector<int8_t>(values * 32, 0x55),
             std::vector<float>(values, NAN),
             std::vector<float>(values, NAN),
             std::vector<int32_t>(values, 12345),
             std::vector<int32_t>(kernels::gemmHasTwoScales(type) ? values : 0, 12345)};
    const std::size_t rb = rowBytes(type, c.cols);
    for (int g = 0; g < groups; ++g)
        kernels::packRowGroup(type, c.weights.data() + static_cast<std::size_t>(firstRow + 16 * g) * rb, rb,
                              std::min(16, rowCount - 16 * g), c.cols, p.view(g));
    return p;
}

std::vector<Q8Block> shifted(const std::vector<Q8Block>& acts)
{
    std::vector<Q8Block> out = acts;
    kernels::shiftActivationsUnsigned(out.data(), static_cast<int64_t>(out.size()));
    return out;
}

// The row's value against Q8Block activations: the scalar row dot of the 32-block
// types; for the K types (whose row dots take Q8K activations) the dequantized row
// times the dequantized activations, in double.
double referenceDot(GgmlType type, const uint8_t* row, const Q8Block* acts, int64_t cols)
{
    if (!isKType(type))
        return kernels::rowDotFor(kernels::scalarDotKernels(), type)(row, acts, cols);
    std::vector<float> w(static_cast<std::size_t>(cols));
    dequantizeRow(type, row, w.data(), cols);
    double sum = 0;
    for (int64_t i = 0; i < cols; ++i)
        sum += double(w[static_cast<std::size_t>(i)]) * acts[i / 32].d * acts[i / 32].qs[i % 32];
    return sum;
}

class GemmKernel : public ::testing::TestWithParam<GgmlType> {};

TEST_P(GemmKernel, ScalarKernelMatchesRowDots)
{
    const GgmlType type = GetParam();
    const GemmCase c = makeCase(type, 21, 352, 7, 11);  // 11 blocks; a full group and a group of 5
    const std::vector<Q8Block> x = shifted(c.acts);
    const std::size_t rb = rowBytes(type, c.cols);
    for (int first : {0, 5}) {  // a panel of 21 rows and one of 16
        const int count = c.rows - first;
        Packed p = pack(type, c, first, count);
        if (count % 16 != 0) {
            EXPECT_EQ(p.view(p.groups - 1).scale[15], 0.0f) << "padding rows are zero";
        }
        const int64_t ldy = 23;  // wider than the panel: nothing past `count` may be written
        std::vector<float> Y(static_cast<std::size_t>(c.n * ldy), -1.0f);
        kernels::gemmPanelScalar(p.view(0), c.blocks, p.groups, kernels::gemmHasBias(type), x.data(), c.n, Y.data(),
                                 ldy, count);
        for (int64_t t = 0; t < c.n; ++t) {
            for (int r = 0; r < count; ++r) {
                const float expected = static_cast<float>(referenceDot(
                    type, c.weights.data() + static_cast<std::size_t>(first + r) * rb, c.acts.data() + t * c.blocks, c.cols));
                EXPECT_NEAR(Y[static_cast<std::size_t>(t * ldy + r)], expected, 1e-4 * (std::fabs(expected) + 1))
                    << traitsOf(type).name << " t=" << t << " row " << first + r;
            }
            for (int r = count; r < ldy; ++r)
                EXPECT_EQ(Y[static_cast<std::size_t>(t * ldy + r)], -1.0f) << "wrote past the panel";
        }
    }
}

TEST_P(GemmKernel, Avx512KernelMatchesScalarKernel)
{
    if (maxSupportedSimdLevel() < SimdLevel::Avx512)
        GTEST_SKIP() << "no AVX-512 VNNI on this CPU";
    const GgmlType type = GetParam();
    for (int64_t n : {int64_t{1}, int64_t{2}, int64_t{3}, int64_t{4}, int64_t{9}, int64_t{14}}) {
        // 57 rows: panels of 3 groups (a pair and a single) and of 1 and 4 groups.
        const GemmCase c = makeCase(type, 57, 96, n, 20 + static_cast<unsigned>(n));
        const std::vector<Q8Block> x = shifted(c.acts);
        for (auto [first, count] : {std::pair{0, 41}, std::pair{41, 16}, std::pair{0, 57}, std::pair{50, 7}}) {
            Packed p = pack(type, c, first, count);
            const int64_t ldy = 67;
            std::vector<float> expected(static_cast<std::size_t>(n * ldy), -1.0f), actual = expected;
            kernels::gemmPanelScalar(p.view(0), c.blocks, p.groups, kernels::gemmHasBias(type), x.data(), n,
                                     expected.data(), ldy, count);
            kernels::gemmPanelAvx512(p.view(0), c.blocks, p.groups, kernels::gemmHasBias(type), x.data(), n,
                                     actual.data(), ldy, count);
            // Float summation order only; the K types sum more and larger scaled terms per
            // row (Q6_K two per block), so their rounding shows a little more.
            const double relative = isKType(type) ? 4e-5 : 1e-5;
            for (std::size_t i = 0; i < expected.size(); ++i)
                ASSERT_NEAR(actual[i], expected[i], relative * (std::fabs(expected[i]) + 1))
                    << traitsOf(type).name << " n=" << n << " first=" << first << " index " << i;
        }
    }
}

TEST_P(GemmKernel, Avx2KernelMatchesScalarKernel)
{
    if (maxSupportedSimdLevel() < SimdLevel::Avx2)
        GTEST_SKIP() << "no AVX2 on this CPU";
    const GgmlType type = GetParam();
    if (!kernels::isAvx2GemmType(type))
        GTEST_SKIP() << traitsOf(type).name << " stays on the float path on AVX2 (its codes would saturate int16 sums)";
    for (int64_t n : {int64_t{1}, int64_t{2}, int64_t{3}, int64_t{4}, int64_t{7}, int64_t{14}}) {
        // Extreme activations too: every x code at +-127 exercises the int16 sums' bound.
        for (bool extreme : {false, true}) {
            GemmCase c = makeCase(type, 57, 96, n, 40 + static_cast<unsigned>(n));
            if (extreme) {
                for (Q8Block& b : c.acts)
                    for (int8_t& q : b.qs)
                        q = q < 0 ? -127 : 127;
                // Rows of the largest code magnitudes: all equal (Q4_0: every code -8) and
                // alternating (the *_1 types: codes 0 and the top code).
                const std::size_t rb = rowBytes(type, c.cols);
                std::vector<float> row(static_cast<std::size_t>(c.cols), -1.0f);
                quantizeRow(type, row.data(), c.weights.data(), c.cols);
                for (std::size_t i = 0; i < row.size(); ++i)
                    row[i] = i % 2 ? 1.0f : -1.0f;
                quantizeRow(type, row.data(), c.weights.data() + rb, c.cols);
                for (Q8Block& b : c.acts)  // token 0 all +127: the largest unsigned bytes
                    if (&b < c.acts.data() + c.blocks)
                        std::fill(std::begin(b.qs), std::end(b.qs), int8_t{127});
            }
            const std::vector<Q8Block> x = shifted(c.acts);
            for (auto [first, count] : {std::pair{0, 41}, std::pair{41, 16}, std::pair{0, 57}, std::pair{50, 7}}) {
                Packed p = pack(type, c, first, count);
                const int64_t ldy = 67;
                std::vector<float> expected(static_cast<std::size_t>(n * ldy), -1.0f), actual = expected;
                kernels::gemmPanelScalar(p.view(0), c.blocks, p.groups, kernels::gemmHasBias(type), x.data(), n,
                                         expected.data(), ldy, count);
                kernels::gemmPanelAvx2(type, p.view(0), c.blocks, p.groups, x.data(), n, actual.data(), ldy, count);
                // Float summation order only; the K types' 256-wide rows of larger per-block
                // scales (d * sc) cancel more, so their rounding shows a little more.
                const double relative = isKType(type) ? 4e-5 : 1e-5;
                for (std::size_t i = 0; i < expected.size(); ++i)
                    ASSERT_NEAR(actual[i], expected[i], relative * (std::fabs(expected[i]) + 1))
                        << traitsOf(type).name << " n=" << n << " first=" << first << " index " << i
                        << (extreme ? " (extreme activations)" : "");
            }
        }
    }
}

TEST(GemmKernelActivations, VectorQuantizersAreBitIdenticalToScalarPlusShift)
{
    if (maxSupportedSimdLevel() < SimdLevel::Avx2)
        GTEST_SKIP() << "no AVX2 on this CPU";
    std::mt19937 rng(5);
    std::normal_distribution<float> dist(0.0f, 3.0f);
    std::vector<float> x(32 * 9);
    for (float& v : x)
        v = dist(rng);
    for (int i = 64; i < 96; ++i)
        x[static_cast<std::size_t>(i)] = 0.0f;  // an all-zero block: d = 0
    x[96] = 127.0f;  // d = 1 for block 3, so these are exact ties: both round to even
    x[97] = 2.5f;
    x[98] = -3.5f;
    std::vector<Q8Block> expected(9);
    kernels::quantizeQ8Blocks(x.data(), expected.data(), 32 * 9);
    kernels::shiftActivationsUnsigned(expected.data(), 9);
    struct Quantizer {
        const char* name;
        SimdLevel level;
        void (*fn)(const float*, Q8Block*, int64_t);
    };
    for (const Quantizer& q : {Quantizer{"avx2", SimdLevel::Avx2, kernels::quantizeShiftedAvx2},
                               Quantizer{"avx512", SimdLevel::Avx512, kernels::quantizeShiftedAvx512}}) {
        if (maxSupportedSimdLevel() < q.level)
            continue;
        std::vector<Q8Block> actual(9);
        q.fn(x.data(), actual.data(), 32 * 9);
        for (int b = 0; b < 9; ++b) {
            EXPECT_EQ(actual[b].d, expected[b].d) << q.name << " block " << b;
            EXPECT_EQ(actual[b].sum, expected[b].sum) << q.name << " block " << b;
            for (int j = 0; j < 32; ++j)
                EXPECT_EQ(actual[b].qs[j], expected[b].qs[j]) << q.name << " block " << b << " code " << j;
        }
    }
    // The Q8K quantizer (K-quant decode) at the Avx512 level against the scalar level.
    if (maxSupportedSimdLevel() >= SimdLevel::Avx512) {
        std::vector<float> xk(256 * 3);
        for (std::size_t i = 0; i < xk.size(); ++i)
            xk[i] = i < 256 ? x[i % x.size()] : (i < 512 ? 0.0f : dist(rng));  // the middle block all zero
        xk[512] = 127.0f;  // d = 1 for the last block: exact ties, both round to even
        xk[513] = 2.5f;
        xk[514] = -3.5f;
        std::vector<kernels::Q8KBlock> plain(3), fast(3);
        kernels::quantizeActivations(kernels::ActivationKind::Q8K, xk.data(), plain.data(), 768, SimdLevel::Scalar);
        kernels::quantizeActivations(kernels::ActivationKind::Q8K, xk.data(), fast.data(), 768, SimdLevel::Avx512);
        for (int b = 0; b < 3; ++b) {
            EXPECT_EQ(fast[b].d, plain[b].d) << "Q8K block " << b;
            for (int g = 0; g < 16; ++g)
                EXPECT_EQ(fast[b].bsums[g], plain[b].bsums[g]) << "Q8K block " << b << " group " << g;
            for (int j = 0; j < 256; ++j)
                EXPECT_EQ(fast[b].qs[j], plain[b].qs[j]) << "Q8K block " << b << " code " << j;
        }
    }
    // The unshifted AVX-512 quantizer of the decode path against quantizeQ8Blocks alone.
    if (maxSupportedSimdLevel() >= SimdLevel::Avx512) {
        std::vector<Q8Block> plain(9), actual(9);
        kernels::quantizeQ8Blocks(x.data(), plain.data(), 32 * 9);
        kernels::quantizeQ8BlocksAvx512(x.data(), actual.data(), 32 * 9);
        for (int b = 0; b < 9; ++b) {
            EXPECT_EQ(actual[b].d, plain[b].d) << "block " << b;
            EXPECT_EQ(actual[b].sum, plain[b].sum) << "block " << b;
            for (int j = 0; j < 32; ++j)
                EXPECT_EQ(actual[b].qs[j], plain[b].qs[j]) << "block " << b << " code " << j;
        }
    }
}

using PackFn = void (*)(GgmlType, const void*, std::size_t, int, int64_t, const kernels::PackedGroupView&);

uint32_t bitsOf(float v) { return std::bit_cast<uint32_t>(v); }

// A vectorized packer against packRowGroup for whole and partial row groups: every
// code, correction, scale and bias bit equal (the outputs start as other values).
void expectPackingMatchesScalar(GgmlType type, PackFn packer)
{
    const GemmCase c = makeCase(type, 16, isKType(type) ? 512 : 160, 1, 9);
    const std::size_t rb = rowBytes(type, c.cols);
    for (int count : {16, 11, 7}) {
        Packed expected = pack(type, c, 0, count), actual = pack(type, c, 0, count);
        std::fill(actual.codes.begin(), actual.codes.end(), int8_t{0x55});
        std::fill(actual.scale.begin(), actual.scale.end(), NAN);
        std::fill(actual.bias.begin(), actual.bias.end(), NAN);
        std::fill(actual.correction.begin(), actual.correction.end(), 7);
        std::fill(actual.correctionHigh.begin(), actual.correctionHigh.end(), 7);
        packer(type, c.weights.data(), rb, count, c.cols, actual.view(0));
        const std::string what = std::string(traitsOf(type).name) + " rows " + std::to_string(count);
        EXPECT_EQ(actual.codes, expected.codes) << what;
        EXPECT_EQ(actual.correction, expected.correction) << what;
        EXPECT_EQ(actual.correctionHigh, expected.correctionHigh) << what;  // Q6_K's second halves
        for (std::size_t i = 0; i < expected.scale.size(); ++i) {
            EXPECT_EQ(bitsOf(actual.scale[i]), bitsOf(expected.scale[i])) << what << " " << i;
            EXPECT_EQ(bitsOf(actual.bias[i]), bitsOf(expected.bias[i])) << what << " " << i;
        }
    }
}

TEST(GemmKernelPacking, Avx512PackingIsBitIdenticalToScalar)
{
    if (maxSupportedSimdLevel() < SimdLevel::Avx512)
        GTEST_SKIP() << "no AVX-512 VNNI on this CPU";
    for (GgmlType type : {GgmlType::Q4_0, GgmlType::Q8_0, GgmlType::Q4_K, GgmlType::Q6_K}) {
        ASSERT_TRUE(kernels::isAvx512PackType(type));
        expectPackingMatchesScalar(type, kernels::packRowGroupAvx512);
    }
    EXPECT_FALSE(kernels::isAvx512PackType(GgmlType::Q5_K));
}

TEST(GemmKernelPacking, Avx2PackingIsBitIdenticalToScalar)
{
    if (maxSupportedSimdLevel() < SimdLevel::Avx2)
        GTEST_SKIP() << "no AVX2 on this CPU";
    for (GgmlType type : {GgmlType::Q4_0, GgmlType::Q4_K}) {
        ASSERT_TRUE(kernels::isAvx2PackType(type));
        expectPackingMatchesScalar(type, kernels::packRowGroupAvx2);
    }
    EXPECT_FALSE(kernels::isAvx2PackType(GgmlType::Q8_0));
}

INSTANTIATE_TEST_SUITE_P(Types, GemmKernel, ::testing::ValuesIn(kPackable),
                         [](const auto& info) { return std::string(traitsOf(info.param).name); });

TEST(GemmKernelPacking, ThirtyTwoBlockTypesAndTheKTypes)
{
    for (GgmlType type : kPackable)
        EXPECT_TRUE(kernels::isGemmPackable(type));
    EXPECT_FALSE(kernels::isGemmPackable(GgmlType::F32));
    EXPECT_FALSE(kernels::isGemmPackable(GgmlType::F16));
    EXPECT_TRUE(kernels::gemmHasBias(GgmlType::Q4_K));
    EXPECT_FALSE(kernels::gemmHasBias(GgmlType::Q4_0));
    EXPECT_FALSE(kernels::gemmHasBias(GgmlType::Q6_K));
    EXPECT_TRUE(kernels::gemmHasTwoScales(GgmlType::Q6_K));  // a scale per 16 elements
    EXPECT_FALSE(kernels::gemmHasTwoScales(GgmlType::Q4_K));
}

} // namespace
} // namespace folio
