// folio-bench attention: the long-run attention kernels alone (AttentionRange: what a
// query tile of a long prefill runs against its keys), each on the same random F16
// keys and values, in GFLOP/s (4 d FLOP per query-key pair: QK^T and PV) and as ratios
// to the BF16 kernel, taken in one run. Each thread runs its own copy of the work (as
// prefill does: query tiles over threads), so the figure is that of all of them.
//
//   folio-bench attention [--keys 16384] [--rows 128] [--head-dim 64] [--threads 2] [--repeats 5]
//                         [--kernels all|int8,int8keys,bf16,fp32]
#include "bench/bench_util.h"

#include "engine/gguf/fp16.h"
#include "engine/kernels/attention_kernels.h"
#include "engine/kernels/cpu_features.h"
#include "engine/kernels/thread_pool.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace folio::bench {

int runAttentionBench(const Options& options)
{
    const int keys = std::stoi(option(options, "keys", "16384"));
    const int rows = std::stoi(option(options, "rows", "128"));
    const int d = std::stoi(option(options, "head-dim", "64"));
    const int threads = std::stoi(option(options, "threads", "2"));
    const int repeats = std::stoi(option(options, "repeats", "5"));
    if (keys <= 0 || rows <= 0 || d <= 0 || d % 32 != 0 || threads <= 0 || repeats <= 0)
        throw std::runtime_error("attention: --keys, --rows, --threads, --repeats > 0 and --head-dim a multiple of 32");

    std::mt19937 rng(5);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    const std::size_t kv = static_cast<std::size_t>(keys) * d;
    std::vector<uint16_t> keyRows(kv), valueRows(kv);
    for (std::size_t i = 0; i < kv; ++i) {
        keyRows[i] = fp32ToFp16(normal(rng));
        valueRows[i] = fp32ToFp16(normal(rng));
    }
    std::vector<float> queries(static_cast<std::size_t>(rows) * d);
    for (float& q : queries)
        q = normal(rng);

    struct Kernel {
        const char* name;
        const kernels::AttentionKernels* table;
    };
    std::vector<Kernel> list;
    const SimdLevel level = activeSimdLevel();
    if (kernels::attentionHasInt8Keys(level)) {
        list.push_back({"int8", &kernels::avx512Int8AttentionKernels()});
        list.push_back({"int8 keys + bf16", &kernels::avx512Int8KeysAttentionKernels()});
    }
    if (kernels::attentionHasBf16Products(level))
        list.push_back({"bf16", &kernels::avx512Bf16AttentionKernels()});
    if (clampSimdLevel(SimdLevel::Avx2) == SimdLevel::Avx2)
        list.push_back({"fp32 (avx2 range)", &kernels::avx2RangeAttentionKernels()});

    const std::string only = option(options, "kernels", "all");  // e.g. "int8,bf16": those only
    if (only != "all") {
        const std::vector<std::string> names = parseWords(only);
        std::vector<Kernel> kept;
        for (const Kernel& k : list)
            for (const std::string& name : names)
                if (name == k.name || (name == "int8keys" && std::string(k.name) == "int8 keys + bf16")
                    || (name == "fp32" && std::string(k.name) == "fp32 (avx2 range)"))
                    kept.push_back(k);
        list = kept;
    }
    ThreadPool pool(threads);
    const double flop = 4.0 * d * rows * static_cast<double>(keys) * threads;
    std::printf("attention kernels: %d rows x %d keys, head dim %d, %d threads (each its own copy), simd %s\n", rows,
                keys, d, threads, simdLevelName(level));
    std::vector<double> best(list.size(), 0.0);
    // Alternate the kernels within each repeat, so the machine's drift hits them alike.
    for (int repeat = 0; repeat < repeats; ++repeat)
        for (std::size_t k = 0; k < list.size(); ++k) {
            const auto start = std::chrono::steady_clock::now();
            pool.parallelFor(threads, [&](int64_t begin, int64_t end, int) {
                for (int64_t t = begin; t < end; ++t) {
                    std::vector<float> max(rows, -std::numeric_limits<float>::infinity()), sum(rows, 0.0f),
                        acc(static_cast<std::size_t>(rows) * d, 0.0f),
                        scratch(kernels::attentionRangeScratchFloats(rows, d));
                    kernels::AttentionRange range;
                    range.queries = queries.data();
                    range.rows = rows;
                    range.headDim = d;
                    range.keys = keyRows.data();
                    range.values = valueRows.data();
                    range.halfRows = true;
                    range.keyCount = keys;
                    range.scale = 1.0f / std::sqrt(static_cast<float>(d));
                    range.max = max.data();
                    range.sum = sum.data();
                    range.acc = acc.data();
                    range.scratch = scratch.data();
                    list[k].table->range(range);
                }
            });
            best[k] = std::max(best[k], flop / secondsSince(start) * 1e-9);
        }
    const double reference = [&] {
        for (std::size_t k = 0; k < list.size(); ++k)
            if (list[k].table == &kernels::avx512Bf16AttentionKernels())
                return best[k];
        return best.empty() ? 0.0 : best[0];
    }();
    std::printf("%-20s %10s %10s\n", "kernel", "GFLOP/s", "ratio");
    for (std::size_t k = 0; k < list.size(); ++k)
        std::printf("%-20s %10.1f %10.2f\n", list[k].name, best[k], reference > 0 ? best[k] / reference : 0.0);
    std::printf("(best of %d; ratio to bf16 where this CPU has it)\n", repeats);
    return 0;
}

} // namespace folio::bench
