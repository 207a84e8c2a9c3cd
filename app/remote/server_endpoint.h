// A server's address as the user typed it. People paste either the root
// (http://host:8080) or the OpenAI-style base (http://host:8080/v1); both work. The
// /v1/... routes hang off the base, /tokenize, /props, /health and /api/... off the
// root. Messages echo the address exactly as given.
#pragma once

#include <QString>
#include <QUrl>

#include <optional>

namespace folio {

class ServerEndpoint {
public:
    // nullopt, with *error set, for anything but an absolute http(s) URL with a host.
    static std::optional<ServerEndpoint> parse(const QString& text, QString* error = nullptr);

    const QString& text() const { return text_; }
    QUrl api(const QString& route) const;   // api("chat/completions") -> ROOT/v1/chat/completions
    QUrl root(const QString& route) const;  // root("tokenize") -> ROOT/tokenize

private:
    QString text_;
    QUrl root_;  // without a trailing slash or /v1
};

} // namespace folio
