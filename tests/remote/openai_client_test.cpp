// The client against a scripted server on 127.0.0.1: the shapes each real server
// sends (notes/servers.md) and the faults folio-server never produces.
#include "fake_http_server.h"

#include "app/remote/openai_client.h"

#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTcpServer>

#include <gtest/gtest.h>

namespace folio {
namespace {

using test::FakeHttpServer;
using test::FakeReply;
using test::FakeRequest;

QByteArray chunk(const QString& content, const QString& finish = {})
{
    QJsonObject delta;
    if (!content.isNull())
        delta.insert(QStringLiteral("content"), content);
    QJsonObject choice{{QStringLiteral("index"), 0}, {QStringLiteral("delta"), delta}};
    choice.insert(QStringLiteral("finish_reason"), finish.isEmpty() ? QJsonValue() : QJsonValue(finish));
    const QJsonObject object{{QStringLiteral("object"), QStringLiteral("chat.completion.chunk")},
                             {QStringLiteral("choices"), QJsonArray{choice}}};
    return "data: " + QJsonDocument(object).toJson(QJsonDocument::Compact) + "\n\n";
}

// A whole stream cut into pieces at awkward places (inside events and line ends).
QList<QByteArray> cutAwkwardly(const QByteArray& body)
{
    QList<QByteArray> pieces;
    qsizetype at = 0, step = 7;
    while (at < body.size()) {
        pieces.append(body.mid(at, step));
        at += step;
        step = step * 3 % 23 + 1;
    }
    return pieces;
}

struct Outcome {
    QString text;
    QString finish;
    ChatUsage usage;
    std::optional<RemoteError> error;
    QStringList notices;
    bool ended = false;
};

ChatRequest simpleRequest()
{
    ChatRequest request;
    request.model = QStringLiteral("m");
    request.messages = {{QStringLiteral("user"), QStringLiteral("What is the secret word?")}};
    return request;
}

Outcome chat(const QString& url, const QString& key = {}, HttpOptions options = {},
             const std::function<void(ChatStream*)>& onFirstDelta = {})
{
    options.defaultRetryWaitMs = 10;
    OpenAiClient client(*ServerEndpoint::parse(url), key, options);
    Outcome outcome;
    ChatStream* stream = client.chat(simpleRequest());
    QObject::connect(stream, &ChatStream::delta, [&](const QString& piece) {
        if (outcome.text.isEmpty() && onFirstDelta)
            onFirstDelta(stream);
        outcome.text += piece;
    });
    QObject::connect(stream, &ChatStream::notice, [&](const QString& n) { outcome.notices.append(n); });
    QObject::connect(stream, &ChatStream::finished, [&](const QString& finish, const ChatUsage& usage) {
        outcome.finish = finish;
        outcome.usage = usage;
        outcome.ended = true;
    });
    QObject::connect(stream, &ChatStream::failed, [&](const RemoteError& error) {
        outcome.error = error;
        outcome.ended = true;
    });
    stream->start();
    EXPECT_TRUE(test::waitUntil([&] { return outcome.ended; }));
    if (outcome.error) {  // what arrived before the fault is still there
        EXPECT_EQ(stream->text(), outcome.text);
    }
    return outcome;
}

TEST(OpenAiClient, StreamsDeltasSplitAnywhereAndSendsTheKeyOnlyAsABearerToken)
{
    const QByteArray body = chunk(QStringLiteral("The secret ")) + chunk(QStringLiteral("word is ")) + ": ping\n\n"
                            + chunk(QStringLiteral("juniper."))
                            + "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],"
                              "\"usage\":{\"prompt_tokens\":2400,\"completion_tokens\":6}}\n\n"
                            + "data: [DONE]\n\n";
    FakeHttpServer server([&](const FakeRequest&) { return FakeReply::stream(cutAwkwardly(body), 2); });
    const Outcome outcome = chat(server.url(QStringLiteral("/v1")), QStringLiteral("sk-test-key"));
    ASSERT_FALSE(outcome.error) << outcome.error->message().toStdString();
    EXPECT_EQ(outcome.text, QStringLiteral("The secret word is juniper."));
    EXPECT_EQ(outcome.finish, QStringLiteral("stop"));
    EXPECT_EQ(outcome.usage.promptTokens, 2400);
    EXPECT_EQ(outcome.usage.completionTokens, 6);

    ASSERT_EQ(server.requests().size(), 1);
    const FakeRequest& request = server.requests().first();
    EXPECT_EQ(request.method.toStdString(), "POST");
    EXPECT_EQ(request.path.toStdString(), "/v1/chat/completions");
    EXPECT_EQ(request.headers.value("authorization").toStdString(), "Bearer sk-test-key");
    EXPECT_FALSE(request.body.contains("sk-test-key"));
    const QJsonObject sent = QJsonDocument::fromJson(request.body).object();
    EXPECT_TRUE(sent.value(QLatin1String("stream")).toBool());
    EXPECT_EQ(sent.value(QLatin1String("model")).toString(), QStringLiteral("m"));
    EXPECT_EQ(sent.value(QLatin1String("messages")).toArray().at(0).toObject().value(QLatin1String("content")).toString(),
              QStringLiteral("What is the secret word?"));
}

TEST(OpenAiClient, VllmRoleChunkAndUsageChunkWithoutChoices)
{
    const QByteArray body = "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n"
                            + chunk(QStringLiteral("Valparaiso"))
                            + chunk(QString(), QStringLiteral("stop"))
                            + "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":3}}\n\n"
                              "data: [DONE]\n\n";
    FakeHttpServer server([&](const FakeRequest&) { return FakeReply::stream({body}); });
    const Outcome outcome = chat(server.url());
    ASSERT_FALSE(outcome.error) << outcome.error->message().toStdString();
    EXPECT_EQ(outcome.text, QStringLiteral("Valparaiso"));
    EXPECT_EQ(outcome.finish, QStringLiteral("stop"));
    EXPECT_EQ(outcome.usage.completionTokens, 3);
    EXPECT_FALSE(server.requests().first().headers.contains("authorization"));
}

