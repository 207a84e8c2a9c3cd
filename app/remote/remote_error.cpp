#include "app/remote/remote_error.h"

#include <QCoreApplication>
#include <QJsonDocument>
#include <QJsonObject>

namespace folio {

QString RemoteError::message() const
{
    if (httpStatus > 0)
        return QStringLiteral("%1: HTTP %2: %3").arg(url).arg(httpStatus).arg(detail);
    return QStringLiteral("%1: %2").arg(url, detail);
}

QString serverErrorMessage(const QByteArray& body)
{
    const QJsonDocument doc = QJsonDocument::fromJson(body);
    if (doc.isObject()) {
        const QJsonObject object = doc.object();
        const QJsonValue error = object.value(QLatin1String("error"));
        if (error.isObject()) {
            const QString message = error.toObject().value(QLatin1String("message")).toString();
            if (!message.isEmpty())
                return message;
        }
        if (error.isString() && !error.toString().isEmpty())
            return error.toString();
        const QString message = object.value(QLatin1String("message")).toString();
        if (!message.isEmpty())
            return message;
        const QString detail = object.value(QLatin1String("detail")).toString();  // FastAPI's own errors
        if (!detail.isEmpty())
            return detail;
    }
    QString text = QString::fromUtf8(body).simplified();
    if (text.size() > 300)
        text = text.left(300) + QStringLiteral("…");
    return text.isEmpty() ? QCoreApplication::translate("RemoteError", "(no message)") : text;
}

namespace {

// Servers word it differently; the type field, where there is one, is the surer sign.
bool saysContextTooLong(const QByteArray& body, const QString& message)
{
    const QJsonObject error = QJsonDocument::fromJson(body).object().value(QLatin1String("error")).toObject();
    if (error.value(QLatin1String("type")).toString() == QLatin1String("exceed_context_size_error"))
        return true;
    const QString lower = message.toLower();
    return lower.contains(QLatin1String("context length")) || lower.contains(QLatin1String("context size"))
           || lower.contains(QLatin1String("context window")) || lower.contains(QLatin1String("too long"));
}

} // namespace

RemoteError httpError(const QString& url, int status, const QByteArray& body)
{
    RemoteError error;
    error.url = url;
    error.httpStatus = status;
    error.detail = serverErrorMessage(body);
    if (status == 401 || status == 403)
        error.kind = RemoteError::Kind::Unauthorized;
    else if (status == 404)
        error.kind = RemoteError::Kind::UnknownModel;
    else if (status == 429)
        error.kind = RemoteError::Kind::RateLimited;
    else if (status >= 500)
        error.kind = RemoteError::Kind::ServerError;
    else if (saysContextTooLong(body, error.detail))
        error.kind = RemoteError::Kind::ContextTooLong;
    else
        error.kind = RemoteError::Kind::BadRequest;
    return error;
}

} // namespace folio
