// folio-server as a client sees it: the real binary on a loopback port, real HTTP.
#include "server_process.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTemporaryDir>

#include <gtest/gtest.h>

#include <httplib.h>

#include <thread>

using folio::test::HttpAnswer;
using folio::test::ServerProcess;
using folio::test::StreamAnswer;

namespace {

QString sampleText(int chars)
{
    QFile f(QStringLiteral(FOLIO_SOURCE_DIR) + QStringLiteral("/resources/samples/moby-dick-planted-facts.txt"));
    EXPECT_TRUE(f.open(QIODevice::ReadOnly));
    return QString::fromUtf8(f.readAll()).left(chars);
}

QJsonObject chatBody(const QString& document, const QString& question, int maxTokens = 16)
{
    QJsonArray messages;
    if (!document.isEmpty())
        messages.append(QJsonObject{{QStringLiteral("role"), QStringLiteral("system")},
                                    {QStringLiteral("content"), document}});
    messages.append(QJsonObject{{QStringLiteral("role"), QStringLiteral("user")}, {QStringLiteral("content"), question}});
    return QJsonObject{{QStringLiteral("messages"), messages},
                       {QStringLiteral("max_tokens"), maxTokens},
                       {QStringLiteral("temperature"), 0}};
}

QJsonObject completionBody(const QString& prompt, int maxTokens)
{
    return QJsonObject{{QStringLiteral("prompt"), prompt},
                       {QStringLiteral("max_tokens"), maxTokens},
                       {QStringLiteral("temperature"), 0},
                       {QStringLiteral("ignore_eos"), true}};
}

QJsonObject withStream(QJsonObject body)
{
    body[QStringLiteral("stream")] = true;
    return body;
}

QJsonObject errorOf(const HttpAnswer& a) { return a.json().value(QStringLiteral("error")).toObject(); }

int usage(const QJsonObject& answer, const char* field)
{
    return answer.value(QStringLiteral("usage")).toObject().value(QLatin1String(field)).toInt(-1);
}

int cachedTokens(const QJsonObject& answer)
{
    return answer.value(QStringLiteral("usage")).toObject().value(QStringLiteral("prompt_tokens_details")).toObject()
        .value(QStringLiteral("cached_tokens")).toInt(-1);
}

} // namespace

TEST(Server, HealthModelsAndTokenizeInBothShapes)
{
    ServerProcess server;
    ASSERT_TRUE(server.start({QStringLiteral("--ctx"), QStringLiteral("1024")})) << server.stderrText().toStdString();
    EXPECT_EQ(server.health().value(QStringLiteral("status")).toString(), QStringLiteral("ok"));

    const HttpAnswer models = server.get("/v1/models");
    ASSERT_EQ(models.status, 200) << models.body;
    const QJsonObject entry = models.json().value(QStringLiteral("data")).toArray().at(0).toObject();
    EXPECT_EQ(entry.value(QStringLiteral("id")).toString(), QStringLiteral("folio-demo"));
    EXPECT_EQ(entry.value(QStringLiteral("context_length")).toInt(), 1024);
    EXPECT_EQ(entry.value(QStringLiteral("max_model_len")).toInt(), 1024);
    EXPECT_EQ(entry.value(QStringLiteral("meta")).toObject().value(QStringLiteral("n_ctx_train")).toInt(), 256);

    // llama.cpp's shape, and vLLM's with its count and context.
    const HttpAnswer llama = server.post("/tokenize", QJsonObject{{QStringLiteral("content"), QStringLiteral("The pass key is 58203.")}});
    ASSERT_EQ(llama.status, 200) << llama.body;
    const QJsonArray tokens = llama.json().value(QStringLiteral("tokens")).toArray();
    EXPECT_GT(tokens.size(), 5);
    const HttpAnswer vllm = server.post("/tokenize", QJsonObject{{QStringLiteral("prompt"), QStringLiteral("The pass key is 58203.")}});
    ASSERT_EQ(vllm.status, 200) << vllm.body;
    EXPECT_EQ(vllm.json().value(QStringLiteral("tokens")).toArray(), tokens);  // the demo model adds no BOS
    EXPECT_EQ(vllm.json().value(QStringLiteral("count")).toInt(), tokens.size());
    EXPECT_EQ(vllm.json().value(QStringLiteral("max_model_len")).toInt(), 1024);
    EXPECT_EQ(server.terminate(), 0) << server.stderrText().toStdString();
}