TEST(OpenAiClient, UnauthorizedInBothShapesCarriesStatusAndServerMessage)
{
    const QByteArray shapes[] = {
        R"({"error": {"code": 401, "message": "Invalid API Key", "type": "authentication_error"}})",  // llama.cpp
        R"({"error": "Unauthorized"})",                                                                 // vLLM
    };
    for (const QByteArray& shape : shapes) {
        FakeHttpServer server([&](const FakeRequest&) { return FakeReply::http(401, shape); });
        const Outcome outcome = chat(server.url(QStringLiteral("/v1")), QStringLiteral("wrong"));
        ASSERT_TRUE(outcome.error);
        EXPECT_EQ(outcome.error->kind, RemoteError::Kind::Unauthorized);
        EXPECT_EQ(outcome.error->httpStatus, 401);
        const QString message = outcome.error->message();
        EXPECT_TRUE(message.startsWith(server.url(QStringLiteral("/v1")))) << message.toStdString();
        EXPECT_TRUE(message.contains(QLatin1String("HTTP 401")));
        EXPECT_TRUE(message.contains(QLatin1String("Invalid API Key")) || message.contains(QLatin1String("Unauthorized")))
            << message.toStdString();
        EXPECT_FALSE(message.contains(QLatin1String("wrong")));
    }
}

TEST(OpenAiClient, RateLimitIsWaitedOutAsRetryAfterSaysThenAnswered)
{
    int calls = 0;
    FakeHttpServer server([&](const FakeRequest&) {
        if (++calls <= 2)
            return FakeReply::http(429, R"({"error":{"message":"slow down","code":429}})", "Retry-After: 0\r\n");
        return FakeReply::stream({chunk(QStringLiteral("7431")) + chunk(QString(), QStringLiteral("stop"))
                                  + "data: [DONE]\n\n"});
    });
    const Outcome outcome = chat(server.url());
    ASSERT_FALSE(outcome.error) << outcome.error->message().toStdString();
    EXPECT_EQ(outcome.text, QStringLiteral("7431"));
    EXPECT_EQ(calls, 3);
    ASSERT_EQ(outcome.notices.size(), 2);
    EXPECT_TRUE(outcome.notices[0].contains(QLatin1String("429")));
}

