// The context planner: before a long document is read, decide how the model will
// hold it — the extension method (none while the text fits the trained length,
// Dual Chunk Attention beyond, or what the user forces), the KV cache type — and
// how much memory that takes against what the machine has. It never truncates:
// when the plan does not fit it says so and lists the choices that would.
#pragma once

#include "engine/attention/kv_cache.h"
#include "engine/model/model.h"
#include "engine/session/session.h"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace folio {

enum class ExtensionMethod { Auto, None, Linear, Ntk, Yarn, Dca };

std::string_view extensionMethodName(ExtensionMethod method);  // "auto", "none", "pi", "ntk", "yarn", "dca"
ExtensionMethod parseExtensionMethod(std::string_view name);    // also "linear"; throws std::invalid_argument

struct PlanRequest {
    int tokens = 0;                        // everything the context must hold (document + conversation)
    ExtensionMethod method = ExtensionMethod::Auto;
    std::optional<KvType> kvType;          // unset: F16 if it fits, else Q8_0, else Q4_0
    int batchSize = 0;                     // prefill micro-batch; 0: defaultBatchSize(model)
    std::size_t availableBytes = 0;        // 0: the machine's available memory now
    int threads = 0;
};

struct ContextPlan {
    ExtensionMethod method = ExtensionMethod::None;  // what was chosen (never Auto)
    SessionOptions options;                // ready for Session: context length, KV type, RoPE, DCA
    MemoryEstimate memory;
    std::size_t availableBytes = 0;
    bool fits = false;
    std::string extension;                 // e.g. "DCA (C 3072, W 512) over RoPE, base 10000"
    std::vector<std::string> suggestions;  // when it does not fit: what would
    std::string kvReason;                  // why a quantized KV type was chosen (empty for F16 or forced)
    std::string report() const;            // a few lines for the CLI and logs
};

ContextPlan planContext(const Model& model, const PlanRequest& request);

// The prefill micro-batch the planner takes when none is asked for: 512 tokens, or
// for a mixture of experts enough that an expert's average share of a micro-batch
// (batch * used / experts) is 128 tokens, twice the int8 GEMM's least, up to 2048:
// each expert's weights are packed for the GEMM once per micro-batch, so the packing
// is paid over more tokens. Qwen3-30B-A3B shape (128 experts, 8 used), 4 layers,
// Q4_0, folio-bench forward --prompt 2048, 2 threads: batch 512 107 and 102 tokens/s,
// 1024 182 and 202, 2048 289; --prompt 4096: 2048 316, 4096 373.
int defaultBatchSize(const Model& model);

// MemAvailable of /proc/meminfo (0 if unknown).
std::size_t availableMemoryBytes();

std::string formatBytes(std::size_t bytes);  // "1.2 GiB"

} // namespace folio