TEST(Server, ChatAnswersFromTheDocumentStreamedAndNot)
{
    ServerProcess server;
    ASSERT_TRUE(server.start({QStringLiteral("--ctx"), QStringLiteral("1024")})) << server.stderrText().toStdString();
    const QString document = QStringLiteral("The key to the blue cabinet is 7431. The sea was calm.");
    const HttpAnswer plain = server.post("/v1/chat/completions",
                                         chatBody(document, QStringLiteral("What is the key to the blue cabinet?")));
    ASSERT_EQ(plain.status, 200) << plain.body;
    const QJsonObject answer = plain.json();
    EXPECT_EQ(answer.value(QStringLiteral("object")).toString(), QStringLiteral("chat.completion"));
    const QJsonObject choice = answer.value(QStringLiteral("choices")).toArray().at(0).toObject();
    const QString text = choice.value(QStringLiteral("message")).toObject().value(QStringLiteral("content")).toString();
    EXPECT_TRUE(text.contains(QStringLiteral("7431"))) << text.toStdString();
    EXPECT_EQ(choice.value(QStringLiteral("finish_reason")).toString(), QStringLiteral("stop"));  // <|im_end|>
    EXPECT_GT(usage(answer, "prompt_tokens"), 10);
    EXPECT_EQ(usage(answer, "total_tokens"), usage(answer, "prompt_tokens") + usage(answer, "completion_tokens"));

    QJsonObject body = withStream(chatBody(document, QStringLiteral("What is the key to the blue cabinet?")));
    body[QStringLiteral("stream_options")] = QJsonObject{{QStringLiteral("include_usage"), true}};
    const StreamAnswer streamed = server.stream("/v1/chat/completions", body);
    ASSERT_EQ(streamed.status, 200);
    ASSERT_TRUE(streamed.done()) << "no [DONE]";
    const std::vector<QJsonObject> chunks = streamed.chunks();
    ASSERT_GE(chunks.size(), 3u);
    const QJsonObject first = chunks.front().value(QStringLiteral("choices")).toArray().at(0).toObject();
    EXPECT_EQ(first.value(QStringLiteral("delta")).toObject().value(QStringLiteral("role")).toString(), QStringLiteral("assistant"));
    EXPECT_EQ(chunks.front().value(QStringLiteral("object")).toString(), QStringLiteral("chat.completion.chunk"));
    EXPECT_EQ(QString::fromStdString(streamed.text()), text);  // greedy: the same answer
    const QJsonObject last = chunks[chunks.size() - 2].value(QStringLiteral("choices")).toArray().at(0).toObject();
    EXPECT_EQ(last.value(QStringLiteral("finish_reason")).toString(), QStringLiteral("stop"));
    EXPECT_TRUE(chunks.back().value(QStringLiteral("choices")).toArray().isEmpty());  // the usage chunk
    EXPECT_EQ(usage(chunks.back(), "completion_tokens"), usage(answer, "completion_tokens"));
}