TEST(OpenAiClient, RateLimitGivesUpAfterAFewRetries)
{
    FakeHttpServer server([&](const FakeRequest&) {
        return FakeReply::http(429, R"({"error":{"message":"quota exceeded"}})", "Retry-After: 0\r\n");
    });
    HttpOptions options;
    options.rateLimitRetries = 2;
    const Outcome outcome = chat(server.url(), {}, options);
    ASSERT_TRUE(outcome.error);
    EXPECT_EQ(outcome.error->kind, RemoteError::Kind::RateLimited);
    EXPECT_TRUE(outcome.error->message().contains(QLatin1String("quota exceeded")));
    EXPECT_EQ(server.requests().size(), 3);  // the first try and two more
}

TEST(OpenAiClient, ServerErrorsAndTooLongPromptsAreTold)
{
    struct Case {
        int status;
        QByteArray body;
        RemoteError::Kind kind;
        const char* words;
    };
    const Case cases[] = {
        {503, "upstream overloaded", RemoteError::Kind::ServerError, "upstream overloaded"},
        {500, R"({"error":{"code":500,"message":"CUDA out of memory"}})", RemoteError::Kind::ServerError, "CUDA out of memory"},
        {400,
         R"({"object":"error","message":"This model's maximum context length is 32768 tokens. However, you requested 40000 tokens","type":"BadRequestError","param":null,"code":400})",
         RemoteError::Kind::ContextTooLong, "maximum context length is 32768"},
        {400, R"({"error":{"code":400,"message":"the request exceeds the available context size","type":"exceed_context_size_error"}})",
         RemoteError::Kind::ContextTooLong, "exceeds the available context size"},
        {404, R"({"error":{"message":"The model `m` does not exist.","code":404}})", RemoteError::Kind::UnknownModel, "does not exist"},
        {422, R"({"detail":"field required"})", RemoteError::Kind::BadRequest, "field required"},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.status);
        FakeHttpServer server([&](const FakeRequest&) { return FakeReply::http(c.status, c.body); });
        const Outcome outcome = chat(server.url());
        ASSERT_TRUE(outcome.error);
        EXPECT_EQ(outcome.error->kind, c.kind);
        EXPECT_EQ(outcome.error->httpStatus, c.status);
        EXPECT_TRUE(outcome.error->message().contains(QLatin1String(c.words))) << outcome.error->message().toStdString();
    }
}

TEST(OpenAiClient, BrokenStreamsAreInterruptedAndKeepTheirPartialText)
{
    struct Case {
        QByteArray body;
        RemoteError::Kind kind;
        const char* words;
        const char* partial;
    };
    const Case cases[] = {
        {chunk(QStringLiteral("The ledger is in ")) + chunk(QStringLiteral("the bell")), RemoteError::Kind::Interrupted,
         "without [DONE]", "The ledger is in the bell"},
        {chunk(QStringLiteral("The ledger")) + "data: {\"choices\":[{\"delta\":{\"content\":\" is", RemoteError::Kind::Interrupted,
         "cut inside an event", "The ledger"},
        {chunk(QStringLiteral("Half")) + "data: {not json}\n\n", RemoteError::Kind::MalformedReply, "not JSON", "Half"},
        {chunk(QStringLiteral("Half")) + "error: {\"code\":500,\"message\":\"slot unavailable\",\"type\":\"server_error\"}\n\n",
         RemoteError::Kind::ServerError, "slot unavailable", "Half"},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.words);
        FakeHttpServer server([&](const FakeRequest&) { return FakeReply::stream(cutAwkwardly(c.body), 1); });
        const Outcome outcome = chat(server.url());
        ASSERT_TRUE(outcome.error);
        EXPECT_EQ(outcome.error->kind, c.kind);
        EXPECT_TRUE(outcome.error->message().contains(QLatin1String(c.words))) << outcome.error->message().toStdString();
        EXPECT_EQ(outcome.text, QString::fromUtf8(c.partial));
    }
}

TEST(OpenAiClient, AServerThatIgnoresStreamingStillAnswers)
{
    FakeHttpServer server([&](const FakeRequest&) {
        return FakeReply::http(200, R"({"choices":[{"index":0,"message":{"role":"assistant","content":"March 14, 1847"},"finish_reason":"stop"}]})");
    });
    const Outcome outcome = chat(server.url());
    ASSERT_FALSE(outcome.error) << outcome.error->message().toStdString();
    EXPECT_EQ(outcome.text, QStringLiteral("March 14, 1847"));
    EXPECT_EQ(outcome.finish, QStringLiteral("stop"));
}

