#include "app/cli/remote_commands.h"

#include "app/remote/openai_client.h"

#include <QCommandLineParser>
#include <QEventLoop>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTextStream>

namespace folio::cli {

namespace {

constexpr int kUsageExit = 2;
constexpr int kServerExit = 3;

int usage(const QString& message)
{
    QTextStream(stderr) << "error: " << message << "\n";
    return kUsageExit;
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
    bool ok = false;
    const double timeout = parser.value(QStringLiteral("timeout")).toDouble(&ok);
    if (!ok || timeout <= 0)
        return usage(QStringLiteral("--timeout needs a positive number of seconds"));

    HttpOptions options;
    options.idleTimeoutMs = static_cast<int>(timeout * 1000);
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

} // namespace folio::cli