TEST(Server, CompletionsHonourMaxTokensAndStop)
{
    ServerProcess server;
    ASSERT_TRUE(server.start({})) << server.stderrText().toStdString();
    const HttpAnswer a = server.post("/v1/completions", completionBody(QStringLiteral("Call me Ishmael."), 5));
    ASSERT_EQ(a.status, 200) << a.body;
    const QJsonObject choice = a.json().value(QStringLiteral("choices")).toArray().at(0).toObject();
    EXPECT_EQ(a.json().value(QStringLiteral("object")).toString(), QStringLiteral("text_completion"));
    EXPECT_EQ(choice.value(QStringLiteral("finish_reason")).toString(), QStringLiteral("length"));
    EXPECT_EQ(usage(a.json(), "completion_tokens"), 5);
    const QString text = choice.value(QStringLiteral("text")).toString();
    ASSERT_FALSE(text.isEmpty());

    // Stopping at the answer's own second character: the text before it, finish "stop".
    QJsonObject body = completionBody(QStringLiteral("Call me Ishmael."), 5);
    body[QStringLiteral("stop")] = QJsonArray{text.mid(1, 1)};
    const HttpAnswer stopped = server.post("/v1/completions", body);
    ASSERT_EQ(stopped.status, 200) << stopped.body;
    const QJsonObject c = stopped.json().value(QStringLiteral("choices")).toArray().at(0).toObject();
    EXPECT_EQ(c.value(QStringLiteral("finish_reason")).toString(), QStringLiteral("stop"));
    EXPECT_EQ(c.value(QStringLiteral("text")).toString(), text.left(text.indexOf(text.mid(1, 1))));

    const StreamAnswer s = server.stream("/v1/completions", withStream(completionBody(QStringLiteral("Call me Ishmael."), 5)));
    ASSERT_TRUE(s.done());
    EXPECT_EQ(QString::fromStdString(s.text()), text);
}

TEST(Server, SecondQuestionAboutTheSameDocumentReusesItsPrefixUnderDca)
{
    ServerProcess server;
    ASSERT_TRUE(server.start({QStringLiteral("--ctx"), QStringLiteral("2048")})) << server.stderrText().toStdString();
    const QString document = sampleText(3000);  // about 800 tokens: over the 256 the model was trained on
    const HttpAnswer first = server.post("/v1/chat/completions", chatBody(document, QStringLiteral("What is the key to the blue cabinet?"), 8));
    ASSERT_EQ(first.status, 200) << first.body;
    const int promptTokens = usage(first.json(), "prompt_tokens");
    EXPECT_GT(promptTokens, 256);
    EXPECT_EQ(cachedTokens(first.json()), 0);
    EXPECT_TRUE(server.health().value(QStringLiteral("extension")).toString().contains(QStringLiteral("DCA")))
        << server.health().value(QStringLiteral("extension")).toString().toStdString();

    const HttpAnswer second = server.post("/v1/chat/completions", chatBody(document, QStringLiteral("Where was Captain Ortega born?"), 8));
    ASSERT_EQ(second.status, 200) << second.body;
    const int reused = cachedTokens(second.json());
    EXPECT_GT(reused, promptTokens - 20) << "only the question should be read again";
    EXPECT_LT(reused, usage(second.json(), "prompt_tokens"));
    // Read mostly from the cache, the first question gets the answer it got when read afresh.
    const HttpAnswer again = server.post("/v1/chat/completions", chatBody(document, QStringLiteral("What is the key to the blue cabinet?"), 8));
    ASSERT_EQ(again.status, 200) << again.body;
    EXPECT_GT(cachedTokens(again.json()), promptTokens - 20);
    const auto content = [](const HttpAnswer& a) {
        return a.json().value(QStringLiteral("choices")).toArray().at(0).toObject().value(QStringLiteral("message"))
            .toObject().value(QStringLiteral("content")).toString();
    };
    EXPECT_EQ(content(again), content(first));
    EXPECT_TRUE(content(first).contains(QStringLiteral("7431"))) << content(first).toStdString();
    const QJsonObject h = server.health();
    EXPECT_EQ(h.value(QStringLiteral("prompt_tokens_reused")).toInt(), reused + cachedTokens(again.json()));
    EXPECT_EQ(h.value(QStringLiteral("prompt_tokens_read")).toInt(),
              promptTokens + usage(second.json(), "prompt_tokens") - reused + usage(again.json(), "prompt_tokens")
                  - cachedTokens(again.json()));
}

