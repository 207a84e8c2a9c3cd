// The pass-key retrieval task (the classic long-context probe) and the demo model's
// other planted-fact tasks: filler text with one fact planted at a chosen depth, a
// question after it, a greedy answer checked exactly. The prompt format is the demo model's (resources/models/folio-demo-tasks.json,
// task "passkey"): the chat template's user turn holds "{document}\n\n{question}".
// Shared by folio-bench passkey and the demo-model test; no GoogleTest here.
#pragma once

#include "engine/session/chat_template.h"
#include "engine/session/context_options.h"
#include "engine/model/model.h"
#include "engine/session/session.h"

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace folio::test {

struct PasskeyPrompt {
    std::vector<int32_t> tokens;  // the whole chat prompt, at most the length asked for
    std::string answer;           // the expected answer (the pass key, the city, ...)
    std::string kind;             // the task: passkey, cabinet, birthplace, sailing, secret, hiding
    double depth = 0.0;
};

// One planted fact of task `kind` (one of PasskeyTask::kinds()): the sentence to hide,
// the question that asks for it, and the exact answer.
struct PlantedFact {
    std::string needle, question, answer;
};
PlantedFact makePlantedFact(const std::string& kind, std::mt19937& rng);

class PasskeyTask {
public:
    // filler: a long plain text (paragraphs separated by blank lines).
    PasskeyTask(std::shared_ptr<const Model> model, std::string filler);

    // A prompt of at most maxTokens tokens with the fact of task `kind` (one of kinds())
    // planted at `depth` (0..1) of the filler.
    PasskeyPrompt make(int maxTokens, double depth, std::mt19937& rng, const std::string& kind = "passkey") const;

    // The planted-fact tasks of folio-demo-tasks.json, "passkey" first.
    static const std::vector<std::string>& kinds();

    // Prefills the prompt into a fresh session with these options and answers greedily
    // (until end of generation or 16 tokens). Returns the answer text, stripped.
    std::string answer(const PasskeyPrompt& prompt, SessionOptions options) const;

private:
    std::string chatPrompt(const std::string& document, const std::string& question) const;
    std::string fillerAt(std::size_t start, std::size_t chars) const;

    std::shared_ptr<const Model> model_;
    std::string filler_;
    std::vector<std::size_t> paragraphStarts_;
    ChatTemplate chat_;
    double charsPerToken_ = 4.0;
};

// Session options for an extension method at `tokens` on a model trained on L tokens:
// "none", "pi" (linear x T/L), "ntk" (x T/L), "yarn" (x T/L, original L), "dca"
// (dcaTemperature < 0: the model's own, GGUF dca.temperature; 0: none, as the paper).
SessionOptions passkeyMethodOptions(const std::string& method, int tokens, int trainedLength,
                                    float dcaTemperature = -1.0f);

} // namespace folio::test
