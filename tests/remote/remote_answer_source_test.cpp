// The chat's view of a server: RemoteAnswerSource (RemoteReading on its own thread)
// against a scripted server, with a real SQLite file.
#include "fake_http_server.h"

#include "app/documents/document_loader.h"
#include "app/remote/remote_answer_source.h"
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

QByteArray chunk(const char* content)
{
    return QByteArray("data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"") + content + "\"}}]}\n\n";
}

struct Events {
    QString tokens, answer;
    QVector<EvidencePage> evidence;
    qint64 conversation = 0;
    std::optional<AnswerErrorKind> failure;
    bool cancelled = false, ended = false;
};

void follow(RemoteAnswerSource& source, Events& e, const std::function<void()>& onFirstToken = {})
{
    QObject::connect(&source, &AnswerSource::token, [&e, onFirstToken](quint64, const QString& t) {
        if (e.tokens.isEmpty() && onFirstToken)
            onFirstToken();
        e.tokens += t;
    });
    QObject::connect(&source, &AnswerSource::conversationSaved, [&e](quint64, qint64 id) { e.conversation = id; });
    QObject::connect(&source, &AnswerSource::answered, [&e](quint64, const AnswerOutcome& outcome) {
        e.answer = outcome.text;
        e.evidence = outcome.evidence;
        e.ended = true;
    });
    QObject::connect(&source, &AnswerSource::failed, [&e](quint64, AnswerErrorKind kind, const QString&) {
        e.failure = kind;
        e.ended = true;
    });
    QObject::connect(&source, &AnswerSource::cancelled, [&e](quint64) {
        e.cancelled = true;
        e.ended = true;
    });
}

struct Fixture {
    QTemporaryDir dir;
    std::shared_ptr<const Document> document;
    QString database;
    Fixture()
    {
        const QString path = dir.filePath(QStringLiteral("note.txt"));
        QFile file(path);
        file.open(QIODevice::WriteOnly);
        file.write("The keeper said the secret word is juniper and then climbed down the lighthouse stairs.\n");
        file.close();
        document = std::make_shared<const Document>(DocumentLoader::load(path));
        database = dir.filePath(QStringLiteral("library.sqlite"));
    }
};

TEST(RemoteAnswerSource, StreamsTokensThenTheStoredAnswerWithItsEvidence)
{
    Fixture f;
    FakeHttpServer server([](const FakeRequest& r) {
        if (r.path == "/v1/models")
            return FakeReply::http(200, R"({"data":[{"id":"reader","max_model_len":8192}]})");
        if (r.path == "/tokenize")
            return FakeReply::http(200, R"({"count":30})");
        return FakeReply::stream({chunk("the secret word is juniper "), chunk("[§ 1]"), "data: [DONE]\n\n"}, 5);
    });
    RemoteAnswerSource source(f.database);
    source.setServer(ServerProfile{server.url(), QString(), 30}, QString());
    Events e;
    follow(source, e);
    AnswerRequest request;
    request.document = f.document;
    request.question = QStringLiteral("What is the secret word?");
    source.ask(request);
    EXPECT_TRUE(source.isBusy());
    ASSERT_TRUE(test::waitUntil([&] { return e.ended; }));
    EXPECT_FALSE(e.failure);
    EXPECT_EQ(e.tokens, QStringLiteral("the secret word is juniper [§ 1]"));
    EXPECT_EQ(e.answer, e.tokens);
    ASSERT_GT(e.conversation, 0);
    ASSERT_FALSE(e.evidence.isEmpty());
    EXPECT_EQ(e.evidence[0].source, EvidenceSource::Citation);
    EXPECT_FALSE(source.isBusy());

    Database db(f.database);
    LibraryStore store(db);
    const QVector<MessageRecord> messages = store.messages(e.conversation);
    ASSERT_EQ(messages.size(), 2);
    EXPECT_EQ(messages[1].evidence, e.evidence);  // the source survives the store
}

TEST(RemoteAnswerSource, StopKeepsWhatWasWrittenAsTheAnswerMarkedInterrupted)
{
    Fixture f;
    QList<QByteArray> pieces{chunk("The keeper ")};
    for (int i = 0; i < 40; ++i)
        pieces.append(chunk("climbed "));
    pieces.append("data: [DONE]\n\n");
    FakeHttpServer server([&](const FakeRequest& r) {
        if (r.path == "/v1/models")
            return FakeReply::http(200, R"({"data":[{"id":"reader","max_model_len":8192}]})");
        if (r.path == "/tokenize")
            return FakeReply::http(200, R"({"count":30})");
        return FakeReply::stream(pieces, 100);
    });
    RemoteAnswerSource source(f.database);
    source.setServer(ServerProfile{server.url(), QString(), 30}, QString());
    Events e;
    quint64 id = 0;
    follow(source, e, [&] { source.stop(id); });
    AnswerRequest request;
    request.document = f.document;
    request.question = QStringLiteral("Who climbed?");
    id = source.ask(request);
    ASSERT_TRUE(test::waitUntil([&] { return e.ended; }));
    EXPECT_FALSE(e.failure);
    EXPECT_FALSE(e.cancelled);
    EXPECT_TRUE(e.answer.startsWith(QLatin1String("The keeper"))) << e.answer.toStdString();
    ASSERT_GT(e.conversation, 0);
    Database db(f.database);
    LibraryStore store(db);
    const QVector<MessageRecord> messages = store.messages(e.conversation);
    ASSERT_EQ(messages.size(), 2);
    EXPECT_TRUE(messages[1].interrupted);
}

TEST(RemoteAnswerSource, WithoutAServerOrWhileBusyAQuestionIsRefusedNotLost)
{
    Fixture f;
    RemoteAnswerSource source(f.database);
    Events e;
    follow(source, e);
    AnswerRequest request;
    request.document = f.document;
    request.question = QStringLiteral("Anything?");
    source.ask(request);
    ASSERT_TRUE(test::waitUntil([&] { return e.ended; }));
    EXPECT_EQ(e.failure, AnswerErrorKind::Server);
}

// Answer again through a server: the last question is sent once more from the turns
// before it (not with its earlier answer), and the new answer is stored after the
// earlier one, which stays; a follow-up then carries the newest answer.
TEST(RemoteAnswerSource, AnsweringAgainResendsTheTurnsBeforeTheQuestionAndKeepsBothAnswers)
{
    Fixture f;
    int answers = 0;
    QList<QJsonArray> sent;
    FakeHttpServer server([&](const FakeRequest& r) {
        if (r.path == "/v1/models")
            return FakeReply::http(200, R"({"data":[{"id":"reader","max_model_len":8192}]})");
        if (r.path == "/tokenize")
            return FakeReply::http(200, R"({"count":30})");
        sent.append(QJsonDocument::fromJson(r.body).object().value(QStringLiteral("messages")).toArray());
        ++answers;
        return FakeReply::stream({chunk(answers == 1 ? "juniper" : answers == 2 ? "juniper, said the keeper" : "down the stairs"),
                                  "data: [DONE]\n\n"});
    });
    RemoteAnswerSource source(f.database);
    source.setServer(ServerProfile{server.url(), QString(), 30}, QString());
    auto ask = [&](const QString& question, qint64 conversation, bool again) {
        Events e;
        follow(source, e);
        AnswerRequest request;
        request.document = f.document;
        request.question = question;
        request.conversationId = conversation;
        request.again = again;
        source.ask(request);
        EXPECT_TRUE(test::waitUntil([&] { return e.ended; }));
        source.disconnect();
        EXPECT_FALSE(e.failure);
        return e;
    };
    const Events first = ask(QStringLiteral("What is the secret word?"), 0, false);
    ASSERT_GT(first.conversation, 0);
    const Events again = ask(QStringLiteral("What is the secret word?"), first.conversation, true);
    EXPECT_EQ(again.answer, QStringLiteral("juniper, said the keeper"));
    EXPECT_EQ(again.conversation, first.conversation);
    ask(QStringLiteral("Where did the keeper go?"), first.conversation, false);

    ASSERT_EQ(sent.size(), 3);
    auto roles = [](const QJsonArray& messages) {
        QStringList out;
        for (const QJsonValue& m : messages)
            out << m.toObject().value(QStringLiteral("role")).toString();
        return out.join(QLatin1Char(' '));
    };
    EXPECT_EQ(roles(sent[1]).toStdString(), "system user");  // not with the earlier answer
    EXPECT_EQ(sent[1].last().toObject().value(QStringLiteral("content")).toString(), QStringLiteral("What is the secret word?"));
    EXPECT_EQ(roles(sent[2]).toStdString(), "system user assistant user");
    EXPECT_EQ(sent[2][2].toObject().value(QStringLiteral("content")).toString(), QStringLiteral("juniper, said the keeper"));
    EXPECT_EQ(sent[0][0], sent[2][0]);  // the document: the same bytes every time

    Database db(f.database);
    LibraryStore store(db);
    const QVector<MessageRecord> messages = store.messages(first.conversation);
    ASSERT_EQ(messages.size(), 5);  // question, answer, its second answer, question, answer
    EXPECT_EQ(messages[1].text, QStringLiteral("juniper"));
    EXPECT_EQ(messages[2].role, MessageRole::Assistant);
    EXPECT_EQ(messages[2].text, QStringLiteral("juniper, said the keeper"));
}

} // namespace
} // namespace folio