// The document prefix of a chat goes to disk: a new conversation about the same book
// after a restart reads only its question, and answers as a fresh read does.
TEST(Server, TheDocumentPrefixIsKeptOnDiskAcrossARestart)
{
    QTemporaryDir dir;
    const QString cache = dir.filePath(QStringLiteral("prompt-cache.sqlite"));
    const QStringList args{QStringLiteral("--ctx"), QStringLiteral("2048"), QStringLiteral("--prompt-cache"), cache,
                           QStringLiteral("--prompt-cache-min"), QStringLiteral("64")};
    const QString document = sampleText(3000);
    const QString question = QStringLiteral("What is the key to the blue cabinet?");
    const auto content = [](const HttpAnswer& a) {
        return a.json().value(QStringLiteral("choices")).toArray().at(0).toObject().value(QStringLiteral("message"))
            .toObject().value(QStringLiteral("content")).toString();
    };
    int promptTokens = 0;
    QString fresh;
    {
        ServerProcess server;
        ASSERT_TRUE(server.start(args)) << server.stderrText().toStdString();
        const HttpAnswer first = server.post("/v1/chat/completions",
                                             chatBody(document, QStringLiteral("Where was Captain Ortega born?"), 8));
        ASSERT_EQ(first.status, 200) << first.body;
        EXPECT_EQ(cachedTokens(first.json()), 0);
        promptTokens = usage(first.json(), "prompt_tokens");
        // Saved once the answer went out.
        ASSERT_TRUE(server.waitForHealth([](const QJsonObject& h) {
            return h.value(QStringLiteral("prompt_cache_saved")).toInt() == 1;
        })) << server.stderrText().toStdString();
        EXPECT_EQ(server.terminate(), 0);
    }
    {
        ServerProcess reference;  // the same question read afresh, without a cache
        ASSERT_TRUE(reference.start({QStringLiteral("--ctx"), QStringLiteral("2048"), QStringLiteral("--no-prompt-cache")}));
        const HttpAnswer a = reference.post("/v1/chat/completions", chatBody(document, question, 8));
        ASSERT_EQ(a.status, 200) << a.body;
        fresh = content(a);
    }
    ServerProcess restarted;
    ASSERT_TRUE(restarted.start(args)) << restarted.stderrText().toStdString();
    const HttpAnswer second = restarted.post("/v1/chat/completions", chatBody(document, question, 8));
    ASSERT_EQ(second.status, 200) << second.body;
    const int reused = cachedTokens(second.json());
    EXPECT_GT(reused, promptTokens - 30) << "the document should come from disk";
    EXPECT_LT(reused, usage(second.json(), "prompt_tokens"));
    EXPECT_EQ(content(second), fresh);
    EXPECT_TRUE(fresh.contains(QStringLiteral("7431"))) << fresh.toStdString();
    EXPECT_EQ(restarted.health().value(QStringLiteral("prompt_cache_restored")).toInt(), 1);
    EXPECT_EQ(restarted.health().value(QStringLiteral("prompt_cache_saved")).toInt(), 0);  // already there
}

// A damaged cache file is said on stderr and the server answers without it.
TEST(Server, ADamagedPromptCacheIsSetAsideNotFatal)
{
    QTemporaryDir dir;
    const QString cache = dir.filePath(QStringLiteral("prompt-cache.sqlite"));
    {
        QFile junk(cache);
        ASSERT_TRUE(junk.open(QIODevice::WriteOnly));
        junk.write(QByteArray(8192, 'x'));
    }
    ServerProcess server;
    ASSERT_TRUE(server.start({QStringLiteral("--ctx"), QStringLiteral("2048"), QStringLiteral("--prompt-cache"), cache,
                              QStringLiteral("--prompt-cache-min"), QStringLiteral("64")}))
        << server.stderrText().toStdString();
    const HttpAnswer a = server.post("/v1/chat/completions", chatBody(sampleText(2000), QStringLiteral("Who is Ishmael?"), 4));
    ASSERT_EQ(a.status, 200) << a.body;
    EXPECT_TRUE(server.stderrText().contains(QStringLiteral("the prompt cache"))) << server.stderrText().toStdString();
    QFile after(cache);
    ASSERT_TRUE(after.open(QIODevice::ReadOnly));
    EXPECT_EQ(after.readAll(), QByteArray(8192, 'x'));  // left as it was
}

