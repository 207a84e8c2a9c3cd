#include "server_process.h"

#include <httplib.h>

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QProcessEnvironment>
#include <QRegularExpression>

#include <chrono>
#include <thread>

namespace folio::test {

namespace {

constexpr int kStartMs = 120000;  // a loaded machine under ASan is slow to start a binary

std::unique_ptr<httplib::Client> client(int port)
{
    auto c = std::make_unique<httplib::Client>("127.0.0.1", port);
    c->set_connection_timeout(30);
    c->set_read_timeout(300);  // generous: no test times the server
    c->set_write_timeout(60);
    return c;
}

httplib::Headers authHeaders(const std::string& apiKey)
{
    httplib::Headers h;
    if (!apiKey.empty())
        h.emplace("Authorization", "Bearer " + apiKey);
    return h;
}

HttpAnswer toAnswer(const httplib::Result& r)
{
    HttpAnswer a;
    if (!r)
        return a;
    a.status = r->status;
    a.body = r->body;
    for (const auto& [name, value] : r->headers)
        a.headers[name] = value;
    return a;
}

} // namespace

QJsonObject HttpAnswer::json() const
{
    return QJsonDocument::fromJson(QByteArray::fromStdString(body)).object();
}

bool HttpAnswer::isJson() const
{
    QJsonParseError error{};
    const QJsonDocument doc = QJsonDocument::fromJson(QByteArray::fromStdString(body), &error);
    return error.error == QJsonParseError::NoError && doc.isObject();
}

std::vector<QJsonObject> StreamAnswer::chunks() const
{
    std::vector<QJsonObject> out;
    for (const std::string& e : events) {
        const QJsonDocument doc = QJsonDocument::fromJson(QByteArray::fromStdString(e));
        if (doc.isObject())
            out.push_back(doc.object());
    }
    return out;
}

std::string StreamAnswer::text() const
{
    std::string text;
    for (const QJsonObject& c : chunks())
        for (const QJsonValue& choice : c.value(QStringLiteral("choices")).toArray()) {
            const QJsonObject o = choice.toObject();
            text += o.contains(QStringLiteral("text"))
                        ? o.value(QStringLiteral("text")).toString().toStdString()
                        : o.value(QStringLiteral("delta")).toObject().value(QStringLiteral("content")).toString().toStdString();
        }
    return text;
}

ServerProcess::~ServerProcess()
{
    if (process_ && process_->state() != QProcess::NotRunning) {
        process_->kill();
        process_->waitForFinished(30000);
    }
}

QString ServerProcess::demoModelPath()
{
    return QStringLiteral(FOLIO_SOURCE_DIR) + QStringLiteral("/resources/models/folio-demo.gguf");
}

void ServerProcess::prepare(const std::map<QString, QString>& env)
{
    process_ = std::make_unique<QProcess>();
    QProcessEnvironment e = QProcessEnvironment::systemEnvironment();
    // The server's data folder (its default prompt cache) in the test's own folder.
    e.insert(QStringLiteral("XDG_DATA_HOME"), dir_.filePath(QStringLiteral("data")));
    for (const auto& [name, value] : env)
        e.insert(name, value);
    process_->setProcessEnvironment(e);
    // To a file, not a pipe: a server logging hundreds of requests never blocks on it.
    process_->setStandardErrorFile(dir_.filePath(QStringLiteral("stderr.txt")));
}

bool ServerProcess::start(const QStringList& arguments, const std::map<QString, QString>& env)
{
    prepare(env);
    process_->start(QStringLiteral(FOLIO_SERVER_PATH),
                    QStringList{QStringLiteral("--model"), demoModelPath(), QStringLiteral("--host"),
                                QStringLiteral("127.0.0.1"), QStringLiteral("--port"), QStringLiteral("0")}
                        + arguments);
    if (!process_->waitForStarted(kStartMs))
        return false;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kStartMs);
    while (!process_->canReadLine()) {
        if (process_->state() == QProcess::NotRunning || std::chrono::steady_clock::now() > deadline)
            return false;
        process_->waitForReadyRead(1000);
    }
    firstLine_ = QString::fromUtf8(process_->readLine()).trimmed();
    const QRegularExpressionMatch m =
        QRegularExpression(QStringLiteral("^folio-server: listening on http://127\\.0\\.0\\.1:(\\d+)$")).match(firstLine_);
    port_ = m.hasMatch() ? m.captured(1).toInt() : 0;
    return port_ > 0;
}

