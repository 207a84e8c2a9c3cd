#include "app/server/api_server.h"

#include "app/server/peer_watch.h"
#include "engine/tokenizer/tokenizer.h"

#include <httplib.h>

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>

namespace folio::server {

namespace {

const char* const kJson = "application/json";
constexpr auto kKeepAliveInterval = std::chrono::seconds(15);

QString qs(const std::string& s) { return QString::fromStdString(s); }

std::string compact(const QJsonObject& o) { return QJsonDocument(o).toJson(QJsonDocument::Compact).toStdString(); }

void sendJson(httplib::Response& res, int status, const QJsonObject& body)
{
    res.status = status;
    res.set_content(compact(body), kJson);
}

void sendError(httplib::Response& res, const ApiError& e)
{
    res.status = e.status();
    res.set_content(errorBody(e).toStdString(), kJson);
}

// Runs a route's body: what it throws becomes an error answer, never a crash.
template <typename Body>
void guarded(httplib::Response& res, Body body)
{
    try {
        body();
    } catch (const ApiError& e) {
        sendError(res, e);
    } catch (const std::exception& e) {
        sendError(res, ApiError(500, "server_error", e.what()));
    }
}

std::atomic<uint64_t> g_requestCounter{0};

std::string nextId(const char* prefix) { return prefix + std::to_string(++g_requestCounter); }

qint64 now() { return static_cast<qint64>(std::time(nullptr)); }

const char* finishName(FinishReason f)
{
    switch (f) {
    case FinishReason::Stop: return "stop";
    case FinishReason::Length: return "length";
    case FinishReason::Cancelled: return "cancelled";
    case FinishReason::Error: return "error";
    }
    return "error";
}

QJsonObject usageJson(const GenerationResult& r)
{
    // cached_tokens is OpenAI's own field (and vLLM's) for a prompt prefix answered from cache.
    return QJsonObject{{QStringLiteral("prompt_tokens"), r.promptTokens},
                       {QStringLiteral("completion_tokens"), r.completionTokens},
                       {QStringLiteral("total_tokens"), r.promptTokens + r.completionTokens},
                       {QStringLiteral("prompt_tokens_details"),
                        QJsonObject{{QStringLiteral("cached_tokens"), r.reusedPromptTokens}}}};
}

// One choice of an answer: a chat message or delta, or completion text.
QJsonObject choiceJson(bool chat, bool delta, const QString& text, const QJsonValue& finish)
{
    QJsonObject c{{QStringLiteral("index"), 0}, {QStringLiteral("finish_reason"), finish},
                  {QStringLiteral("logprobs"), QJsonValue::Null}};
    if (!chat)
        c[QStringLiteral("text")] = text;
    else if (delta)
        c[QStringLiteral("delta")] = text.isNull() ? QJsonObject{} : QJsonObject{{QStringLiteral("content"), text}};
    else
        c[QStringLiteral("message")] = QJsonObject{{QStringLiteral("role"), QStringLiteral("assistant")},
                                                   {QStringLiteral("content"), text}};
    return c;
}

std::string sseEvent(const QJsonObject& o) { return "data: " + compact(o) + "\n\n"; }

} // namespace

bool isLoopbackHost(const std::string& host)
{
    return host == "localhost" || host == "::1" || host == "[::1]" || host.rfind("127.", 0) == 0;
}

bool constantTimeEquals(const std::string& given, const std::string& expected)
{
    if (expected.empty())
        return false;
    // Every byte of `given` is compared with some byte of `expected`: where they
    // first differ leaks nothing; only the lengths show.
    unsigned char diff = given.size() == expected.size() ? 0 : 1;
    for (std::size_t i = 0; i < given.size(); ++i)
        diff |= static_cast<unsigned char>(given[i] ^ expected[i % expected.size()]);
    return diff == 0;
}

ApiServer::ApiServer(ServerConfig config, std::shared_ptr<const Model> model, SessionPlan plan)
    : config_(std::move(config)), model_(model),
      chat_(ChatTemplate::detect(model->file().getString("tokenizer.chat_template").value_or(""),
                                 model->params().architecture,
                                 [&](std::string_view piece) { return model->tokenizer().findToken(piece).has_value(); })),
      worker_(model, std::move(plan), config_.queueCapacity, config_.promptCache), http_(std::make_unique<httplib::Server>())
{
    routes();
}

ApiServer::~ApiServer()
{
    stop();
}

int ApiServer::bind()
{
    const int port = config_.port == 0 ? http_->bind_to_any_port(config_.host)
                                       : (http_->bind_to_port(config_.host, config_.port) ? config_.port : -1);
    if (port <= 0)
        throw std::runtime_error("cannot listen on " + config_.host + ":" + std::to_string(config_.port)
                                 + " (address in use or not local?)");
    return port;
}

bool ApiServer::listen() { return http_->listen_after_bind(); }

void ApiServer::stop()
{
    // Handlers waiting on a generation return once the worker cancels it; only then
    // can httplib's pool, which stop() joins, wind down.
    worker_.shutdown();
    http_->stop();
}

void ApiServer::routes()
{
    httplib::Server& s = *http_;
    // Threads for every request that may wait in the queue, the running one, and a
    // few more so that /health answers while the queue is full.
    const std::size_t threads = static_cast<std::size_t>(std::max(config_.queueCapacity, 0)) + 4;
    s.new_task_queue = [threads] { return new httplib::ThreadPool(std::max<std::size_t>(threads, 8)); };
    s.set_payload_max_length(config_.maxBodyBytes);
    s.set_keep_alive_max_count(100);
    s.set_error_handler([](const Request& req, Response& res) {
        if (!res.body.empty())
            return;
        std::string message = res.status == 404 ? "no route for " + req.method + " " + req.path
                              : res.status == 413 ? std::string("the request body is over the size limit")
                                                  : "HTTP " + std::to_string(res.status);
        res.set_content(errorBody(res.status, errorTypeForStatus(res.status), message).toStdString(), kJson);
    });
    s.set_exception_handler([](const Request&, Response& res, std::exception_ptr) {
        sendError(res, ApiError(500, "server_error", "internal error"));
    });
    s.set_pre_routing_handler([this](const Request& req, Response& res) {
        if (req.path == "/health" || authorized(req))
            return httplib::Server::HandlerResponse::Unhandled;
        sendError(res, ApiError(401, "authentication_error", "Invalid API Key"));
        res.set_header("WWW-Authenticate", "Bearer");
        return httplib::Server::HandlerResponse::Handled;
    });
    if (config_.logRequests)
        s.set_logger([](const Request& req, const Response& res) {
            // Method, path and status only: the headers carry the key.
            std::fprintf(stderr, "folio-server: %s %s %d\n", req.method.c_str(), req.path.c_str(), res.status);
        });

    s.Get("/health", [this](const Request&, Response& res) { health(res); });
    s.Get("/v1/models", [this](const Request&, Response& res) { models(res); });
    s.Get("/props", [this](const Request&, Response& res) { props(res); });
    s.Post("/tokenize", [this](const Request& req, Response& res) { tokenize(req, res); });
    s.Post("/v1/chat/completions", [this](const Request& req, Response& res) { chatCompletions(req, res); });
    s.Post("/v1/completions", [this](const Request& req, Response& res) { completions(req, res); });
    if (config_.testHooks)
        s.Post("/debug/hold", [this](const Request& req, Response& res) {
            guarded(res, [&] {
                const QJsonObject o = parseJsonObject(req.body);
                worker_.setHold(o.value(QStringLiteral("hold")).toBool());
                sendJson(res, 200, QJsonObject{{QStringLiteral("hold"), o.value(QStringLiteral("hold")).toBool()}});
            });
        });
}

bool ApiServer::authorized(const Request& req) const
{
    if (config_.apiKey.empty())
        return true;
    return constantTimeEquals(req.get_header_value("Authorization"), "Bearer " + config_.apiKey);
}

void ApiServer::health(Response& res) const
{
    const EngineWorker::Stats s = worker_.stats();
    sendJson(res, 200,
             QJsonObject{{QStringLiteral("status"), QStringLiteral("ok")},
                         {QStringLiteral("queued"), s.queued},
                         {QStringLiteral("running"), s.running},
                         {QStringLiteral("completed"), double(s.completed)},
                         {QStringLiteral("cancelled"), double(s.cancelled)},
                         {QStringLiteral("failed"), double(s.failed)},
                         {QStringLiteral("prompt_tokens_read"), double(s.promptTokensRead)},
                         {QStringLiteral("prompt_tokens_reused"), double(s.promptTokensReused)},
                         {QStringLiteral("prompt_cache_restored"), double(s.promptCacheRestored)},
                         {QStringLiteral("prompt_cache_saved"), double(s.promptCacheSaved)},
                         {QStringLiteral("extension"), qs(s.extension)}});
}

void ApiServer::models(Response& res) const
{
    const int context = worker_.plan().maxContext();
    const QJsonObject entry{{QStringLiteral("id"), qs(config_.modelId)},
                            {QStringLiteral("object"), QStringLiteral("model")},
                            {QStringLiteral("created"), now()},
                            {QStringLiteral("owned_by"), QStringLiteral("folio")},
                            {QStringLiteral("context_length"), context},
                            {QStringLiteral("max_model_len"), context},
                            {QStringLiteral("meta"), QJsonObject{{QStringLiteral("n_ctx_train"),
                                                                  model_->params().contextLength},
                                                                 {QStringLiteral("n_vocab"), model_->params().vocabSize}}}};
    sendJson(res, 200, QJsonObject{{QStringLiteral("object"), QStringLiteral("list")},
                                   {QStringLiteral("data"), QJsonArray{entry}}});
}

void ApiServer::props(Response& res) const
{
    sendJson(res, 200,
             QJsonObject{{QStringLiteral("default_generation_settings"),
                          QJsonObject{{QStringLiteral("n_ctx"), worker_.plan().maxContext()}}},
                         {QStringLiteral("total_slots"), 1},
                         {QStringLiteral("chat_template"), qs(chat_.name())}});
}

void ApiServer::checkModel(const std::string& model) const
{
    if (model.empty() || model == config_.modelId
        || std::find(config_.modelAliases.begin(), config_.modelAliases.end(), model) != config_.modelAliases.end())
        return;
    throw ApiError(404, "not_found_error", "The model `" + model + "` does not exist.", "model");
}

std::vector<int32_t> ApiServer::chatPrompt(const std::vector<ChatMessage>& messages, bool addGenerationPrompt,
                                           bool addSpecial) const
{
    const Tokenizer& tok = model_->tokenizer();
    return tok.encode(chat_.format(messages, addGenerationPrompt), addSpecial && tok.addBosByDefault(), true);
}

int ApiServer::sharedPrefix(const std::vector<ChatMessage>& messages, const std::vector<int32_t>& prompt) const
{
    std::size_t shared = 0;
    while (shared < messages.size() && messages[shared].role == "system")
        ++shared;
    if (shared == 0)
        shared = messages.size() - 1;
    if (shared == 0 || shared >= messages.size())
        return 0;
    const std::vector<ChatMessage> head(messages.begin(), messages.begin() + static_cast<std::ptrdiff_t>(shared));
    const std::vector<int32_t> tokens = chatPrompt(head, false, true);
    // Only where the template renders the head as the start of the whole (most do).
    if (tokens.size() >= prompt.size() || !std::equal(tokens.begin(), tokens.end(), prompt.begin()))
        return 0;
    return static_cast<int>(tokens.size());
}

void ApiServer::tokenize(const Request& req, Response& res) const
{
    guarded(res, [&] {
        const TokenizeRequest r = parseTokenizeRequest(parseJsonObject(req.body));
        checkModel(r.model);
        const Tokenizer& tok = model_->tokenizer();
        const std::vector<int32_t> tokens = r.fromMessages
                                                ? chatPrompt(r.messages, r.addGenerationPrompt, r.addSpecial)
                                                : tok.encode(r.text, r.addSpecial && tok.addBosByDefault(), true);
        QJsonArray ids;
        for (int32_t t : tokens)
            ids.append(t);
        sendJson(res, 200, QJsonObject{{QStringLiteral("tokens"), ids},
                                       {QStringLiteral("count"), static_cast<int>(tokens.size())},
                                       {QStringLiteral("max_model_len"), worker_.plan().maxContext()}});
    });
}

void ApiServer::chatCompletions(const Request& req, Response& res)
{
    guarded(res, [&] {
        const ChatRequest r = parseChatRequest(parseJsonObject(req.body));
        checkModel(r.params.model);
        std::vector<std::string> stops = r.params.stop;
        for (const std::string& s : chat_.stopStrings())
            stops.push_back(s);
        std::vector<int32_t> prompt = chatPrompt(r.messages, true, true);
        const int shared = config_.promptCache.databasePath.empty() ? 0 : sharedPrefix(r.messages, prompt);
        generate(req, res, Kind::Chat, std::move(prompt), r.params, std::move(stops), shared);
    });
}

void ApiServer::completions(const Request& req, Response& res)
{
    guarded(res, [&] {
        const CompletionRequest r = parseCompletionRequest(parseJsonObject(req.body));
        checkModel(r.params.model);
        std::vector<int32_t> prompt = r.promptTokens;
        if (r.promptIsTokens) {
            for (int32_t t : prompt)
                if (t >= model_->params().vocabSize)
                    throw badRequest("token id " + std::to_string(t) + " is outside the vocabulary of "
                                         + std::to_string(model_->params().vocabSize),
                                     "prompt");
        } else {
            const Tokenizer& tok = model_->tokenizer();
            prompt = tok.encode(r.prompt, tok.addBosByDefault(), true);
        }
        generate(req, res, Kind::Completion, std::move(prompt), r.params, r.params.stop);
    });
}

void ApiServer::generate(const Request& req, Response& res, Kind kind, std::vector<int32_t> prompt,
                         const GenerationParams& params, std::vector<std::string> stops, int sharedPrefix)
{
    const char* field = kind == Kind::Chat ? "messages" : "prompt";
    const int context = worker_.plan().maxContext();
    const int promptTokens = static_cast<int>(prompt.size());
    if (promptTokens == 0)
        throw badRequest("the prompt is empty", field);
    // Never cut a prompt: say how long it is and what fits (the numbers vLLM gives).
    if (promptTokens >= context)
        throw ApiError(400, "invalid_request_error",
                       "This model's maximum context length is " + std::to_string(context)
                           + " tokens. However, your prompt has " + std::to_string(promptTokens)
                           + " tokens, leaving no room for an answer.",
                       field);
    if (params.maxTokens && promptTokens + static_cast<int64_t>(*params.maxTokens) > context)
        throw ApiError(400, "invalid_request_error",
                       "This model's maximum context length is " + std::to_string(context)
                           + " tokens. However, you requested " + std::to_string(promptTokens + int64_t(*params.maxTokens))
                           + " tokens (" + std::to_string(promptTokens) + " in the prompt, "
                           + std::to_string(*params.maxTokens) + " in the completion).",
                       "max_tokens");
    GenerationRequest g;
    g.prompt = std::move(prompt);
    g.keepPrefix = sharedPrefix;
    g.maxTokens = params.maxTokens.value_or(context - promptTokens);
    g.reserve = params.maxTokens.value_or(1);
    g.sampler = params.sampler;
    g.stop = std::move(stops);
    g.ignoreEos = params.ignoreEos;
    g.stream = params.stream;
    std::shared_ptr<GenerationJob> job = worker_.submit(std::move(g));
    if (!job) {
        const int queued = worker_.stats().queued;
        res.set_header("Retry-After", std::to_string(1 + queued));
        throw ApiError(503, "server_busy",
                       "the server is busy: " + std::to_string(queued) + " requests are waiting; try again later");
    }
    const bool chat = kind == Kind::Chat;
    const QString id = qs(nextId(chat ? "chatcmpl-" : "cmpl-"));
    const QString object = chat ? QStringLiteral("chat.completion") : QStringLiteral("text_completion");
    const QString model = qs(config_.modelId);
    const qint64 created = now();
    auto envelope = [=](const QString& type, const QJsonArray& choices) {
        return QJsonObject{{QStringLiteral("id"), id},
                           {QStringLiteral("object"), type},
                           {QStringLiteral("created"), created},
                           {QStringLiteral("model"), model},
                           {QStringLiteral("choices"), choices}};
    };

    if (!params.stream) {
        // Nothing is written until the end, so a client that leaves is watched for.
        PeerWatch peer(req.local_addr, req.local_port, req.remote_addr, req.remote_port);
        std::string text;
        for (;;) {
            GenerationJob::Update u = job->waitForUpdate(std::chrono::milliseconds(250));
            text += u.text;
            if (u.finished)
                break;
            if (peer.clientLeft()) {
                job->cancel();   // the worker ends it as cancelled; nobody is left to answer
                text += job->waitForText();
                return;
            }
        }
        const GenerationResult r = job->result();
        if (r.finish == FinishReason::Error)
            throw ApiError(500, "server_error", "generation failed: " + r.error);
        if (r.finish == FinishReason::Cancelled)
            throw ApiError(503, "server_busy", "the server is shutting down");
        QJsonObject body = envelope(object, QJsonArray{choiceJson(chat, false, qs(text), QLatin1String(finishName(r.finish)))});
        body[QStringLiteral("usage")] = usageJson(r);
        sendJson(res, 200, body);
        return;
    }

    // Server-sent events: OpenAI's chunks (a role delta first, content deltas, a last
    // chunk with finish_reason and usage), then "data: [DONE]".
    const QString chunkType = chat ? QStringLiteral("chat.completion.chunk") : QStringLiteral("text_completion");
    const bool includeUsage = params.includeUsage;
    auto started = std::make_shared<bool>(false);
    auto lastWrite = std::make_shared<std::chrono::steady_clock::time_point>(std::chrono::steady_clock::now());
    res.set_header("Cache-Control", "no-cache");
    res.set_chunked_content_provider(
        "text/event-stream",
        [=](std::size_t, httplib::DataSink& sink) {
            if (!*started && chat) {
                *started = true;
                QJsonObject delta = choiceJson(true, true, QString(), QJsonValue::Null);
                delta[QStringLiteral("delta")] = QJsonObject{{QStringLiteral("role"), QStringLiteral("assistant")},
                                                             {QStringLiteral("content"), QString(QLatin1String(""))}};
                const std::string e = sseEvent(envelope(chunkType, QJsonArray{delta}));
                return sink.write(e.data(), e.size()) || (job->cancel(), false);
            }
            const GenerationJob::Update u = job->waitForUpdate(std::chrono::milliseconds(100));
            if (!u.text.empty()) {
                const std::string e = sseEvent(envelope(chunkType, QJsonArray{choiceJson(chat, true, qs(u.text), QJsonValue::Null)}));
                if (!sink.write(e.data(), e.size())) {
                    job->cancel();
                    return false;
                }
                *lastWrite = std::chrono::steady_clock::now();
            } else if (!u.finished && !sink.is_writable()) {
                job->cancel();  // the client left while nothing was to be sent
                return false;
            } else if (!u.finished && std::chrono::steady_clock::now() - *lastWrite > kKeepAliveInterval) {
                // A long prefill sends nothing for minutes: an SSE comment (which
                // clients ignore) shows the connection alive and finds one that died.
                static const std::string comment = ": keep-alive\n\n";
                if (!sink.write(comment.data(), comment.size())) {
                    job->cancel();
                    return false;
                }
                *lastWrite = std::chrono::steady_clock::now();
            }
            if (!u.finished)
                return true;
            const GenerationResult r = job->result();
            std::string tail;
            if (r.finish == FinishReason::Error || r.finish == FinishReason::Cancelled) {
                // An error after the 200 went out: an error event and no [DONE], so the client sees it.
                const std::string message = r.finish == FinishReason::Error ? "generation failed: " + r.error
                                                                            : std::string("the server is shutting down");
                tail = "data: " + errorBody(500, "server_error", message).toStdString() + "\n\n";
            } else {
                QJsonObject last = envelope(chunkType, QJsonArray{choiceJson(chat, true, chat ? QString() : QString(QLatin1String("")),
                                                                             QLatin1String(finishName(r.finish)))});
                last[QStringLiteral("usage")] = usageJson(r);
                tail = sseEvent(last);
                if (includeUsage) {
                    QJsonObject usage = envelope(chunkType, QJsonArray{});
                    usage[QStringLiteral("usage")] = usageJson(r);
                    tail += sseEvent(usage);
                }
                tail += "data: [DONE]\n\n";
            }
            if (!sink.write(tail.data(), tail.size()))
                return false;
            sink.done();
            return true;
        },
        // However the response ends (also when it never started), the generation stops.
        [job](bool) { job->cancel(); });
}

} // namespace folio::server
