#include "engine/kernels/matmul.h"

#include "engine/kernels/bf16_gemm.h"
#include "engine/kernels/float_gemm.h"
#include "engine/kernels/gemm.h"
#include "engine/kernels/kernels.h"
#include "engine/gguf/quant.h"
#include "engine/kernels/thread_pool.h"

#include <cblas.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <cstddef>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <vector>

namespace folio {
namespace {

using kernels::ActivationKind;

// Rows per task: enough work per task to hide the scheduling cost, small enough to
// balance across threads on short matrices.
constexpr int64_t kRowGrain = 16;
// Rows of W dequantized at once for sgemm: 128 rows x 5632 cols = 2.9 MB of floats.
constexpr int64_t kGemmPanelRows = 128;
// Int8 GEMM blocking: 4 groups of 16 rows per task (64 rows x 5632 cols = 360 KB
// of codes), 64 tokens per chunk (64 x 176 blocks x 40 bytes = 450 KB): both in L2.
constexpr int64_t kInt8PanelGroups = 4;
constexpr int64_t kInt8TokenChunk = 64;

void checkShape(GgmlType type, int64_t rows, int64_t cols)
{
    if (!isComputeType(type))
        throw std::invalid_argument("matmul: unsupported tensor type " + std::string(traitsOf(type).name));
    if (rows < 0 || cols < 0 || cols % traitsOf(type).blockSize != 0)
        throw std::invalid_argument("matmul: cols is not a multiple of the block size");
}

void runRows(ThreadPool* pool, int64_t rows, int64_t grain, const ThreadPool::RangeFn& fn)
{
    if (pool)
        pool->parallelFor(rows, fn, grain);
    else
        fn(0, rows, 0);
}

// A few dozen heavy tasks, each claimed on its own (ThreadPool::parallelTasks).
void runTasks(ThreadPool* pool, int64_t tasks, const ThreadPool::RangeFn& fn)
{
    if (pool)
        pool->parallelTasks(tasks, fn);
    else
        fn(0, tasks, 0);
}

// Quantized activations (or the float rows themselves) for n tokens of cols values.
struct Activations {
    std::vector<std::byte> storage;
    const void* base = nullptr;
    std::size_t stride = 0;  // bytes per token

    Activations(GgmlType type, const float* X, int64_t cols, int64_t n, SimdLevel level)
    {
        const ActivationKind kind = kernels::activationKindOf(type);
        if (kind == ActivationKind::Float) {
            base = X;
            stride = static_cast<std::size_t>(cols) * sizeof(float);
            return;
        }
        stride = static_cast<std::size_t>(kernels::activationBytes(kind, cols));
        storage.resize(stride * static_cast<std::size_t>(n));
        for (int64_t t = 0; t < n; ++t)
            kernels::quantizeActivations(kind, X + t * cols, storage.data() + t * stride, cols, level);
        base = storage.data();
    }

