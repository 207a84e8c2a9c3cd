// folio-bench --model MODEL [--threads N]: the figures users compare engines by —
// prompt processing of 512 tokens and generation of 128 tokens (tokens/s, median
// of repeats) — with, from the same run, the machine's streaming read bandwidth
// and generation speed as a fraction of the bandwidth limit (bytes read per token
// divided by bandwidth).
#include "bench/bench_util.h"

#include "engine/kernels/cpu_features.h"
#include "engine/kernels/bf16_gemm.h"
#include "engine/kernels/matmul.h"
#include "engine/model/model.h"
#include "engine/session/sampler.h"
#include "engine/session/session.h"
#include "engine/kernels/thread_pool.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>
#include <numeric>
#include <optional>

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


} // namespace

// Sums a buffer (also used by folio-bench matvec) much larger than the caches, split over the pool's threads; GB/s.
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

int runModelBench(const Options& options)
{
    const auto model = Model::load(option(options, "model", ""));
    const int threads = std::stoi(option(options, "threads", "0"));
    const int repeats = std::max(1, std::stoi(option(options, "repeats", "3")));
    const int prompt = std::stoi(option(options, "prompt", "512"));
    const int gen = std::stoi(option(options, "gen", "128"));
    const ModelHyperParams& p = model->params();
    std::printf("%s", model->describe().c_str());

    // --versus FILE: a second model measured in the same run, its repeats alternating
    // with the first's (load on the machine drifts), for ratios such as a mixture of
    // experts against a dense model of its active size.
    struct Measured {
        std::shared_ptr<const Model> model;
        std::unique_ptr<Session> session;
        std::vector<int32_t> tokens;
        std::vector<double> pp, tg;
    };
    auto prepare = [&](std::shared_ptr<const Model> m) {
        Measured x;
        x.model = std::move(m);
        SessionOptions so;
        so.threads = threads;
        so.contextLength = prompt + gen + 1;
        x.session = std::make_unique<Session>(x.model, so);
        x.tokens.resize(prompt);
        for (int t = 0; t < prompt; ++t)
            x.tokens[t] = 1 + (t * 7919) % (x.model->params().vocabSize - 1);
        // warm the mapping
        x.session->prefill(std::vector<int32_t>(x.tokens.begin(), x.tokens.begin() + std::min(prompt, 16)));
        return x;
    };
    auto repeat = [&](Measured& x, int r, const char* label) {
        Session& session = *x.session;
        session.truncate(0);
        auto start = std::chrono::steady_clock::now();
        session.prefill(x.tokens);
        x.pp.push_back(prompt / secondsSince(start));
        start = std::chrono::steady_clock::now();
        for (int i = 0; i < gen; ++i)
            session.decode(argmaxToken(session.logits().data(), x.model->params().vocabSize));
        x.tg.push_back(gen / secondsSince(start));
        std::printf("%srepeat %d: pp%d %.1f tokens/s, tg%d %.1f tokens/s\n", label, r + 1, prompt, x.pp.back(), gen,
                    x.tg.back());
        std::fflush(stdout);
    };
    Measured first = prepare(model);
    // --versus-fp32 yes: the same model again as the second, its prefill on FP32 products
    // (the BF16 GEMM switched off for its repeats), for the BF16 GEMM's ratio.
    const bool versusFp32 = option(options, "versus-fp32", "no") == "yes";
    const std::string versusPath = versusFp32 ? option(options, "model", "") + " (FP32 GEMM)"
                                             : options.count("versus") ? options.at("versus") : std::string();
    std::optional<Measured> versus;
    if (versusFp32)
        versus = prepare(model);
    else if (!versusPath.empty())
        versus = prepare(Model::load(versusPath));
    const bool bf16Was = bf16GemmEnabled();
    for (int r = 0; r < repeats; ++r) {
        repeat(first, r, "");
        if (versus) {
            setBf16GemmEnabled(versusFp32 ? false : bf16Was);
            repeat(*versus, r, "versus ");
            setBf16GemmEnabled(bf16Was);
        }
    }
    const Session& session = *first.session;
    const std::vector<double>& pp = first.pp;
    const std::vector<double>& tg = first.tg;

    ThreadPool pool(threads);
    const double bandwidth = streamingReadBandwidth(pool, std::size_t{1} << 30, 5);
    // Bytes one generated token reads: every weight except the embedding table (one
    // row), of a mixture of experts' 3-D expert tensors only the chosen experts'
    // share, plus on average half the KV cache of the generation.
    const FamilyDescription& family = model->family();
    std::size_t weightBytes = 0;
    for (const GgufTensor& t : model->file().tensors()) {
        if (t.name == "token_embd.weight" && !model->tiedOutput())
            continue;
        if (family.mixtureOfExperts() && t.dims.size() == 3)
            weightBytes += t.nbytes / family.expertCount * family.expertUsedCount;
        else
            weightBytes += t.nbytes;
    }
    const double kvBytes = 2.0 * p.blockCount * p.headCountKv * p.headDim * 2.0 * (prompt + gen / 2.0);
    const double bytesPerToken = static_cast<double>(weightBytes) + kvBytes;
    const double tgMedian = median(tg), limit = bandwidth * 1e9 / bytesPerToken;
    std::printf("\nthreads %d, simd %s, %d repeats (median), BF16 GEMM %s\n", session.options().threads,
                simdLevelName(activeSimdLevel()), repeats,
                bf16GemmEnabled() && kernels::hasBf16Gemm(activeSimdLevel()) ? "on (FOLIO_FLOAT_GEMM=fp32: off)" : "off");
    auto billions = [](int64_t count) { return static_cast<double>(count) * 1e-9; };
    std::printf("parameters %.3fB total, %.3fB active per token\n", billions(model->totalParameters()),
                billions(model->activeParameters()));
    std::printf("pp%-4d %8.1f tokens/s\n", prompt, median(pp));
    std::printf("tg%-4d %8.1f tokens/s\n", gen, tgMedian);
    std::printf("memory bandwidth (streaming read, 1 GiB, %d threads): %.1f GB/s\n", pool.size(), bandwidth);
    std::printf("bytes read per generated token: %.1f MiB -> bandwidth limit %.1f tokens/s\n", bytesPerToken / 1048576.0,
                limit);
    std::printf("generation at %.2f of the bandwidth limit\n", tgMedian / limit);
    if (versus) {
        const Model& other = *versus->model;
        std::printf("\nversus %s (%s): parameters %.3fB total, %.3fB active per token\n", versusPath.c_str(),
                    other.family().displayName.c_str(), billions(other.totalParameters()),
                    billions(other.activeParameters()));
        std::printf("versus pp%-4d %8.1f tokens/s\n", prompt, median(versus->pp));
        std::printf("versus tg%-4d %8.1f tokens/s\n", gen, median(versus->tg));
        std::printf("ratio (this / versus): pp %.2f, tg %.2f; active parameters %.2f, total parameters %.2f\n",
                    median(pp) / median(versus->pp), tgMedian / median(versus->tg),
                    static_cast<double>(model->activeParameters()) / static_cast<double>(other.activeParameters()),
                    static_cast<double>(model->totalParameters()) / static_cast<double>(other.totalParameters()));
    }
    return 0;
}

} // namespace folio::bench
