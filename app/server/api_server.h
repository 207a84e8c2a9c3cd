// folio-server's HTTP side: OpenAI-compatible routes over cpp-httplib, in front of
// one EngineWorker. Request bodies are read and checked here, on httplib's threads
// (tokenizing is thread-safe); only generation goes to the worker.
//
// Routes: GET /health, GET /v1/models, GET /props (llama.cpp's, for n_ctx),
// POST /tokenize, POST /v1/chat/completions, POST /v1/completions. With an API key
// every route but /health wants "Authorization: Bearer KEY".
#pragma once

#include "app/server/api_requests.h"
#include "app/server/engine_worker.h"
#include "app/server/prompt_cache.h"
#include "engine/session/chat_template.h"

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace httplib {
class Server;
struct Request;
struct Response;
} // namespace httplib

namespace folio::server {

struct ServerConfig {
    std::string host = "127.0.0.1";
    int port = 8080;                           // 0: any free port
    std::string apiKey;                        // empty: none asked
    int queueCapacity = 16;                    // requests that may wait behind the running one
    std::size_t maxBodyBytes = 64u << 20;
    std::string modelId;                       // the id /v1/models lists
    std::vector<std::string> modelAliases;     // also accepted as "model" (the path given)
    bool testHooks = false;                    // POST /debug/hold
    bool logRequests = true;                   // one line per request on stderr (never a header)
    PromptCacheOptions promptCache;            // a chat's document prefix on disk (databasePath empty: off)
};

// Loopback addresses: the only ones served without an API key.
bool isLoopbackHost(const std::string& host);

// Equal strings, in a time that depends on the lengths only.
bool constantTimeEquals(const std::string& given, const std::string& expected);

class ApiServer {
public:
    ApiServer(ServerConfig config, std::shared_ptr<const Model> model, SessionPlan plan);
    ~ApiServer();

    // Binds; returns the port (the one picked when the config asks for 0). Throws
    // std::runtime_error when the address cannot be bound.
    int bind();
    // Serves until stop(); returns false when listening failed.
    bool listen();
    // Any thread: cancels every generation, then stops listening.
    void stop();

private:
    using Request = httplib::Request;
    using Response = httplib::Response;
    enum class Kind { Chat, Completion };

    void routes();
    bool authorized(const Request& req) const;
    void health(Response& res) const;
    void models(Response& res) const;
    void props(Response& res) const;
    void tokenize(const Request& req, Response& res) const;
    void chatCompletions(const Request& req, Response& res);
    void completions(const Request& req, Response& res);
    void generate(const Request& req, Response& res, Kind kind, std::vector<int32_t> prompt,
                  const GenerationParams& params, std::vector<std::string> stops, int sharedPrefix = 0);
    void checkModel(const std::string& model) const;
    // How much of a chat's prompt the next request will share: its leading system
    // messages (where the document goes) or, without any, all but the last message.
    int sharedPrefix(const std::vector<ChatMessage>& messages, const std::vector<int32_t>& prompt) const;
    std::vector<int32_t> chatPrompt(const std::vector<ChatMessage>& messages, bool addGenerationPrompt,
                                    bool addSpecial) const;

    const ServerConfig config_;
    const std::shared_ptr<const Model> model_;
    const ChatTemplate chat_;
    EngineWorker worker_;
    std::unique_ptr<httplib::Server> http_;
};

} // namespace folio::server
