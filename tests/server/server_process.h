// Runs the built folio-server binary on 127.0.0.1 and a port it picks itself
// (--port 0, read from its first line on stdout), and talks to it over real HTTP
// with cpp-httplib's client. The destructor kills a server still running.
#pragma once

#include <QJsonObject>
#include <QProcess>
#include <QStringList>
#include <QTemporaryDir>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace folio::test {

struct HttpAnswer {
    int status = -1;          // -1: no answer (connection failed)
    std::string body;
    std::map<std::string, std::string> headers;
    QJsonObject json() const;  // the body as an object (empty when it is not one)
    bool isJson() const;       // the body parses as a JSON object
};

// A streamed answer, split into its SSE data payloads ("[DONE]" included).
struct StreamAnswer {
    int status = -1;
    std::vector<std::string> events;
    std::vector<QJsonObject> chunks() const;  // the events that are JSON objects
    bool done() const { return !events.empty() && events.back() == "[DONE]"; }
    std::string text() const;                 // the content deltas (or completion texts) joined
};

class ServerProcess {
public:
    ServerProcess() = default;
    ~ServerProcess();
    ServerProcess(const ServerProcess&) = delete;
    ServerProcess& operator=(const ServerProcess&) = delete;

    // Starts folio-server with these arguments after --model MODEL --host 127.0.0.1
    // --port 0; true once it printed its port. env: extra environment variables.
    bool start(const QStringList& arguments, const std::map<QString, QString>& env = {});
    // Runs it expecting it to refuse to start: returns its exit code.
    int runToExit(const QStringList& arguments, const std::map<QString, QString>& env = {});

    int port() const { return port_; }
    QString stderrText() const;   // what it wrote to stderr so far
    QString firstLine() const { return firstLine_; }
    // SIGTERM, then waits; returns the exit code (-1: it had to be killed).
    int terminate();
    void kill();  // SIGKILL: a server that dies mid-reply

    HttpAnswer get(const std::string& path, const std::string& apiKey = {}) const;
    HttpAnswer post(const std::string& path, const std::string& body, const std::string& apiKey = {}) const;
    HttpAnswer post(const std::string& path, const QJsonObject& body) const;
    // Streams; onEvent(payload) returning false closes the connection there.
    StreamAnswer stream(const std::string& path, const QJsonObject& body,
                        const std::function<bool(const std::string&)>& onEvent = {}) const;
    QJsonObject health() const { return get("/health").json(); }
    // Polls /health until `done` holds for it (false after a minute: the test fails).
    bool waitForHealth(const std::function<bool(const QJsonObject&)>& done) const;

    static QString demoModelPath();

private:
    void prepare(const std::map<QString, QString>& env);

    QTemporaryDir dir_;
    std::unique_ptr<QProcess> process_;
    int port_ = 0;
    QString firstLine_;
};

} // namespace folio::test