TEST(Server, RefusesPromptsOverTheContextWithBothNumbers)
{
    ServerProcess server;
    ASSERT_TRUE(server.start({})) << server.stderrText().toStdString();  // the trained 256 tokens
    const HttpAnswer a = server.post("/v1/chat/completions", chatBody(sampleText(3000), QStringLiteral("What?")));
    ASSERT_EQ(a.status, 400) << a.body;
    const QString message = errorOf(a).value(QStringLiteral("message")).toString();
    EXPECT_TRUE(message.contains(QStringLiteral("256"))) << message.toStdString();
    EXPECT_EQ(errorOf(a).value(QStringLiteral("code")).toInt(), 400);
    EXPECT_EQ(errorOf(a).value(QStringLiteral("type")).toString(), QStringLiteral("invalid_request_error"));
    const HttpAnswer tokens = server.post("/tokenize", QJsonObject{{QStringLiteral("messages"),
        chatBody(sampleText(3000), QStringLiteral("What?")).value(QStringLiteral("messages"))}});
    const QString count = QString::number(tokens.json().value(QStringLiteral("count")).toInt());
    EXPECT_TRUE(message.contains(count)) << message.toStdString() << " / " << count.toStdString();

    const HttpAnswer tooMuch = server.post("/v1/completions", completionBody(QStringLiteral("Call me Ishmael."), 500));
    ASSERT_EQ(tooMuch.status, 400) << tooMuch.body;
    EXPECT_TRUE(errorOf(tooMuch).value(QStringLiteral("message")).toString().contains(QStringLiteral("500 in the completion")));
}

TEST(Server, AnApiKeyIsRequiredWhenSetAndNeverPrinted)
{
    ServerProcess server;
    const QString key = QStringLiteral("s3cret-k3y-for-the-test");
    ASSERT_TRUE(server.start({QStringLiteral("--api-key-env"), QStringLiteral("FOLIO_TEST_SERVER_KEY")},
                             {{QStringLiteral("FOLIO_TEST_SERVER_KEY"), key}}))
        << server.stderrText().toStdString();
    const HttpAnswer none = server.get("/v1/models");
    EXPECT_EQ(none.status, 401);
    EXPECT_EQ(errorOf(none).value(QStringLiteral("type")).toString(), QStringLiteral("authentication_error"));
    EXPECT_EQ(server.get("/v1/models", "wrong").status, 401);
    EXPECT_EQ(server.get("/v1/models", key.toStdString() + "x").status, 401);
    EXPECT_EQ(server.post("/v1/completions", "{}", "").status, 401);
    EXPECT_EQ(server.get("/v1/models", key.toStdString()).status, 200);
    EXPECT_EQ(server.get("/health").status, 200);  // open, as vLLM's
    EXPECT_EQ(server.terminate(), 0);
    EXPECT_FALSE(server.stderrText().contains(key));
    EXPECT_FALSE(server.firstLine().contains(key));
}

TEST(Server, RefusesToListenBeyondLoopbackWithoutAKey)
{
    ServerProcess server;
    EXPECT_EQ(server.runToExit({QStringLiteral("--host"), QStringLiteral("0.0.0.0"), QStringLiteral("--port"), QStringLiteral("0")}), 2);
    EXPECT_TRUE(server.stderrText().contains(QStringLiteral("API key"))) << server.stderrText().toStdString();
    ServerProcess unset;
    EXPECT_EQ(unset.runToExit({QStringLiteral("--api-key-env"), QStringLiteral("FOLIO_TEST_UNSET_VARIABLE")}), 2);
    EXPECT_TRUE(unset.stderrText().contains(QStringLiteral("FOLIO_TEST_UNSET_VARIABLE"))) << unset.stderrText().toStdString();
}

