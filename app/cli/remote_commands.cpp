#include "app/cli/remote_commands.h"

#include "app/remote/openai_client.h"
#include "app/remote/remote_reading.h"
#include "app/reading/prompt_builder.h"
#include "app/store/database.h"

#include <QCommandLineParser>
#include <QEventLoop>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTextStream>

#include <cstdio>

namespace folio::cli {

namespace {

constexpr int kUsageExit = 2;
constexpr int kServerExit = 3;

int usage(const QString& message)
{
    QTextStream(stderr) << "error: " << message << "\n";
    return kUsageExit;
}

// --timeout in seconds (positive), or nullopt.
std::optional<double> timeoutSeconds(const QCommandLineParser& parser)
{
    bool ok = false;
    const double seconds = parser.value(QStringLiteral("timeout")).toDouble(&ok);
    if (!ok || seconds <= 0)
        return std::nullopt;
    return seconds;
}

} // namespace

// The key is read from the environment variable the user names, so it never appears
// on a command line (ps, shell history) or in what folio-cli prints.
bool apiKeyFromEnvironment(const QCommandLineParser& parser, QString* key, QString* error)
{
    const QString variable = parser.value(QStringLiteral("api-key-env"));
    if (variable.isEmpty())
        return true;
    if (!qEnvironmentVariableIsSet(variable.toLocal8Bit().constData())) {
        *error = QStringLiteral("--api-key-env %1: that environment variable is not set").arg(variable);
        return false;
    }
    *key = qEnvironmentVariable(variable.toLocal8Bit().constData());
    return true;
}

int runModels(const QStringList& arguments)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("The models an OpenAI-compatible server offers, with the context "
                                                    "each request gets where the server says."));
    parser.addHelpOption();
    parser.addPositionalArgument(QStringLiteral("models"), QStringLiteral("The command."));
    parser.addOption({QStringLiteral("endpoint"), QStringLiteral("The server: http://HOST:PORT or http://HOST:PORT/v1."),
                      QStringLiteral("URL")});
    parser.addOption({QStringLiteral("api-key-env"), QStringLiteral("Read the API key from this environment variable."),
                      QStringLiteral("VAR")});
    parser.addOption({QStringLiteral("timeout"), QStringLiteral("Give up after this many seconds without a byte."),
                      QStringLiteral("S"), QStringLiteral("30")});
    parser.addOption({QStringLiteral("json"), QStringLiteral("An array of {id, context_length} as JSON.")});
    if (!parser.parse(arguments))
        return usage(parser.errorText());
    if (parser.isSet(QStringLiteral("help"))) {
        QTextStream(stdout) << parser.helpText();
        return 0;
    }
    QString error;
    const auto endpoint = ServerEndpoint::parse(parser.value(QStringLiteral("endpoint")), &error);
    if (!endpoint)
        return usage(parser.value(QStringLiteral("endpoint")).isEmpty() ? QStringLiteral("--endpoint is required") : error);
    QString key;
    if (!apiKeyFromEnvironment(parser, &key, &error))
        return usage(error);
    const auto timeout = timeoutSeconds(parser);
    if (!timeout)
        return usage(QStringLiteral("--timeout needs a positive number of seconds"));

    HttpOptions options;
    options.idleTimeoutMs = static_cast<int>(*timeout * 1000);
    OpenAiClient client(*endpoint, key, options);
    QObject::connect(&client, &OpenAiClient::notice, [](const QString& message) { QTextStream(stderr) << message << "\n"; });
    QEventLoop loop;
    QList<RemoteModel> models;
    std::optional<RemoteError> failure;
    client.listModels([&](const QList<RemoteModel>& list, const std::optional<RemoteError>& e) {
        models = list;
        failure = e;
        loop.quit();
    });
    loop.exec();
    if (failure) {
        QTextStream(stderr) << "error: " << failure->message() << "\n";
        return kServerExit;
    }
    QTextStream out(stdout);
    if (parser.isSet(QStringLiteral("json"))) {
        QJsonArray array;
        for (const RemoteModel& model : models) {
            QJsonObject object{{QStringLiteral("id"), model.id}};
            object.insert(QStringLiteral("context_length"), model.contextLength ? QJsonValue(*model.contextLength) : QJsonValue());
            object.insert(QStringLiteral("context_source"), model.contextSource.isEmpty() ? QJsonValue() : QJsonValue(model.contextSource));
            array.append(object);
        }
        out << QJsonDocument(array).toJson(QJsonDocument::Indented);
        return 0;
    }
    if (models.isEmpty())
        out << endpoint->text() << ": the server lists no models\n";
    for (const RemoteModel& model : models) {
        out << model.id << "\t";
        if (model.contextLength)
            out << "context " << *model.contextLength << " (" << model.contextSource << ")";
        else
            out << "context unknown (the server does not say; Folio estimates and counts before sending)";
        out << "\n";
    }
    return 0;
}

