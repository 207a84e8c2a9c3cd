// folio-bench passkey: planted-fact retrieval accuracy per prompt length and depth for
// each context-extension method (none, PI, NTK, YaRN, DCA), greedy answers. One line
// per cell as it finishes (correct, accuracy, 95% Wilson interval, mean prompt tokens,
// wall and CPU seconds), then the accuracy table. The prompt format is the demo model's
// (tests/engine/passkey_task.h). --shared-document yes plants one fact of each task
// kind in one document and asks each question in its own prompt after that document's
// state (prefilled once): the prompts of a document are not independent samples.
#include "bench/bench_util.h"

#include "engine/model/model.h"

#include "tests/engine/passkey_task.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <time.h>

namespace folio::bench {

namespace {

// The Wilson score interval of k successes in n trials, z = 1.96 (95%).
std::pair<double, double> wilson(int k, int n)
{
    if (n <= 0)
        return {0.0, 1.0};
    const double z = 1.96, p = double(k) / n, z2n = z * z / n;
    const double centre = (p + z2n / 2) / (1 + z2n);
    const double half = z / (1 + z2n) * std::sqrt(p * (1 - p) / n + z2n / (4.0 * n));
    return {std::max(0.0, centre - half), std::min(1.0, centre + half)};
}

// CPU seconds of this process (all its threads): beside the wall time, what a cell
// costs when other programs share the cores.
double cpuSeconds()
{
    timespec t{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return double(t.tv_sec) + 1e-9 * double(t.tv_nsec);
}

struct Cell {
    int correct = 0, prompts = 0;
    double tokens = 0;  // summed prompt lengths
    double seconds = 0, cpu = 0;
    std::vector<int> correctAtDepth, promptsAtDepth;
    std::map<std::string, std::pair<int, int>> byKind;  // correct, prompts
    std::vector<std::string> wrong;                      // "kind@depth: 'got' (expected 'x')"
    void add(bool ok, const std::string& kind, double depth, std::size_t depthIndex, const std::string& got,
             const std::string& expected, double promptTokens)
    {
        correct += ok;
        ++prompts;
        tokens += promptTokens;
        correctAtDepth[depthIndex] += ok;
        ++promptsAtDepth[depthIndex];
        byKind[kind].first += ok;
        ++byKind[kind].second;
        if (!ok) {
            char at[32];
            std::snprintf(at, sizeof at, "@%.2f", depth);
            wrong.push_back(kind + at + ": '" + got + "' (expected '" + expected + "')");
        }
    }
};

} // namespace

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
    const bool shared = option(options, "shared-document", "no") == "yes";
    const bool showWrong = option(options, "show-wrong", "no") == "yes";
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
    const std::size_t perDocument = shared ? kinds.size() : 1;
    const int documents = static_cast<int>((samples + perDocument - 1) / perDocument);
    std::printf("model %s, trained on %d tokens; %d prompts per cell over %zu depths; tasks %s; greedy; seed %u\n",
                model->path().c_str(), trained, documents * static_cast<int>(perDocument), depths.size(),
                kindList.c_str(), seed);
    std::printf("filler %s (%zu bytes); %s\n", fillerPath.c_str(), text.str().size(),
                shared ? "shared documents: each document holds one fact of every task kind, each question is its own "
                         "prompt after the document's state"
                       : "one fact per prompt, each prompt read on its own");
    std::printf("%-6s %8s %6s %9s %8s  %-15s %9s %9s %9s\n", "method", "length", "x", "correct", "accuracy",
                "95% CI (Wilson)", "mean tok", "seconds", "cpu s");
    std::vector<std::vector<Cell>> cells(methods.size(), std::vector<Cell>(lengths.size()));
    for (std::size_t m = 0; m < methods.size(); ++m) {
        for (std::size_t l = 0; l < lengths.size(); ++l) {
            std::mt19937 rng(seed + static_cast<unsigned>(lengths[l]));  // same prompts for every method
            SessionOptions o = test::passkeyMethodOptions(methods[m], lengths[l], trained, temperature);
            o.threads = threads;
            o.dca.chunkSize = dcaChunk;
            o.dca.localWindow = dcaWindow;
            Cell& cell = cells[m][l];
            cell.correctAtDepth.assign(depths.size(), 0);
            cell.promptsAtDepth.assign(depths.size(), 0);
            const auto start = std::chrono::steady_clock::now();
            const double cpuStart = cpuSeconds();
            if (shared) {
                for (int doc = 0; doc < documents; ++doc) {
                    std::vector<std::pair<std::string, double>> facts;
                    std::vector<std::size_t> depthIndex;
                    for (std::size_t k = 0; k < kinds.size(); ++k) {
                        depthIndex.push_back((static_cast<std::size_t>(doc) * kinds.size() + k) % depths.size());
                        facts.emplace_back(kinds[k], depths[depthIndex.back()]);
                    }
                    const test::SharedDocumentPrompt prompt = task.makeShared(lengths[l], facts, rng);
                    const std::vector<std::string> answers = task.answer(prompt, o);
                    for (std::size_t q = 0; q < prompt.questions.size(); ++q) {
                        const auto& question = prompt.questions[q];
                        cell.add(answers[q] == question.answer, question.kind, question.depth, depthIndex[q], answers[q],
                                 question.answer, double(prompt.document.size() + question.suffix.size()));
                    }
                }
            } else {
                for (int s = 0; s < samples; ++s) {
                    const std::size_t d = static_cast<std::size_t>(s) % depths.size();
                    const std::string& kind = kinds[(static_cast<std::size_t>(s) / depths.size()) % kinds.size()];
                    const test::PasskeyPrompt prompt = task.make(lengths[l], depths[d], rng, kind);
                    const std::string got = task.answer(prompt, o);
                    cell.add(got == prompt.answer, kind, depths[d], d, got, prompt.answer, double(prompt.tokens.size()));
                }
            }
            cell.seconds = secondsSince(start);
            cell.cpu = cpuSeconds() - cpuStart;
            const auto [lo, hi] = wilson(cell.correct, cell.prompts);
            char ci[32];
            std::snprintf(ci, sizeof ci, "[%.1f, %.1f]", 100 * lo, 100 * hi);
            std::printf("%-6s %8d %5dx %4d/%-4d %7.1f%%  %-15s %9.0f %9.1f %9.1f\n", methods[m].c_str(), lengths[l],
                        lengths[l] / trained, cell.correct, cell.prompts, 100.0 * cell.correct / cell.prompts, ci,
                        cell.tokens / cell.prompts, cell.seconds, cell.cpu);
            if (showWrong)
                for (const std::string& w : cell.wrong)
                    std::printf("    wrong: %s\n", w.c_str());
            std::fflush(stdout);
        }
    }
    std::printf("\n%-6s", "method");
    for (int n : lengths)
        std::printf(" %7d", n);
    std::printf("   (accuracy %%; column = prompt tokens asked for)\n");
    for (std::size_t m = 0; m < methods.size(); ++m) {
        std::printf("%-6s", methods[m].c_str());
        for (const Cell& cell : cells[m])
            std::printf(" %6.0f%%", 100.0 * cell.correct / std::max(1, cell.prompts));
        std::printf("\n");
    }
    if (option(options, "by-depth", "no") == "yes") {
        for (std::size_t m = 0; m < methods.size(); ++m) {
            std::printf("\n%s by depth (correct / prompts at that depth):\n", methods[m].c_str());
            for (std::size_t d = 0; d < depths.size(); ++d) {
                std::printf("  depth %.2f:", depths[d]);
                for (const Cell& cell : cells[m])
                    std::printf(" %3d/%-3d", cell.correctAtDepth[d], cell.promptsAtDepth[d]);
                std::printf("\n");
            }
            std::printf("%s by task kind (correct / prompts):\n", methods[m].c_str());
            for (const std::string& kind : kinds) {
                std::printf("  %-10s  ", kind.c_str());
                for (Cell& cell : cells[m])
                    std::printf(" %3d/%-3d", cell.byKind[kind].first, cell.byKind[kind].second);
                std::printf("\n");
            }
        }
    }
    return 0;
}

} // namespace folio::bench
