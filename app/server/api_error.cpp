#include "app/server/api_error.h"

#include <QJsonDocument>
#include <QJsonObject>

namespace folio::server {

std::string errorTypeForStatus(int status)
{
    switch (status) {
    case 400: return "invalid_request_error";
    case 401: return "authentication_error";
    case 404: return "not_found_error";
    case 413: return "request_too_large";
    case 503: return "server_busy";
    default: return status >= 500 ? "server_error" : "invalid_request_error";
    }
}

QByteArray errorBody(int status, const std::string& type, const std::string& message, const std::string& param)
{
    const QJsonObject error{{QStringLiteral("message"), QString::fromStdString(message)},
                            {QStringLiteral("type"), QString::fromStdString(type)},
                            {QStringLiteral("param"), param.empty() ? QJsonValue(QJsonValue::Null)
                                                                    : QJsonValue(QString::fromStdString(param))},
                            {QStringLiteral("code"), status}};
    return QJsonDocument(QJsonObject{{QStringLiteral("error"), error}}).toJson(QJsonDocument::Compact);
}

} // namespace folio::server
