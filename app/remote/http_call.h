// One HTTP exchange with a server, as every route of the remote backend needs it: the
// key sent as a bearer token (and nowhere else), no bytes for `idleTimeoutMs` ends it,
// a 429 is retried after the server's Retry-After a few times (each wait announced),
// and every failure becomes a RemoteError. In streaming mode the body of a successful
// reply comes out piece by piece as it arrives; otherwise whole, at the end.
#pragma once

#include "app/remote/remote_error.h"

#include <QByteArray>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QObject>
#include <QPointer>
#include <QTimer>

class QNetworkAccessManager;

namespace folio {

struct HttpOptions {
    int idleTimeoutMs = 300000;  // a long prompt's first byte can take minutes on a busy server
    int rateLimitRetries = 3;
    int maxRetryWaitMs = 60000;  // a longer Retry-After is not waited for
    int defaultRetryWaitMs = 2000;  // a 429 without Retry-After
};

class HttpCall : public QObject {
    Q_OBJECT
public:
    // body empty and verb "GET": a GET; otherwise a POST of JSON.
    HttpCall(QNetworkAccessManager* network, const QUrl& url, const QString& serverText, const QString& apiKey,
             const QByteArray& jsonBody, bool streaming, const HttpOptions& options, QObject* parent = nullptr);
    ~HttpCall() override;

    void start();
    void cancel();  // ends with failed(Cancelled) unless already ended
    bool isRunning() const { return reply_ != nullptr || retryTimer_.isActive(); }

signals:
    void piece(const QByteArray& bytes);  // streaming, 2xx only
    void succeeded(int status, const QByteArray& body);  // body empty in streaming mode
    void failed(const folio::RemoteError& error);
    void notice(const QString& message);

private:
    void send();
    void onReadyRead();
    void onFinished();
    void fail(RemoteError::Kind kind, const QString& detail, int status = 0);
    int retryWaitMs() const;

    QNetworkAccessManager* network_;
    QNetworkRequest request_;
    QString serverText_;
    QByteArray body_;
    bool post_;
    bool streaming_;
    HttpOptions options_;
    QPointer<QNetworkReply> reply_;
    QByteArray received_;
    int status_ = 0;
    int attempt_ = 0;
    bool timedOut_ = false;
    bool cancelled_ = false;
    bool ended_ = false;
    QTimer idleTimer_;
    QTimer retryTimer_;
};

} // namespace folio
