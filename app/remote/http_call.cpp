#include "app/remote/http_call.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QNetworkAccessManager>
#include <QNetworkReply>

namespace folio {

HttpCall::HttpCall(QNetworkAccessManager* network, const QUrl& url, const QString& serverText, const QString& apiKey,
                   const QByteArray& jsonBody, bool streaming, const HttpOptions& options, QObject* parent)
    : QObject(parent), network_(network), request_(url), serverText_(serverText), body_(jsonBody),
      post_(!jsonBody.isEmpty()), streaming_(streaming), options_(options)
{
    request_.setAttribute(QNetworkRequest::RedirectPolicyAttribute, QNetworkRequest::NoLessSafeRedirectPolicy);
    request_.setMaximumRedirectsAllowed(5);
    request_.setHeader(QNetworkRequest::UserAgentHeader, QByteArrayLiteral("Folio"));
    request_.setRawHeader("Accept", streaming ? "text/event-stream" : "application/json");
    if (post_)
        request_.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
    if (!apiKey.isEmpty())
        request_.setRawHeader("Authorization", "Bearer " + apiKey.toUtf8());
    idleTimer_.setSingleShot(true);
    connect(&idleTimer_, &QTimer::timeout, this, [this] {
        timedOut_ = true;
        if (reply_)
            reply_->abort();
    });
    retryTimer_.setSingleShot(true);
    connect(&retryTimer_, &QTimer::timeout, this, &HttpCall::send);
}

HttpCall::~HttpCall()
{
    ended_ = true;  // no signal out of a destructor
    if (reply_) {
        reply_->disconnect(this);
        reply_->abort();
        reply_->deleteLater();
    }
}

void HttpCall::start()
{
    attempt_ = 0;
    send();
}

void HttpCall::cancel()
{
    if (ended_)
        return;
    cancelled_ = true;
    retryTimer_.stop();
    if (reply_)
        reply_->abort();  // finished() follows at once and reports the cancel
    else
        fail(RemoteError::Kind::Cancelled, tr("cancelled"));
}

void HttpCall::send()
{
    ++attempt_;
    received_.clear();
    status_ = 0;
    timedOut_ = false;
    QNetworkReply* reply = post_ ? network_->post(request_, body_) : network_->get(request_);
    reply_ = reply;
    connect(reply, &QNetworkReply::readyRead, this, &HttpCall::onReadyRead);
    connect(reply, &QNetworkReply::finished, this, &HttpCall::onFinished);
    connect(reply, &QNetworkReply::uploadProgress, this, [this] { idleTimer_.start(options_.idleTimeoutMs); });
    idleTimer_.start(options_.idleTimeoutMs);
}

void HttpCall::onReadyRead()
{
    if (!reply_)
        return;
    idleTimer_.start(options_.idleTimeoutMs);
    if (status_ == 0)
        status_ = reply_->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    if (!reply_->isOpen())
        return;  // aborted: nothing left to read
    const QByteArray bytes = reply_->readAll();
    if (streaming_ && status_ >= 200 && status_ < 300)
        emit piece(bytes);
    else
        received_ += bytes;
}

int HttpCall::retryWaitMs() const
{
    const QByteArray header = reply_ ? reply_->rawHeader("Retry-After").trimmed() : QByteArray();
    if (header.isEmpty())
        return options_.defaultRetryWaitMs;
    bool number = false;
    const qint64 seconds = header.toLongLong(&number);
    if (number)
        return static_cast<int>(std::clamp<qint64>(seconds * 1000, 0, qint64{1} << 30));
    const QDateTime when = QDateTime::fromString(QString::fromLatin1(header), Qt::RFC2822Date);
    if (when.isValid())
        return static_cast<int>(std::clamp<qint64>(QDateTime::currentDateTimeUtc().msecsTo(when), 0, qint64{1} << 30));
    return options_.defaultRetryWaitMs;
}

void HttpCall::onFinished()
{
    QNetworkReply* reply = reply_;
    if (!reply)
        return;
    idleTimer_.stop();
    onReadyRead();  // whatever is left
    reply->disconnect(this);
    reply->deleteLater();
    const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    const QNetworkReply::NetworkError networkError = reply->error();
    const QString networkText = reply->errorString();
    const int wait = status == 429 ? retryWaitMs() : 0;
    reply_ = nullptr;

    if (cancelled_)
        return fail(RemoteError::Kind::Cancelled, tr("cancelled"));
    if (timedOut_)
        return fail(RemoteError::Kind::Timeout,
                    tr("no reply for %1 s (the idle timeout)").arg(options_.idleTimeoutMs / 1000.0), status);
    if (status == 429 && attempt_ <= options_.rateLimitRetries && wait <= options_.maxRetryWaitMs) {
        emit notice(tr("%1: the server is busy (HTTP 429); trying again in %2 s (%3 of %4)")
                        .arg(serverText_)
                        .arg(wait / 1000.0)
                        .arg(attempt_)
                        .arg(options_.rateLimitRetries));
        retryTimer_.start(wait);
        return;
    }
    if (status >= 400) {
        RemoteError error = httpError(serverText_, status, received_);
        ended_ = true;
        emit failed(error);
        return;
    }
    if (status == 0 || (networkError != QNetworkReply::NoError && status < 200)) {
        switch (networkError) {
        case QNetworkReply::HostNotFoundError:
            return fail(RemoteError::Kind::HostNotFound, tr("host not found"));
        case QNetworkReply::ConnectionRefusedError:
            return fail(RemoteError::Kind::Unreachable, tr("connection refused"));
        case QNetworkReply::SslHandshakeFailedError:
        case QNetworkReply::UnknownNetworkError:
            if (request_.url().scheme() == QLatin1String("https"))
                return fail(RemoteError::Kind::Tls, tr("TLS failure: %1").arg(networkText));
            return fail(RemoteError::Kind::Unreachable, networkText);
        case QNetworkReply::TimeoutError:
            return fail(RemoteError::Kind::Timeout, tr("connection timed out"));
        default:
            return fail(RemoteError::Kind::Unreachable, networkText);
        }
    }
    if (networkError != QNetworkReply::NoError)  // a 2xx reply cut short
        return fail(RemoteError::Kind::Interrupted, tr("the server closed the connection mid-reply (%1)").arg(networkText),
                    status);
    ended_ = true;
    emit succeeded(status, streaming_ ? QByteArray() : received_);
}

void HttpCall::fail(RemoteError::Kind kind, const QString& detail, int status)
{
    if (ended_)
        return;
    ended_ = true;
    retryTimer_.stop();
    emit failed(RemoteError{kind, serverText_, status, detail});
}

} // namespace folio