    const void* token(int64_t t) const { return static_cast<const std::byte*>(base) + t * stride; }
};

// Rows [from, to) of W (rowSize bytes each) dotted with the n activation vectors of
// acts, into Y[t * ldy + i]: kRowsPerDot rows at a time where the type has a kernel
// for it (the activations are loaded once for all of them), one at a time otherwise.
// Each group of rows is dotted with every token while it sits in L1.
void dotRowRange(kernels::RowDotFn dot, kernels::RowsDotFn dots, const std::byte* W, std::size_t rowSize,
                 int64_t from, int64_t to, const Activations& acts, int64_t n, int64_t cols, float* Y, int64_t ldy)
{
    int64_t i = from;
    if (dots)
        for (; i + kernels::kRowsPerDot <= to; i += kernels::kRowsPerDot)
            for (int64_t t = 0; t < n; ++t)
                dots(W + static_cast<std::size_t>(i) * rowSize, rowSize, kernels::kRowsPerDot, acts.token(t), cols,
                     Y + t * ldy + i);
    for (; i < to; ++i) {
        const std::byte* row = W + static_cast<std::size_t>(i) * rowSize;
        for (int64_t t = 0; t < n; ++t)
            Y[t * ldy + i] = dot(row, acts.token(t), cols);
    }
}

// The int8 path for a few tokens: each W row is read from memory once and dotted
// with all n activation vectors while it sits in L1.
void matMulByRows(SimdLevel level, GgmlType type, const void* W, int64_t rows, int64_t cols, const float* X,
                  int64_t n, float* Y, ThreadPool* pool)
{
    const kernels::DotKernels& table = kernels::dotKernelsFor(level);
    const kernels::RowDotFn dot = kernels::rowDotFor(table, type);
    const kernels::RowsDotFn dots = kernels::rowsDotFor(table, type);
    const Activations acts(type, X, cols, n, level);
    const std::size_t rowSize = rowBytes(type, cols);
    const auto* bytes = static_cast<const std::byte*>(W);
    runRows(pool, rows, kRowGrain, [&](int64_t begin, int64_t end, int) {
        dotRowRange(dot, dots, bytes, rowSize, begin, end, acts, n, cols, Y, rows);
    });
}

// OpenBLAS must not start its own threads under ours: the pool already splits
// the work, and nested thread teams only oversubscribe the cores.
void useSingleThreadedBlas()
{
    static std::once_flag once;
    std::call_once(once, [] { openblas_set_num_threads(1); });
}

// The float path: Y[:, panel] = X * dequant(W[panel, :])^T per panel of rows.
void matMulByGemm(GgmlType type, const void* W, int64_t rows, int64_t cols, const float* X, int64_t n, float* Y,
                  ThreadPool* pool)
{
    useSingleThreadedBlas();
    const std::size_t rowSize = rowBytes(type, cols);
    const auto* bytes = static_cast<const std::byte*>(W);
    const int64_t panels = (rows + kGemmPanelRows - 1) / kGemmPanelRows;
    runTasks(pool, panels, [&](int64_t begin, int64_t end, int) {
        thread_local std::vector<float> panel;
        for (int64_t p = begin; p < end; ++p) {
            const int64_t first = p * kGemmPanelRows;
            const int64_t count = std::min(kGemmPanelRows, rows - first);
            const float* weights;
            if (type == GgmlType::F32) {
                weights = reinterpret_cast<const float*>(bytes + static_cast<std::size_t>(first) * rowSize);
            } else {
                panel.resize(static_cast<std::size_t>(count * cols));
                for (int64_t r = 0; r < count; ++r)
                    dequantizeRow(type, bytes + static_cast<std::size_t>(first + r) * rowSize, panel.data() + r * cols,
                                  cols);
                weights = panel.data();
            }
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<blasint>(n), static_cast<blasint>(count),
                        static_cast<blasint>(cols), 1.0f, X, static_cast<blasint>(cols), weights,
                        static_cast<blasint>(cols), 0.0f, Y + first, static_cast<blasint>(rows));
        }
    });
}

// Row tiles per panel of the float GEMM: one task dequantizes this many tiles of W
// rows per depth block (96 rows x 256 columns = 96 KB on AVX-512), which stay in L2
// while the token tiles pass over them.
constexpr int64_t kFloatPanelTiles = 8;
// Token tiles per task at least, when the tokens are split to give every thread work
// on a short matrix (each split dequantizes its panel again).
constexpr int64_t kFloatMinChunkTiles = 4;

// Only for the Avx2 level and above (below it the float path is OpenBLAS).
const kernels::FloatGemmKernel& floatGemmFor(SimdLevel level)
{
    return clampSimdLevel(level) == SimdLevel::Avx512 ? kernels::floatGemmAvx512() : kernels::floatGemmAvx2();
}

// FOLIO_FLOAT_GEMM=blas sends the float path to OpenBLAS sgemm (for comparison).
bool floatGemmUsesBlas()
{
    static const bool blas = [] {
        const char* v = std::getenv("FOLIO_FLOAT_GEMM");
        return v && std::strcmp(v, "blas") == 0;
    }();
    return blas;
}

// The float path on our own kernels (kernels/float_gemm.h): X packed into token
// tiles once; each task takes a panel of W rows and a run of token tiles, and per
// depth block dequantizes the panel's columns and multiplies them with the tiles;
// its C block is transposed into Y at the end.
void matMulByFloatGemm(const kernels::FloatGemmKernel& kernel, GgmlType type, const void* W, int64_t rows,
                       int64_t cols, const float* X, int64_t n, float* Y, ThreadPool* pool)
{
    const int64_t T = kernel.tokenTile, R = kernel.rowTile, D = kernels::kFloatGemmDepth, B = kernel.transposeBlock;
    const int64_t tokenTiles = (n + T - 1) / T;
    thread_local std::vector<float> packed;
    packed.resize(static_cast<std::size_t>(tokenTiles * cols * T));
    float* xs = packed.data();
    runRows(pool, tokenTiles, 1, [&](int64_t begin, int64_t end, int) {
        for (int64_t tile = begin; tile < end; ++tile) {
            float* out = xs + tile * cols * T;
            const int64_t tokens = std::min(T, n - tile * T);
            const float* x = X + tile * T * cols;
            // A register block of B tokens x B columns at a time (kernel.transpose),
            // asking for each token's line 4 lines ahead: X is in L3 at best, and
            // column by column the T strided reads had missed the cache on every token.
            if (tokens < T)
                std::fill(out, out + cols * T, 0.0f);
            for (int64_t k0 = 0; k0 < cols; k0 += B) {
                const int width = static_cast<int>(std::min(B, cols - k0));
                for (int64_t j0 = 0; j0 < tokens; j0 += B) {
                    const int height = static_cast<int>(std::min(B, tokens - j0));
                    for (int j = 0; j < height; ++j)
                        __builtin_prefetch(x + (j0 + j) * cols + k0 + 64);
                    kernel.transpose(x + j0 * cols + k0, cols, height, width, out + k0 * T + j0, T);
                }
            }
        }
    });

    const int64_t panelRows = R * kFloatPanelTiles;
    const int64_t panels = (rows + panelRows - 1) / panelRows;
    const int64_t threads = pool ? pool->size() : 1;
    int64_t splits = 1;
    if (panels < 4 * threads)
        splits = std::max<int64_t>(1, std::min((4 * threads + panels - 1) / panels,
                                                tokenTiles / kFloatMinChunkTiles));
    const int64_t chunkTiles = (tokenTiles + splits - 1) / splits;
    splits = (tokenTiles + chunkTiles - 1) / chunkTiles;
    const std::size_t rowSize = rowBytes(type, cols), blockBytes = rowBytes(type, D);
    const auto* bytes = static_cast<const std::byte*>(W);

    runTasks(pool, panels * splits, [&](int64_t begin, int64_t end, int) {
        thread_local std::vector<float> wbuf, cbuf;
        wbuf.resize(static_cast<std::size_t>(panelRows * D));
        cbuf.resize(static_cast<std::size_t>(chunkTiles * panelRows * T));
        for (int64_t task = begin; task < end; ++task) {
            const int64_t first = (task / splits) * panelRows;
            const int64_t count = std::min(panelRows, rows - first);
            const int64_t rowTiles = (count + R - 1) / R;
            const int64_t tile0 = (task % splits) * chunkTiles;
            const int64_t tiles = std::min(chunkTiles, tokenTiles - tile0);
            std::fill(wbuf.begin() + count * D, wbuf.begin() + rowTiles * R * D, 0.0f);
            for (int64_t k0 = 0; k0 < cols; k0 += D) {
                const int depth = static_cast<int>(std::min(D, cols - k0));
                const std::size_t offset = rowBytes(type, k0);
                for (int64_t r = 0; r < count; ++r)
                    kernel.dequantize(type, bytes + static_cast<std::size_t>(first + r) * rowSize + offset,
                                      wbuf.data() + r * D, depth);
                // The next depth block's weights are asked for while these tiles run, a
                // share of the lines per tile: the panel's rows are count separate
                // streams of a few lines each, which the hardware prefetcher misses.
                const std::size_t nextBytes = k0 + D < cols ? rowBytes(type, std::min(D, cols - k0 - D)) : 0;
                const int64_t lines = count * static_cast<int64_t>((nextBytes + 63) / 64);
                const int64_t calls = rowTiles * tiles;
                const std::byte* next = bytes + static_cast<std::size_t>(first) * rowSize + offset + blockBytes;
                int64_t line = 0, r = 0;
                std::size_t at = 0;  // line `line` is row r's byte `at` of the next block
                for (int64_t rt = 0; rt < rowTiles; ++rt)
                    for (int64_t u = 0; u < tiles; ++u) {
                        for (const int64_t until = lines * (rt * tiles + u + 1) / calls; line < until; ++line) {
                            __builtin_prefetch(next + static_cast<std::size_t>(r) * rowSize + at);
                            if (++r == count) {
                                r = 0;
                                at += 64;
                            }
                        }
                        kernel.tile(wbuf.data() + rt * R * D, xs + ((tile0 + u) * cols + k0) * T, depth,
                                    cbuf.data() + (u * panelRows + rt * R) * T, k0 > 0);
                    }
            }
            for (int64_t u = 0; u < tiles; ++u) {
                const int64_t tokens = std::min(T, n - (tile0 + u) * T);
                const float* c = cbuf.data() + u * panelRows * T;
                for (int64_t r0 = 0; r0 < count; r0 += B) {  // B rows x B tokens at a time
                    const int height = static_cast<int>(std::min(B, count - r0));
                    for (int64_t j0 = 0; j0 < tokens; j0 += B) {
                        const int width = static_cast<int>(std::min(B, tokens - j0));
                        float* y = Y + ((tile0 + u) * T + j0) * rows + first + r0;
                        for (int j = 0; j < width; ++j)  // the store misses: 2 lines ahead
                            __builtin_prefetch(y + j * rows + 32, 1);
                        kernel.transpose(c + r0 * T + j0, T, height, width, y, rows);
                    }
                }
            }
        }
    });
}

// The int8 path for many tokens (AVX-512 VNNI: the 32-block and K types; AVX2: all
// of them but Q8_0): X is quantized once
// (vectorized and in parallel: n*cols roundings are not free), then each task packs
// a panel of row groups and multiplies it with the tokens, a chunk at a time so the
// chunk's activations stay in L2 while the whole panel passes over them.
void matMulByInt8Gemm(SimdLevel level, GgmlType type, const void* W, int64_t rows, int64_t cols, const float* X,
                      int64_t n, float* Y, ThreadPool* pool)
{
    const bool avx512 = level == SimdLevel::Avx512;
    const int64_t blocks = cols / 32;
    std::vector<kernels::Q8Block> acts(static_cast<std::size_t>(blocks * n));
    runRows(pool, n, 8, [&](int64_t begin, int64_t end, int) {
        for (int64_t t = begin; t < end; ++t) {
            kernels::Q8Block* out = acts.data() + t * blocks;
            if (avx512)
                kernels::quantizeShiftedAvx512(X + t * cols, out, cols);
            else
                kernels::quantizeShiftedAvx2(X + t * cols, out, cols);
        }
    });

    const bool hasBias = kernels::gemmHasBias(type);
    const bool twoScales = kernels::gemmHasTwoScales(type);
    const std::size_t rowSize = rowBytes(type, cols);
    const auto* bytes = static_cast<const std::byte*>(W);
    const int64_t groups = (rows + kernels::kGemmGroupRows - 1) / kernels::kGemmGroupRows;
    const int64_t panels = (groups + kInt8PanelGroups - 1) / kInt8PanelGroups;
    const int64_t groupValues = blocks * kernels::kGemmGroupRows;
    runTasks(pool, panels, [&](int64_t begin, int64_t end, int) {
        thread_local std::vector<int8_t> codes;
        thread_local std::vector<float> values;  // scale, then bias, of every group
        thread_local std::vector<int32_t> corrections;
        for (int64_t p = begin; p < end; ++p) {
            const int64_t firstRow = p * kInt8PanelGroups * kernels::kGemmGroupRows;
            const int64_t groupCount = std::min(kInt8PanelGroups, groups - p * kInt8PanelGroups);
            codes.resize(static_cast<std::size_t>(groupCount * blocks * kernels::kGemmBlockBytes));
            values.resize(static_cast<std::size_t>(groupCount * groupValues * 2));
            corrections.resize(static_cast<std::size_t>(groupCount * groupValues * (twoScales ? 2 : 1)));
            auto view = [&](int64_t g) {
                return kernels::PackedGroupView{codes.data() + g * blocks * kernels::kGemmBlockBytes,
                                                values.data() + g * groupValues,
                                                values.data() + (groupCount + g) * groupValues,
                                                corrections.data() + g * groupValues,
                                                twoScales ? corrections.data() + (groupCount + g) * groupValues
                                                          : nullptr};
            };
            for (int64_t g = 0; g < groupCount; ++g) {
                const int64_t first = firstRow + g * kernels::kGemmGroupRows;
                const int count = static_cast<int>(std::min<int64_t>(kernels::kGemmGroupRows, rows - first));
                const std::byte* groupRows = bytes + static_cast<std::size_t>(first) * rowSize;
                if (avx512 && kernels::isAvx512PackType(type))
                    kernels::packRowGroupAvx512(type, groupRows, rowSize, count, cols, view(g));
                else if (!avx512 && kernels::isAvx2PackType(type))
                    kernels::packRowGroupAvx2(type, groupRows, rowSize, count, cols, view(g));
                else
                    kernels::packRowGroup(type, groupRows, rowSize, count, cols, view(g));
            }
            const int rowCount = static_cast<int>(std::min<int64_t>(groupCount * kernels::kGemmGroupRows, rows - firstRow));
            for (int64_t t0 = 0; t0 < n; t0 += kInt8TokenChunk) {
                const int64_t chunk = std::min(kInt8TokenChunk, n - t0);
                if (avx512)
                    kernels::gemmPanelAvx512(view(0), blocks, static_cast<int>(groupCount), hasBias,
                                             acts.data() + t0 * blocks, chunk, Y + t0 * rows + firstRow, rows, rowCount);
                else
                    kernels::gemmPanelAvx2(type, view(0), blocks, static_cast<int>(groupCount),
                                           acts.data() + t0 * blocks, chunk, Y + t0 * rows + firstRow, rows, rowCount);
            }
        }
    });
}

std::atomic<uint64_t> matrixNanoseconds{0};

// Adds the wall time of one call to matrixNanoseconds when it goes out of scope.
class MatrixTimer {
public:
    MatrixTimer() : start_(std::chrono::steady_clock::now()) {}
    ~MatrixTimer()
    {
        matrixNanoseconds += std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start_).count();
    }

private:
    std::chrono::steady_clock::time_point start_;
};

} // namespace

