// A client of an OpenAI-compatible server (vLLM, llama.cpp's server, Ollama, LM Studio,
// folio-server) over Qt Network: the server's models with the context each one
// really gets, token counts, and streamed chat completions. What each server sends is
// in notes/servers.md; the differences are handled here so that callers see one shape.
// Lives on one thread (its QNetworkAccessManager's); results arrive as callbacks and
// signals on that thread.
#pragma once

#include "app/remote/http_call.h"
#include "app/remote/server_endpoint.h"
#include "app/remote/sse_parser.h"

#include <QList>
#include <QNetworkAccessManager>
#include <QObject>
#include <QString>
#include <QStringList>

#include <functional>
#include <optional>

namespace folio {

struct RemoteModel {
    QString id;
    std::optional<int> contextLength;  // what a request gets, where the server says
    QString contextSource;             // where that number came from, for the user
    bool contextIsTrainedLength = false;  // only the model's trained length was found (Ollama, llama.cpp meta)
};

struct TokenCount {
    int tokens = 0;
    bool estimated = false;  // the server has no tokenize route: about 4 characters a token
};

struct RemoteTurn {
    QString role;  // system, user, assistant
    QString content;
};

struct ChatRequest {
    QString model;
    QList<RemoteTurn> messages;
    int maxTokens = 0;         // 0: the server's default
    double temperature = -1;   // < 0: the server's default
    std::optional<qint64> seed;
    QStringList stop;
};

struct ChatUsage {
    int promptTokens = -1;
    int completionTokens = -1;
};

// One streamed completion. Exactly one of finished / failed ends it; on failed, text()
// still holds what had arrived (the caller keeps it, marked interrupted).
class ChatStream : public QObject {
    Q_OBJECT
public:
    ChatStream(QNetworkAccessManager* network, const ServerEndpoint& endpoint, const QString& apiKey,
               const ChatRequest& request, const HttpOptions& options, QObject* parent = nullptr);

    void start();
    void cancel();
    const QString& text() const { return text_; }
    const QString& reasoning() const { return reasoning_; }

signals:
    void delta(const QString& text);       // answer text as it arrives
    void reasoningDelta(const QString& text);  // reasoning_content (thinking models), kept apart
    void finished(const QString& finishReason, const folio::ChatUsage& usage);
    void failed(const folio::RemoteError& error);
    void notice(const QString& message);

private:
    void onPiece(const QByteArray& bytes);
    void onEvent(const SseEvent& event);
    void onEnd(const QByteArray& wholeBody);
    void fail(RemoteError::Kind kind, const QString& detail, int status = 0);
    void takeChoice(const QJsonObject& chunk, bool streamed);

    HttpCall call_;
    QString serverText_;
    SseParser parser_;
    QString text_, reasoning_;
    QString finishReason_;
    ChatUsage usage_;
    bool sawBytes_ = false;
    bool wholeJson_ = false;  // the server ignored "stream": one JSON object
    QByteArray json_;
    bool done_ = false;   // [DONE] seen
    bool ended_ = false;  // a signal that ends the stream has gone out
};

class OpenAiClient : public QObject {
    Q_OBJECT
public:
    OpenAiClient(ServerEndpoint endpoint, QString apiKey, HttpOptions options = {}, QObject* parent = nullptr);

    const ServerEndpoint& endpoint() const { return endpoint_; }

    using ModelsHandler = std::function<void(const QList<RemoteModel>&, const std::optional<RemoteError>&)>;
    using CountHandler = std::function<void(const TokenCount&, const std::optional<RemoteError>&)>;

    // GET /v1/models, then the context of each where /v1/models does not say it:
    // llama.cpp's /props, LM Studio's /api/v0/models, Ollama's /api/show.
    void listModels(ModelsHandler handler);
    // The server's count of `text` (vLLM's and llama.cpp's /tokenize), or an estimate
    // marked as one where the server has no such route.
    void countTokens(const QString& model, const QString& text, CountHandler handler);
    // A streamed chat completion; the stream is a child of the client.
    ChatStream* chat(const ChatRequest& request);

signals:
    void notice(const QString& message);

private:
    void fillContexts(QList<RemoteModel> models, ModelsHandler handler);
    HttpCall* call(const QUrl& url, const QByteArray& jsonBody = {});

    ServerEndpoint endpoint_;
    QString apiKey_;
    HttpOptions options_;
    QNetworkAccessManager network_;
};

} // namespace folio
