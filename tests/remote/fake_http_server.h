// A small HTTP server for tests: it answers what a test scripts, byte for byte, so the
// client meets what real servers do and what folio-server never sends (429, 5xx
// bodies, broken event streams, a connection closed mid-reply). Binds 127.0.0.1 on a
// free port; stops with the object. One request per connection (Connection: close).
#pragma once

#include <QByteArray>
#include <QList>
#include <QMap>
#include <QObject>
#include <QTcpServer>

#include "support/wait_until.h"

#include <functional>

namespace folio::test {

struct FakeRequest {
    QByteArray method, path;
    QMap<QByteArray, QByteArray> headers;  // names lower-case
    QByteArray body;
};

struct FakeReply {
    QList<QByteArray> pieces;  // written one by one, pieceDelayMs apart
    int pieceDelayMs = 0;
    int firstDelayMs = 0;
    bool neverAnswer = false;  // hold the connection open and silent

    // A whole reply with Content-Length.
    static FakeReply http(int status, const QByteArray& body, const QByteArray& extraHeaders = {},
                          const QByteArray& contentType = "application/json");
    // An event stream closed by the server at the end (no length): pieces as given.
    static FakeReply stream(const QList<QByteArray>& bodyPieces, int pieceDelayMs = 0);
};

class FakeHttpServer : public QObject {
    Q_OBJECT
public:
    using Handler = std::function<FakeReply(const FakeRequest&)>;
    explicit FakeHttpServer(Handler handler);
    ~FakeHttpServer() override;

    quint16 port() const { return server_.serverPort(); }
    QString url(const QString& path = {}) const;  // http://127.0.0.1:PORT + path
    const QList<FakeRequest>& requests() const { return requests_; }

private:
    void onConnection();

    Handler handler_;
    QTcpServer server_;
    QList<FakeRequest> requests_;
};

} // namespace folio::test
