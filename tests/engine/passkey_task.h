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

// One document carrying several planted facts, each asked in its own prompt: the
// prompts share the document's tokens (the chat prompt to the blank line after the
// document) and differ in their suffix (the question and the assistant turn).
// Prefilling the document once and each suffix after it gives each whole prompt's
// tokens (checked when made), which makes long prompts affordable.
struct SharedDocumentPrompt {
    struct Question {
        std::vector<int32_t> suffix;
        std::string answer, kind;
        double depth = 0.0;
    };
    std::vector<int32_t> document;  // the shared prefix
    std::vector<Question> questions;
    int longestPrompt() const;      // document + the longest suffix, in tokens
};

class PasskeyTask {
public:
    // filler: a long plain text (paragraphs separated by blank lines).
    PasskeyTask(std::shared_ptr<const Model> model, std::string filler);

    // A prompt of at most maxTokens tokens with the fact of task `kind` (one of kinds())
    // planted at `depth` (0..1) of the filler.
    PasskeyPrompt make(int maxTokens, double depth, std::mt19937& rng, const std::string& kind = "passkey") const;

    // A document of at most maxTokens tokens (with its longest question) holding one
    // fact per entry of `facts` (task kind, depth), each planted as make() plants one;
    // facts at the same depth follow each other in the given order.
    SharedDocumentPrompt makeShared(int maxTokens, const std::vector<std::pair<std::string, double>>& facts,
                                    std::mt19937& rng) const;

    // The planted-fact tasks of folio-demo-tasks.json, "passkey" first.
    static const std::vector<std::string>& kinds();

    // Prefills the prompt into a fresh session with these options and answers greedily
    // (until end of generation or 16 tokens). Returns the answer text, stripped.
    std::string answer(const PasskeyPrompt& prompt, SessionOptions options) const;
    // Prefills the document once, then answers each question after it (the session is
    // cut back to the document between questions). One answer per question, in order.
    std::vector<std::string> answer(const SharedDocumentPrompt& prompt, SessionOptions options) const;

private:
    std::string chatPrompt(const std::string& document, const std::string& question) const;
    std::string fillerAt(std::size_t start, std::size_t chars) const;
    // A paragraph start with room for `chars` characters after it (make()'s draw).
    std::size_t drawStart(double chars, std::mt19937& rng) const;
    // The filler cut to `chars` from `start` with the needles planted at their depths.
    std::string plantedDocument(std::size_t start, double chars,
                                const std::vector<std::pair<std::string, double>>& needles) const;
    std::string greedyAnswer(Session& session) const;

    std::shared_ptr<const Model> model_;
    std::string filler_;
    std::vector<std::size_t> paragraphStarts_;      // in the first half of the filler
    std::vector<std::size_t> allParagraphStarts_;   // for prompts longer than half of it
    ChatTemplate chat_;
    double charsPerToken_ = 4.0;
};

// Session options for an extension method at `tokens` on a model trained on L tokens:
// "none", "pi" (linear x T/L), "ntk" (x T/L), "yarn" (x T/L, original L), "dca"
// (dcaTemperature < 0: the model's own, GGUF dca.temperature; 0: none, as the paper).
SessionOptions passkeyMethodOptions(const std::string& method, int tokens, int trainedLength,
                                    float dcaTemperature = -1.0f);

} // namespace folio::test
