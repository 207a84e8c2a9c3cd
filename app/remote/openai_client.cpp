#include "app/remote/openai_client.h"

#include <QCoreApplication>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <memory>

namespace folio {

namespace {

std::optional<int> positiveInt(const QJsonValue& value)
{
    const double number = value.toDouble(-1);
    if (number >= 1 && number < 1e9)
        return static_cast<int>(number);
    return std::nullopt;
}

QByteArray chatBody(const ChatRequest& request)
{
    QJsonArray messages;
    for (const RemoteTurn& turn : request.messages)
        messages.append(QJsonObject{{QStringLiteral("role"), turn.role}, {QStringLiteral("content"), turn.content}});
    QJsonObject body{{QStringLiteral("model"), request.model},
                     {QStringLiteral("messages"), messages},
                     {QStringLiteral("stream"), true},
                     {QStringLiteral("stream_options"), QJsonObject{{QStringLiteral("include_usage"), true}}},
                     // llama.cpp's server: reuse the slot's cached prefix (the document) for the next question.
                     {QStringLiteral("cache_prompt"), true}};
    if (request.maxTokens > 0)
        body.insert(QStringLiteral("max_tokens"), request.maxTokens);
    if (request.temperature >= 0)
        body.insert(QStringLiteral("temperature"), request.temperature);
    if (request.seed)
        body.insert(QStringLiteral("seed"), static_cast<double>(*request.seed));
    if (!request.stop.isEmpty())
        body.insert(QStringLiteral("stop"), QJsonArray::fromStringList(request.stop));
    return QJsonDocument(body).toJson(QJsonDocument::Compact);
}

} // namespace

// ---------------------------------------------------------------- ChatStream

ChatStream::ChatStream(QNetworkAccessManager* network, const ServerEndpoint& endpoint, const QString& apiKey,
                       const ChatRequest& request, const HttpOptions& options, QObject* parent)
    : QObject(parent),
      call_(network, endpoint.api(QStringLiteral("chat/completions")), endpoint.text(), apiKey, chatBody(request),
            /*streaming=*/true, options),
      serverText_(endpoint.text())
{
    connect(&call_, &HttpCall::piece, this, &ChatStream::onPiece);
    connect(&call_, &HttpCall::succeeded, this, [this](int, const QByteArray& body) { onEnd(body); });
    connect(&call_, &HttpCall::failed, this, [this](const RemoteError& error) {
        if (!ended_) {
            ended_ = true;
            emit failed(error);
        }
    });
    connect(&call_, &HttpCall::notice, this, &ChatStream::notice);
}

void ChatStream::start()
{
    call_.start();
}

void ChatStream::cancel()
{
    call_.cancel();
}

void ChatStream::fail(RemoteError::Kind kind, const QString& detail, int status)
{
    if (ended_)
        return;
    ended_ = true;
    call_.disconnect(this);
    call_.cancel();
    emit failed(RemoteError{kind, serverText_, status, detail});
}

void ChatStream::onPiece(const QByteArray& bytes)
{
    if (!sawBytes_) {
        // A server that ignores "stream" answers one JSON object instead of events.
        const QByteArray start = bytes.trimmed();
        if (start.isEmpty())
            return;
        sawBytes_ = true;
        wholeJson_ = start.startsWith('{');
    }
    if (wholeJson_) {
        json_ += bytes;
        return;
    }
    QList<SseEvent> events;
    parser_.feed(bytes, events);
    for (const SseEvent& event : events) {
        if (ended_)
            return;
        onEvent(event);
    }
}

void ChatStream::onEvent(const SseEvent& event)
{
    if (done_)
        return;  // nothing counts after [DONE]
    if (event.name == "error")
        return fail(RemoteError::Kind::ServerError, serverErrorMessage(event.data));
    if (event.data.trimmed() == "[DONE]") {
        done_ = true;
        return;
    }
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(event.data, &parseError);
    if (!doc.isObject())
        return fail(RemoteError::Kind::MalformedReply,
                    tr("the stream holds an event that is not JSON (%1): %2")
                        .arg(parseError.errorString(), QString::fromUtf8(event.data.left(120))));
    const QJsonObject chunk = doc.object();
    if (chunk.contains(QLatin1String("error")))
        return fail(RemoteError::Kind::ServerError, serverErrorMessage(event.data));
    takeChoice(chunk, /*streamed=*/true);
}

void ChatStream::takeChoice(const QJsonObject& chunk, bool streamed)
{
    const QJsonObject usage = chunk.value(QLatin1String("usage")).toObject();
    if (!usage.isEmpty()) {
        usage_.promptTokens = usage.value(QLatin1String("prompt_tokens")).toInt(-1);
        usage_.completionTokens = usage.value(QLatin1String("completion_tokens")).toInt(-1);
    }
    const QJsonArray choices = chunk.value(QLatin1String("choices")).toArray();
    if (choices.isEmpty())
        return;  // vLLM's usage chunk
    const QJsonObject choice = choices.first().toObject();
    const QJsonObject part = choice.value(QLatin1String(streamed ? "delta" : "message")).toObject();
    // vLLM and llama.cpp put a thinking model's reasoning in reasoning_content, Ollama in reasoning.
    QString reasoning = part.value(QLatin1String("reasoning_content")).toString();
    if (reasoning.isEmpty())
        reasoning = part.value(QLatin1String("reasoning")).toString();
    if (!reasoning.isEmpty()) {
        reasoning_ += reasoning;
        emit reasoningDelta(reasoning);
    }
    const QString content = part.value(QLatin1String("content")).toString();
    if (!content.isEmpty()) {
        text_ += content;
        emit delta(content);
    }
    const QJsonValue finish = choice.value(QLatin1String("finish_reason"));
    if (finish.isString())
        finishReason_ = finish.toString();
}

void ChatStream::onEnd(const QByteArray&)
{
    if (ended_)
        return;
    if (wholeJson_) {
        const QJsonDocument doc = QJsonDocument::fromJson(json_);
        if (!doc.isObject())
            return fail(RemoteError::Kind::MalformedReply,
                        tr("the reply is neither an event stream nor a completion: %1")
                            .arg(QString::fromUtf8(json_.left(120))));
        if (doc.object().contains(QLatin1String("error")))
            return fail(RemoteError::Kind::ServerError, serverErrorMessage(json_));
        takeChoice(doc.object(), /*streamed=*/false);
        done_ = true;
    }
    if (!done_)
        return fail(RemoteError::Kind::Interrupted,
                    parser_.holdsPartialEvent() ? tr("the stream was cut inside an event (no [DONE])")
                                                : tr("the stream ended without [DONE]"));
    ended_ = true;
    emit finished(finishReason_, usage_);
}

// ---------------------------------------------------------------- OpenAiClient

OpenAiClient::OpenAiClient(ServerEndpoint endpoint, QString apiKey, HttpOptions options, QObject* parent)
    : QObject(parent), endpoint_(std::move(endpoint)), apiKey_(std::move(apiKey)), options_(options)
{
}

HttpCall* OpenAiClient::call(const QUrl& url, const QByteArray& jsonBody)
{
    auto* call = new HttpCall(&network_, url, endpoint_.text(), apiKey_, jsonBody, /*streaming=*/false, options_, this);
    connect(call, &HttpCall::notice, this, &OpenAiClient::notice);
    connect(call, &HttpCall::succeeded, call, &QObject::deleteLater);
    connect(call, &HttpCall::failed, call, &QObject::deleteLater);
    return call;
}

ChatStream* OpenAiClient::chat(const ChatRequest& request)
{
    auto* stream = new ChatStream(&network_, endpoint_, apiKey_, request, options_, this);
    connect(stream, &ChatStream::notice, this, &OpenAiClient::notice);
    return stream;
}

void OpenAiClient::listModels(ModelsHandler handler)
{
    HttpCall* models = call(endpoint_.api(QStringLiteral("models")));
    connect(models, &HttpCall::failed, this, [this, handler](RemoteError error) {
        if (error.httpStatus == 404) {
            error.kind = RemoteError::Kind::MalformedReply;
            error.detail = tr("no /v1/models here: is this an OpenAI-compatible server? (%1)").arg(error.detail);
        }
        handler({}, error);
    });
    connect(models, &HttpCall::succeeded, this, [this, handler](int status, const QByteArray& body) {
        const QJsonDocument doc = QJsonDocument::fromJson(body);
        const QJsonValue data = doc.object().value(QLatin1String("data"));
        if (!data.isArray()) {
            handler({}, RemoteError{RemoteError::Kind::MalformedReply, endpoint_.text(), status,
                                    tr("/v1/models did not answer a model list: %1")
                                        .arg(QString::fromUtf8(body.left(120)))});
            return;
        }
        QList<RemoteModel> list;
        for (const QJsonValue& entry : data.toArray()) {
            const QJsonObject object = entry.toObject();
            RemoteModel model;
            model.id = object.value(QLatin1String("id")).toString();
            if (model.id.isEmpty())
                continue;
            if (const auto length = positiveInt(object.value(QLatin1String("max_model_len")))) {
                model.contextLength = length;  // vLLM: what a request gets
                model.contextSource = QStringLiteral("max_model_len");
            } else if (const auto trained = positiveInt(
                           object.value(QLatin1String("meta")).toObject().value(QLatin1String("n_ctx_train")))) {
                model.contextLength = trained;  // llama.cpp: the training length; /props says the real one
                model.contextSource = QStringLiteral("n_ctx_train");
                model.contextIsTrainedLength = true;
            } else if (const auto length = positiveInt(object.value(QLatin1String("context_length")))) {
                model.contextLength = length;  // folio-server
                model.contextSource = QStringLiteral("context_length");
            }
            list.append(model);
        }
        fillContexts(list, handler);
    });
    models->start();
}

// The context a request really gets, asked of each kind of server in turn: llama.cpp's
// /props (n_ctx of a slot), LM Studio's /api/v0/models, Ollama's /api/show (num_ctx when
// the model sets it, else the trained length, marked). A route that is not there is no
// error: the number stays unknown and the caller estimates.
void OpenAiClient::fillContexts(QList<RemoteModel> models, ModelsHandler handler)
{
    auto state = std::make_shared<QList<RemoteModel>>(std::move(models));
    auto needsContext = [](const RemoteModel& m) { return !m.contextLength || m.contextIsTrainedLength; };
    if (std::none_of(state->begin(), state->end(), needsContext))
        return handler(*state, std::nullopt);

    auto askOllama = [this, state, handler, needsContext] {
        auto remaining = std::make_shared<int>(0);
        for (int i = 0; i < state->size(); ++i)
            if (needsContext(state->at(i)))
                ++*remaining;
        for (int i = 0; i < state->size(); ++i) {
            if (!needsContext(state->at(i)))
                continue;
            const QByteArray body = QJsonDocument(QJsonObject{{QStringLiteral("model"), state->at(i).id}})
                                        .toJson(QJsonDocument::Compact);
            HttpCall* show = call(endpoint_.root(QStringLiteral("api/show")), body);
            auto done = [state, handler, remaining] {
                if (--*remaining == 0)
                    handler(*state, std::nullopt);
            };
            connect(show, &HttpCall::failed, this, [done] { done(); });
            connect(show, &HttpCall::succeeded, this, [state, i, done](int, const QByteArray& reply) {
                const QJsonObject object = QJsonDocument::fromJson(reply).object();
                RemoteModel& model = (*state)[i];
                bool numCtx = false;  // what a request gets, where the model's Modelfile sets it
                const QStringList parameters = object.value(QLatin1String("parameters")).toString().split(QLatin1Char('\n'));
                for (const QString& line : parameters) {
                    const QStringList words = line.simplified().split(QLatin1Char(' '));
                    if (words.size() == 2 && words[0] == QLatin1String("num_ctx") && words[1].toInt() > 0) {
                        model.contextLength = words[1].toInt();
                        model.contextSource = QStringLiteral("num_ctx");
                        model.contextIsTrainedLength = false;
                        numCtx = true;
                    }
                }
                if (!numCtx) {
                    const QJsonObject info = object.value(QLatin1String("model_info")).toObject();
                    for (auto it = info.begin(); it != info.end(); ++it)
                        if (it.key().endsWith(QLatin1String(".context_length")))
                            if (const auto trained = positiveInt(it.value())) {
                                model.contextLength = trained;
                                model.contextSource = QStringLiteral("context_length (trained; Ollama's num_ctx may be lower)");
                                model.contextIsTrainedLength = true;
                            }
                }
                done();
            });
            show->start();
        }
    };
    auto askLmStudio = [this, state, handler, askOllama] {
        HttpCall* lms = call(endpoint_.root(QStringLiteral("api/v0/models")));
        connect(lms, &HttpCall::failed, this, [askOllama] { askOllama(); });
        connect(lms, &HttpCall::succeeded, this, [state, handler, askOllama](int, const QByteArray& reply) {
            const QJsonArray data = QJsonDocument::fromJson(reply).object().value(QLatin1String("data")).toArray();
            if (data.isEmpty())
                return askOllama();
            for (const QJsonValue& entry : data) {
                const QJsonObject object = entry.toObject();
                for (RemoteModel& model : *state)
                    if (model.id == object.value(QLatin1String("id")).toString())
                        if (const auto length = positiveInt(object.value(QLatin1String("max_context_length")))) {
                            model.contextLength = length;
                            model.contextSource = QStringLiteral("max_context_length");
                            model.contextIsTrainedLength = false;
                        }
            }
            handler(*state, std::nullopt);
        });
        lms->start();
    };
    HttpCall* props = call(endpoint_.root(QStringLiteral("props")));
    connect(props, &HttpCall::failed, this, [askLmStudio] { askLmStudio(); });
    connect(props, &HttpCall::succeeded, this, [state, handler, askLmStudio](int, const QByteArray& reply) {
        const QJsonObject object = QJsonDocument::fromJson(reply).object();
        const auto perSlot = positiveInt(
            object.value(QLatin1String("default_generation_settings")).toObject().value(QLatin1String("n_ctx")));
        if (!perSlot)
            return askLmStudio();
        for (RemoteModel& model : *state) {  // llama.cpp's server runs one model
            model.contextLength = perSlot;
            model.contextSource = QStringLiteral("/props n_ctx");
            model.contextIsTrainedLength = false;
        }
        handler(*state, std::nullopt);
    });
    props->start();
}

void OpenAiClient::countTokens(const QString& model, const QString& text, CountHandler handler)
{
    // vLLM reads "prompt", llama.cpp "content"; each ignores the other.
    const QByteArray body = QJsonDocument(QJsonObject{{QStringLiteral("model"), model},
                                                      {QStringLiteral("prompt"), text},
                                                      {QStringLiteral("content"), text}})
                                .toJson(QJsonDocument::Compact);
    auto estimate = [text] {
        TokenCount count;
        count.tokens = static_cast<int>((text.toUtf8().size() + 3) / 4);
        count.estimated = true;
        return count;
    };
    HttpCall* tokenize = call(endpoint_.root(QStringLiteral("tokenize")), body);
    connect(tokenize, &HttpCall::failed, this, [handler, estimate](const RemoteError& error) {
        // No route (404/405, or Ollama's 404 page): estimate. A server that is down is an error.
        if (error.httpStatus >= 400 && error.kind != RemoteError::Kind::Unauthorized)
            return handler(estimate(), std::nullopt);
        handler({}, error);
    });
    connect(tokenize, &HttpCall::succeeded, this, [handler, estimate](int, const QByteArray& reply) {
        const QJsonObject object = QJsonDocument::fromJson(reply).object();
        if (const auto count = positiveInt(object.value(QLatin1String("count"))))
            return handler(TokenCount{*count, false}, std::nullopt);
        const QJsonValue tokens = object.value(QLatin1String("tokens"));
        if (tokens.isArray())
            return handler(TokenCount{static_cast<int>(tokens.toArray().size()), false}, std::nullopt);
        handler(estimate(), std::nullopt);
    });
    tokenize->start();
}

} // namespace folio
