// Folio's remote backend (app/remote) against folio-server on 127.0.0.1: the whole
// path a user takes with "Server" chosen, over real HTTP, with the bundled demo model
// reading the bundled sample (2.5K tokens, ten times its training length: DCA).
#include "server_process.h"
#include "support/wait_until.h"

#include "app/remote/openai_client.h"
#include "app/remote/remote_reading.h"
#include "app/store/database.h"
#include "app/store/library_store.h"

#include <QCoreApplication>
#include <QJsonDocument>
#include <QTemporaryDir>

#include <gtest/gtest.h>

namespace folio {
namespace {

using test::ServerProcess;

const QString kSample = QStringLiteral(FOLIO_SOURCE_DIR) + QStringLiteral("/resources/samples/moby-dick-planted-facts.txt");

struct Asked {
    std::optional<RemoteAnswer> answer;
    std::optional<RemoteReading::Failure> failure;
    QString message;
    RemoteAnswer kept;
    int budgetTokens = -1, budgetContext = -1;
    bool estimated = true;
};

Asked ask(const QString& address, const QString& key, const QString& db, const QString& question, qint64 conversation = 0)
{
    RemoteReading reading(ServerProfile{address, QString(), 120}, key, db);
    Asked result;
    bool done = false;
    QObject::connect(&reading, &RemoteReading::budget, [&](int tokens, bool estimated, int context) {
        result.budgetTokens = tokens;
        result.estimated = estimated;
        result.budgetContext = context;
    });
    QObject::connect(&reading, &RemoteReading::finished, [&](const RemoteAnswer& a) {
        result.answer = a;
        done = true;
    });
    QObject::connect(&reading, &RemoteReading::failed, [&](RemoteReading::Failure f, const QString& m, const RemoteAnswer& kept) {
        result.failure = f;
        result.message = m;
        result.kept = kept;
        done = true;
    });
    reading.ask(kSample, question, conversation, 16, 0.0);
    EXPECT_TRUE(test::waitUntil([&] { return done; }, 120000));
    return result;
}

TEST(RemoteBackend, AsksFolioServerAboutTheWholeBookCountedByTheServerAndStored)
{
    QTemporaryDir dir;
    const QString db = dir.filePath(QStringLiteral("library.sqlite"));
    ServerProcess server;
    ASSERT_TRUE(server.start({QStringLiteral("--ctx"), QStringLiteral("4096"), QStringLiteral("--api-key-env"),
                              QStringLiteral("FOLIO_TEST_SERVER_KEY")},
                             {{QStringLiteral("FOLIO_TEST_SERVER_KEY"), QStringLiteral("sk-loopback-test")}}))
        << server.stderrText().toStdString();
    const QString address = QStringLiteral("http://127.0.0.1:%1/v1").arg(server.port());

    const Asked first = ask(address, QStringLiteral("sk-loopback-test"), db, QStringLiteral("What is the secret word?"));
    ASSERT_TRUE(first.answer) << first.message.toStdString();
    EXPECT_TRUE(first.answer->text.contains(QLatin1String("juniper"))) << first.answer->text.toStdString();
    EXPECT_FALSE(first.estimated);  // folio-server has /tokenize
    EXPECT_EQ(first.budgetContext, 4096);
    EXPECT_GT(first.budgetTokens, 2000);

    // A follow-up in the same conversation: the document prefix is the server's cache.
    const Asked second = ask(address, QStringLiteral("sk-loopback-test"), db, QStringLiteral("What is the key to the blue cabinet?"),
                             first.answer->conversationId);
    ASSERT_TRUE(second.answer) << second.message.toStdString();
    EXPECT_TRUE(second.answer->text.contains(QLatin1String("7431"))) << second.answer->text.toStdString();
    EXPECT_GT(server.health().value(QStringLiteral("prompt_tokens_reused")).toInt(), 2000)
        << QJsonDocument(server.health()).toJson().toStdString();

    Database database(db);
    LibraryStore store(database);
    EXPECT_EQ(store.messages(first.answer->conversationId).size(), 4);
    EXPECT_TRUE(store.conversation(first.answer->conversationId).modelFingerprint.contains(address));

    // The wrong key: the server's 401, told with its status.
    const Asked refused = ask(address, QStringLiteral("sk-wrong"), db, QStringLiteral("What is the pass key?"));
    ASSERT_TRUE(refused.failure);
    EXPECT_EQ(*refused.failure, RemoteReading::Failure::Server);
    EXPECT_TRUE(refused.message.contains(QLatin1String("HTTP 401"))) << refused.message.toStdString();
    EXPECT_FALSE(refused.message.contains(QLatin1String("sk-wrong")));
}

TEST(RemoteBackend, ABookLongerThanTheServersContextIsRefusedBeforeSending)
{
    QTemporaryDir dir;
    ServerProcess server;
    ASSERT_TRUE(server.start({QStringLiteral("--ctx"), QStringLiteral("1024")})) << server.stderrText().toStdString();
    const Asked result = ask(QStringLiteral("http://127.0.0.1:%1").arg(server.port()), {},
                             dir.filePath(QStringLiteral("library.sqlite")), QStringLiteral("What is the secret word?"));
    ASSERT_TRUE(result.failure);
    EXPECT_EQ(*result.failure, RemoteReading::Failure::TooLong);
    EXPECT_TRUE(result.message.contains(QLatin1String("1024 tokens"))) << result.message.toStdString();
    EXPECT_EQ(server.health().value(QStringLiteral("completed")).toInt(), 0);
}

TEST(RemoteBackend, CancelStopsTheServersGenerationAndAKilledServerLeavesAnInterruptedStream)
{
    ServerProcess server;
    ASSERT_TRUE(server.start({QStringLiteral("--test-hooks")})) << server.stderrText().toStdString();
    ASSERT_EQ(server.post("/debug/hold", R"({"hold": true})").status, 200);  // a token at a time, until told
    OpenAiClient client(*ServerEndpoint::parse(QStringLiteral("http://127.0.0.1:%1/v1").arg(server.port())), {});
    ChatRequest request;
    request.messages = {{QStringLiteral("user"), QStringLiteral("Call me")}};
    request.maxTokens = 200;
    // Greedy: a sampled first token can be the start of a stop string, which the server
    // holds back, and held (a token at a time) it would then never send a first delta.
    request.temperature = 0;

    for (const bool kill : {false, true}) {
        SCOPED_TRACE(kill ? "killed" : "cancelled");
        ChatStream* stream = client.chat(request);
        QString text;
        std::optional<RemoteError> error;
        bool ended = false;
        QObject::connect(stream, &ChatStream::delta, [&](const QString& piece) {
            const bool first = text.isEmpty();
            text += piece;
            if (first && !kill)
                stream->cancel();
            if (first && kill)
                server.kill();
        });
        QObject::connect(stream, &ChatStream::finished, [&] { ended = true; });
        QObject::connect(stream, &ChatStream::failed, [&](const RemoteError& e) {
            error = e;
            ended = true;
        });
        stream->start();
        ASSERT_TRUE(test::waitUntil([&] { return ended; }, 120000));
        ASSERT_TRUE(error);
        EXPECT_FALSE(text.isEmpty());
        EXPECT_EQ(stream->text(), text);
        if (!kill) {
            EXPECT_EQ(error->kind, RemoteError::Kind::Cancelled);
            // The server saw the client leave and cancelled its generation.
            EXPECT_TRUE(server.waitForHealth([](const QJsonObject& h) { return h.value(QStringLiteral("cancelled")).toInt() == 1; }));
        } else {
            EXPECT_EQ(error->kind, RemoteError::Kind::Interrupted) << error->message().toStdString();
        }
    }
}

} // namespace
} // namespace folio