int runRemoteAsk(const QStringList& arguments)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Ask an OpenAI-compatible server about a whole document; the answer "
                                                    "is stored like a local one."));
    parser.addHelpOption();
    parser.addPositionalArgument(QStringLiteral("ask"), QStringLiteral("The command."));
    parser.addPositionalArgument(QStringLiteral("QUESTION"), QStringLiteral("The question."));
    parser.addOption({QStringLiteral("endpoint"), QStringLiteral("The server: http://HOST:PORT or http://HOST:PORT/v1."),
                      QStringLiteral("URL")});
    parser.addOption({QStringLiteral("remote-model"), QStringLiteral("The server's model id (default: the first it lists)."),
                      QStringLiteral("ID")});
    parser.addOption({QStringLiteral("api-key-env"), QStringLiteral("Read the API key from this environment variable."),
                      QStringLiteral("VAR")});
    parser.addOption({QStringLiteral("doc"), QStringLiteral("The document."), QStringLiteral("FILE")});
    parser.addOption({QStringLiteral("db"), QStringLiteral("The library database."), QStringLiteral("PATH")});
    parser.addOption({QStringLiteral("conversation"), QStringLiteral("Continue this conversation."), QStringLiteral("ID")});
    parser.addOption({QStringLiteral("n"), QStringLiteral("At most this many answer tokens (0: the server's default)."),
                      QStringLiteral("N"), QStringLiteral("0")});
    parser.addOption({QStringLiteral("temp"), QStringLiteral("Sampling temperature (default: the server's)."),
                      QStringLiteral("T")});
    parser.addOption({QStringLiteral("timeout"), QStringLiteral("Give up after this many seconds without a byte."),
                      QStringLiteral("S"), QStringLiteral("300")});
    if (!parser.parse(arguments))
        return usage(parser.errorText());
    if (parser.isSet(QStringLiteral("help"))) {
        QTextStream(stdout) << parser.helpText();
        return 0;
    }
    const QStringList positional = parser.positionalArguments();
    if (positional.size() != 2 || positional[1].trimmed().isEmpty())
        return usage(QStringLiteral("ask needs one question"));
    const QString document = parser.value(QStringLiteral("doc"));
    if (document.isEmpty())
        return usage(QStringLiteral("--doc is required"));
    QString error;
    ServerProfile profile;
    profile.address = parser.value(QStringLiteral("endpoint"));
    if (!ServerEndpoint::parse(profile.address, &error))
        return usage(error);
    profile.model = parser.value(QStringLiteral("remote-model"));
    const auto timeout = timeoutSeconds(parser);
    if (!timeout)
        return usage(QStringLiteral("--timeout needs a positive number of seconds"));
    profile.idleTimeoutSeconds = std::max(1, static_cast<int>(*timeout));
    bool ok = false;
    const int maxTokens = parser.value(QStringLiteral("n")).toInt(&ok);
    if (!ok || maxTokens < 0)
        return usage(QStringLiteral("-n needs a whole number of at least 0"));
    double temperature = -1;
    if (parser.isSet(QStringLiteral("temp"))) {
        temperature = parser.value(QStringLiteral("temp")).toDouble(&ok);
        if (!ok || temperature < 0)
            return usage(QStringLiteral("--temp needs a number of at least 0"));
    }
    qint64 conversation = 0;
    if (parser.isSet(QStringLiteral("conversation"))) {
        conversation = parser.value(QStringLiteral("conversation")).toLongLong(&ok);
        if (!ok || conversation <= 0)
            return usage(QStringLiteral("--conversation needs a conversation id"));
    }
    QString key;
    if (!apiKeyFromEnvironment(parser, &key, &error))
        return usage(error);
    const QString database = parser.value(QStringLiteral("db")).isEmpty() ? Database::defaultPath()
                                                                          : parser.value(QStringLiteral("db"));

    RemoteReading reading(profile, key, database);
    QTextStream err(stderr);
    int exitCode = 0;
    QEventLoop loop;
    QObject::connect(&reading, &RemoteReading::notice, [&](const QString& text) { err << "note: " << text << Qt::endl; });
    QObject::connect(&reading, &RemoteReading::budget, [&](int tokens, bool estimated, int context) {
        err << "prompt: " << tokens << " tokens" << (estimated ? " (estimated)" : "");
        if (context > 0)
            err << " of a " << context << "-token context";
        err << Qt::endl;
    });
    QObject::connect(&reading, &RemoteReading::delta, [](const QString& text) {
        const QByteArray utf8 = text.toUtf8();
        std::fwrite(utf8.constData(), 1, std::size_t(utf8.size()), stdout);
        std::fflush(stdout);
    });
    auto printEnd = [](const RemoteAnswer& answer) {
        QTextStream out(stdout);
        out << "\n\n";
        if (answer.evidence.isEmpty()) {
            out << "Evidence: none found (a server gives no attention: citations and text matches only)\n";
        } else {
            QStringList pages;
            for (const TextEvidence& e : answer.evidence)
                pages << QStringLiteral("page %1 (%2)").arg(e.page + 1).arg(
                    e.kind == TextEvidence::Kind::Citation ? QStringLiteral("cited") : QStringLiteral("text match"));
            out << "Evidence: " << pages.join(QStringLiteral(", ")) << '\n';
        }
        if (answer.conversationId > 0)
            out << "Conversation: " << answer.conversationId << Qt::endl;
    };
    QObject::connect(&reading, &RemoteReading::finished, [&](const RemoteAnswer& answer) {
        printEnd(answer);
        loop.quit();
    });
    QObject::connect(&reading, &RemoteReading::failed,
                     [&](RemoteReading::Failure failure, const QString& message, const RemoteAnswer& kept) {
                         if (kept.conversationId > 0) {
                             printEnd(kept);
                             err << "(the partial answer is kept, marked interrupted)" << Qt::endl;
                         }
                         err << "error: " << message << Qt::endl;
                         switch (failure) {
                         case RemoteReading::Failure::Document: exitCode = 1; break;
                         case RemoteReading::Failure::Store: exitCode = 1; break;
                         case RemoteReading::Failure::TooLong: exitCode = 4; break;
                         case RemoteReading::Failure::Cancelled: exitCode = 130; break;
                         case RemoteReading::Failure::Server: exitCode = kServerExit; break;
                         }
                         loop.quit();
                     });
    reading.ask(document, positional[1], conversation, maxTokens, temperature);
    if (reading.isBusy())
        loop.exec();
    return exitCode;
}

} // namespace folio::cli
