// What the user chose in the model manager, remembered between runs (QSettings,
// "model/..."): the GGUF file, threads, KV cache type, context extension method and its
// parameters, and sampling. Turned into the engine's planner request and sampler
// parameters here, so the worker and the dialog read the same values.
#pragma once

#include "engine/session/context_planner.h"
#include "engine/session/sampler.h"

#include <QString>

namespace folio {

struct ModelSettings {
    // Where answers come from: "local" (the embedded engine and modelPath) or "server"
    // (the saved server whose address is `server`, see server_profiles.h).
    QString backend = QStringLiteral("local");
    QString server;
    bool usesServer() const { return backend == QLatin1String("server") && !server.isEmpty(); }

    QString modelPath;             // empty: the bundled demo model when there is one
    int threads = 0;               // 0: all cores
    QString kvType = QStringLiteral("auto");   // "auto", "f16", "q8_0", "q4_0"
    QString method = QStringLiteral("auto");   // extensionMethodName(): auto, none, pi, ntk, yarn, dca
    double ropeScale = 0;          // PI / NTK / YaRN factor s; 0: from the document's length
    int yarnOriginalContext = 0;   // 0: the model's trained length
    int dcaChunkSize = 0;          // 0: from the model (3/4 of the trained length)
    int dcaLocalWindow = -1;       // < 0: from the model (1/8 of the trained length)
    double temperature = 0.7;
    double topP = 0.95;
    int topK = 40;
    double minP = 0.05;
    double repeatPenalty = 1.1;
    int maxTokens = 512;
    bool thinking = true;          // a reasoning model (Qwen3) may think before it answers

    static ModelSettings load();   // missing values keep the defaults above
    void save() const;
    // modelPath, or the bundled demo model when none was chosen.
    QString effectiveModelPath() const;

    PlanRequest planRequest(int tokens) const;   // throws std::invalid_argument on a bad name
    SamplerParams samplerParams() const;
    // The user's RoPE / DCA parameters over a plan's options (unset ones stay the plan's).
    void applyOverrides(SessionOptions& options) const;
};

} // namespace folio
