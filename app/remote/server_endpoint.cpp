#include "app/remote/server_endpoint.h"

#include <QCoreApplication>

namespace folio {

std::optional<ServerEndpoint> ServerEndpoint::parse(const QString& text, QString* error)
{
    const QString trimmed = text.trimmed();
    QUrl url(trimmed, QUrl::StrictMode);
    const QString scheme = url.scheme().toLower();
    if (!url.isValid() || (scheme != QLatin1String("http") && scheme != QLatin1String("https"))
        || url.host().isEmpty()) {
        if (error)
            *error = QCoreApplication::translate("ServerEndpoint",
                                                 "%1: not a server address (expected http://HOST:PORT or "
                                                 "http://HOST:PORT/v1)")
                         .arg(text);
        return std::nullopt;
    }
    if (!url.userInfo().isEmpty()) {
        // A key belongs in the keyring, never in an address that is shown and saved.
        if (error)
            *error = QCoreApplication::translate("ServerEndpoint",
                                                 "%1: the address holds a user name or password; give the API key "
                                                 "separately")
                         .arg(url.toDisplayString(QUrl::RemoveUserInfo));
        return std::nullopt;
    }
    QString path = url.path();
    while (path.endsWith(QLatin1Char('/')))
        path.chop(1);
    if (path.endsWith(QLatin1String("/v1")))
        path.chop(3);
    url.setPath(path);
    url.setQuery(QString());
    url.setFragment(QString());
    ServerEndpoint endpoint;
    endpoint.text_ = trimmed;
    endpoint.root_ = url;
    return endpoint;
}

QUrl ServerEndpoint::api(const QString& route) const
{
    return root(QLatin1String("v1/") + route);
}

QUrl ServerEndpoint::root(const QString& route) const
{
    QUrl url = root_;
    url.setPath(root_.path() + QLatin1Char('/') + route);
    return url;
}

} // namespace folio