int ServerProcess::runToExit(const QStringList& arguments, const std::map<QString, QString>& env)
{
    prepare(env);
    process_->start(QStringLiteral(FOLIO_SERVER_PATH), QStringList{QStringLiteral("--model"), demoModelPath()} + arguments);
    if (!process_->waitForFinished(kStartMs)) {
        process_->kill();
        process_->waitForFinished();
        return -1;
    }
    return process_->exitStatus() == QProcess::NormalExit ? process_->exitCode() : -2;
}

QString ServerProcess::stderrText() const
{
    QFile f(dir_.filePath(QStringLiteral("stderr.txt")));
    return f.open(QIODevice::ReadOnly) ? QString::fromUtf8(f.readAll()) : QString();
}

int ServerProcess::terminate()
{
    if (!process_ || process_->state() == QProcess::NotRunning)
        return -1;
    process_->terminate();
    if (!process_->waitForFinished(kStartMs)) {
        process_->kill();
        process_->waitForFinished();
        return -1;
    }
    return process_->exitStatus() == QProcess::NormalExit ? process_->exitCode() : -2;
}

void ServerProcess::kill()
{
    if (!process_ || process_->state() == QProcess::NotRunning)
        return;
    process_->kill();
    process_->waitForFinished();
}

HttpAnswer ServerProcess::get(const std::string& path, const std::string& apiKey) const
{
    return toAnswer(client(port_)->Get(path.c_str(), authHeaders(apiKey)));
}

HttpAnswer ServerProcess::post(const std::string& path, const std::string& body, const std::string& apiKey) const
{
    return toAnswer(client(port_)->Post(path.c_str(), authHeaders(apiKey), body, "application/json"));
}

HttpAnswer ServerProcess::post(const std::string& path, const QJsonObject& body) const
{
    return post(path, QJsonDocument(body).toJson(QJsonDocument::Compact).toStdString());
}

StreamAnswer ServerProcess::stream(const std::string& path, const QJsonObject& body,
                                   const std::function<bool(const std::string&)>& onEvent) const
{
    auto c = client(port_);
    StreamAnswer answer;
    std::string buffer;
    httplib::Request req;
    req.method = "POST";
    req.path = path;
    req.body = QJsonDocument(body).toJson(QJsonDocument::Compact).toStdString();
    req.set_header("Content-Type", "application/json");
    req.response_handler = [&](const httplib::Response& res) {
        answer.status = res.status;
        return true;
    };
    req.content_receiver = [&](const char* data, size_t length, uint64_t, uint64_t) {
        buffer.append(data, length);
        // Events end with a blank line; each "data: " line is one payload.
        for (std::size_t end; (end = buffer.find("\n\n")) != std::string::npos;) {
            const std::string event = buffer.substr(0, end);
            buffer.erase(0, end + 2);
            if (event.rfind("data: ", 0) != 0)
                continue;
            answer.events.push_back(event.substr(6));
            if (onEvent && !onEvent(answer.events.back()))
                return false;
        }
        return true;
    };
    httplib::Response res;
    httplib::Error error = httplib::Error::Success;
    c->send(req, res, error);
    return answer;
}

bool ServerProcess::waitForHealth(const std::function<bool(const QJsonObject&)>& done) const
{
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(1);
    while (std::chrono::steady_clock::now() < deadline) {
        if (done(health()))
            return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
}

} // namespace folio::test
