// What went wrong talking to a server, as a kind the caller can act on (ask for a key,
// wait, shorten the document) and a message for the user that carries the address as
// given, the HTTP status and the server's own words.
#pragma once

#include <QByteArray>
#include <QString>

namespace folio {

struct RemoteError {
    enum class Kind {
        Unreachable,     // connection refused or reset before a reply
        HostNotFound,    // the name does not resolve
        Tls,             // the TLS handshake failed (certificate, protocol)
        Timeout,         // no bytes for the idle timeout
        Unauthorized,    // 401 / 403: no key, or a wrong one
        UnknownModel,    // 404 naming the model
        RateLimited,     // 429, still after the retries
        ContextTooLong,  // the server refused the prompt's length
        BadRequest,      // another 4xx
        ServerError,     // 5xx, or an error reported inside a stream
        Interrupted,     // the reply ended early (closed, no [DONE])
        MalformedReply,  // not the JSON / SSE an OpenAI-compatible server sends
        Cancelled,       // the user stopped it
    };

    Kind kind = Kind::ServerError;
    QString url;         // the server as the user gave it
    int httpStatus = 0;  // 0 when no HTTP reply came
    QString detail;      // the server's message, or what we saw

    // "URL: HTTP 401: Invalid API Key" / "URL: connection refused"
    QString message() const;
};

// The server's own message from an error body, whatever its shape: OpenAI's
// {"error": {"message": ...}}, vLLM's flat {"object": "error", "message": ...}, vLLM's
// {"error": "Unauthorized"} (a string), or plain text (cut short).
QString serverErrorMessage(const QByteArray& body);

// The error for an HTTP reply of status >= 400 with that body.
RemoteError httpError(const QString& url, int status, const QByteArray& body);

} // namespace folio