TEST(OpenAiClient, NoBytesForTheIdleTimeoutEndsTheRequest)
{
    FakeHttpServer server([&](const FakeRequest&) {
        FakeReply reply;
        reply.neverAnswer = true;
        return reply;
    });
    HttpOptions options;
    options.idleTimeoutMs = 300;
    const Outcome outcome = chat(server.url(), {}, options);
    ASSERT_TRUE(outcome.error);
    EXPECT_EQ(outcome.error->kind, RemoteError::Kind::Timeout);
    EXPECT_TRUE(outcome.error->message().contains(QLatin1String("idle timeout")));
}

TEST(OpenAiClient, CancelEndsAStreamAtOnce)
{
    QList<QByteArray> pieces;
    for (int i = 0; i < 50; ++i)
        pieces.append(chunk(QStringLiteral("word ")));
    FakeHttpServer server([&](const FakeRequest&) { return FakeReply::stream(pieces, 200); });
    QElapsedTimer clock;
    clock.start();
    const Outcome outcome = chat(server.url(), {}, {}, [](ChatStream* stream) { stream->cancel(); });
    ASSERT_TRUE(outcome.error);
    EXPECT_EQ(outcome.error->kind, RemoteError::Kind::Cancelled);
    EXPECT_EQ(outcome.text, QStringLiteral("word "));
    EXPECT_LT(clock.elapsed(), 5000);  // not the 10 s the whole stream would take
}

TEST(OpenAiClient, ARefusedConnectionIsUnreachable)
{
    quint16 port = 0;
    {
        QTcpServer probe;
        ASSERT_TRUE(probe.listen(QHostAddress::LocalHost, 0));
        port = probe.serverPort();
    }  // closed again: nothing listens there now
    const Outcome outcome = chat(QStringLiteral("http://127.0.0.1:%1/v1").arg(port));
    ASSERT_TRUE(outcome.error);
    EXPECT_EQ(outcome.error->kind, RemoteError::Kind::Unreachable);
    EXPECT_TRUE(outcome.error->message().contains(QLatin1String("refused"))) << outcome.error->message().toStdString();
}

QList<RemoteModel> listModels(const QString& url, std::optional<RemoteError>* error = nullptr)
{
    OpenAiClient client(*ServerEndpoint::parse(url), {});
    QList<RemoteModel> models;
    bool done = false;
    client.listModels([&](const QList<RemoteModel>& list, const std::optional<RemoteError>& e) {
        models = list;
        if (error)
            *error = e;
        done = true;
    });
    EXPECT_TRUE(test::waitUntil([&] { return done; }));
    return models;
}

