// The one plan for reading a document with a model: what the worker's session is
// made with, and what the model manager shows before anything is read. Both count
// the document as the reading prompt holds it (PromptBuilder: the chat template, the
// page markers) and leave the same room for the conversation, so the plan the user
// sees is the plan the worker uses.
#pragma once

#include "app/reading/reading_session.h"
#include "engine/session/context_planner.h"

namespace folio {

class Model;
struct Document;

// The reading prompt's length for this document with this model's tokenizer and
// chat template (as ReadingSession builds it).
int readingPromptTokens(const Model& model, const Document& document);

// The context plan for a prompt of `promptTokens` under these options: the planner's
// choice (method, KV type, memory, whether it fits) with the user's RoPE and DCA
// parameters over it. Throws std::invalid_argument on options the planner refuses.
ContextPlan planReading(const Model& model, int promptTokens, const ReadingOptions& options);

// What planReading asks the planner for: the context holds the prompt and the room
// for the conversation unless a context length is forced.
int plannedContextTokens(int promptTokens, const ReadingOptions& options);

} // namespace folio
