// folio-bench passkey: pass-key retrieval accuracy per prompt length and depth for
// each context-extension method (none, PI, NTK, YaRN, DCA), greedy answers, as a
// table. The prompt format is the demo model's (tests/engine/passkey_task.h).
#include "bench/bench_util.h"

#include "engine/model/model.h"

#include "tests/engine/passkey_task.h"

#include <cstdio>
#include <fstream>
#include <sstream>

namespace folio::bench {

int runPasskeyBench(const Options& options)
{
    const auto model = Model::load(option(options, "model", ""));
    const int trained = model->params().contextLength;
    const std::vector<int> lengths = parseCounts(option(options, "lengths", "1x,2x,4x,8x"), trained);
    const std::vector<std::string> methods = parseWords(option(options, "methods", "none,pi,ntk,yarn,dca"));
    const int samples = std::stoi(option(options, "samples", "50"));
    const float temperature = std::stof(option(options, "dca-temperature", "-1"));  // < 0: the model's
    const int threads = std::stoi(option(options, "threads", "0"));
    const int dcaChunk = std::stoi(option(options, "dca-chunk", "0"));     // 0: the model's default
    const int dcaWindow = std::stoi(option(options, "dca-window", "-1"));  // < 0: the model's default
    std::vector<double> depths;
    for (const std::string& d : parseWords(option(options, "depths", "0.05,0.25,0.5,0.75,0.95")))
        depths.push_back(std::stod(d));
    const std::string fillerPath = option(options, "filler", "resources/samples/moby-dick-chapters-1-12.txt");
    std::ifstream in(fillerPath, std::ios::binary);
    if (!in)
        throw std::runtime_error(fillerPath + ": cannot be read");
    std::stringstream text;
    text << in.rdbuf();
    const test::PasskeyTask task(model, text.str());
    const unsigned seed = static_cast<unsigned>(std::stoul(option(options, "seed", "1")));
    const std::string taskOption = option(options, "tasks", "passkey");
    const std::vector<std::string> kinds = taskOption == "all" ? test::PasskeyTask::kinds() : parseWords(taskOption);

    std::string kindList;
    for (const std::string& k : kinds)
        kindList += (kindList.empty() ? "" : ",") + k;
    std::printf("model %s, trained on %d tokens; %d samples per cell over %zu depths; tasks %s; greedy; seed %u\n",
                model->path().c_str(), trained, samples, depths.size(), kindList.c_str(), seed);
    std::printf("%-6s", "method");
    for (int n : lengths)
        std::printf(" %7d", n);
    std::printf("   (accuracy %%; column = prompt tokens = %s x trained)\n", "1..");
    std::vector<std::vector<std::vector<int>>> perDepth(methods.size(),
                                                        std::vector<std::vector<int>>(lengths.size(),
                                                                                      std::vector<int>(depths.size())));
    for (std::size_t m = 0; m < methods.size(); ++m) {
        std::printf("%-6s", methods[m].c_str());
        std::fflush(stdout);
        for (std::size_t l = 0; l < lengths.size(); ++l) {
            std::mt19937 rng(seed + static_cast<unsigned>(lengths[l]));  // same prompts for every method
            int correct = 0;
            for (int s = 0; s < samples; ++s) {
                const std::size_t d = static_cast<std::size_t>(s) % depths.size();
                const std::string& kind = kinds[(static_cast<std::size_t>(s) / depths.size()) % kinds.size()];
                const test::PasskeyPrompt prompt = task.make(lengths[l], depths[d], rng, kind);
                SessionOptions o = test::passkeyMethodOptions(methods[m], lengths[l], trained, temperature);
                o.threads = threads;
                o.dca.chunkSize = dcaChunk;
                o.dca.localWindow = dcaWindow;
                const bool ok = task.answer(prompt, o) == prompt.answer;
                correct += ok;
                perDepth[m][l][d] += ok;
            }
            std::printf(" %6.0f%%", 100.0 * correct / samples);
            std::fflush(stdout);
        }
        std::printf("\n");
    }
    if (option(options, "by-depth", "no") == "yes") {
        for (std::size_t m = 0; m < methods.size(); ++m) {
            std::printf("\n%s by depth (correct / samples at that depth):\n", methods[m].c_str());
            for (std::size_t d = 0; d < depths.size(); ++d) {
                std::printf("  depth %.2f:", depths[d]);
                for (std::size_t l = 0; l < lengths.size(); ++l) {
                    const int atDepth = samples / static_cast<int>(depths.size())
                                        + (static_cast<int>(d) < samples % static_cast<int>(depths.size()));
                    std::printf(" %3d/%-3d", perDepth[m][l][d], atDepth);
                }
                std::printf("\n");
            }
        }
    }
    return 0;
}

} // namespace folio::bench
