// folio-bench: speed figures of the engine.
//   folio-bench --model FILE [--threads T] [--versus FILE2]   (pp512 / tg128 medians, bandwidth, fraction of it;
//                                            FILE2 measured in the same run, ratios)
//   folio-bench make-model --out FILE [--shape tinyllama|llama2-7b|gemma3-1b|qwen3-30b-a3b|tiny-moe|tiny] [--type q4_0]
//                          [--arch llama|qwen2|qwen3|qwen3moe|phi3|gemma3] [--layers N]
//   folio-bench forward --model FILE [--prompt N] [--gen M] [--threads T] [--batch B] [--kv f16|q8_0|q4_0|f32]
//   folio-bench long --model FILE [--tokens 4096,16384,32768] [--methods plain,dca] [--kv f16,q8_0] [--threads T]
//   folio-bench read --model FILE [--tokens 32768] [--threads T] [--rows 8]   (one document as the planner reads it)
//   folio-bench matvec [--types q4_0,q8_0,q4_k] [--cols 2048] [--sizes 512k,8m,512m] [--threads T]
//                      (the decode matrix-vector product alone: in cache and from memory)
//   folio-bench attention [--keys 16384] [--rows 128] [--head-dim 64] [--threads 2]  (the long-run kernels alone)
//   folio-bench passkey --model FILE [--lengths 1x,2x,4x,8x] [--methods none,pi,ntk,yarn,dca] [--samples 50] [--tasks all]
//   folio-bench resume --model FILE --doc FILE [context options]   (built with app/: restore vs read again)
//   folio-bench resume --document FILE [--model FILE] [--threads T]  (built with app/: the whole-book demo, measured)
//   folio-bench evidence --model FILE [--docs 24] [--chars 8000]      (built with app/: evidence pages per layer)
//   folio-bench server --model FILE [--prompt 512] [--gen 128] [--doc 1536] [--threads T] [--repeats 3] [--server PATH]
//                                                                     (built with app/: folio-server vs the engine here)
//   folio-bench scan-models [--dir D] [--models 100]                  (built with app/: models on this computer)
//   folio-bench chat-render [--turns 2,200] [--tokens 400] [--interval 1]  (built with ui/: streaming into long chats)
#include "bench/bench_util.h"

#include "engine/attention/attention.h"
#include "engine/kernels/cpu_features.h"
#include "engine/kernels/matmul.h"
#include "engine/gguf/gguf.h"
#include "engine/gguf/gguf_writer.h"
#include "engine/model/family_convert.h"
#include "engine/model/model.h"
#include "engine/session/sampler.h"
#include "engine/session/session.h"

#include "tests/engine/test_models.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <stdexcept>
#include <string>
#include <strings.h>

using namespace folio;
using namespace folio::bench;

#ifdef FOLIO_BENCH_HAS_APP
namespace folio::cli {
int runBenchResumeMain(int argc, char** argv);  // app/cli/bench_resume.cpp (Qt, the store, ReadingSession)
}
namespace folio::bench {
int runEvidenceBenchMain(int argc, char** argv);  // bench/app_evidence_bench.cpp
int runServerBenchMain(int argc, char** argv);    // bench/app_server_bench.cpp (folio-server vs this process)
int runScanModelsBenchMain(int argc, char** argv);  // bench/app_scan_bench.cpp
int runResumeBookBenchMain(int argc, char** argv);  // bench/app_resume_book_bench.cpp (resume --document)
}
#endif
#ifdef FOLIO_BENCH_HAS_UI
namespace folio::bench {
int runChatRenderBenchMain(int argc, char** argv);  // bench/ui_chat_bench.cpp (Qt Widgets, offscreen)
}
#endif

namespace folio::bench {
int runLongBench(const Options& options);
int runReadBench(const Options& options);  // bench/read_bench.cpp
int runPasskeyBench(const Options& options);
int runMatVecBench(const Options& options);  // bench/matvec_bench.cpp
int runAttentionBench(const Options& options);  // bench/attention_bench.cpp
int runModelBench(const Options& options);
} // namespace folio::bench

