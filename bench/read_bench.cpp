// folio-bench read: the time to read one N-token document as the app would (the
// context planner's choice: Dual Chunk Attention past the trained length, its
// default KV type), with where the time goes (weights, attention, the rest),
// tokens/s by position and the peak resident memory. It runs in a child process so
// that the peak RSS is its own. Longer documents are projected from the totals (the
// weights' time grows with N, attention's with N^2), beside a fit of the per-batch
// times as a + b * position.
#include "bench/bench_util.h"

#include "engine/attention/attention.h"
#include "engine/kernels/attention_kernels.h"
#include "engine/kernels/cpu_features.h"
#include "engine/kernels/matmul.h"
#include "engine/model/model.h"
#include "engine/session/context_planner.h"
#include "engine/session/session.h"

#include <cstdio>
#include <sstream>
#include <stdexcept>
#include <vector>

namespace folio::bench {

namespace {

struct Batch {
    int end = 0;  // tokens read after this batch
    double seconds = 0, attention = 0, weights = 0;
};

// Least squares t = a + b * x over the batches (x: the batch's middle position,
// t: seconds per token); returns {a, b}.
std::pair<double, double> fitPerToken(const std::vector<Batch>& batches)
{
    double n = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
    int begin = 0;
    for (const Batch& b : batches) {
        const int count = b.end - begin;
        const double x = 0.5 * (begin + b.end), y = b.seconds / count;
        n += count;
        sx += count * x;
        sy += count * y;
        sxx += count * x * x;
        sxy += count * x * y;
        begin = b.end;
    }
    const double denominator = n * sxx - sx * sx;
    const double slope = denominator > 0 ? (n * sxy - sx * sy) / denominator : 0.0;
    return {(sy - slope * sx) / n, slope};
}

std::string readOnce(const std::string& path, const SessionOptions& options, int tokens, int rows)
{
    const auto model = Model::load(path);
    Session session(model, options);
    std::vector<int32_t> ids(tokens);
    for (int t = 0; t < tokens; ++t)
        ids[t] = 1 + (t * 7919) % (model->params().vocabSize - 1);
    std::vector<Batch> batches;
    resetAttentionCounters();
    resetMatrixSeconds();
    const auto start = std::chrono::steady_clock::now();
    session.prefill(ids, [&](int done, int) {
        batches.push_back({done, secondsSince(start), attentionCounters().seconds, matrixSeconds()});
    });
    const double total = secondsSince(start);
    // Cumulative figures to per batch.
    for (std::size_t i = batches.size(); i-- > 1;) {
        batches[i].seconds -= batches[i - 1].seconds;
        batches[i].attention -= batches[i - 1].attention;
        batches[i].weights -= batches[i - 1].weights;
    }
    const double attention = attentionCounters().seconds, weights = matrixSeconds();
    const double rest = total - attention - weights;
    std::ostringstream out;
    char line[256];
    std::snprintf(line, sizeof line, "read %d tokens in %.1f s (%.1f min): %.1f tokens/s\n", tokens, total,
                  total / 60.0, tokens / total);
    out << line;
    std::snprintf(line, sizeof line, "  weights   %8.1f s  %5.1f%%\n  attention %8.1f s  %5.1f%%  (%.1f GFLOP/s)\n"
                                     "  rest      %8.1f s  %5.1f%%\n",
                  weights, 100 * weights / total, attention, 100 * attention / total,
                  attention > 0 ? attentionCounters().flops / attention * 1e-9 : 0.0, rest, 100 * rest / total);
    out << line;
    out << "  tokens/s by position (each row: the batches up to it since the row before)\n";
    std::snprintf(line, sizeof line, "  %9s %10s %10s %10s\n", "position", "tokens/s", "attention", "weights");
    out << line;
    const int step = std::max(1, static_cast<int>(batches.size()) / rows);
    int begin = 0;
    Batch sum;
    for (std::size_t i = 0; i < batches.size(); ++i) {
        sum.seconds += batches[i].seconds;
        sum.attention += batches[i].attention;
        sum.weights += batches[i].weights;
        if ((i + 1) % step != 0 && i + 1 != batches.size())
            continue;
        std::snprintf(line, sizeof line, "  %9d %10.1f %9.1f%% %9.1f%%\n", batches[i].end,
                      (batches[i].end - begin) / sum.seconds, 100 * sum.attention / sum.seconds,
                      100 * sum.weights / sum.seconds);
        out << line;
        begin = batches[i].end;
        sum = Batch{};
    }
    // Projection: the weights and the rest cost the same per token, attention grows
    // with the query-key pairs (N^2 / 2 under DCA as under plain attention). Totals,
    // not the per-batch fit, so that a change of the machine's load mid-run counts less.
    const auto [a, b] = fitPerToken(batches);
    for (int n : {32768, 65536, 100000}) {
        if (n <= tokens)
            continue;
        const double ratio = static_cast<double>(n) / tokens;
        const double seconds = (weights + rest) * ratio + attention * ratio * ratio;
        std::snprintf(line, sizeof line, "  projection (not measured) for %d tokens: %.1f min (weights and rest x %.2f, "
                                         "attention x %.2f; a + b x position fit: %.1f min)\n",
                      n, seconds / 60.0, ratio, ratio * ratio, (a * n + b * 0.5 * static_cast<double>(n) * n) / 60.0);
        out << line;
    }
    return out.str();
}

} // namespace

int runReadBench(const Options& options)
{
    const std::string path = option(options, "model", "");
    const int tokens = std::stoi(option(options, "tokens", "32768"));
    const int rows = std::stoi(option(options, "rows", "8"));
    PlanRequest request;
    request.tokens = tokens;
    request.method = parseExtensionMethod(option(options, "method", "dca"));
    request.threads = std::stoi(option(options, "threads", "0"));
    request.batchSize = std::stoi(option(options, "batch", "512"));
    const auto model = Model::load(path);
    const ContextPlan plan = planContext(*model, request);
    std::printf("%s", model->describe().c_str());
    std::printf("%s", plan.report().c_str());
    if (!plan.fits)
        throw std::runtime_error("the plan does not fit this machine's memory");
    std::printf("threads %d, simd %s, attention %s past %d keys, else fp32 tile (FOLIO_ATTENTION=fp32|bf16|int8keys|int8 "
                "chooses)\n",
                plan.options.threads, simdLevelName(activeSimdLevel()),
                kernels::attentionKernelName(activeSimdLevel()), bf16AttentionMinKeys());
    std::fflush(stdout);
    const ChildResult r = runInChild([&] { return readOnce(path, plan.options, tokens, rows); });
    std::printf("%s", r.output.c_str());
    std::printf("  peak RSS %.1f MiB (planned %.1f MiB)\n", r.peakRssKiB / 1024.0, plan.memory.total() / 1048576.0);
    return 0;
}

} // namespace folio::bench
