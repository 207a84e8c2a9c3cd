// folio-bench matvec: the decode matrix-vector product alone, for one weight type,
// at sizes that sit in L2, in the last-level cache and in memory, beside the streaming
// read bandwidth of the same threads. It separates the kernel's own speed (the small
// sizes: no memory traffic) from what memory allows (the large one), which the whole
// forward pass (folio-bench --model) cannot tell apart.
//
//   folio-bench matvec [--types q4_0,q8_0,q4_k] [--cols 2048] [--sizes 512k,8m,512m] [--threads 2] [--seconds 0.5]
//                      [--fresh yes]   (each call on another matrix of the size: from memory, as in decode)
#include "bench/bench_util.h"

#include "engine/gguf/quant.h"
#include "engine/kernels/cpu_features.h"
#include "engine/kernels/matmul.h"
#include "engine/kernels/thread_pool.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>
#include <random>
#include <stdexcept>
#include <vector>

namespace folio::bench {

double streamingReadBandwidth(ThreadPool& pool, std::size_t bytes, int repeats);  // model_bench.cpp

namespace {

std::size_t parseSize(const std::string& word)
{
    std::size_t scale = 1;
    std::string digits = word;
    const char last = word.empty() ? '\0' : word.back();
    if (last == 'k' || last == 'K')
        scale = std::size_t{1} << 10;
    else if (last == 'm' || last == 'M')
        scale = std::size_t{1} << 20;
    else if (last == 'g' || last == 'G')
        scale = std::size_t{1} << 30;
    if (scale != 1)
        digits.pop_back();
    return static_cast<std::size_t>(std::stoull(digits)) * scale;
}

GgmlType typeNamed(const std::string& name)
{
    for (GgmlType t : {GgmlType::F16, GgmlType::BF16, GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q5_1,
                       GgmlType::Q8_0, GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K}) {
        std::string lower(traitsOf(t).name);
        std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
        if (lower == name)
            return t;
    }
    throw std::runtime_error("matvec: unknown type " + name);
}

} // namespace

int runMatVecBench(const Options& options)
{
    const int threads = std::stoi(option(options, "threads", "2"));
    const int64_t cols = std::stoll(option(options, "cols", "2048"));
    const double seconds = std::stod(option(options, "seconds", "0.5"));
    const auto types = parseWords(option(options, "types", "q4_0,q8_0,q4_k"));
    const auto sizes = parseWords(option(options, "sizes", "512k,8m,512m"));
    const bool fresh = option(options, "fresh", "no") == "yes";
    constexpr std::size_t kFreshBytes = std::size_t{768} << 20;
    ThreadPool pool(threads);
    std::printf("simd %s, %d threads, rows of %lld columns\n", simdLevelName(activeSimdLevel()), pool.size(),
                static_cast<long long>(cols));
    const double bandwidth = streamingReadBandwidth(pool, std::size_t{1} << 30, 5);
    std::printf("memory bandwidth (streaming read, 1 GiB): %.1f GB/s\n", bandwidth);

    std::mt19937 rng(7);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::vector<float> x(static_cast<std::size_t>(cols)), sample(static_cast<std::size_t>(cols) * 64);
    for (float& v : x)
        v = normal(rng);
    for (float& v : sample)
        v = 0.02f * normal(rng);

    std::printf("%-6s %10s %8s %10s %10s %12s %10s\n", "type", "size", "rows", "us/call", "GB/s", "of bandwidth",
                "best GB/s");
    for (const std::string& name : types) {
        const GgmlType type = typeNamed(name);
        if (cols % traitsOf(type).blockSize != 0)
            throw std::runtime_error("matvec: --cols is not a multiple of " + name + "'s block size");
        const std::size_t rowSize = rowBytes(type, cols);
        // 64 real rows, quantized once and copied over the whole matrix.
        std::vector<std::byte> pattern(rowSize * 64);
        for (int r = 0; r < 64; ++r)
            quantizeRow(type, sample.data() + r * cols, pattern.data() + r * rowSize, cols);
        for (const std::string& sizeWord : sizes) {
            const int64_t rows = std::max<int64_t>(64, static_cast<int64_t>(parseSize(sizeWord) / rowSize) / 64 * 64);
            const std::size_t bytes = rowSize * static_cast<std::size_t>(rows);
            // Fresh: as many matrices of this size as fill kFreshBytes, taken in turn, so
            // each call finds its matrix in memory, not in a cache, as decode does.
            const int copies = fresh ? static_cast<int>(std::max<std::size_t>(1, kFreshBytes / bytes)) : 1;
            std::unique_ptr<std::byte[]> W(new std::byte[bytes * copies]);
            pool.parallelFor(rows / 64 * copies, [&](int64_t begin, int64_t end, int) {
                for (int64_t i = begin; i < end; ++i)
                    std::memcpy(W.get() + static_cast<std::size_t>(i) * pattern.size(), pattern.data(), pattern.size());
            });
            std::vector<float> y(static_cast<std::size_t>(rows));
            matVec(type, W.get(), rows, cols, x.data(), y.data(), &pool);  // warm
            int calls = 0;
            const auto start = std::chrono::steady_clock::now();
            double elapsed = 0.0;
            double best = 1e30;  // the fastest call: the least disturbed by other work on the machine
            do {
                const auto callStart = std::chrono::steady_clock::now();
                matVec(type, W.get() + bytes * static_cast<std::size_t>(calls % copies), rows, cols, x.data(), y.data(),
                       &pool);
                best = std::min(best, secondsSince(callStart));
                ++calls;
                elapsed = secondsSince(start);
            } while (elapsed < seconds);
            const double gbs = static_cast<double>(bytes) * calls / elapsed * 1e-9;
            std::printf("%-6s %10s %8lld %10.1f %10.1f %12.2f %10.1f\n", name.c_str(), sizeWord.c_str(),
                        static_cast<long long>(rows), elapsed / calls * 1e6, gbs, gbs / bandwidth,
                        static_cast<double>(bytes) / best * 1e-9);
        }
    }
    return 0;
}

} // namespace folio::bench
