// folio-cli models and ask --endpoint against a scripted server: what scripts and users see.
#include "fake_http_server.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QProcessEnvironment>
#include <QFile>
#include <QTemporaryDir>

#include <gtest/gtest.h>

namespace folio {
namespace {

using test::FakeHttpServer;
using test::FakeReply;
using test::FakeRequest;

struct CliRun {
    int exitCode = -1;
    QString out, err;
};

CliRun runCli(const QStringList& arguments, const QProcessEnvironment& env = QProcessEnvironment::systemEnvironment())
{
    QProcess process;
    process.setProcessEnvironment(env);
    process.start(QStringLiteral(FOLIO_CLI_PATH), arguments);
    // The scripted server lives on this thread: keep its event loop turning.
    EXPECT_TRUE(test::waitUntil([&] { return process.state() == QProcess::NotRunning; }, 60000));
    return {process.exitCode(), QString::fromUtf8(process.readAllStandardOutput()),
            QString::fromUtf8(process.readAllStandardError())};
}

TEST(CliModels, ListsModelsAsJsonWithTheKeyFromTheEnvironment)
{
    FakeHttpServer server([](const FakeRequest& r) {
        if (r.headers.value("authorization") != "Bearer sk-from-env")
            return FakeReply::http(401, R"({"error":"Unauthorized"})");
        return FakeReply::http(200, R"({"data":[{"id":"qwen","object":"model","max_model_len":32768},{"id":"other","object":"model"}]})");
    });
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("FOLIO_TEST_KEY"), QStringLiteral("sk-from-env"));
    const CliRun run = runCli({QStringLiteral("models"), QStringLiteral("--endpoint"), server.url(QStringLiteral("/v1")),
                            QStringLiteral("--api-key-env"), QStringLiteral("FOLIO_TEST_KEY"), QStringLiteral("--json")},
                           env);
    ASSERT_EQ(run.exitCode, 0) << run.err.toStdString();
    const QJsonArray models = QJsonDocument::fromJson(run.out.toUtf8()).array();
    ASSERT_EQ(models.size(), 2) << run.out.toStdString();
    EXPECT_EQ(models[0].toObject().value(QLatin1String("id")).toString(), QStringLiteral("qwen"));
    EXPECT_EQ(models[0].toObject().value(QLatin1String("context_length")).toInt(), 32768);
    EXPECT_TRUE(models[1].toObject().value(QLatin1String("context_length")).isNull());
    EXPECT_FALSE(run.out.contains(QLatin1String("sk-from-env")));
    EXPECT_FALSE(run.err.contains(QLatin1String("sk-from-env")));
}

TEST(CliModels, AServerThatRefusesIsExitThreeWithTheStatusAndItsMessage)
{
    FakeHttpServer server([](const FakeRequest&) {
        return FakeReply::http(401, R"({"error":{"code":401,"message":"Invalid API Key","type":"authentication_error"}})");
    });
    const QString url = server.url(QStringLiteral("/v1"));
    const CliRun run = runCli({QStringLiteral("models"), QStringLiteral("--endpoint"), url});
    EXPECT_EQ(run.exitCode, 3);
    EXPECT_EQ(run.err.trimmed(), QStringLiteral("error: %1: HTTP 401: Invalid API Key").arg(url));
}

TEST(CliModels, WrongUsageIsExitTwo)
{
    EXPECT_EQ(runCli({QStringLiteral("models")}).exitCode, 2);
    EXPECT_EQ(runCli({QStringLiteral("models"), QStringLiteral("--endpoint"), QStringLiteral("localhost:8080")}).exitCode, 2);
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.remove(QStringLiteral("FOLIO_UNSET_KEY"));
    const CliRun run = runCli({QStringLiteral("models"), QStringLiteral("--endpoint"), QStringLiteral("http://127.0.0.1:9/v1"),
                            QStringLiteral("--api-key-env"), QStringLiteral("FOLIO_UNSET_KEY")},
                           env);
    EXPECT_EQ(run.exitCode, 2);
    EXPECT_TRUE(run.err.contains(QLatin1String("FOLIO_UNSET_KEY")));
}

TEST(CliRemoteAsk, StreamsTheAnswerStoresItAndTellsTooLongAndServerFaultsByExitCode)
{
    QTemporaryDir dir;
    const QString doc = dir.filePath(QStringLiteral("note.txt"));
    const QString db = dir.filePath(QStringLiteral("library.sqlite"));
    {
        QFile file(doc);
        ASSERT_TRUE(file.open(QIODevice::WriteOnly));
        file.write("The secret word is juniper, said the keeper of the lighthouse to nobody at all.\n");
    }
    int context = 32768;
    bool broken = false;
    FakeHttpServer server([&](const FakeRequest& r) {
        if (r.path == "/v1/models")
            return FakeReply::http(200, QByteArray(R"({"data":[{"id":"reader","max_model_len":)") + QByteArray::number(context) + "}]}");
        if (r.path == "/tokenize")
            return FakeReply::http(200, R"({"count":40})");
        if (broken)
            return FakeReply::http(503, R"({"error":{"message":"model is loading","code":503}})");
        return FakeReply::stream({"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"juniper\"}}]}\n\n",
                                  "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n",
                                  "data: [DONE]\n\n"});
    });
    const QString url = server.url(QStringLiteral("/v1"));
    const QStringList ask = {QStringLiteral("ask"), QStringLiteral("--endpoint"), url, QStringLiteral("--doc"), doc,
                             QStringLiteral("--db"), db, QStringLiteral("What is the secret word?")};
    CliRun run = runCli(ask);
    ASSERT_EQ(run.exitCode, 0) << run.err.toStdString();
    EXPECT_TRUE(run.out.startsWith(QLatin1String("juniper"))) << run.out.toStdString();
    EXPECT_TRUE(run.out.contains(QLatin1String("Conversation: 1")));
    run = runCli({QStringLiteral("conversations"), QStringLiteral("--db"), db});
    EXPECT_EQ(run.exitCode, 0);
    EXPECT_TRUE(run.out.contains(QLatin1String("What is the secret word?"))) << run.out.toStdString();

    context = 60;  // 40 + 8 per message + room for the answer do not fit
    run = runCli(ask);
    EXPECT_EQ(run.exitCode, 4);
    EXPECT_TRUE(run.err.contains(QLatin1String("56 tokens"))) << run.err.toStdString();
    EXPECT_TRUE(run.err.contains(QLatin1String("60 tokens"))) << run.err.toStdString();

    context = 32768;
    broken = true;
    run = runCli(ask);
    EXPECT_EQ(run.exitCode, 3);
    EXPECT_TRUE(run.err.contains(QStringLiteral("error: %1: HTTP 503: model is loading").arg(url))) << run.err.toStdString();
}

} // namespace
} // namespace folio
