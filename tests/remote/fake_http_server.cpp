#include "fake_http_server.h"

#include <QCoreApplication>
#include <QPointer>
#include <QTcpSocket>
#include <QTimer>

namespace folio::test {

namespace {

QByteArray reasonFor(int status)
{
    switch (status) {
    case 200: return "OK";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 307: return "Temporary Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 404: return "Not Found";
    case 416: return "Range Not Satisfiable";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Status";
    }
}

} // namespace

FakeReply FakeReply::http(int status, const QByteArray& body, const QByteArray& extraHeaders,
                          const QByteArray& contentType)
{
    FakeReply reply;
    reply.pieces.append("HTTP/1.1 " + QByteArray::number(status) + ' ' + reasonFor(status) + "\r\nContent-Type: "
                        + contentType + "\r\nContent-Length: " + QByteArray::number(body.size())
                        + "\r\nConnection: close\r\n" + extraHeaders + "\r\n" + body);
    return reply;
}

FakeReply FakeReply::stream(const QList<QByteArray>& bodyPieces, int delayMs)
{
    FakeReply reply;
    reply.pieces.append("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
                        "Connection: close\r\n\r\n");
    reply.pieces.append(bodyPieces);
    reply.pieceDelayMs = delayMs;
    return reply;
}

FakeHttpServer::FakeHttpServer(Handler handler) : handler_(std::move(handler))
{
    connect(&server_, &QTcpServer::newConnection, this, &FakeHttpServer::onConnection);
    server_.listen(QHostAddress::LocalHost, 0);
}

FakeHttpServer::~FakeHttpServer()
{
    server_.close();
}

QString FakeHttpServer::url(const QString& path) const
{
    return QStringLiteral("http://127.0.0.1:%1%2").arg(port()).arg(path);
}

void FakeHttpServer::onConnection()
{
    while (QTcpSocket* socket = server_.nextPendingConnection()) {
        socket->setParent(this);
        auto buffer = std::make_shared<QByteArray>();
        auto answered = std::make_shared<bool>(false);
        connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
        connect(socket, &QTcpSocket::readyRead, this, [this, socket, buffer, answered] {
            *buffer += socket->readAll();
            const qsizetype headerEnd = buffer->indexOf("\r\n\r\n");
            if (*answered || headerEnd < 0)
                return;
            FakeRequest request;
            const QList<QByteArray> lines = buffer->left(headerEnd).split('\n');
            const QList<QByteArray> first = lines.value(0).trimmed().split(' ');
            request.method = first.value(0);
            request.path = first.value(1);
            for (qsizetype i = 1; i < lines.size(); ++i) {
                const qsizetype colon = lines[i].indexOf(':');
                if (colon > 0)
                    request.headers.insert(lines[i].left(colon).trimmed().toLower(), lines[i].mid(colon + 1).trimmed());
            }
            const qsizetype length = request.headers.value("content-length", "0").toLongLong();
            if (buffer->size() < headerEnd + 4 + length)
                return;
            request.body = buffer->mid(headerEnd + 4, length);
            *answered = true;
            requests_.append(request);
            const FakeReply reply = handler_(request);
            if (reply.neverAnswer)
                return;
            QPointer<QTcpSocket> guard(socket);
            int at = reply.firstDelayMs;
            for (const QByteArray& piece : reply.pieces) {
                QTimer::singleShot(at, socket, [guard, piece] {
                    if (guard) {
                        guard->write(piece);
                        guard->flush();
                    }
                });
                at += reply.pieceDelayMs;
            }
            QTimer::singleShot(at, socket, [guard] {
                if (guard)
                    guard->disconnectFromHost();
            });
        });
    }
}

} // namespace folio::test