namespace {

// FOLIO_FLOAT_GEMM=fp32 (or =blas) keeps F16 and BF16 weights on FP32 products.
std::atomic<bool>& bf16GemmSwitch()
{
    static std::atomic<bool> enabled{[] {
        const char* v = std::getenv("FOLIO_FLOAT_GEMM");
        return !(v && (std::strcmp(v, "fp32") == 0 || std::strcmp(v, "blas") == 0));
    }()};
    return enabled;
}

} // namespace

bool bf16GemmEnabled() { return bf16GemmSwitch().load(std::memory_order_relaxed); }
void setBf16GemmEnabled(bool enabled) { bf16GemmSwitch().store(enabled, std::memory_order_relaxed); }

double matrixSeconds() { return static_cast<double>(matrixNanoseconds.load()) * 1e-9; }
void resetMatrixSeconds() { matrixNanoseconds = 0; }

void matVecAt(SimdLevel level, GgmlType type, const void* W, int64_t rows, int64_t cols, const float* x, float* y,
              ThreadPool* pool)
{
    const MatrixTimer timer;
    checkShape(type, rows, cols);
    matMulByRows(level, type, W, rows, cols, x, 1, y, pool);
}

void matMulAt(SimdLevel level, GgmlType type, const void* W, int64_t rows, int64_t cols, const float* X, int64_t n,
              float* Y, ThreadPool* pool)
{
    const MatrixTimer timer;
    checkShape(type, rows, cols);
    if (n <= 0 || rows == 0)
        return;
    if (n < kMatMulGemmMinTokens)
        matMulByRows(level, type, W, rows, cols, X, n, Y, pool);
    else if (n >= kMatMulInt8GemmMinTokens && clampSimdLevel(level) == SimdLevel::Avx512 &&
             kernels::isGemmPackable(type))
        matMulByInt8Gemm(SimdLevel::Avx512, type, W, rows, cols, X, n, Y, pool);
    else if (n >= kMatMulInt8GemmMinTokens && clampSimdLevel(level) == SimdLevel::Avx2 && kernels::isAvx2GemmType(type))
        matMulByInt8Gemm(SimdLevel::Avx2, type, W, rows, cols, X, n, Y, pool);
    else if (bf16GemmEnabled() && kernels::hasBf16Gemm(level) && kernels::isBf16GemmShape(type, cols))
        kernels::matMulBf16Gemm(type, W, rows, cols, X, n, Y, pool);
    else if (clampSimdLevel(level) != SimdLevel::Scalar && !floatGemmUsesBlas())
        matMulByFloatGemm(floatGemmFor(level), type, W, rows, cols, X, n, Y, pool);
    else
        matMulByGemm(type, W, rows, cols, X, n, Y, pool);
}