TEST(Server, AFullQueueAnswers503WithRetryAfter)
{
    ServerProcess server;
    ASSERT_TRUE(server.start({QStringLiteral("--queue"), QStringLiteral("1"), QStringLiteral("--test-hooks")}))
        << server.stderrText().toStdString();
    // Held, the running generation pauses after each token: one runs, one waits.
    ASSERT_EQ(server.post("/debug/hold", R"({"hold": true})").status, 200);
    StreamAnswer running, waiting;
    std::thread a([&] { running = server.stream("/v1/completions", withStream(completionBody(QStringLiteral("Call me"), 20))); });
    ASSERT_TRUE(server.waitForHealth([](const QJsonObject& h) { return h.value(QStringLiteral("running")).toBool(); }));
    std::thread b([&] { waiting = server.stream("/v1/completions", withStream(completionBody(QStringLiteral("Call me"), 20))); });
    ASSERT_TRUE(server.waitForHealth([](const QJsonObject& h) { return h.value(QStringLiteral("queued")).toInt() == 1; }));

    const HttpAnswer busy = server.post("/v1/completions", completionBody(QStringLiteral("Call me"), 2));
    EXPECT_EQ(busy.status, 503) << busy.body;
    EXPECT_TRUE(busy.isJson());
    EXPECT_EQ(errorOf(busy).value(QStringLiteral("code")).toInt(), 503);
    ASSERT_TRUE(busy.headers.count("Retry-After"));
    EXPECT_GE(std::stoi(busy.headers.at("Retry-After")), 1);

    ASSERT_EQ(server.post("/debug/hold", R"({"hold": false})").status, 200);
    a.join();
    b.join();
    EXPECT_TRUE(running.done());
    EXPECT_TRUE(waiting.done());
    EXPECT_EQ(server.health().value(QStringLiteral("completed")).toInt(), 2);
}

// Not streamed, nothing is written until the end: a client that gives up waiting
// still cancels its generation.
TEST(Server, AClientThatLeavesBeforeAPlainReplyCancelsItsGeneration)
{
    ServerProcess server;
    ASSERT_TRUE(server.start({QStringLiteral("--test-hooks")})) << server.stderrText().toStdString();
    ASSERT_EQ(server.post("/debug/hold", R"({"hold": true})").status, 200);
    {
        httplib::Client impatient("127.0.0.1", server.port());
        impatient.set_read_timeout(1, 0);  // gives up after a second and closes the connection
        const auto reply = impatient.Post("/v1/completions",
                                          QJsonDocument(completionBody(QStringLiteral("Call me"), 200)).toJson().toStdString(),
                                          "application/json");
        EXPECT_FALSE(reply);
    }
    ASSERT_TRUE(server.waitForHealth([](const QJsonObject& h) {
        return h.value(QStringLiteral("cancelled")).toInt() == 1 && !h.value(QStringLiteral("running")).toBool();
    })) << QJsonDocument(server.health()).toJson().toStdString();
    EXPECT_EQ(server.health().value(QStringLiteral("completed")).toInt(), 0);
    ASSERT_EQ(server.post("/debug/hold", R"({"hold": false})").status, 200);
    EXPECT_EQ(server.post("/v1/completions", completionBody(QStringLiteral("Call me"), 3)).status, 200);
}

TEST(Server, AClientThatLeavesMidStreamCancelsItsGeneration)
{
    ServerProcess server;
    ASSERT_TRUE(server.start({QStringLiteral("--test-hooks")})) << server.stderrText().toStdString();
    ASSERT_EQ(server.post("/debug/hold", R"({"hold": true})").status, 200);
    // Leave after the first piece of text; held, the server cannot have finished by then.
    const StreamAnswer left = server.stream("/v1/completions", withStream(completionBody(QStringLiteral("Call me"), 200)),
                                            [](const std::string&) { return false; });
    EXPECT_EQ(left.events.size(), 1u);
    EXPECT_FALSE(left.done());
    ASSERT_TRUE(server.waitForHealth([](const QJsonObject& h) {
        return h.value(QStringLiteral("cancelled")).toInt() == 1 && !h.value(QStringLiteral("running")).toBool();
    })) << QJsonDocument(server.health()).toJson().toStdString();
    EXPECT_EQ(server.health().value(QStringLiteral("completed")).toInt(), 0);
    // And the next request is served as usual.
    ASSERT_EQ(server.post("/debug/hold", R"({"hold": false})").status, 200);
    EXPECT_EQ(server.post("/v1/completions", completionBody(QStringLiteral("Call me"), 3)).status, 200);
}

