// The request bodies of folio-server's routes, read from JSON and checked field by
// field: anything missing, mistyped or out of range is an ApiError (400) that names
// the field, before any work is queued. Unknown fields are ignored, as OpenAI's
// own servers and vLLM do, so clients that send more (presence_penalty: 0) work.
#pragma once

#include "app/server/api_error.h"
#include "engine/session/chat_template.h"
#include "engine/session/sampler.h"

#include <QJsonObject>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace folio::server {

// What every generation request shares (chat and plain completions).
struct GenerationParams {
    std::string model;                    // empty: the one model served
    std::optional<int> maxTokens;         // max_tokens / max_completion_tokens; unset: the room left
    SamplerParams sampler;                // OpenAI defaults: temperature 1, top_p 1, no top-k/min-p/penalty
    bool seedGiven = false;
    std::vector<std::string> stop;        // "stop": a string or an array of strings
    bool stream = false;
    bool includeUsage = false;            // stream_options.include_usage
    bool ignoreEos = false;               // llama.cpp / vLLM extension: generate through end tokens
};

struct ChatRequest {
    std::vector<ChatMessage> messages;
    GenerationParams params;
};

struct CompletionRequest {
    std::string prompt;                   // text, or
    std::vector<int32_t> promptTokens;    // token ids when "prompt" is an array of integers
    bool promptIsTokens = false;
    GenerationParams params;
};

// POST /tokenize in the shapes of llama.cpp ({"content"} -> {"tokens"}) and vLLM
// ({"prompt"} or {"messages"} -> {"count", "max_model_len", "tokens"}).
struct TokenizeRequest {
    std::string model;
    std::string text;                     // content or prompt
    std::vector<ChatMessage> messages;    // when given as messages
    bool fromMessages = false;
    bool addSpecial = false;              // llama.cpp add_special (default false); vLLM add_special_tokens (true)
    bool addGenerationPrompt = true;      // messages only
};

// Throws ApiError 400 on anything but one JSON object.
QJsonObject parseJsonObject(const std::string& body);

ChatRequest parseChatRequest(const QJsonObject& body);
CompletionRequest parseCompletionRequest(const QJsonObject& body);
TokenizeRequest parseTokenizeRequest(const QJsonObject& body);

} // namespace folio::server