TEST(OpenAiClient, ModelsWithTheContextEachServerReallyGives)
{
    // vLLM: max_model_len in the list.
    FakeHttpServer vllm([&](const FakeRequest&) {
        return FakeReply::http(200, R"({"object":"list","data":[{"id":"Qwen/Qwen2.5-7B-Instruct-1M","object":"model","owned_by":"vllm","max_model_len":1010000}]})");
    });
    QList<RemoteModel> models = listModels(vllm.url(QStringLiteral("/v1")));
    ASSERT_EQ(models.size(), 1);
    EXPECT_EQ(models[0].id, QStringLiteral("Qwen/Qwen2.5-7B-Instruct-1M"));
    EXPECT_EQ(models[0].contextLength, 1010000);
    EXPECT_FALSE(models[0].contextIsTrainedLength);
    EXPECT_EQ(vllm.requests().size(), 1);

    // llama.cpp: n_ctx_train in the list is the training length; /props has the slot's context.
    FakeHttpServer llamacpp([&](const FakeRequest& r) {
        if (r.path == "/props")
            return FakeReply::http(200, R"({"default_generation_settings":{"n_ctx":8192},"total_slots":1})");
        return FakeReply::http(200, R"({"object":"list","data":[{"id":"qwen2.5-7b-q4_k_m.gguf","object":"model","owned_by":"llamacpp","meta":{"n_ctx_train":32768,"n_params":7615616512}}]})");
    });
    models = listModels(llamacpp.url());
    ASSERT_EQ(models.size(), 1);
    EXPECT_EQ(models[0].contextLength, 8192);
    EXPECT_EQ(models[0].contextSource, QStringLiteral("/props n_ctx"));

    // Ollama: no /props, no LM Studio route; /api/show gives num_ctx where set, else the trained length.
    FakeHttpServer ollama([&](const FakeRequest& r) {
        if (r.path == "/v1/models")
            return FakeReply::http(200, R"({"object":"list","data":[{"id":"llama3.2:3b","object":"model","owned_by":"library"},{"id":"qwen3:8b","object":"model","owned_by":"library"}]})");
        if (r.path == "/api/show") {
            if (r.body.contains("llama3.2"))
                return FakeReply::http(200, R"({"parameters":"num_ctx 16384\nstop \"<|eot_id|>\"","model_info":{"llama.context_length":131072}})");
            return FakeReply::http(200, R"({"model_info":{"general.architecture":"qwen3","qwen3.context_length":40960}})");
        }
        return FakeReply::http(404, "404 page not found", {}, "text/plain");
    });
    models = listModels(ollama.url(QStringLiteral("/v1/")));
    ASSERT_EQ(models.size(), 2);
    EXPECT_EQ(models[0].contextLength, 16384);
    EXPECT_FALSE(models[0].contextIsTrainedLength);
    EXPECT_EQ(models[1].contextLength, 40960);
    EXPECT_TRUE(models[1].contextIsTrainedLength);

    // LM Studio: /api/v0/models has max_context_length.
    FakeHttpServer lmstudio([&](const FakeRequest& r) {
        if (r.path == "/api/v0/models")
            return FakeReply::http(200, R"({"data":[{"id":"gemma-3-4b-it","type":"llm","state":"loaded","max_context_length":131072}]})");
        if (r.path == "/v1/models")
            return FakeReply::http(200, R"({"data":[{"id":"gemma-3-4b-it","object":"model","owned_by":"organization_owner"}]})");
        return FakeReply::http(404, R"({"error":"Unexpected endpoint or method."})");
    });
    models = listModels(lmstudio.url(QStringLiteral("/v1")));
    ASSERT_EQ(models.size(), 1);
    EXPECT_EQ(models[0].contextLength, 131072);
}

TEST(OpenAiClient, ModelsFromSomethingElseIsAClearError)
{
    FakeHttpServer web([&](const FakeRequest&) { return FakeReply::http(200, "<html>hello</html>", {}, "text/html"); });
    std::optional<RemoteError> error;
    EXPECT_TRUE(listModels(web.url(), &error).isEmpty());
    ASSERT_TRUE(error);
    EXPECT_EQ(error->kind, RemoteError::Kind::MalformedReply);
}

TokenCount count(const QString& url, const QString& text)
{
    OpenAiClient client(*ServerEndpoint::parse(url), {});
    TokenCount result;
    bool done = false;
    client.countTokens(QStringLiteral("m"), text, [&](const TokenCount& c, const std::optional<RemoteError>& e) {
        EXPECT_FALSE(e);
        result = c;
        done = true;
    });
    EXPECT_TRUE(test::waitUntil([&] { return done; }));
    return result;
}

TEST(OpenAiClient, TokenCountFromTheServerOrAnEstimateSaidToBeOne)
{
    FakeHttpServer vllm([&](const FakeRequest&) { return FakeReply::http(200, R"({"count":5,"max_model_len":32768,"tokens":[1,2,3,4,5]})"); });
    TokenCount c = count(vllm.url(QStringLiteral("/v1")), QStringLiteral("hello world"));
    EXPECT_EQ(c.tokens, 5);
    EXPECT_FALSE(c.estimated);
    EXPECT_EQ(vllm.requests().first().path.toStdString(), "/tokenize");

    FakeHttpServer llamacpp([&](const FakeRequest&) { return FakeReply::http(200, R"({"tokens":[9,8,7]})"); });
    c = count(llamacpp.url(), QStringLiteral("abc"));
    EXPECT_EQ(c.tokens, 3);
    EXPECT_FALSE(c.estimated);

    FakeHttpServer ollama([&](const FakeRequest&) { return FakeReply::http(404, "404 page not found", {}, "text/plain"); });
    c = count(ollama.url(), QString(400, QLatin1Char('a')));
    EXPECT_TRUE(c.estimated);
    EXPECT_EQ(c.tokens, 100);
}

} // namespace
} // namespace folio
