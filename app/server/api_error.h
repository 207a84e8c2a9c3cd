// Errors as OpenAI-compatible servers send them: an HTTP status and a body
// {"error": {"message", "type", "param", "code"}} with code = the status, the
// shape of llama.cpp's server and of newer vLLM (notes/servers.md).
#pragma once

#include <QByteArray>

#include <stdexcept>
#include <string>

namespace folio::server {

class ApiError : public std::runtime_error {
public:
    ApiError(int status, std::string type, const std::string& message, std::string param = {})
        : std::runtime_error(message), status_(status), type_(std::move(type)), param_(std::move(param))
    {
    }
    int status() const { return status_; }
    const std::string& type() const { return type_; }
    const std::string& param() const { return param_; }  // the request field at fault, or empty

private:
    int status_;
    std::string type_;
    std::string param_;
};

// 400 invalid_request_error, naming the field when there is one.
inline ApiError badRequest(const std::string& message, const std::string& param = {})
{
    return ApiError(400, "invalid_request_error", message, param);
}

QByteArray errorBody(int status, const std::string& type, const std::string& message, const std::string& param = {});
inline QByteArray errorBody(const ApiError& e) { return errorBody(e.status(), e.type(), e.what(), e.param()); }

// The error type a status gets when nothing more precise is known.
std::string errorTypeForStatus(int status);

} // namespace folio::server
