// A question about a document answered by a (scripted) server, through RemoteReading
// and a real SQLite file: stored like a local answer, the document resent as the same
// prefix, refused before sending when it does not fit, kept when the stream breaks.
#include "fake_http_server.h"

#include "app/remote/remote_reading.h"
#include "app/store/database.h"
#include "app/store/library_store.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>

#include <gtest/gtest.h>

namespace folio {
namespace {

using test::FakeHttpServer;
using test::FakeReply;
using test::FakeRequest;

QByteArray chunk(const QString& content)
{
    const QJsonObject object{{QStringLiteral("choices"),
                              QJsonArray{QJsonObject{{QStringLiteral("index"), 0},
                                                     {QStringLiteral("delta"), QJsonObject{{QStringLiteral("content"), content}}}}}}};
    return "data: " + QJsonDocument(object).toJson(QJsonDocument::Compact) + "\n\n";
}

struct Fixture {
    QTemporaryDir dir;
    QString document, database;
    Fixture()
    {
        document = dir.filePath(QStringLiteral("ledger.txt"));
        database = dir.filePath(QStringLiteral("library.sqlite"));
        QFile file(document);
        file.open(QIODevice::WriteOnly);
        file.write("The harbour was quiet that spring.\n\nMartha climbed the narrow stairs and hid the ledger in the "
                   "bell tower before the storm broke over the town.\n\nNobody asked about it again.\n");
    }
};

struct Result {
    std::optional<RemoteAnswer> answer;
    std::optional<RemoteReading::Failure> failure;
    QString message;
    RemoteAnswer kept;
    QString streamed;
};

Result ask(RemoteReading& reading, const Fixture& f, const QString& question, qint64 conversation = 0)
{
    Result result;
    bool done = false;
    QObject::connect(&reading, &RemoteReading::delta, [&](const QString& t) { result.streamed += t; });
    QObject::connect(&reading, &RemoteReading::finished, [&](const RemoteAnswer& a) {
        result.answer = a;
        done = true;
    });
    QObject::connect(&reading, &RemoteReading::failed, [&](RemoteReading::Failure failure, const QString& m, const RemoteAnswer& kept) {
        result.failure = failure;
        result.message = m;
        result.kept = kept;
        done = true;
    });
    reading.ask(f.document, question, conversation);
    EXPECT_TRUE(test::waitUntil([&] { return done; }));
    reading.disconnect();
    return result;
}

FakeReply models(int context)
{
    return FakeReply::http(200, QByteArray(R"({"data":[{"id":"reader","object":"model","max_model_len":)")
                                    + QByteArray::number(context) + "}]}");
}

TEST(RemoteReading, AnswersAreStoredAndFollowUpsResendTheSameDocumentPrefix)
{
    Fixture f;
    QList<QByteArray> chatBodies;
    FakeHttpServer server([&](const FakeRequest& r) {
        if (r.path == "/v1/models")
            return models(32768);
        if (r.path == "/tokenize")
            return FakeReply::http(200, R"({"count":120})");
        chatBodies.append(r.body);
        return FakeReply::stream({chunk(QStringLiteral("In the bell tower ")), chunk(QStringLiteral("[§ 1].")),
                                  "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n",
                                  "data: [DONE]\n\n"});
    });
    RemoteReading reading(ServerProfile{server.url(QStringLiteral("/v1")), QString(), 30}, QString(), f.database);
    const Result first = ask(reading, f, QStringLiteral("Where did Martha hide the ledger?"));
    ASSERT_TRUE(first.answer) << first.message.toStdString();
    EXPECT_EQ(first.answer->text, QStringLiteral("In the bell tower [§ 1]."));
    EXPECT_EQ(first.streamed, first.answer->text);
    EXPECT_FALSE(first.answer->promptTokensEstimated);
    ASSERT_FALSE(first.answer->evidence.isEmpty());
    EXPECT_EQ(first.answer->evidence[0].kind, TextEvidence::Kind::Citation);

    const Result second = ask(reading, f, QStringLiteral("And before what?"), first.answer->conversationId);
    ASSERT_TRUE(second.answer) << second.message.toStdString();
    EXPECT_EQ(second.answer->conversationId, first.answer->conversationId);

    ASSERT_EQ(chatBodies.size(), 2);
    const QJsonArray one = QJsonDocument::fromJson(chatBodies[0]).object().value(QLatin1String("messages")).toArray();
    const QJsonArray two = QJsonDocument::fromJson(chatBodies[1]).object().value(QLatin1String("messages")).toArray();
    ASSERT_EQ(one.size(), 2);
    ASSERT_EQ(two.size(), 4);  // document, question, answer, question
    EXPECT_EQ(one[0], two[0]);  // the same prefix, byte for byte
    EXPECT_TRUE(one[0].toObject().value(QLatin1String("content")).toString().contains(QLatin1String("bell tower")));
    EXPECT_EQ(two[2].toObject().value(QLatin1String("content")).toString(), first.answer->text);

    Database db(f.database);
    LibraryStore store(db);
    const ConversationRecord conversation = store.conversation(first.answer->conversationId);
    EXPECT_TRUE(conversation.modelFingerprint.contains(server.url(QStringLiteral("/v1"))));
    EXPECT_TRUE(conversation.modelFingerprint.contains(QLatin1String("reader")));
    const QVector<MessageRecord> messages = store.messages(conversation.id);
    ASSERT_EQ(messages.size(), 4);
    EXPECT_EQ(messages[1].text, first.answer->text);
    EXPECT_FALSE(messages[1].interrupted);
}

TEST(RemoteReading, ADocumentThatDoesNotFitIsRefusedBeforeAnythingIsSent)
{
    Fixture f;
    bool chatAsked = false;
    FakeHttpServer server([&](const FakeRequest& r) {
        if (r.path == "/v1/models")
            return models(300);
        if (r.path == "/tokenize")
            return FakeReply::http(200, R"({"count":250})");
        chatAsked = true;
        return FakeReply::http(500, "{}");
    });
    RemoteReading reading(ServerProfile{server.url(), QString(), 30}, QString(), f.database);
    const Result result = ask(reading, f, QStringLiteral("Where is the ledger?"));
    ASSERT_TRUE(result.failure);
    EXPECT_EQ(*result.failure, RemoteReading::Failure::TooLong);
    EXPECT_TRUE(result.message.contains(QLatin1String("300"))) << result.message.toStdString();
    EXPECT_TRUE(result.message.contains(QLatin1String("counted by the server")));
    EXPECT_FALSE(chatAsked);
    EXPECT_EQ(result.kept.conversationId, 0);
}

TEST(RemoteReading, ABrokenStreamKeepsTheQuestionAndThePartialAnswerMarkedInterrupted)
{
    Fixture f;
    FakeHttpServer server([&](const FakeRequest& r) {
        if (r.path == "/v1/models")
            return models(32768);
        if (r.path == "/tokenize")
            return FakeReply::http(404, "404 page not found", {}, "text/plain");
        return FakeReply::stream({chunk(QStringLiteral("Martha hid the ledger in the bell tower before the storm"))});
    });
    RemoteReading reading(ServerProfile{server.url(), QString(), 30}, QString(), f.database);
    const Result result = ask(reading, f, QStringLiteral("Where is the ledger?"));
    ASSERT_TRUE(result.failure);
    EXPECT_EQ(*result.failure, RemoteReading::Failure::Server);
    EXPECT_TRUE(result.message.contains(QLatin1String("[DONE]"))) << result.message.toStdString();
    ASSERT_GT(result.kept.conversationId, 0);
    EXPECT_TRUE(result.kept.interrupted);
    EXPECT_TRUE(result.kept.promptTokensEstimated);
    ASSERT_FALSE(result.kept.evidence.isEmpty());
    EXPECT_EQ(result.kept.evidence[0].kind, TextEvidence::Kind::TextMatch);

    Database db(f.database);
    LibraryStore store(db);
    const QVector<MessageRecord> messages = store.messages(result.kept.conversationId);
    ASSERT_EQ(messages.size(), 2);
    EXPECT_EQ(messages[0].text, QStringLiteral("Where is the ledger?"));
    EXPECT_TRUE(messages[1].interrupted);
    EXPECT_TRUE(messages[1].text.startsWith(QLatin1String("Martha hid")));
}

} // namespace
} // namespace folio
