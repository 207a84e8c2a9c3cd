// folio-bench --model MODEL [--threads N]: the figures users compare engines by —
// prompt processing of 512 tokens and generation of 128 tokens (tokens/s, median
// of repeats) — with, from the same run, the machine's streaming read bandwidth
// and generation speed as a fraction of the bandwidth limit (bytes read per token
// divided by bandwidth).
#include "bench/bench_util.h"

#include "engine/kernels/cpu_features.h"
#include "engine/model/model.h"
#include "engine/session/sampler.h"
#include "engine/session/session.h"
#include "engine/kernels/thread_pool.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>
#include <numeric>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace folio::bench {

namespace {

double median(std::vector<double> values)
{
    std::sort(values.begin(), values.end());
    const std::size_t n = values.size();
    return n % 2 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

// Sums a buffer much larger than the caches, split over the pool's threads; GB/s.
double streamingReadBandwidth(ThreadPool& pool, std::size_t bytes, int repeats)
{
    const std::size_t words = bytes / sizeof(uint64_t);
    std::unique_ptr<uint64_t[]> buffer(new uint64_t[words]);
    pool.parallelFor(static_cast<int64_t>(words), [&](int64_t begin, int64_t end, int) {
        for (int64_t i = begin; i < end; ++i)
            buffer[i] = static_cast<uint64_t>(i) * 2654435761u;  // touch every page from its reader
    });
    std::vector<double> speeds;
    std::vector<uint64_t> sums(pool.size() * 8);
    for (int r = 0; r < repeats; ++r) {
        const auto start = std::chrono::steady_clock::now();
        pool.parallelFor(static_cast<int64_t>(words), [&](int64_t begin, int64_t end, int thread) {
            uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
            int64_t i = begin;
            for (; i + 4 <= end; i += 4) {
                s0 += buffer[i];
                s1 += buffer[i + 1];
                s2 += buffer[i + 2];
                s3 += buffer[i + 3];
            }
            for (; i < end; ++i)
                s0 += buffer[i];
            sums[static_cast<std::size_t>(thread) * 8] += s0 + s1 + s2 + s3;
        });
        speeds.push_back(bytes / secondsSince(start) * 1e-9);
    }
    if (std::accumulate(sums.begin(), sums.end(), uint64_t{0}) == 42)
        std::printf(" ");  // keeps the sums alive
    return median(speeds);
}

} // namespace

int runModelBench(const Options& options)
{
    const auto model = Model::load(option(options, "model", ""));
    const int threads = std::stoi(option(options, "threads", "0"));
    const int repeats = std::max(1, std::stoi(option(options, "repeats", "3")));
    const int prompt = std::stoi(option(options, "prompt", "512"));
    const int gen = std::stoi(option(options, "gen", "128"));
    const ModelHyperParams& p = model->params();
    std::printf("%s", model->describe().c_str());

    SessionOptions so;
    so.threads = threads;
    so.contextLength = prompt + gen + 1;
    Session session(model, so);
    std::vector<int32_t> tokens(prompt);
    for (int t = 0; t < prompt; ++t)
        tokens[t] = 1 + (t * 7919) % (p.vocabSize - 1);

    std::vector<double> pp, tg;
    session.prefill(std::vector<int32_t>(tokens.begin(), tokens.begin() + std::min(prompt, 16)));  // warm the mapping
    for (int r = 0; r < repeats; ++r) {
        session.truncate(0);
        auto start = std::chrono::steady_clock::now();
        session.prefill(tokens);
        pp.push_back(prompt / secondsSince(start));
        start = std::chrono::steady_clock::now();
        for (int i = 0; i < gen; ++i)
            session.decode(argmaxToken(session.logits().data(), p.vocabSize));
        tg.push_back(gen / secondsSince(start));
        std::printf("repeat %d: pp%d %.1f tokens/s, tg%d %.1f tokens/s\n", r + 1, prompt, pp.back(), gen, tg.back());
        std::fflush(stdout);
    }

    ThreadPool pool(threads);
    const double bandwidth = streamingReadBandwidth(pool, std::size_t{1} << 30, 5);
    // Bytes one generated token reads: every weight except the embedding table (one
    // row), plus on average half the KV cache of the generation.
    std::size_t weightBytes = 0;
    for (const GgufTensor& t : model->file().tensors())
        if (t.name != "token_embd.weight" || model->tiedOutput())
            weightBytes += t.nbytes;
    const double kvBytes = 2.0 * p.blockCount * p.headCountKv * p.headDim * 2.0 * (prompt + gen / 2.0);
    const double bytesPerToken = static_cast<double>(weightBytes) + kvBytes;
    const double tgMedian = median(tg), limit = bandwidth * 1e9 / bytesPerToken;
    std::printf("\nthreads %d, simd %s, %d repeats (median)\n", session.options().threads, simdLevelName(activeSimdLevel()),
                repeats);
    std::printf("pp%-4d %8.1f tokens/s\n", prompt, median(pp));
    std::printf("tg%-4d %8.1f tokens/s\n", gen, tgMedian);
    std::printf("memory bandwidth (streaming read, 1 GiB, %d threads): %.1f GB/s\n", pool.size(), bandwidth);
    std::printf("bytes read per generated token: %.1f MiB -> bandwidth limit %.1f tokens/s\n", bytesPerToken / 1048576.0,
                limit);
    std::printf("generation at %.2f of the bandwidth limit\n", tgMedian / limit);
    return 0;
}

} // namespace folio::bench
