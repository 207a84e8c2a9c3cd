// folio-bench long: prefill speed and peak resident memory of long prompts, plain
// attention against Dual Chunk Attention, per KV cache type. Each measurement runs
// in its own child process so that its peak RSS is its own.
#include "bench/bench_util.h"

#include "engine/attention/attention.h"
#include "engine/kernels/attention_kernels.h"
#include "engine/session/context_planner.h"
#include "engine/kernels/cpu_features.h"
#include "engine/model/model.h"
#include "engine/session/session.h"

#include <cstdio>
#include <map>
#include <sstream>

namespace folio::bench {

namespace {

struct LongFigures {
    double tokensPerSecond = 0, seconds = 0, attentionSeconds = 0, gflops = 0;
};

LongFigures prefillOnce(const std::string& path, SessionOptions options, int tokens)
{
    const auto model = Model::load(path);
    options.contextLength = tokens;
    Session session(model, options);
    std::vector<int32_t> ids(tokens);
    for (int t = 0; t < tokens; ++t)
        ids[t] = 1 + (t * 7919) % (model->params().vocabSize - 1);
    resetAttentionCounters();
    const auto start = std::chrono::steady_clock::now();
    session.prefill(ids);
    LongFigures f;
    f.seconds = secondsSince(start);
    f.tokensPerSecond = tokens / f.seconds;
    const AttentionCounters c = attentionCounters();
    f.attentionSeconds = c.seconds;
    f.gflops = c.seconds > 0 ? c.flops / c.seconds * 1e-9 : 0;
    return f;
}

} // namespace

int runLongBench(const Options& options)
{
    const std::string path = option(options, "model", "");
    const std::vector<int> lengths = parseCounts(option(options, "tokens", "4096,16384,32768"));
    const std::vector<std::string> methods = parseWords(option(options, "methods", "plain,dca"));
    const std::vector<std::string> kvTypes = parseWords(option(options, "kv", "f16"));
    SessionOptions base;
    base.threads = std::stoi(option(options, "threads", "0"));
    base.batchSize = std::stoi(option(options, "batch", "512"));
    base.dca.chunkSize = std::stoi(option(options, "dca-chunk", "0"));
    base.dca.localWindow = std::stoi(option(options, "dca-window", "-1"));

    std::printf("%s", runInChild([&] { return Model::load(path)->describe(); }).output.c_str());
    std::printf("threads %d, batch %d, simd %s, attention %s past %d keys, else fp32 tile; each row a fresh process "
                "(peak RSS includes the mapped weights read)\n",
                base.threads, base.batchSize, simdLevelName(activeSimdLevel()),
                kernels::attentionKernelName(activeSimdLevel()), bf16AttentionMinKeys());
    std::printf("%7s %-5s %-6s %10s %9s %11s %8s %12s %12s\n", "tokens", "kv", "method", "tokens/s", "seconds",
                "attention", "GFLOP/s", "peak RSS", "planned");
    for (int n : lengths) {
        for (const std::string& kv : kvTypes) {
            std::map<std::string, double> speed;
            for (const std::string& method : methods) {
                SessionOptions o = base;
                o.kvType = parseKvType(kv);
                if (method == "dca")
                    o.dca.enabled = true;
                else if (method != "plain")
                    throw std::runtime_error("--methods takes plain and dca");
                const ChildResult r = runInChild([&] {
                    const LongFigures f = prefillOnce(path, o, n);
                    std::ostringstream out;
                    out.precision(17);
                    out << f.tokensPerSecond << ' ' << f.seconds << ' ' << f.attentionSeconds << ' ' << f.gflops;
                    return out.str();
                });
                LongFigures f;
                std::istringstream(r.output) >> f.tokensPerSecond >> f.seconds >> f.attentionSeconds >> f.gflops;
                o.contextLength = n;
                const auto model = Model::load(path);  // mapping only, for the estimate
                MemoryEstimate planned = model->memoryEstimate(n, o.kvType, o.batchSize);
                speed[method] = f.tokensPerSecond;
                std::printf("%7d %-5s %-6s %10.1f %9.2f %8.2f s %8.1f %9.1f MiB %8.1f MiB\n", n, kv.c_str(),
                            method.c_str(), f.tokensPerSecond, f.seconds, f.attentionSeconds, f.gflops,
                            r.peakRssKiB / 1024.0, planned.total() / 1048576.0);
                std::fflush(stdout);
            }
            if (speed.count("plain") && speed.count("dca"))
                std::printf("%7d %-5s DCA / plain speed: %.3f\n", n, kv.c_str(), speed["dca"] / speed["plain"]);
        }
    }
    return 0;
}

} // namespace folio::bench