namespace {

GgmlType parseType(const std::string& name)
{
    for (GgmlType type : test::allWeightTypes())
        if (strcasecmp(std::string(traitsOf(type).name).c_str(), name.c_str()) == 0)
            return type;
    throw std::runtime_error("unknown weight type '" + name + "'");
}

// folio-bench make-model --from LLAMA.gguf --arch qwen2|phi3 --out FILE: the same
// trained network in another family's layout (model/family_convert.h), to run a
// family's code path (folio-bench passkey) on trained weights.
int convertModel(const Options& options)
{
    const std::string out = option(options, "out", "");
    const std::string arch = option(options, "arch", "");
    if (out.empty() || arch.empty())
        throw std::runtime_error("make-model --from needs --out FILE and --arch qwen2|phi3");
    const GgufFile llama = GgufFile::open(option(options, "from", ""));
    GgufWriter writer;
    convertLlamaToFamily(llama, arch, writer);
    writer.write(out);
    std::printf("wrote %s (%s, the network of %s)\n", out.c_str(), arch.c_str(), llama.path().c_str());
    return 0;
}

int makeModel(const Options& options)
{
    if (options.count("from"))
        return convertModel(options);
    const std::string out = option(options, "out", "");
    const std::string shape = option(options, "shape", "tinyllama");
    test::TinyModelSpec spec;
    const std::string typeName = option(options, "type", "q4_0");
    // q4_k_m: the usual download's mix, Q4_K with Q6_K for the output matrix and for
    // attn_v and ffn_down in the first and last eighth of the layers and every third
    // layer between (the rule llama.cpp's quantizer applies).
    const bool q4km = typeName == "q4_k_m";
    spec.type = q4km ? GgmlType::Q4_K : parseType(typeName);
    if (shape == "tinyllama") {  // TinyLlama-1.1B: the reference engine's benchmark shape
        spec.vocab = 32000;
        spec.embd = 2048;
        spec.layers = 22;
        spec.heads = 32;
        spec.kvHeads = 4;
        spec.feedForward = 5632;
        spec.contextLength = 2048;
    } else if (shape == "llama2-7b") {  // Llama-2-7B: 4K trained context, no GQA
        spec.vocab = 32000;
        spec.embd = 4096;
        spec.layers = 32;
        spec.heads = 32;
        spec.kvHeads = 32;
        spec.feedForward = 11008;
        spec.contextLength = 4096;
    } else if (shape == "gemma3-1b") {  // Gemma 3 1B: 262K vocabulary, head dim 256, window 512, 32K context
        spec.vocab = 262144;
        spec.embd = 1152;
        spec.layers = 26;
        spec.heads = 4;
        spec.kvHeads = 1;
        spec.headDim = 256;
        spec.feedForward = 6912;
        spec.contextLength = 32768;
        spec.slidingWindow = 512;
    } else if (shape == "qwen3-30b-a3b") {  // Qwen3-30B-A3B: 128 experts of 768, 8 per token, 40K context
        spec.vocab = 151936;
        spec.embd = 2048;
        spec.layers = 48;
        spec.heads = 32;
        spec.kvHeads = 4;
        spec.headDim = 128;
        spec.feedForward = 6144;  // the file's dense width, unused: every layer has experts
        spec.experts = 128;
        spec.expertsUsed = 8;
        spec.expertFeedForward = 768;
        spec.contextLength = 40960;
        spec.ropeFreqBase = 1e6f;
    } else if (shape == "tiny-moe") {  // a few MiB: 16 experts of 256, 4 per token
        spec.vocab = 512;
        spec.embd = 256;
        spec.layers = 4;
        spec.heads = 4;
        spec.kvHeads = 2;
        spec.headDim = 64;
        spec.feedForward = 1024;
        spec.experts = 16;
        spec.expertsUsed = 4;
        spec.expertFeedForward = 256;
        spec.contextLength = 4096;
    } else if (shape != "tiny") {
        throw std::runtime_error("unknown shape '" + shape
                                 + "' (tinyllama, llama2-7b, gemma3-1b, qwen3-30b-a3b, tiny-moe, tiny)");
    }
    // Fewer layers of the same shape (a big file that must fit a small disk or memory).
    spec.layers = std::stoi(option(options, "layers", std::to_string(spec.layers)));
    const bool moeShape = shape == "qwen3-30b-a3b" || shape == "tiny-moe";
    // The same shape as another family (per-family speed at equal size). A phi3 file
    // gets LongRoPE factors from a quarter of its context; a gemma3 file its local
    // layers' window (512 as the 1B's, at most a quarter of the context), RoPE base
    // 1e6 on the global layers and a tied output, as the released files.
    spec.architecture = option(options, "arch", shape == "gemma3-1b" ? "gemma3" : moeShape ? "qwen3moe" : "llama");
    // A mixture-of-experts shape with a dense architecture: its dense twin, each FFN
    // as wide as the chosen experts together (the same active parameters).
    if (spec.architecture == "qwen3moe" && !moeShape)
        throw std::runtime_error("the qwen3moe architecture takes a mixture-of-experts shape (qwen3-30b-a3b, tiny-moe)");
    if (moeShape && spec.architecture != "qwen3moe")
        spec.feedForward = spec.expertsUsed * spec.expertFeedForward;
    if (spec.architecture == "phi3")
        spec.longRopeOriginalContext = std::max(1, spec.contextLength / 4);
    if (spec.architecture == "gemma3") {
        if (spec.slidingWindow == 0)
            spec.slidingWindow = std::clamp(spec.contextLength / 4, 1, 512);
        spec.ropeFreqBase = 1e6f;
        spec.tiedOutput = true;
    } else if (shape == "gemma3-1b") {
        throw std::runtime_error("shape gemma3-1b is a gemma3 shape (--arch gemma3)");
    }
    if (q4km) {
        spec.tensorTypes.push_back({"output.weight", GgmlType::Q6_K});
        const int n = spec.layers;
        for (int i = 0; i < n; ++i)
            if (i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2)
                for (const char* t : {"attn_v", moeShape ? "ffn_down_exps" : "ffn_down"})
                    spec.tensorTypes.push_back({"blk." + std::to_string(i) + "." + t + ".weight", GgmlType::Q6_K});
    }
    const auto start = std::chrono::steady_clock::now();
    test::writeTinyModel(spec, out);
    std::printf("wrote %s (%s, %s) in %.1f s\n", out.c_str(), shape.c_str(), (q4km ? std::string("Q4_K_M mix") : std::string(traitsOf(spec.type).name)).c_str(),
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
    sessionOptions.kvType = parseKvType(option(options, "kv", "f16"));
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

    resetMatrixSeconds();
    start = std::chrono::steady_clock::now();
    for (int i = 0; i < gen; ++i)
        session.decode(argmaxToken(session.logits().data(), model->params().vocabSize));
    const double decodeSeconds = secondsSince(start), matrices = matrixSeconds();
    if (gen > 0)
        std::printf("decode %d tokens: %.2f s, %.1f tokens/s; matrix products %.2f s (%.1f%%), the rest %.2f s\n", gen,
                    decodeSeconds, gen / decodeSeconds, matrices, 100.0 * matrices / decodeSeconds,
                    decodeSeconds - matrices);
    return 0;
}

} // namespace

int main(int argc, char** argv)
{
    const std::string usage =
        "usage: folio-bench --model FILE [--threads T] [--repeats R] [--prompt 512] [--gen 128] [--versus FILE2]\n"
        "                   [--versus-fp32 yes]   (the same model again, prefill on FP32 products)\n"
        "       folio-bench make-model --out FILE [--shape tinyllama|llama2-7b|gemma3-1b|qwen3-30b-a3b|tiny-moe|tiny]\n"
        "                  [--type q4_0|q4_k_m|...] [--arch llama|qwen2|qwen3|qwen3moe|phi3|gemma3] [--layers N]\n"
        "       folio-bench make-model --from LLAMA.gguf --arch qwen2|phi3 --out FILE   (the same network, exactly)\n"
        "       folio-bench forward --model FILE [--prompt N] [--gen M] [--threads T] [--batch B] [--kv f16|q8_0|q4_0|f32]\n"
        "       folio-bench long --model FILE [--tokens 4096,16384,32768] [--methods plain,dca] [--kv f16,q8_0]\n"
        "                        [--threads T] [--batch B] [--dca-chunk C] [--dca-window W]\n"
        "       folio-bench passkey --model FILE [--lengths 1x,2x,4x,8x,16x,32x] [--methods none,pi,ntk,yarn,dca]\n"
        "                           [--samples 50] [--depths 0.05,0.25,0.5,0.75,0.95] [--filler TEXT]\n"
        "                           [--dca-temperature K] [--dca-chunk C] [--dca-window W] [--by-depth yes]\n"
        "                           [--tasks passkey|all|passkey,cabinet,...] [--seed S] [--threads T] [--shared-document yes] [--show-wrong yes]\n"
        "       folio-bench matvec [--types q4_0,q8_0,q4_k] [--cols 2048] [--sizes 512k,8m,512m] [--threads T]\n"
        "       folio-bench attention [--keys 16384] [--rows 128] [--head-dim 64] [--threads T] [--repeats 5]\n"
        "       folio-bench read --model FILE [--tokens 32768] [--method dca] [--threads T] [--batch 512] [--rows 8]\n"
        "       folio-bench resume --model FILE --doc FILE [--n 16] [--threads T] [--db PATH] [folio-cli context options]\n"
        "       folio-bench resume --document BOOK [--model FILE] [--threads T] [--db PATH]   (read, reopen, six questions)\n"
        "       folio-bench evidence --model FILE [--docs 24] [--chars 8000] [--page-chars 1000] [--filler TEXT]\n"
        "       folio-bench server --model FILE [--prompt 512] [--gen 128] [--doc 1536] [--question 24] [--threads T]\n"
        "                          [--repeats 3] [--server PATH]\n"
        "       folio-bench scan-models [--dir D] [--models 100] [--runs 5]\n"
        "       folio-bench chat-render [--turns 2,200] [--tokens 400] [--interval 1] [--repeats 3]\n";
    if (argc < 2) {
        std::fputs(usage.c_str(), stderr);
        return 2;
    }
    try {
        const std::string command = argv[1];
        if (command.rfind("--", 0) == 0) {  // folio-bench --model MODEL [--threads N]: the headline figures
            std::vector<char*> args(argv, argv + argc);
            args.insert(args.begin() + 1, argv[0]);
            return runModelBench(parseOptions(argc + 1, args.data()));
        }
        if (command == "resume" || command == "evidence" || command == "server" || command == "scan-models") {
#ifdef FOLIO_BENCH_HAS_APP
            if (command == "server")
                return folio::bench::runServerBenchMain(argc, argv);
            if (command == "scan-models")
                return folio::bench::runScanModelsBenchMain(argc, argv);
            if (command == "resume" && std::find(argv + 2, argv + argc, std::string("--document")) != argv + argc)
                return folio::bench::runResumeBookBenchMain(argc, argv);
            return command == "resume" ? folio::cli::runBenchResumeMain(argc, argv)
                                       : folio::bench::runEvidenceBenchMain(argc, argv);
#else
            throw std::runtime_error(command + " needs the app layer (this folio-bench was built with FOLIO_ENGINE_ONLY)");
#endif
        }
        if (command == "chat-render") {
#ifdef FOLIO_BENCH_HAS_UI
            return folio::bench::runChatRenderBenchMain(argc, argv);
#else
            throw std::runtime_error(command + " needs the ui layer (this folio-bench was built without Qt Widgets)");
#endif
        }
        const Options options = parseOptions(argc, argv);
        if (command == "make-model")
            return makeModel(options);
        if (command == "forward")
            return forward(options);
        if (command == "read")
            return folio::bench::runReadBench(options);
        if (command == "long")
            return runLongBench(options);
        if (command == "passkey")
            return runPasskeyBench(options);
        if (command == "matvec")
            return runMatVecBench(options);
        if (command == "attention")
            return runAttentionBench(options);
        std::fputs(usage.c_str(), stderr);
        return 2;
    } catch (const std::exception& error) {
        std::fprintf(stderr, "folio-bench: %s\n", error.what());
        return 1;
    }
}
