// folio-server: Folio's engine behind an OpenAI-compatible HTTP API, for other
// computers and other apps. One model, one session, one request at a time; the
// context options are folio-cli's own.
#include "app/cli/context_cli.h"
#include "app/server/api_server.h"
#include "engine/session/context_planner.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDir>
#include <QStandardPaths>
#include <QFileInfo>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>
#include <stdexcept>
#include <thread>

namespace {

using folio::server::ApiServer;
using folio::server::ServerConfig;
using folio::server::SessionPlan;

int g_stopPipe[2] = {-1, -1};

extern "C" void onStopSignal(int)
{
    const char byte = 1;
    [[maybe_unused]] const ssize_t written = ::write(g_stopPipe[1], &byte, 1);
}

struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

void addOption(QCommandLineParser& p, const char* name, const char* help, const char* value = nullptr,
               const char* fallback = nullptr)
{
    p.addOption(QCommandLineOption(QString::fromLatin1(name), QString::fromUtf8(help),
                                   value ? QString::fromLatin1(value) : QString(),
                                   fallback ? QString::fromLatin1(fallback) : QString()));
}

int whole(const QCommandLineParser& p, const char* name, int minimum, int maximum)
{
    bool ok = false;
    const int value = p.value(QString::fromLatin1(name)).toInt(&ok);
    if (!ok || value < minimum || value > maximum)
        throw UsageError("--" + std::string(name) + " needs a whole number from " + std::to_string(minimum) + " to "
                         + std::to_string(maximum));
    return value;
}

folio::ExtensionMethod methodFor(const folio::SessionOptions& given)
{
    using folio::ExtensionMethod;
    if (given.dca.enabled)
        return ExtensionMethod::Dca;
    if (!given.rope.scaling)
        return ExtensionMethod::Auto;
    switch (*given.rope.scaling) {
    case folio::RopeScaling::None: return ExtensionMethod::None;
    case folio::RopeScaling::Linear: return ExtensionMethod::Linear;
    case folio::RopeScaling::Ntk: return ExtensionMethod::Ntk;
    case folio::RopeScaling::Yarn: return ExtensionMethod::Yarn;
    }
    return ExtensionMethod::Auto;
}

template <typename T>
void overrideIfSet(std::optional<T>& into, const std::optional<T>& user)
{
    if (user)
        into = user;
}

// The planner's choice for `tokens`, with what the user set on the command line on top.
folio::SessionOptions planFor(const folio::Model& model, const QCommandLineParser& parser,
                              const folio::SessionOptions& given, int tokens, folio::ExtensionMethod method,
                              int threads)
{
    folio::PlanRequest request;
    request.tokens = tokens;
    request.method = method;
    if (parser.isSet(QStringLiteral("kv-type")))
        request.kvType = given.kvType;
    request.batchSize = parser.isSet(QStringLiteral("ubatch")) ? given.batchSize : 0;  // 0: the planner's
    request.threads = threads;
    const folio::ContextPlan plan = folio::planContext(model, request);
    if (!plan.fits)
        throw std::runtime_error("a context of " + std::to_string(tokens) + " tokens does not fit in memory:\n"
                                 + plan.report());
    folio::SessionOptions o = plan.options;
    if (method != folio::ExtensionMethod::None) {
        if (given.dca.enabled)
            o.dca = given.dca;
        overrideIfSet(o.rope.scaling, given.rope.scaling);
        overrideIfSet(o.rope.scale, given.rope.scale);
        overrideIfSet(o.rope.freqBase, given.rope.freqBase);
        overrideIfSet(o.rope.yarnOriginalContext, given.rope.yarnOriginalContext);
        overrideIfSet(o.rope.yarnExtFactor, given.rope.yarnExtFactor);
        overrideIfSet(o.rope.yarnAttnFactor, given.rope.yarnAttnFactor);
        overrideIfSet(o.rope.yarnBetaFast, given.rope.yarnBetaFast);
        overrideIfSet(o.rope.yarnBetaSlow, given.rope.yarnBetaSlow);
    }
    o.threads = threads;
    if (parser.isSet(QStringLiteral("ubatch")))
        o.batchSize = given.batchSize;
    return o;
}

// Requests within the trained length are read as the model was trained; when the
// server offers more (--ctx), longer ones get what the planner picks (DCA by default).
SessionPlan makePlan(const folio::Model& model, const QCommandLineParser& parser, int threads)
{
    folio::SessionOptions given;
    folio::cli::applyContextOptions(parser, given, false);
    const int trained = model.params().contextLength;
    const int context = parser.isSet(QStringLiteral("ctx")) ? whole(parser, "ctx", 2, 1 << 24) : trained;
    SessionPlan plan;
    if (context > trained && !folio::cli::extensionRequested(parser)) {
        plan.standard = planFor(model, parser, given, trained, folio::ExtensionMethod::None, threads);
        plan.extended = planFor(model, parser, given, context, folio::ExtensionMethod::Auto, threads);
    } else {
        plan.standard = planFor(model, parser, given, context, methodFor(given), threads);
    }
    return plan;
}

ServerConfig makeConfig(const QCommandLineParser& parser, const QString& modelPath)
{
    ServerConfig c;
    c.host = parser.value(QStringLiteral("host")).toStdString();
    c.port = whole(parser, "port", 0, 65535);
    c.queueCapacity = whole(parser, "queue", 0, 1024);
    c.maxBodyBytes = static_cast<std::size_t>(whole(parser, "max-body", 1, 4096)) << 20;
    c.testHooks = parser.isSet(QStringLiteral("test-hooks"));
    if (parser.isSet(QStringLiteral("api-key-env"))) {
        const QString var = parser.value(QStringLiteral("api-key-env"));
        c.apiKey = qEnvironmentVariable(var.toLocal8Bit().constData()).toStdString();
        if (c.apiKey.empty())
            throw UsageError("the environment variable " + var.toStdString() + " named by --api-key-env is empty or unset");
    }
    if (!folio::server::isLoopbackHost(c.host) && c.apiKey.empty())
        throw UsageError("listening on " + c.host
                         + " reaches other computers: give an API key with --api-key-env VAR (or listen on 127.0.0.1)");
    const QFileInfo file(modelPath);
    c.modelId = file.completeBaseName().toStdString();
    c.modelAliases = {modelPath.toStdString(), file.fileName().toStdString()};
    return c;
}

int serve(const QStringList& arguments)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Serve a GGUF model over an OpenAI-compatible API: /v1/chat/completions, /v1/completions, /v1/models, "
        "/tokenize, /health."));
    parser.addHelpOption();
    addOption(parser, "model", "A GGUF model.", "MODEL");
    addOption(parser, "host", "Address to listen on (default 127.0.0.1; others need an API key).", "HOST", "127.0.0.1");
    addOption(parser, "port", "Port (default 8080; 0: any free one, printed).", "PORT", "8080");
    addOption(parser, "api-key-env", "Name of the environment variable holding the API key.", "VAR");
    addOption(parser, "threads", "Threads (default: all cores).", "N", "0");
    addOption(parser, "queue", "Requests that may wait behind the running one (default 16); more get 503.", "N", "16");
    addOption(parser, "max-body", "Largest request body in MiB (default 64).", "MIB", "64");
    QCommandLineOption hooks(QStringLiteral("test-hooks"), QStringLiteral("Test hooks (POST /debug/hold)."));
    hooks.setFlags(QCommandLineOption::HiddenFromHelp);
    parser.addOption(hooks);
    addOption(parser, "prompt-cache", "SQLite file for the KV state of chats' document prefixes, kept between runs "
              "(default: prompt-cache.sqlite in the data folder).", "FILE");
    parser.addOption(QCommandLineOption(QStringLiteral("no-prompt-cache"),
                                        QStringLiteral("Keep prompt prefixes in memory only.")));
    addOption(parser, "prompt-cache-min", "Shortest prefix worth keeping on disk, in tokens (default 512).", "N", "512");
    addOption(parser, "prompt-cache-budget", "Most GiB the prompt cache may take (default 16; the least recently "
              "used go first).", "GIB", "16");
    addOption(parser, "ctx", "Most tokens a request may hold, prompt and answer (default: the model's trained length; "
              "longer requests get DCA unless another extension is chosen).", "N");
    folio::cli::addContextOptions(parser, false);
    if (!parser.parse(arguments))
        throw UsageError(parser.errorText().toStdString());
    if (parser.isSet(QStringLiteral("help"))) {
        std::fputs(parser.helpText().toLocal8Bit().constData(), stdout);
        return 0;
    }
    const QString modelPath = parser.value(QStringLiteral("model"));
    if (modelPath.isEmpty())
        throw UsageError("--model is required");
    ServerConfig config = makeConfig(parser, modelPath);
    const int threads = whole(parser, "threads", 0, 1024);
    if (!parser.isSet(QStringLiteral("no-prompt-cache"))) {
        QString path = parser.value(QStringLiteral("prompt-cache"));
        if (path.isEmpty()) {
            const QString dir = QStandardPaths::writableLocation(QStandardPaths::AppDataLocation);
            QDir().mkpath(dir);
            path = QDir(dir).filePath(QStringLiteral("prompt-cache.sqlite"));
        }
        config.promptCache.databasePath = path.toStdString();
        config.promptCache.minTokens = whole(parser, "prompt-cache-min", 1, 1 << 24);
        config.promptCache.budgetBytes = int64_t(whole(parser, "prompt-cache-budget", 0, 1 << 20)) << 30;
    }

    // SIGINT and SIGTERM end the server: the handler only writes a byte to a pipe
    // (libraries start threads before main, so any thread may take the signal), and
    // a thread reading the pipe stops the server outside the handler.
    if (::pipe(g_stopPipe) != 0)
        throw std::runtime_error("cannot create a pipe");
    struct sigaction action {};
    action.sa_handler = onStopSignal;
    sigemptyset(&action.sa_mask);
    ::sigaction(SIGINT, &action, nullptr);
    ::sigaction(SIGTERM, &action, nullptr);
    std::signal(SIGPIPE, SIG_IGN);  // a client that left is a failed write, not the end

    const auto model = folio::Model::load(modelPath.toStdString());
    SessionPlan plan = makePlan(*model, parser, threads);
    std::fprintf(stderr, "folio-server: %s (%s), context %d tokens (trained on %d)\n", config.modelId.c_str(),
                 model->params().architecture.c_str(), plan.maxContext(), model->params().contextLength);
    if (!config.promptCache.databasePath.empty())
        std::fprintf(stderr, "folio-server: prompt prefixes of %d tokens or more kept in %s\n",
                     config.promptCache.minTokens, config.promptCache.databasePath.c_str());
    ApiServer server(config, model, std::move(plan));
    const int port = server.bind();
    const std::string host = config.host.find(':') != std::string::npos && config.host.front() != '['
                                 ? "[" + config.host + "]" : config.host;
    // The first line on stdout: tests and scripts read the port from it.
    std::printf("folio-server: listening on http://%s:%d\n", host.c_str(), port);
    std::fflush(stdout);

    std::thread stopper([&] {
        char byte = 0;
        while (::read(g_stopPipe[0], &byte, 1) < 0 && errno == EINTR) {
        }
        server.stop();
    });
    const bool ok = server.listen();
    onStopSignal(0);  // wakes the stopper if listening ended on its own
    stopper.join();
    return ok ? 0 : 1;
}

} // namespace

int main(int argc, char** argv)
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("folio-server"));
    try {
        return serve(QCoreApplication::arguments());
    } catch (const UsageError& e) {
        std::fprintf(stderr, "folio-server: %s\n", e.what());
        return 2;
    } catch (const std::invalid_argument& e) {  // a bad context option, named by the engine
        std::fprintf(stderr, "folio-server: %s\n", e.what());
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
}
