// The BF16 GEMM of the prefill path (engine/kernels/bf16_gemm.h) on CPUs with
// AVX-512 BF16 (skipped elsewhere): token packing and weight conversion bit for bit
// against fp32ToBf16, the tile against the plain tile in vdpbf16ps's lane order, and
// matMul on F16 and BF16 weights against double-precision products, over shapes that
// leave a short depth block, a short row tile and panel, and a short token tile.
//
// Bounds. The products of two BF16 values are exact in FP32, so against a sum of the
// same rounded factors only FP32 summation differs: a few ulps of sum |w x| (1e-5,
// as the FP32 tiles' test). Against the unrounded factors each BF16 rounding adds up
// to 2^-9 relative (8 significant bits), a product of two rounded factors 2^-8 (F16
// weights; BF16 weights are not rounded: 2^-9), so |error| <= 2^-8 sum |w x| + 1e-5.
#include "engine/kernels/bf16_gemm.h"
#include "engine/kernels/cpu_features.h"
#include "engine/kernels/matmul.h"
#include "engine/kernels/thread_pool.h"
#include "engine/gguf/fp16.h"
#include "engine/gguf/quant.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace folio {
namespace {

using kernels::kBf16GemmDepth;
using kernels::kBf16RowTile;
using kernels::kBf16TokenTile;

std::vector<float> randomValues(std::size_t count, unsigned seed)
{
    std::mt19937 rng(seed);
    std::normal_distribution<float> dist(0.0f, 1.0f);
    std::vector<float> v(count);
    for (float& x : v)
        x = dist(rng);
    return v;
}

std::vector<uint32_t> randomPairs(std::size_t count, unsigned seed)
{
    const auto values = randomValues(2 * count, seed);
    std::vector<uint32_t> pairs(count);
    for (std::size_t i = 0; i < count; ++i)
        pairs[i] = fp32ToBf16(values[2 * i]) | static_cast<uint32_t>(fp32ToBf16(values[2 * i + 1])) << 16;
    return pairs;
}

float highOf(uint32_t pair) { return bf16ToFp32(static_cast<uint16_t>(pair >> 16)); }
float lowOf(uint32_t pair) { return bf16ToFp32(static_cast<uint16_t>(pair & 0xFFFFu)); }

#define SKIP_WITHOUT_BF16()                                                                                        \
    if (!kernels::hasBf16Gemm(SimdLevel::Avx512))                                                                  \
    GTEST_SKIP() << "no AVX-512 BF16 on this CPU: F16 and BF16 weights take the FP32 tiles"

// Switches the BF16 GEMM on or off for one test, as it was afterwards.
class Bf16GemmSwitch {
public:
    explicit Bf16GemmSwitch(bool on) : was_(bf16GemmEnabled()) { setBf16GemmEnabled(on); }
    ~Bf16GemmSwitch() { setBf16GemmEnabled(was_); }

private:
    bool was_;
};

TEST(Bf16Gemm, PackedTokensAreTheReferencesBits)
{
    SKIP_WITHOUT_BF16();
    for (int64_t cols : {int64_t{32}, int64_t{288}}) {
        for (int tokens : {kBf16TokenTile, 17, 16, 1}) {
            const auto x = randomValues(static_cast<std::size_t>(tokens * cols), 21);
            const std::size_t words = static_cast<std::size_t>(cols / 2 * kBf16TokenTile);
            std::vector<uint32_t> got(words, 0xDEADBEEFu), want(words);
            kernels::bf16GemmAvx512().packTokens(x.data(), cols, tokens, got.data());
            kernels::bf16PackTokensReference(x.data(), cols, tokens, kBf16TokenTile, want.data());
            ASSERT_EQ(std::memcmp(got.data(), want.data(), words * sizeof(uint32_t)), 0)
                << "cols " << cols << " tokens " << tokens;
        }
    }
}

TEST(Bf16Gemm, ConvertedWeightsAreTheReferencesBits)
{
    SKIP_WITHOUT_BF16();
    for (GgmlType type : {GgmlType::F16, GgmlType::BF16, GgmlType::F32}) {
        const int64_t n = 320;
        auto src = randomValues(static_cast<std::size_t>(n), 22);
        src[5] = 1e-6f;  // an F16 subnormal: a normal BF16
        std::vector<uint8_t> row(rowBytes(type, n));
        quantizeRow(type, src.data(), row.data(), n);
        std::vector<float> values(static_cast<std::size_t>(n));
        dequantizeRow(type, row.data(), values.data(), n);
        std::vector<uint32_t> got(static_cast<std::size_t>(n / 2));
        kernels::bf16GemmAvx512().convertRow(type, row.data(), got.data(), n);
        for (int64_t p = 0; p < n / 2; ++p) {
            const uint32_t want = fp32ToBf16(values[static_cast<std::size_t>(2 * p)]) |
                                  static_cast<uint32_t>(fp32ToBf16(values[static_cast<std::size_t>(2 * p + 1)])) << 16;
            ASSERT_EQ(got[static_cast<std::size_t>(p)], want) << traitsOf(type).name << " pair " << p;
        }
    }
}

TEST(Bf16Gemm, TileMatchesThePlainTile)
{
    SKIP_WITHOUT_BF16();
    const kernels::Bf16GemmKernel& k = kernels::bf16GemmAvx512();
    int exact = 0, total = 0;
    for (int pairs : {kBf16GemmDepth / 2, 1, 16, 50}) {
        for (bool accumulate : {false, true}) {
            const auto w = randomPairs(static_cast<std::size_t>(kBf16RowTile * kBf16GemmDepth / 2), 1);
            const auto x = randomPairs(static_cast<std::size_t>(pairs * kBf16TokenTile), 2);
            const auto start = randomValues(static_cast<std::size_t>(kBf16RowTile * kBf16TokenTile), 3);
            std::vector<float> got = start, want = start;
            k.tile(w.data(), x.data(), pairs, got.data(), accumulate);
            kernels::bf16TileReference(kBf16RowTile, kBf16TokenTile, w.data(), x.data(), pairs, want.data(),
                                       accumulate);
            for (int i = 0; i < kBf16RowTile; ++i) {
                for (int j = 0; j < kBf16TokenTile; ++j) {
                    const std::size_t at = static_cast<std::size_t>(i * kBf16TokenTile + j);
                    double scale = accumulate ? std::fabs(start[at]) : 0;
                    for (int p = 0; p < pairs; ++p) {
                        const uint32_t a = w[static_cast<std::size_t>(i * kBf16GemmDepth / 2 + p)];
                        const uint32_t b = x[static_cast<std::size_t>(p * kBf16TokenTile + j)];
                        scale += std::fabs(highOf(a) * highOf(b)) + std::fabs(lowOf(a) * lowOf(b));
                    }
                    // Exact products, FP32 sums: both differ at most in how a lane adds its
                    // pair (one rounding or two), a few ulps of sum |w x|.
                    ASSERT_NEAR(got[at], want[at], 1e-6 * scale + 1e-7)
                        << "pairs " << pairs << " accumulate " << accumulate << " at " << i << "," << j;
                    exact += got[at] == want[at] ? 1 : 0;
                    ++total;
                }
            }
        }
    }
    std::printf("[ info ] tile bit-identical to the reference in %d of %d sums\n", exact, total);
}

struct Shape {
    int64_t rows, cols, n;
};

class Bf16GemmByType : public ::testing::TestWithParam<GgmlType> {};

TEST_P(Bf16GemmByType, MatMulMatchesDoubleProductsAtAnyThreadCount)
{
    SKIP_WITHOUT_BF16();
    const GgmlType type = GetParam();
    const Bf16GemmSwitch on(true);
    // A short last depth block (288 = 256 + 32), one column vector only (32), several
    // whole blocks; rows leaving a short row tile and panel; tokens leaving a short
    // token tile (40, 70) or filling whole ones (64), and the smallest GEMM batch.
    for (const Shape& s : {Shape{203, 288, 40}, Shape{37, 32, 70}, Shape{100, 768, 64},
                           Shape{13, 64, kMatMulGemmMinTokens}}) {
        const std::size_t rb = rowBytes(type, s.cols);
        std::vector<uint8_t> weights(rb * static_cast<std::size_t>(s.rows));
        std::vector<float> dequant(static_cast<std::size_t>(s.rows * s.cols));
        for (int64_t r = 0; r < s.rows; ++r) {
            auto row = randomValues(static_cast<std::size_t>(s.cols), 10 + static_cast<unsigned>(r));
            quantizeRow(type, row.data(), weights.data() + r * rb, s.cols);
            dequantizeRow(type, weights.data() + r * rb, dequant.data() + r * s.cols, s.cols);
        }
        const auto X = randomValues(static_cast<std::size_t>(s.n * s.cols), 7);
        auto bf16 = [](float v) { return static_cast<double>(bf16ToFp32(fp32ToBf16(v))); };
        std::vector<float> first;
        for (int threads : {1, 2, 3}) {
            ThreadPool pool(threads);
            std::vector<float> Y(static_cast<std::size_t>(s.n * s.rows), NAN);
            matMulAt(SimdLevel::Avx512, type, weights.data(), s.rows, s.cols, X.data(), s.n, Y.data(), &pool);
            for (int64_t t = 0; t < s.n; ++t) {
                for (int64_t r = 0; r < s.rows; ++r) {
                    double rounded = 0, exact = 0, scale = 0;
                    for (int64_t k = 0; k < s.cols; ++k) {
                        const float w = dequant[static_cast<std::size_t>(r * s.cols + k)];
                        const float x = X[static_cast<std::size_t>(t * s.cols + k)];
                        rounded += bf16(w) * bf16(x);
                        exact += static_cast<double>(w) * x;
                        scale += std::fabs(static_cast<double>(w) * x);
                    }
                    const float y = Y[static_cast<std::size_t>(t * s.rows + r)];
                    const std::string where = std::string(traitsOf(type).name) + " " + std::to_string(s.rows) + "x" +
                                              std::to_string(s.cols) + " n=" + std::to_string(s.n) + " threads " +
                                              std::to_string(threads) + " t=" + std::to_string(t) + " row " +
                                              std::to_string(r);
                    ASSERT_NEAR(y, rounded, 1e-5 * scale + 1e-6) << where;
                    ASSERT_NEAR(y, exact, (std::ldexp(1.0, -8) + 1e-5) * scale + 1e-6) << where;
                }
            }
            if (first.empty())
                first = Y;
            else
                ASSERT_EQ(std::memcmp(first.data(), Y.data(), Y.size() * sizeof(float)), 0)
                    << threads << " threads changed the result";
        }
    }
}

INSTANTIATE_TEST_SUITE_P(Types, Bf16GemmByType, ::testing::Values(GgmlType::F16, GgmlType::BF16),
                         [](const auto& info) { return std::string(traitsOf(info.param).name); });

// The switch: off, F16 weights take the FP32 tiles (within float rounding of the
// exact product); on, the BF16 GEMM (a different result: the rounded factors').
TEST(Bf16Gemm, SwitchSelectsTheProducts)
{
    SKIP_WITHOUT_BF16();
    const int64_t rows = 48, cols = 256, n = 40;
    const std::size_t rb = rowBytes(GgmlType::F16, cols);
    std::vector<uint8_t> weights(rb * rows);
    for (int64_t r = 0; r < rows; ++r) {
        auto row = randomValues(static_cast<std::size_t>(cols), 40 + static_cast<unsigned>(r));
        quantizeRow(GgmlType::F16, row.data(), weights.data() + r * rb, cols);
    }
    const auto X = randomValues(static_cast<std::size_t>(n * cols), 41);
    std::vector<float> on(static_cast<std::size_t>(n * rows)), off(on.size());
    {
        const Bf16GemmSwitch s(true);
        matMulAt(SimdLevel::Avx512, GgmlType::F16, weights.data(), rows, cols, X.data(), n, on.data(), nullptr);
    }
    {
        const Bf16GemmSwitch s(false);
        matMulAt(SimdLevel::Avx512, GgmlType::F16, weights.data(), rows, cols, X.data(), n, off.data(), nullptr);
    }
    EXPECT_NE(std::memcmp(on.data(), off.data(), on.size() * sizeof(float)), 0);
    // Below the Avx512 level there is no BF16 GEMM: the switch changes nothing there.
    std::vector<float> avx2On(on.size()), avx2Off(on.size());
    {
        const Bf16GemmSwitch s(true);
        matMulAt(SimdLevel::Avx2, GgmlType::F16, weights.data(), rows, cols, X.data(), n, avx2On.data(), nullptr);
    }
    {
        const Bf16GemmSwitch s(false);
        matMulAt(SimdLevel::Avx2, GgmlType::F16, weights.data(), rows, cols, X.data(), n, avx2Off.data(), nullptr);
    }
    EXPECT_EQ(std::memcmp(avx2On.data(), avx2Off.data(), on.size() * sizeof(float)), 0);
}

} // namespace
} // namespace folio
