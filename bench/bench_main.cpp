// folio-bench: speed figures of the engine.
//   folio-bench make-model --out FILE [--shape tinyllama|tiny] [--type q4_0]
//   folio-bench forward --model FILE [--prompt N] [--gen M] [--threads T] [--batch B] [--kv f16|f32]
//   folio-bench long --model FILE [--prompt N] [--short S] [--threads T] [--batch B] [--kv f16|f32]
#include "engine/attention.h"
#include "engine/cpu_features.h"
#include "engine/model.h"
#include "engine/sampler.h"
#include "engine/session.h"

#include "tests/engine/test_models.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <stdexcept>
#include <string>
#include <strings.h>

using namespace folio;

namespace {

using Options = std::map<std::string, std::string>;

Options parseOptions(int argc, char** argv)
{
    Options options;
    for (int i = 2; i < argc; ++i) {
        const std::string key = argv[i];
        if (key.rfind("--", 0) != 0 || i + 1 >= argc)
            throw std::runtime_error("expected --name value, got '" + key + "'");
        options[key.substr(2)] = argv[++i];
    }
    return options;
}

std::string option(const Options& options, const std::string& name, const std::string& fallback)
{
    const auto it = options.find(name);
    if (it != options.end())
        return it->second;
    if (fallback.empty())
        throw std::runtime_error("missing --" + name);
    return fallback;
}

GgmlType parseType(const std::string& name)
{
    for (GgmlType type : test::allWeightTypes())
        if (strcasecmp(std::string(traitsOf(type).name).c_str(), name.c_str()) == 0)
            return type;
    throw std::runtime_error("unknown weight type '" + name + "'");
}

double secondsSince(std::chrono::steady_clock::time_point start)
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

int makeModel(const Options& options)
{
    const std::string out = option(options, "out", "");
    const std::string shape = option(options, "shape", "tinyllama");
    test::TinyModelSpec spec;
    spec.type = parseType(option(options, "type", "q4_0"));
    if (shape == "tinyllama") {  // TinyLlama-1.1B: the reference engine's benchmark shape
        spec.vocab = 32000;
        spec.embd = 2048;
        spec.layers = 22;
        spec.heads = 32;
        spec.kvHeads = 4;
        spec.feedForward = 5632;
        spec.contextLength = 2048;
    } else if (shape != "tiny") {
        throw std::runtime_error("unknown shape '" + shape + "' (tinyllama, tiny)");
    }
    const auto start = std::chrono::steady_clock::now();
    test::writeTinyModel(spec, out);
    std::printf("wrote %s (%s, %s) in %.1f s\n", out.c_str(), shape.c_str(), std::string(traitsOf(spec.type).name).c_str(),
                secondsSince(start));
    return 0;
}

int forward(const Options& options)
{
    const auto model = Model::load(option(options, "model", ""));
    const int prompt = std::stoi(option(options, "prompt", "512"));
    const int gen = std::stoi(option(options, "gen", "32"));
    SessionOptions sessionOptions;
    sessionOptions.threads = std::stoi(option(options, "threads", "0"));
    sessionOptions.batchSize = std::stoi(option(options, "batch", "512"));
    sessionOptions.kvType = option(options, "kv", "f16") == "f32" ? KvType::F32 : KvType::F16;
    sessionOptions.contextLength = prompt + gen + 1;
    Session session(model, sessionOptions);
    std::printf("%s", model->describe().c_str());
    std::printf("threads %d, batch %d, kv %s\n", session.options().threads <= 0 ? 0 : session.options().threads,
                session.options().batchSize, std::string(kvTypeName(sessionOptions.kvType)).c_str());

    std::vector<int32_t> tokens(prompt);
    for (int t = 0; t < prompt; ++t)
        tokens[t] = 1 + (t * 7919) % (model->params().vocabSize - 1);
    auto start = std::chrono::steady_clock::now();
    session.prefill(tokens);
    const double prefillSeconds = secondsSince(start);
    std::printf("prefill %d tokens: %.2f s, %.1f tokens/s\n", prompt, prefillSeconds, prompt / prefillSeconds);

    start = std::chrono::steady_clock::now();
    for (int i = 0; i < gen; ++i)
        session.decode(argmaxToken(session.logits().data(), model->params().vocabSize));
    const double decodeSeconds = secondsSince(start);
    if (gen > 0)
        std::printf("decode %d tokens: %.2f s, %.1f tokens/s\n", gen, decodeSeconds, gen / decodeSeconds);
    return 0;
}

struct PrefillFigures {
    double tokensPerSecond = 0.0;
    double attentionSeconds = 0.0;
    double attentionGflops = 0.0;  // GFLOP/s
    double seconds = 0.0;
};

// Prefills `prompt` tokens in a fresh session and reads the attention counters.
PrefillFigures measurePrefill(const std::shared_ptr<const Model>& model, SessionOptions sessionOptions, int prompt)
{
    sessionOptions.contextLength = prompt + 1;
    Session session(model, sessionOptions);
    std::vector<int32_t> tokens(prompt);
    for (int t = 0; t < prompt; ++t)
        tokens[t] = 1 + (t * 7919) % (model->params().vocabSize - 1);
    resetAttentionCounters();
    const auto start = std::chrono::steady_clock::now();
    session.prefill(tokens);
    PrefillFigures figures;
    figures.seconds = secondsSince(start);
    const AttentionCounters counters = attentionCounters();
    figures.tokensPerSecond = prompt / figures.seconds;
    figures.attentionSeconds = counters.seconds;
    figures.attentionGflops = counters.seconds > 0.0 ? counters.flops / counters.seconds * 1e-9 : 0.0;
    return figures;
}

// Long-prompt prefill: how fast, and how much of it is attention (QK^T and PV over
// the causal pairs, 4 * heads * headDim FLOPs a pair). A short prompt first, for the ratio.
int longPrompt(const Options& options)
{
    const auto model = Model::load(option(options, "model", ""));
    const int prompt = std::stoi(option(options, "prompt", "8192"));
    const int shortPrompt = std::stoi(option(options, "short", "512"));
    SessionOptions sessionOptions;
    sessionOptions.threads = std::stoi(option(options, "threads", "0"));
    sessionOptions.batchSize = std::stoi(option(options, "batch", "512"));
    sessionOptions.kvType = option(options, "kv", "f16") == "f32" ? KvType::F32 : KvType::F16;
    std::printf("%s", model->describe().c_str());
    std::printf("threads %d, batch %d, kv %s, simd %s\n", sessionOptions.threads, sessionOptions.batchSize,
                std::string(kvTypeName(sessionOptions.kvType)).c_str(), simdLevelName(activeSimdLevel()));
    double shortSpeed = 0.0;
    for (int n : {shortPrompt, prompt}) {
        if (n <= 0)
            continue;
        const PrefillFigures f = measurePrefill(model, sessionOptions, n);
        std::printf("prompt %6d: %8.1f tokens/s (%.2f s), attention %.2f s (%.0f%%) at %.1f GFLOP/s\n", n,
                    f.tokensPerSecond, f.seconds, f.attentionSeconds, 100.0 * f.attentionSeconds / f.seconds,
                    f.attentionGflops);
        if (n == shortPrompt)
            shortSpeed = f.tokensPerSecond;
        else if (shortSpeed > 0.0)
            std::printf("prompt %d / prompt %d speed: %.2f\n", prompt, shortPrompt, f.tokensPerSecond / shortSpeed);
        std::fflush(stdout);
    }
    return 0;
}

} // namespace

int main(int argc, char** argv)
{
    const std::string usage =
        "usage: folio-bench make-model --out FILE [--shape tinyllama|tiny] [--type q4_0]\n"
        "       folio-bench forward --model FILE [--prompt N] [--gen M] [--threads T] [--batch B] [--kv f16|f32]\n"
        "       folio-bench long --model FILE [--prompt N] [--short S] [--threads T] [--batch B] [--kv f16|f32]\n";
    if (argc < 2) {
        std::fputs(usage.c_str(), stderr);
        return 2;
    }
    try {
        const std::string command = argv[1];
        const Options options = parseOptions(argc, argv);
        if (command == "make-model")
            return makeModel(options);
        if (command == "forward")
            return forward(options);
        if (command == "long")
            return longPrompt(options);
        std::fputs(usage.c_str(), stderr);
        return 2;
    } catch (const std::exception& error) {
        std::fprintf(stderr, "folio-bench: %s\n", error.what());
        return 1;
    }
}
