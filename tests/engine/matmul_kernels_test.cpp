// The fast matrix products against the scalar reference, for every compute type,
// every dispatch level this CPU has, odd row counts, several blocks per row,
// one and several tokens, one and three threads.
#include "engine/kernels/bf16_gemm.h"
#include "engine/kernels/cpu_features.h"
#include "engine/kernels/gemm.h"
#include "engine/kernels/kernels.h"
#include "engine/kernels/matmul.h"
#include "engine/gguf/quant.h"
#include "engine/kernels/thread_pool.h"

#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace folio {
namespace {

const GgmlType kTypes[] = {GgmlType::F32,  GgmlType::F16,  GgmlType::BF16, GgmlType::Q8_0,
                           GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q5_1,
                           GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K};

std::vector<SimdLevel> availableLevels()
{
    std::vector<SimdLevel> levels;
    for (int l = 0; l <= static_cast<int>(maxSupportedSimdLevel()); ++l)
        levels.push_back(static_cast<SimdLevel>(l));
    return levels;
}

struct Problem {
    GgmlType type;
    int64_t rows, cols;
    std::vector<uint8_t> weights;  // quantized, rows * rowBytes
    std::vector<float> dequant;    // the same weights as floats
};

Problem makeProblem(GgmlType type, int64_t rows, int64_t cols, unsigned seed)
{
    Problem p{type, rows, cols, {}, {}};
    std::mt19937 rng(seed);
    std::normal_distribution<float> dist(0.0f, 1.0f);
    std::vector<float> row(static_cast<std::size_t>(cols));
    const std::size_t rb = rowBytes(type, cols);
    p.weights.resize(rb * static_cast<std::size_t>(rows));
    p.dequant.resize(static_cast<std::size_t>(rows * cols));
    for (int64_t i = 0; i < rows; ++i) {
        for (float& v : row)
            v = dist(rng) * (1.0f + static_cast<float>(i % 5));  // rows of different magnitude
        quantizeRow(type, row.data(), p.weights.data() + i * rb, cols);
        dequantizeRow(type, p.weights.data() + i * rb, p.dequant.data() + i * cols, cols);
    }
    return p;
}

std::vector<float> randomActivations(int64_t count, unsigned seed)
{
    std::mt19937 rng(seed);
    std::normal_distribution<float> dist(0.0f, 1.0f);
    std::vector<float> x(static_cast<std::size_t>(count));
    for (float& v : x)
        v = dist(rng);
    x[3] = 6.0f;  // an outlier, as activations have, so the int8 scale is coarse
    return x;
}

bool usesInt8Activations(GgmlType type)
{
    return type != GgmlType::F32 && type != GgmlType::F16 && type != GgmlType::BF16;
}

// Allowed |result - dotRowReference| for one output. With int8 activations each
// x_k is replaced by a value within half a step, step = (absmax of x over its
// block) / 127, so the dot moves by at most sum_k |w_k| * step_k / 2: a strict
// bound, not a statistical one. Float summation (float accumulators over a few
// thousand terms, different orders per level) adds ~1e-5 of sum |w_k x_k|;
// 1e-4 leaves room.
double tolerance(const Problem& p, int64_t row, const float* x)
{
    const int block = traitsOf(p.type).blockSize == 256 ? 256 : 32;
    double quantBound = 0, magnitude = 0;
    for (int64_t k0 = 0; k0 < p.cols; k0 += block) {
        float absMax = 0;
        for (int64_t k = k0; k < k0 + block; ++k)
            absMax = std::max(absMax, std::fabs(x[k]));
        for (int64_t k = k0; k < k0 + block; ++k) {
            const double w = std::fabs(p.dequant[static_cast<std::size_t>(row * p.cols + k)]);
            quantBound += w * absMax / 127.0 / 2.0;
            magnitude += w * std::fabs(x[k]);
        }
    }
    return (usesInt8Activations(p.type) ? quantBound : 0.0) + 1e-4 * magnitude + 1e-6;
}

// sum_k |w_k x_k| of one row.
double magnitude(const Problem& p, int64_t row, const float* x)
{
    double sum = 0;
    for (int64_t k = 0; k < p.cols; ++k)
        sum += std::fabs(p.dequant[static_cast<std::size_t>(row * p.cols + k)] * x[k]);
    return sum;
}

std::string describe(const Problem& p, SimdLevel level, int threads)
{
    return std::string(traitsOf(p.type).name) + " " + simdLevelName(level) + " rows=" + std::to_string(p.rows) +
           " cols=" + std::to_string(p.cols) + " threads=" + std::to_string(threads);
}

TEST(MatmulKernels, ReportsLevels)
{
    const CpuFeatures& f = cpuFeatures();
    std::printf("[ cpu: avx2=%d fma=%d f16c=%d avx512f=%d bw=%d vl=%d vnni=%d bf16=%d amx=%d; max level %s, active %s ]\n",
                f.avx2, f.fma, f.f16c, f.avx512f, f.avx512bw, f.avx512vl, f.avx512vnni, f.avx512bf16, f.amx,
                simdLevelName(maxSupportedSimdLevel()), simdLevelName(activeSimdLevel()));
    EXPECT_LE(static_cast<int>(activeSimdLevel()), static_cast<int>(maxSupportedSimdLevel()));
    EXPECT_EQ(clampSimdLevel(SimdLevel::Scalar), SimdLevel::Scalar);
}

class MatVecByType : public ::testing::TestWithParam<GgmlType> {};

TEST_P(MatVecByType, MatchesReferenceAtEveryLevel)
{
    const GgmlType type = GetParam();
    // 5 super-blocks / 35 blocks: the wide AVX-512 kernels (16 blocks a step) run twice
    // and leave a tail for the narrow path.
    const int64_t cols = traitsOf(type).blockSize == 256 ? 1280 : 1120;
    const Problem p = makeProblem(type, 37, cols, 1);
    const std::vector<float> x = randomActivations(cols, 2);
    std::vector<double> reference(static_cast<std::size_t>(p.rows));
    for (int64_t i = 0; i < p.rows; ++i)
        reference[static_cast<std::size_t>(i)] =
            dotRowReference(type, p.weights.data() + i * rowBytes(type, cols), x.data(), cols);

    std::vector<float> scalarResult;
    for (int threads : {1, 3}) {
        ThreadPool pool(threads);
        for (SimdLevel level : availableLevels()) {
            std::vector<float> y(static_cast<std::size_t>(p.rows), NAN);
            matVecAt(level, type, p.weights.data(), p.rows, cols, x.data(), y.data(), &pool);
            for (int64_t i = 0; i < p.rows; ++i)
                ASSERT_NEAR(y[static_cast<std::size_t>(i)], reference[static_cast<std::size_t>(i)],
                            tolerance(p, i, x.data()))
                    << describe(p, level, threads) << " row " << i;
            // All levels do the same integer math: they agree far more closely than
            // with the reference (only float summation order differs).
            if (level == SimdLevel::Scalar) {
                scalarResult = y;
            } else {
                for (int64_t i = 0; i < p.rows; ++i) {
                    const double scale = std::fabs(reference[static_cast<std::size_t>(i)]) + tolerance(p, i, x.data());
                    ASSERT_NEAR(y[static_cast<std::size_t>(i)], scalarResult[static_cast<std::size_t>(i)], 1e-4 * scale)
                        << describe(p, level, threads) << " row " << i << " vs scalar";
                }
            }
        }
    }
    // The default entry point (active level, no pool) gives the same answer.
    std::vector<float> y(static_cast<std::size_t>(p.rows));
    matVec(type, p.weights.data(), p.rows, cols, x.data(), y.data(), nullptr);
    for (int64_t i = 0; i < p.rows; ++i)
        ASSERT_NEAR(y[static_cast<std::size_t>(i)], reference[static_cast<std::size_t>(i)], tolerance(p, i, x.data()));
}

INSTANTIATE_TEST_SUITE_P(Types, MatVecByType, ::testing::ValuesIn(kTypes),
                         [](const auto& info) { return std::string(traitsOf(info.param).name); });

class MatMulByType : public ::testing::TestWithParam<GgmlType> {};

TEST_P(MatMulByType, MatchesReferenceForFewAndManyTokens)
{
    const GgmlType type = GetParam();
    const int64_t cols = traitsOf(type).blockSize == 256 ? 512 : 160;
    const Problem p = makeProblem(type, 131, cols, 3);  // 131 rows: more than one gemm panel, odd
    const bool int8GemmType = kernels::isGemmPackable(type);  // the 32-block types, Q4_K and Q5_K
    for (int64_t n : {int64_t{1}, int64_t{3}, kMatMulGemmMinTokens - 1, kMatMulGemmMinTokens, kMatMulGemmMinTokens + 7,
                      kMatMulInt8GemmMinTokens + 5}) {
        const std::vector<float> X = randomActivations(n * cols, 4 + static_cast<unsigned>(n));
        for (int threads : {1, 3}) {
            ThreadPool pool(threads);
            for (SimdLevel level : availableLevels()) {
                std::vector<float> Y(static_cast<std::size_t>(n * p.rows), NAN);
                matMulAt(level, type, p.weights.data(), p.rows, cols, X.data(), n, Y.data(), &pool);
                for (int64_t t = 0; t < n; ++t) {
                    const float* x = X.data() + t * cols;
                    for (int64_t i = 0; i < p.rows; ++i) {
                        const double ref = dotRowReference(type, p.weights.data() + i * rowBytes(type, cols), x, cols);
                        // Few tokens use int8 activations, and so does the int8 GEMM (many
                        // tokens; AVX-512: the 32-block and K types, AVX2: those but Q8_0);
                        // the rest is exact float gemm.
                        const bool int8 = n < kMatMulGemmMinTokens ||
                                          (n >= kMatMulInt8GemmMinTokens && int8GemmType &&
                                           clampSimdLevel(level) == SimdLevel::Avx512) ||
                                          (n >= kMatMulInt8GemmMinTokens && kernels::isAvx2GemmType(type) &&
                                           clampSimdLevel(level) == SimdLevel::Avx2);
                        // F16 and BF16 with AVX-512 BF16: the BF16 GEMM, its factors rounded
                        // to 8 significant bits (2^-8 of sum |w x|, kernels/bf16_gemm.h).
                        const bool bf16 = n >= kMatMulGemmMinTokens && bf16GemmEnabled() &&
                                          kernels::hasBf16Gemm(level) && kernels::isBf16GemmShape(type, cols);
                        const double tol = int8   ? tolerance(p, i, x)
                                           : bf16 ? std::ldexp(1.0, -8) * magnitude(p, i, x) + 1e-4 * (std::fabs(ref) + 1)
                                                  : 1e-4 * (std::fabs(ref) + 1);
                        ASSERT_NEAR(Y[static_cast<std::size_t>(t * p.rows + i)], ref, tol)
                            << describe(p, level, threads) << " n=" << n << " t=" << t << " row " << i;
                    }
                }
            }
        }
    }
}

INSTANTIATE_TEST_SUITE_P(Types, MatMulByType, ::testing::ValuesIn(kTypes),
                         [](const auto& info) { return std::string(traitsOf(info.param).name); });

// The several-row decode kernels (kernels::RowsDotFn) give each row exactly what the
// one-row kernel gives it, bit for bit (they share the reduction order, so a row's
// result does not depend on the rows grouped with it or on the thread split), for 1
// to 4 rows and row lengths with and without a tail of blocks past the 8- or 16-block steps.
TEST(MatmulKernels, SeveralRowDotsEqualOneRowDots)
{
    int checked = 0;
    for (SimdLevel level : availableLevels()) {
        const kernels::DotKernels& table = kernels::dotKernelsFor(level);
        for (GgmlType type : kTypes) {
            const kernels::RowsDotFn dots = kernels::rowsDotFor(table, type);
            if (!dots)
                continue;
            const kernels::RowDotFn dot = kernels::rowDotFor(table, type);
            for (int64_t cols : {int64_t{32}, int64_t{512}, int64_t{1120}, int64_t{2048}, int64_t{5632}}) {
                if (cols % traitsOf(type).blockSize != 0)
                    continue;
                const Problem p = makeProblem(type, 4, cols, 11);
                const std::vector<float> x = randomActivations(cols, 12);
                const auto kind = kernels::activationKindOf(type);
                std::vector<std::byte> acts(static_cast<std::size_t>(kernels::activationBytes(kind, cols)));
                kernels::quantizeActivations(kind, x.data(), acts.data(), cols);
                const std::size_t rb = rowBytes(type, cols);
                for (int count = 1; count <= kernels::kRowsPerDot; ++count) {
                    float out[kernels::kRowsPerDot] = {};
                    dots(p.weights.data(), rb, count, acts.data(), cols, out);
                    for (int r = 0; r < count; ++r) {
                        EXPECT_EQ(out[r], dot(p.weights.data() + r * rb, acts.data(), cols))
                            << traitsOf(type).name << " " << simdLevelName(level) << " cols " << cols << " row " << r
                            << " of " << count;
                        EXPECT_NEAR(out[r], dotRowReference(type, p.weights.data() + r * rb, x.data(), cols),
                                    tolerance(p, r, x.data()));
                    }
                    ++checked;
                }
            }
        }
    }
    if (checked == 0)
        GTEST_SKIP() << "this CPU has no several-row dot kernel (they need AVX-512 VNNI)";
}

TEST(MatmulKernels, SharedInputMatVecsEqualSeparateOnes)
{
    // A K-quant mix (Q4_K, Q6_K: one activation kind), a 32-block type and F16
    // (two more kinds), of row counts that do not divide the pool's chunks evenly.
    const int64_t cols = 512;
    const Problem problems[] = {makeProblem(GgmlType::Q4_K, 37, cols, 1), makeProblem(GgmlType::Q6_K, 16, cols, 2),
                                makeProblem(GgmlType::Q4_0, 50, cols, 3), makeProblem(GgmlType::F16, 9, cols, 4)};
    const std::vector<float> x = randomActivations(cols, 5);
    for (int threads : {1, 2, 3}) {
        ThreadPool pool(threads);
        std::vector<std::vector<float>> shared, separate;
        std::vector<MatVecTarget> targets;
        for (const Problem& p : problems) {
            shared.emplace_back(static_cast<std::size_t>(p.rows), -1.0f);
            separate.emplace_back(static_cast<std::size_t>(p.rows), -2.0f);
        }
        for (std::size_t j = 0; j < std::size(problems); ++j)
            targets.push_back({problems[j].type, problems[j].weights.data(), problems[j].rows, shared[j].data()});
        matVecShared(targets.data(), static_cast<int>(targets.size()), cols, x.data(), &pool);
        for (std::size_t j = 0; j < std::size(problems); ++j) {
            const Problem& p = problems[j];
            matVec(p.type, p.weights.data(), p.rows, cols, x.data(), separate[j].data(), &pool);
            EXPECT_EQ(shared[j], separate[j]) << traitsOf(p.type).name << ", " << threads << " threads";
        }
    }
}

TEST(MatmulKernels, EmptyAndInvalidShapes)
{
    std::vector<float> x(64, 1.0f), y(4, 0.0f);
    std::vector<uint8_t> w(rowBytes(GgmlType::Q4_0, 64) * 4);
    matVec(GgmlType::Q4_0, w.data(), 0, 64, x.data(), y.data(), nullptr);  // no rows: nothing to do
    matMul(GgmlType::Q4_0, w.data(), 4, 64, x.data(), 0, y.data(), nullptr);
    EXPECT_THROW(matVec(GgmlType::Q4_0, w.data(), 4, 48, x.data(), y.data(), nullptr), std::invalid_argument);
    EXPECT_THROW(matVec(GgmlType::Q2_K, w.data(), 1, 256, x.data(), y.data(), nullptr), std::invalid_argument);
}

} // namespace
} // namespace folio
