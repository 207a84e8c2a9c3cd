#include "app/cli/local_models_command.h"

#include "app/models/model_discovery.h"
#include "app/models/model_list.h"

#include <QCommandLineParser>
#include <QDir>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTextStream>

#include <algorithm>

namespace folio::cli {

namespace {

QString sizeText(qint64 bytes)
{
    const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double value = static_cast<double>(bytes);
    int unit = 0;
    while (value >= 1024.0 && unit < 4) {
        value /= 1024.0;
        ++unit;
    }
    return unit == 0 ? QStringLiteral("%1 B").arg(bytes)
                     : QStringLiteral("%1 %2").arg(value, 0, 'f', value < 10 ? 1 : 0).arg(QLatin1String(units[unit]));
}

QJsonValue orNull(const QString& text) { return text.isEmpty() ? QJsonValue() : QJsonValue(text); }
QJsonValue orNull(qint64 number) { return number == 0 ? QJsonValue() : QJsonValue(double(number)); }

QJsonObject toJson(const LocalModel& m)
{
    QJsonObject o{{QStringLiteral("path"), m.path},
                  {QStringLiteral("name"), m.name},
                  {QStringLiteral("source"), m.source},
                  {QStringLiteral("family"), orNull(m.family)},
                  {QStringLiteral("type"), orNull(m.type)},
                  {QStringLiteral("size_bytes"), double(m.sizeBytes)},
                  {QStringLiteral("context_length"), orNull(m.contextLength)},
                  {QStringLiteral("parameters"), orNull(m.parameters)},
                  {QStringLiteral("supported"), m.supported},
                  {QStringLiteral("reason"), orNull(m.reason)},
                  {QStringLiteral("incomplete"), orNull(m.incomplete)}};
    if (m.parts.size() > 1)
        o.insert(QStringLiteral("parts"), QJsonArray::fromStringList(m.parts));
    return o;
}

void printTable(QTextStream& out, const QList<LocalModel>& models)
{
    QList<QStringList> rows{{QStringLiteral("NAME"), QStringLiteral("APP"), QStringLiteral("FAMILY"),
                             QStringLiteral("TYPE"), QStringLiteral("SIZE"), QStringLiteral("CONTEXT"),
                             QStringLiteral("FOLIO")}};
    for (const LocalModel& m : models)
        rows.append({m.name, m.source, m.family.isEmpty() ? QStringLiteral("-") : m.family,
                     m.type.isEmpty() ? QStringLiteral("-") : m.type, sizeText(m.sizeBytes),
                     m.contextLength ? QString::number(m.contextLength) : QStringLiteral("-"),
                     m.supported ? QStringLiteral("runs") : QStringLiteral("no: ") + m.reason});
    QList<qsizetype> widths(rows.front().size() - 1, 0);  // the last column is not padded
    for (const QStringList& row : rows)
        for (qsizetype c = 0; c < widths.size(); ++c)
            widths[c] = std::max(widths[c], row[c].size());
    for (const QStringList& row : rows) {
        for (qsizetype c = 0; c < widths.size(); ++c)
            out << row[c].leftJustified(widths[c] + 2);
        out << row.back() << '\n';
    }
}

} // namespace

int runLocalModels(const QStringList& arguments)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "The GGUF models already on this computer: LM Studio, GPT4All, Jan, Ollama, the Hugging Face cache, "
        "llama.cpp's cache and the folders given with --dir. Reads headers only; changes nothing."));
    parser.addHelpOption();
    parser.addPositionalArgument(QStringLiteral("models"), QStringLiteral("The command."));
    parser.addOption({QStringLiteral("local"), QStringLiteral("List the models on this computer.")});
    parser.addOption({QStringLiteral("dir"), QStringLiteral("Also search this folder (repeatable)."), QStringLiteral("DIR")});
    parser.addOption({QStringLiteral("search"), QStringLiteral("Only models whose name, family or app contains TEXT."),
                      QStringLiteral("TEXT")});
    parser.addOption({QStringLiteral("sort"), QStringLiteral("name, app, family, type, size, context or parameters."),
                      QStringLiteral("KEY"), QStringLiteral("name")});
    parser.addOption({QStringLiteral("json"), QStringLiteral("An array of objects as JSON.")});
    if (!parser.parse(arguments)) {
        QTextStream(stderr) << "error: " << parser.errorText() << "\n";
        return 2;
    }
    if (parser.isSet(QStringLiteral("help"))) {
        QTextStream(stdout) << parser.helpText();
        return 0;
    }
    const std::optional<ModelSortKey> key = modelSortKeyFromName(parser.value(QStringLiteral("sort")));
    if (!key) {
        QTextStream(stderr) << "error: --sort: unknown key '" << parser.value(QStringLiteral("sort")) << "'\n";
        return 2;
    }
    QList<ModelPlace> places = defaultModelPlaces();
    for (const QString& dir : parser.values(QStringLiteral("dir")))
        places.append(userModelFolder(QDir(dir).absolutePath()));

    const ModelScan scan = scanModels(places);
    QList<LocalModel> models = filterModels(scan.models, parser.value(QStringLiteral("search")));
    sortModels(models, *key);

    QTextStream out(stdout);
    if (parser.isSet(QStringLiteral("json"))) {
        QJsonArray array;
        for (const LocalModel& m : models)
            array.append(toJson(m));
        out << QJsonDocument(array).toJson(QJsonDocument::Indented);
        return 0;
    }
    if (models.isEmpty())
        out << "No models found.\n";
    else
        printTable(out, models);
    out << "\nSearched:";
    if (scan.searched.isEmpty())
        out << " none of the known places exist";
    for (const ModelPlace& place : scan.searched)
        out << "\n  " << place.source << "  " << place.path;
    out << '\n';
    return 0;
}

} // namespace folio::cli