void matVecShared(const MatVecTarget* targets, int count, int64_t cols, const float* x, ThreadPool* pool)
{
    const MatrixTimer timer;
    const SimdLevel level = activeSimdLevel();
    const kernels::DotKernels& table = kernels::dotKernelsFor(level);
    std::optional<Activations> byKind[3];  // ActivationKind Float, Q8, Q8K
    std::vector<const Activations*> acts(static_cast<std::size_t>(count));
    std::vector<kernels::RowDotFn> dot(static_cast<std::size_t>(count));
    std::vector<kernels::RowsDotFn> dots(static_cast<std::size_t>(count));
    std::vector<int64_t> firstRow(static_cast<std::size_t>(count) + 1, 0);
    for (int j = 0; j < count; ++j) {
        const MatVecTarget& t = targets[j];
        checkShape(t.type, t.rows, cols);
        const auto kind = static_cast<std::size_t>(kernels::activationKindOf(t.type));
        if (!byKind[kind])
            byKind[kind].emplace(t.type, x, cols, 1, level);
        acts[static_cast<std::size_t>(j)] = &*byKind[kind];
        dot[static_cast<std::size_t>(j)] = kernels::rowDotFor(table, t.type);
        dots[static_cast<std::size_t>(j)] = kernels::rowsDotFor(table, t.type);
        firstRow[static_cast<std::size_t>(j) + 1] = firstRow[static_cast<std::size_t>(j)] + t.rows;
    }
    runRows(pool, firstRow.back(), kRowGrain, [&](int64_t begin, int64_t end, int) {
        for (int j = 0; j < count; ++j) {
            const auto u = static_cast<std::size_t>(j);
            const int64_t from = std::max(begin, firstRow[u]), to = std::min(end, firstRow[u + 1]);
            if (from >= to)
                continue;
            const MatVecTarget& t = targets[j];
            dotRowRange(dot[u], dots[u], static_cast<const std::byte*>(t.W), rowBytes(t.type, cols), from - firstRow[u],
                        to - firstRow[u], *acts[u], 1, cols, t.y, t.rows);
        }
    });
}

void matVec(GgmlType type, const void* W, int64_t rows, int64_t cols, const float* x, float* y, ThreadPool* pool)
{
    matVecAt(activeSimdLevel(), type, W, rows, cols, x, y, pool);
}

void matMul(GgmlType type, const void* W, int64_t rows, int64_t cols, const float* X, int64_t n, float* Y,
            ThreadPool* pool)
{
    matMulAt(activeSimdLevel(), type, W, rows, cols, X, n, Y, pool);
}

} // namespace folio
