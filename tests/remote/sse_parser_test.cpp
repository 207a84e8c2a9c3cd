#include "app/remote/server_endpoint.h"
#include "app/remote/sse_parser.h"

#include <gtest/gtest.h>

namespace folio {
namespace {

QList<SseEvent> parseInPieces(const QByteArray& stream, const QList<qsizetype>& cuts)
{
    SseParser parser;
    QList<SseEvent> events;
    qsizetype at = 0;
    for (qsizetype cut : cuts) {
        parser.feed(stream.mid(at, cut - at), events);
        at = cut;
    }
    parser.feed(stream.mid(at), events);
    return events;
}

// What llama.cpp's and vLLM's servers send, with every line-end style and a comment.
const QByteArray kStream = "data: {\"a\":1}\n\n"
                           ": keep-alive\r\n\r\n"
                           "event: delta\r\ndata: line one\r\ndata: line two\r\n\r\n"
                           "data:no-space\r\r"
                           "error: {\"code\":500,\"message\":\"boom\"}\n\n"
                           "data: [DONE]\n\n";

void expectWhole(const QList<SseEvent>& events)
{
    ASSERT_EQ(events.size(), 5);
    EXPECT_EQ(events[0].data.toStdString(), "{\"a\":1}");
    EXPECT_TRUE(events[0].name.isEmpty());
    EXPECT_EQ(events[1].name.toStdString(), "delta");
    EXPECT_EQ(events[1].data.toStdString(), "line one\nline two");
    EXPECT_EQ(events[2].data.toStdString(), "no-space");
    EXPECT_EQ(events[3].name.toStdString(), "error");
    EXPECT_EQ(events[3].data.toStdString(), "{\"code\":500,\"message\":\"boom\"}");
    EXPECT_EQ(events[4].data.toStdString(), "[DONE]");
}

TEST(SseParser, WholeStreamInOneRead)
{
    expectWhole(parseInPieces(kStream, {}));
}

TEST(SseParser, EverySplitIntoTwoReadsGivesTheSameEvents)
{
    for (qsizetype cut = 0; cut <= kStream.size(); ++cut) {
        SCOPED_TRACE(cut);
        expectWhole(parseInPieces(kStream, {cut}));
    }
}

TEST(SseParser, EverySplitIntoThreeReadsGivesTheSameEvents)
{
    for (qsizetype a = 0; a <= kStream.size(); ++a)
        for (qsizetype b = a; b <= kStream.size(); b += 3) {
            SCOPED_TRACE((QByteArray::number(a) + "," + QByteArray::number(b)).toStdString());
            expectWhole(parseInPieces(kStream, {a, b}));
        }
}

TEST(SseParser, OneByteAtATime)
{
    QList<qsizetype> cuts;
    for (qsizetype i = 1; i < kStream.size(); ++i)
        cuts.append(i);
    expectWhole(parseInPieces(kStream, cuts));
}

TEST(SseParser, AnUnfinishedEventIsHeldNotEmitted)
{
    SseParser parser;
    QList<SseEvent> events;
    parser.feed("data: {\"a\":1}\n\ndata: {\"cho", events);
    EXPECT_EQ(events.size(), 1);
    EXPECT_TRUE(parser.holdsPartialEvent());
    parser.feed("ices\":[]}\n", events);
    EXPECT_EQ(events.size(), 1);
    EXPECT_TRUE(parser.holdsPartialEvent());
    parser.feed("\n", events);
    ASSERT_EQ(events.size(), 2);
    EXPECT_EQ(events[1].data.toStdString(), "{\"choices\":[]}");
    EXPECT_FALSE(parser.holdsPartialEvent());
}

TEST(ServerEndpoint, RootAndV1FormsReachTheSameRoutes)
{
    for (const QString& text : {QStringLiteral("http://host:8080"), QStringLiteral("http://host:8080/"),
                                QStringLiteral("http://host:8080/v1"), QStringLiteral(" http://host:8080/v1/ ")}) {
        SCOPED_TRACE(text.toStdString());
        const auto endpoint = ServerEndpoint::parse(text);
        ASSERT_TRUE(endpoint);
        EXPECT_EQ(endpoint->api(QStringLiteral("chat/completions")).toString(),
                  QStringLiteral("http://host:8080/v1/chat/completions"));
        EXPECT_EQ(endpoint->root(QStringLiteral("tokenize")).toString(), QStringLiteral("http://host:8080/tokenize"));
        EXPECT_EQ(endpoint->text(), text.trimmed());
    }
    const auto prefixed = ServerEndpoint::parse(QStringLiteral("https://gpu.example/llm/v1"));
    ASSERT_TRUE(prefixed);
    EXPECT_EQ(prefixed->api(QStringLiteral("models")).toString(), QStringLiteral("https://gpu.example/llm/v1/models"));
}

TEST(ServerEndpoint, RefusesWhatIsNotAServerAddress)
{
    for (const QString& text : {QStringLiteral(""), QStringLiteral("localhost:8080"), QStringLiteral("ftp://host/v1"),
                                QStringLiteral("http://"), QStringLiteral("not a url")}) {
        SCOPED_TRACE(text.toStdString());
        QString error;
        EXPECT_FALSE(ServerEndpoint::parse(text, &error));
        EXPECT_FALSE(error.isEmpty());
    }
    QString error;
    EXPECT_FALSE(ServerEndpoint::parse(QStringLiteral("http://user:secret@host:8080/v1"), &error));
    EXPECT_FALSE(error.contains(QLatin1String("secret"))) << error.toStdString();
}

} // namespace
} // namespace folio
