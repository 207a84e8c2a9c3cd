// The driver of the BF16 GEMM (bf16_gemm.h) and its plain references. The blocking
// is the FP32 float GEMM's (matmul.cpp): X packed once per call, in parallel over
// token tiles; each task takes a panel of 96 W rows and a run of token tiles, and per
// depth block converts the panel's columns to BF16 (48 KB) and multiplies them with
// the tiles (16 KB each per depth block, half the FP32 tiles' bytes), which stay in L2.
#include "engine/kernels/bf16_gemm.h"

#include "engine/kernels/float_gemm.h"
#include "engine/kernels/thread_pool.h"
#include "engine/gguf/fp16.h"

#include <algorithm>
#include <vector>

namespace folio::kernels {
namespace {

constexpr int64_t kPanelTiles = 8;     // row tiles per task: 96 rows
constexpr int64_t kMinChunkTiles = 4;  // token tiles per task at least, when tokens are split

void runOver(ThreadPool* pool, int64_t count, bool tasks, const ThreadPool::RangeFn& fn)
{
    if (!pool)
        fn(0, count, 0);
    else if (tasks)
        pool->parallelTasks(count, fn);
    else
        pool->parallelFor(count, fn, 1);
}

} // namespace

bool hasBf16Gemm(SimdLevel level)
{
    return clampSimdLevel(level) == SimdLevel::Avx512 && cpuFeatures().avx512bf16;
}

bool isBf16GemmShape(GgmlType type, int64_t cols)
{
    return (type == GgmlType::F16 || type == GgmlType::BF16) && cols > 0 && cols % kBf16ColumnMultiple == 0;
}

void matMulBf16Gemm(GgmlType type, const void* W, int64_t rows, int64_t cols, const float* X, int64_t n, float* Y,
                    ThreadPool* pool)
{
    const Bf16GemmKernel& kernel = bf16GemmAvx512();
    const FloatGemmKernel& floats = floatGemmAvx512();  // its transpose moves C into Y
    const int64_t T = kBf16TokenTile, R = kBf16RowTile, D = kBf16GemmDepth, B = floats.transposeBlock;
    const int64_t P = cols / 2;  // pair words per token
    const int64_t tokenTiles = (n + T - 1) / T;
    thread_local std::vector<uint32_t> packed;
    packed.resize(static_cast<std::size_t>(tokenTiles * P * T));
    uint32_t* xs = packed.data();
    runOver(pool, tokenTiles, false, [&](int64_t begin, int64_t end, int) {
        for (int64_t tile = begin; tile < end; ++tile)
            kernel.packTokens(X + tile * T * cols, cols, static_cast<int>(std::min(T, n - tile * T)), xs + tile * P * T);
    });

    const int64_t panelRows = R * kPanelTiles;
    const int64_t panels = (rows + panelRows - 1) / panelRows;
    const int64_t threads = pool ? pool->size() : 1;
    int64_t splits = 1;
    if (panels < 4 * threads)
        splits = std::max<int64_t>(1, std::min((4 * threads + panels - 1) / panels, tokenTiles / kMinChunkTiles));
    const int64_t chunkTiles = (tokenTiles + splits - 1) / splits;
    splits = (tokenTiles + chunkTiles - 1) / chunkTiles;
    const std::size_t rowSize = rowBytes(type, cols), blockBytes = rowBytes(type, D);
    const auto* bytes = static_cast<const std::byte*>(W);

    runOver(pool, panels * splits, true, [&](int64_t begin, int64_t end, int) {
        thread_local std::vector<uint32_t> wbuf;
        thread_local std::vector<float> cbuf;
        wbuf.resize(static_cast<std::size_t>(panelRows * D / 2));
        cbuf.resize(static_cast<std::size_t>(chunkTiles * panelRows * T));
        for (int64_t task = begin; task < end; ++task) {
            const int64_t first = (task / splits) * panelRows;
            const int64_t count = std::min(panelRows, rows - first);
            const int64_t rowTiles = (count + R - 1) / R;
            const int64_t tile0 = (task % splits) * chunkTiles;
            const int64_t tiles = std::min(chunkTiles, tokenTiles - tile0);
            std::fill(wbuf.begin() + count * D / 2, wbuf.begin() + rowTiles * R * D / 2, 0u);
            for (int64_t k0 = 0; k0 < cols; k0 += D) {
                const int64_t depth = std::min(D, cols - k0);
                const std::size_t offset = rowBytes(type, k0);
                for (int64_t r = 0; r < count; ++r)
                    kernel.convertRow(type, bytes + static_cast<std::size_t>(first + r) * rowSize + offset,
                                      wbuf.data() + r * D / 2, depth);
                // The next depth block's weights are asked for while these tiles run, a
                // share of the lines per tile (the panel's rows are separate short
                // streams, which the hardware prefetcher misses).
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
                        kernel.tile(wbuf.data() + rt * R * D / 2, xs + ((tile0 + u) * P + k0 / 2) * T,
                                    static_cast<int>(depth / 2), cbuf.data() + (u * panelRows + rt * R) * T, k0 > 0);
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
                        floats.transpose(c + r0 * T + j0, T, height, width, y, rows);
                    }
                }
            }
        }
    });
}

void bf16TileReference(int rowTile, int tokenTile, const uint32_t* w, const uint32_t* x, int pairs, float* c,
                       bool accumulate)
{
    auto high = [](uint32_t pair) { return bf16ToFp32(static_cast<uint16_t>(pair >> 16)); };
    auto low = [](uint32_t pair) { return bf16ToFp32(static_cast<uint16_t>(pair & 0xFFFFu)); };
    for (int i = 0; i < rowTile; ++i) {
        for (int j = 0; j < tokenTile; ++j) {
            float sum = 0.0f;
            for (int p = 0; p < pairs; ++p) {
                const uint32_t a = w[i * (kBf16GemmDepth / 2) + p], b = x[p * tokenTile + j];
                sum += high(a) * high(b);  // exact products of 8-bit significands: one rounding each add
                sum += low(a) * low(b);
            }
            c[i * tokenTile + j] = accumulate ? c[i * tokenTile + j] + sum : sum;
        }
    }
}

void bf16PackTokensReference(const float* x, int64_t cols, int tokens, int tokenTile, uint32_t* out)
{
    for (int64_t p = 0; p < cols / 2; ++p)
        for (int j = 0; j < tokenTile; ++j)
            out[p * tokenTile + j] =
                j < tokens ? static_cast<uint32_t>(fp32ToBf16(x[j * cols + 2 * p])) |
                                 static_cast<uint32_t>(fp32ToBf16(x[j * cols + 2 * p + 1])) << 16
                           : 0u;
}

} // namespace folio::kernels
