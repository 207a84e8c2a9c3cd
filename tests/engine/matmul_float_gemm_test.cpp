// The float GEMM of the prefill path (engine/kernels/float_gemm.h): each SIMD tile
// kernel against the plain tile on random data, the vectorized dequantizers
// against dequantizeRow, and matMul on the float path against a double-precision
// product with the dequantized weights, over several depth blocks with a short
// last one, token counts that leave a tail tile, and row counts that leave a tail
// panel. The result must not depend on the thread count.
#include "engine/kernels/cpu_features.h"
#include "engine/kernels/float_gemm.h"
#include "engine/kernels/matmul.h"
#include "engine/gguf/quant.h"
#include "engine/kernels/thread_pool.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace folio {
namespace {

using kernels::FloatGemmKernel;
using kernels::kFloatGemmDepth;

std::vector<float> randomValues(std::size_t count, unsigned seed)
{
    std::mt19937 rng(seed);
    std::normal_distribution<float> dist(0.0f, 1.0f);
    std::vector<float> v(count);
    for (float& x : v)
        x = dist(rng);
    return v;
}

struct Level {
    const char* name;
    SimdLevel level;
    const FloatGemmKernel& (*kernel)();
};

const Level kLevels[] = {{"avx2", SimdLevel::Avx2, kernels::floatGemmAvx2},
                         {"avx512", SimdLevel::Avx512, kernels::floatGemmAvx512}};

// The levels this CPU can run (none below AVX2: there the float path is OpenBLAS).
std::vector<Level> runnableLevels()
{
    std::vector<Level> levels;
    for (const Level& l : kLevels)
        if (maxSupportedSimdLevel() >= l.level)
            levels.push_back(l);
    return levels;
}

TEST(FloatGemm, EachTileKernelMatchesThePlainTile)
{
    if (runnableLevels().empty())
        GTEST_SKIP() << "no AVX2 on this CPU: only OpenBLAS runs the float path";
    for (const Level& l : runnableLevels()) {
        const FloatGemmKernel& k = l.kernel();
        for (int depth : {kFloatGemmDepth, 1, 32, 100}) {
            for (bool accumulate : {false, true}) {
                const auto w = randomValues(static_cast<std::size_t>(k.rowTile * kFloatGemmDepth), 1);
                const auto x = randomValues(static_cast<std::size_t>(depth * k.tokenTile), 2);
                const auto start = randomValues(static_cast<std::size_t>(k.rowTile * k.tokenTile), 3);
                std::vector<float> got = start, want = start;
                k.tile(w.data(), x.data(), depth, got.data(), accumulate);
                kernels::floatTileReference(k.rowTile, k.tokenTile, w.data(), x.data(), depth, want.data(),
                                            accumulate);
                for (int i = 0; i < k.rowTile; ++i) {
                    for (int j = 0; j < k.tokenTile; ++j) {
                        double scale = accumulate ? std::fabs(start[static_cast<std::size_t>(i * k.tokenTile + j)]) : 0;
                        for (int c = 0; c < depth; ++c)
                            scale += std::fabs(w[static_cast<std::size_t>(i * kFloatGemmDepth + c)] *
                                               x[static_cast<std::size_t>(c * k.tokenTile + j)]);
                        const std::size_t at = static_cast<std::size_t>(i * k.tokenTile + j);
                        // Both sum in float, in different orders: a few ulps of sum |w x|.
                        ASSERT_NEAR(got[at], want[at], 1e-5 * scale + 1e-6)
                            << l.name << " depth " << depth << " accumulate " << accumulate << " at " << i << ","
                            << j;
                    }
                }
            }
        }
    }
}

TEST(FloatGemm, TransposeMovesEveryValueOfWholeAndShortBlocks)
{
    if (runnableLevels().empty())
        GTEST_SKIP() << "no AVX2 on this CPU: only OpenBLAS runs the float path";
    for (const Level& l : runnableLevels()) {
        const FloatGemmKernel& k = l.kernel();
        const int b = k.transposeBlock;
        const int64_t srcStride = b + 3, dstStride = b + 5;
        const auto src = randomValues(static_cast<std::size_t>(b * srcStride), 5);
        for (const auto& [rows, cols] : {std::pair{b, b}, std::pair{b, 1}, std::pair{1, b}, std::pair{b - 3, b - 1}}) {
            std::vector<float> dst(static_cast<std::size_t>(b * dstStride), -7.0f);
            k.transpose(src.data(), srcStride, rows, cols, dst.data(), dstStride);
            for (int c = 0; c < b; ++c)
                for (int r = 0; r < b; ++r) {
                    const float want = r < rows && c < cols ? src[static_cast<std::size_t>(r * srcStride + c)] : -7.0f;
                    ASSERT_EQ(dst[static_cast<std::size_t>(c * dstStride + r)], want)
                        << l.name << " " << rows << "x" << cols << " at " << r << "," << c;
                }
        }
    }
}

TEST(FloatGemm, VectorizedDequantizeIsBitIdentical)
{
    for (const Level& l : runnableLevels()) {
        // The float types only: the others go to dequantizeRow itself.
        for (GgmlType type : {GgmlType::F32, GgmlType::F16, GgmlType::BF16}) {
            for (int64_t count : {int64_t{128}, int64_t{121}}) {  // whole vectors, then a tail
                const auto src = randomValues(static_cast<std::size_t>(count), 4);
                std::vector<uint8_t> row(rowBytes(type, count));
                quantizeRow(type, src.data(), row.data(), count);
                std::vector<float> got(static_cast<std::size_t>(count)), want(static_cast<std::size_t>(count));
                l.kernel().dequantize(type, row.data(), got.data(), count);
                dequantizeRow(type, row.data(), want.data(), count);
                ASSERT_EQ(std::memcmp(got.data(), want.data(), got.size() * sizeof(float)), 0)
                    << l.name << " " << traitsOf(type).name << " n=" << count;
            }
        }
    }
}

class FloatGemmByType : public ::testing::TestWithParam<GgmlType> {};

TEST_P(FloatGemmByType, MatMulMatchesADoubleProductAtAnyThreadCount)
{
    const GgmlType type = GetParam();
    // Three whole depth blocks and a short one (or two for the 256-blocks), rows that
    // leave a short last panel and row tile, tokens that leave a short last tile.
    const int64_t cols = traitsOf(type).blockSize == 256 ? 2 * kFloatGemmDepth + 256 : 3 * kFloatGemmDepth + 32;
    // n between kMatMulGemmMinTokens and kMatMulInt8GemmMinTokens: the float path for
    // every type (Q6_K takes the int8 GEMM from 64 tokens on with AVX-512).
    const int64_t rows = 203, n = 40;
    static_assert(40 >= kMatMulGemmMinTokens && 40 < kMatMulInt8GemmMinTokens);
    const std::size_t rb = rowBytes(type, cols);
    std::vector<uint8_t> weights(rb * rows);
    std::vector<float> dequant(static_cast<std::size_t>(rows * cols));
    for (int64_t r = 0; r < rows; ++r) {
        auto row = randomValues(static_cast<std::size_t>(cols), 10 + static_cast<unsigned>(r));
        quantizeRow(type, row.data(), weights.data() + r * rb, cols);
        dequantizeRow(type, weights.data() + r * rb, dequant.data() + r * cols, cols);
    }
    const auto X = randomValues(static_cast<std::size_t>(n * cols), 7);
    // The FP32 tiles: F16 and BF16 would take the BF16 GEMM on CPUs with AVX-512 BF16
    // (matmul_bf16_gemm_test.cpp), whose products are rounded.
    const bool bf16Was = bf16GemmEnabled();
    setBf16GemmEnabled(false);
    struct Restore {
        bool was;
        ~Restore() { setBf16GemmEnabled(was); }
    } restore{bf16Was};
    for (SimdLevel level : {SimdLevel::Scalar, SimdLevel::Avx2, SimdLevel::Avx512}) {
        if (maxSupportedSimdLevel() < level)
            continue;
        std::vector<float> first;
        for (int threads : {1, 2, 3}) {
            ThreadPool pool(threads);
            std::vector<float> Y(static_cast<std::size_t>(n * rows), NAN);
            matMulAt(level, type, weights.data(), rows, cols, X.data(), n, Y.data(), &pool);
            for (int64_t t = 0; t < n; ++t) {
                for (int64_t r = 0; r < rows; ++r) {
                    double ref = 0, scale = 0;
                    for (int64_t k = 0; k < cols; ++k) {
                        const double p = static_cast<double>(dequant[static_cast<std::size_t>(r * cols + k)]) *
                                         X[static_cast<std::size_t>(t * cols + k)];
                        ref += p;
                        scale += std::fabs(p);
                    }
                    ASSERT_NEAR(Y[static_cast<std::size_t>(t * rows + r)], ref, 1e-5 * scale + 1e-6)
                        << traitsOf(type).name << " " << simdLevelName(level) << " threads " << threads << " t=" << t
                        << " row " << r;
                }
            }
            if (level == SimdLevel::Scalar)
                continue;  // OpenBLAS: its own blocking
            if (first.empty())
                first = Y;
            else
                ASSERT_EQ(std::memcmp(first.data(), Y.data(), Y.size() * sizeof(float)), 0)
                    << simdLevelName(level) << ": " << threads << " threads changed the result";
        }
    }
}

INSTANTIATE_TEST_SUITE_P(Types, FloatGemmByType,
                         ::testing::Values(GgmlType::F32, GgmlType::F16, GgmlType::BF16, GgmlType::Q6_K),
                         [](const auto& info) { return std::string(traitsOf(info.param).name); });

} // namespace
} // namespace folio
