// Memory stays linear in the context: a prefill of 32K tokens (8K under the
// sanitizers, which are an order of magnitude slower) on a small model, plain and
// with Dual Chunk Attention, in a child process whose peak RSS must stay under a
// bound computed from the weights, the KV cache and the scratch of one micro-batch.
// An n x n float buffer would be 4 GiB at 32K (256 MiB at 8K), far above the bound.
#include "engine/model/model.h"
#include "engine/session/session.h"

#include "tests/engine/test_models.h"

#include <cstdio>
#include <fstream>
#include <string>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

using namespace folio;

namespace {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_UNDEFINED__)
constexpr int kTokens = 8 * 1024;
#else
constexpr int kTokens = 32 * 1024;
#endif

long currentRssKiB()
{
    std::ifstream status("/proc/self/status");
    std::string key;
    long value = 0;
    std::string unit;
    while (status >> key) {
        if (key == "VmRSS:") {
            status >> value;
            return value;
        }
        std::getline(status, unit);
    }
    return 0;
}

// Runs a prefill of kTokens in a child; returns its peak RSS in KiB (-1 on failure).
long childPeakRss(const std::string& path, bool dca)
{
    std::fflush(stdout);
    const pid_t pid = fork();
    if (pid == 0) {
        int code = 0;
        try {
            const auto model = Model::load(path);
            SessionOptions options;
            options.contextLength = kTokens;
            options.threads = 2;
            options.dca.enabled = dca;
            Session session(model, options);
            std::vector<int32_t> tokens(kTokens);
            for (int t = 0; t < kTokens; ++t)
                tokens[t] = 3 + t % 90;
            session.prefill(tokens);
            code = session.position() == kTokens ? 0 : 2;
        } catch (...) {
            code = 3;
        }
        _exit(code);
    }
    int status = 0;
    rusage usage{};
    if (wait4(pid, &status, 0, &usage) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return -1;
    return usage.ru_maxrss;
}

} // namespace

TEST(LongPrefillMemory, PeakRssIsWeightsPlusKvPlusScratchNotQuadratic)
{
    test::TinyModelSpec spec;
    spec.embd = 32;
    spec.heads = 2;
    spec.kvHeads = 1;
    spec.layers = 1;
    spec.feedForward = 64;
    spec.contextLength = 2048;  // DCA: C 1536, W 256
    const std::string path = test::writeTinyModel(spec, test::tempModelPath("long-memory"));
    const auto model = Model::load(path);
    const MemoryEstimate estimate = model->memoryEstimate(kTokens, KvType::F16, 512);
    // The child starts as a copy of this process; allow 48 MiB for thread stacks,
    // the allocator and tile buffers.
    const long boundKiB = currentRssKiB() + static_cast<long>(estimate.total() / 1024) + 48 * 1024;
    const long quadraticKiB = static_cast<long>(sizeof(float)) * kTokens / 1024 * kTokens;
    ASSERT_LT(boundKiB, quadraticKiB / 2) << "the bound must be able to catch an n^2 buffer";
    for (bool dca : {false, true}) {
        const long peak = childPeakRss(path, dca);
        ASSERT_GT(peak, 0) << "the prefill failed" << (dca ? " (DCA)" : "");
        EXPECT_LT(peak, boundKiB) << (dca ? "DCA" : "plain") << ": peak " << peak / 1024 << " MiB, bound "
                                  << boundKiB / 1024 << " MiB for " << kTokens << " tokens";
        std::printf("[ memory ] %s prefill of %d tokens: peak RSS %.1f MiB (bound %.1f MiB, KV %.1f MiB)\n",
                    dca ? "DCA  " : "plain", kTokens, peak / 1024.0, boundKiB / 1024.0, estimate.kvBytes / 1048576.0);
    }
    std::remove(path.c_str());
}