TEST(Server, BadRequestsGetOpenAiShapedErrors)
{
    ServerProcess server;
    ASSERT_TRUE(server.start({QStringLiteral("--max-body"), QStringLiteral("1")})) << server.stderrText().toStdString();
    struct Case {
        const char* path;
        std::string body;
        int status;
        const char* param;
    } cases[] = {
        {"/v1/chat/completions", "{\"messages\": [", 400, nullptr},
        {"/v1/chat/completions", "[1, 2]", 400, nullptr},
        {"/v1/chat/completions", "{}", 400, "messages"},
        {"/v1/chat/completions", R"({"messages": "hello"})", 400, "messages"},
        {"/v1/chat/completions", R"({"messages": [{"role": "king", "content": "x"}]})", 400, "messages[0].role"},
        {"/v1/chat/completions", R"({"messages": [{"role": "user", "content": "x"}], "max_tokens": "9"})", 400, "max_tokens"},
        {"/v1/chat/completions", R"({"messages": [{"role": "user", "content": "x"}], "max_tokens": 1.5})", 400, "max_tokens"},
        {"/v1/chat/completions", R"({"messages": [{"role": "user", "content": "x"}], "temperature": 9})", 400, "temperature"},
        {"/v1/chat/completions", R"({"messages": [{"role": "user", "content": "x"}], "stop": [1]})", 400, "stop[0]"},
        {"/v1/chat/completions", R"({"messages": [{"role": "user", "content": "x"}], "model": "gpt-4"})", 404, "model"},
        {"/v1/completions", R"({"prompt": 7})", 400, "prompt"},
        {"/v1/completions", R"({"prompt": [1, 99999]})", 400, "prompt"},
        {"/v1/completions", R"({"prompt": ""})", 400, "prompt"},
        {"/tokenize", R"({"content": 5})", 400, "content"},
        {"/v1/nothing", "{}", 404, nullptr},
        {"/v1/completions", "{\"prompt\": \"" + std::string(2u << 20, 'a') + "\"}", 413, nullptr},
    };
    for (const Case& c : cases) {
        const HttpAnswer a = server.post(c.path, c.body);
        const std::string what = std::string(c.path) + " " + c.body.substr(0, 80);
        EXPECT_EQ(a.status, c.status) << what << " -> " << a.body;
        ASSERT_TRUE(a.isJson()) << what << " -> " << a.body;
        const QJsonObject e = errorOf(a);
        EXPECT_FALSE(e.value(QStringLiteral("message")).toString().isEmpty()) << what;
        EXPECT_FALSE(e.value(QStringLiteral("type")).toString().isEmpty()) << what;
        EXPECT_EQ(e.value(QStringLiteral("code")).toInt(), c.status) << what;
        if (c.param) {
            EXPECT_EQ(e.value(QStringLiteral("param")).toString(), QLatin1String(c.param)) << what;
        }
    }
    EXPECT_EQ(server.get("/health").status, 200);
}

TEST(Server, ShortRequestsAreReadAsTrainedAndAForcedExtensionAppliesToAll)
{
    ServerProcess plain;
    ASSERT_TRUE(plain.start({QStringLiteral("--ctx"), QStringLiteral("1024")})) << plain.stderrText().toStdString();
    ASSERT_EQ(plain.post("/v1/completions", completionBody(QStringLiteral("Call me Ishmael."), 3)).status, 200);
    EXPECT_FALSE(plain.health().value(QStringLiteral("extension")).toString().contains(QStringLiteral("DCA")));

    ServerProcess yarn;
    ASSERT_TRUE(yarn.start({QStringLiteral("--ctx"), QStringLiteral("1024"), QStringLiteral("--rope-scaling"), QStringLiteral("yarn")}))
        << yarn.stderrText().toStdString();
    ASSERT_EQ(yarn.post("/v1/completions", completionBody(QStringLiteral("Call me Ishmael."), 3)).status, 200);
    const QString extension = yarn.health().value(QStringLiteral("extension")).toString();
    EXPECT_TRUE(extension.contains(QStringLiteral("YaRN x4"))) << extension.toStdString();
}
