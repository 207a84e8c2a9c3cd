#include "app/cli/catalog_command.h"

#include "app/documents/document_loader.h"
#include "app/models/model_catalog.h"

#include <QCommandLineParser>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLocale>
#include <QTextStream>

#include <algorithm>
#include <optional>

namespace folio::cli {

namespace {

QString sizeText(qint64 bytes, bool approximate)
{
    return (approximate ? QStringLiteral("~") : QString())
           + QLocale::c().formattedDataSize(bytes, 1, QLocale::DataSizeIecFormat);
}

QJsonObject toJson(const CatalogEntry& e, std::optional<int> tokens)
{
    QJsonObject o{{QStringLiteral("id"), e.id},
                  {QStringLiteral("name"), e.name},
                  {QStringLiteral("source"), e.huggingFace},
                  {QStringLiteral("architecture"), e.architecture},
                  {QStringLiteral("parameters"), e.parameters},
                  {QStringLiteral("quant"), e.quant},
                  {QStringLiteral("size_bytes"), double(e.sizeBytes)},
                  {QStringLiteral("size_approximate"), e.sizeApproximate},
                  {QStringLiteral("trained_context"), e.trainedContext},
                  {QStringLiteral("licence"), e.licence},
                  {QStringLiteral("runs"), e.runs},
                  {QStringLiteral("note"), e.note}};
    if (tokens) {
        const CatalogPlan plan = planForCatalogEntry(e, *tokens);
        o.insert(QStringLiteral("method"), QString::fromStdString(std::string(extensionMethodName(plan.method))));
        o.insert(QStringLiteral("kv_bytes"), double(plan.kvBytes));
        o.insert(QStringLiteral("memory_bytes"), double(plan.total()));
    }
    return o;
}

} // namespace

int runCatalog(const QStringList& arguments)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "The models Folio offers for download (folio-cli download SOURCE --to DIR). With --tokens or --doc: the "
        "extension method and the memory (weights + F16 KV cache) each would read that much text with."));
    parser.addHelpOption();
    parser.addPositionalArgument(QStringLiteral("catalog"), QStringLiteral("the command"));
    parser.addOption({QStringLiteral("json"), QStringLiteral("JSON instead of a table.")});
    parser.addOption({QStringLiteral("tokens"), QStringLiteral("The document's length in tokens."), QStringLiteral("N")});
    parser.addOption({QStringLiteral("doc"), QStringLiteral("A document, its length estimated at 4 characters a token."),
                      QStringLiteral("FILE")});
    parser.process(arguments);
    QTextStream out(stdout), err(stderr);

    std::optional<int> tokens;
    if (parser.isSet(QStringLiteral("tokens"))) {
        bool ok = false;
        tokens = parser.value(QStringLiteral("tokens")).toInt(&ok);
        if (!ok || *tokens <= 0) {
            err << "error: --tokens needs a positive number\n";
            return 2;
        }
    } else if (parser.isSet(QStringLiteral("doc"))) {
        try {
            // No model is loaded to count with: English text runs about 4 characters a token.
            const Document doc = DocumentLoader::load(parser.value(QStringLiteral("doc")));
            tokens = std::max<int>(1, static_cast<int>((doc.text.size() + 3) / 4));
        } catch (const DocumentError& e) {
            err << "error: " << e.message() << "\n";
            return 1;
        }
    }
    const Catalog catalog = loadCatalog();
    if (!catalog.error.isEmpty()) {
        err << "error: " << catalog.error << "\n";
        return 1;
    }

    if (parser.isSet(QStringLiteral("json"))) {
        QJsonArray array;
        for (const CatalogEntry& e : catalog.models)
            array.append(toJson(e, tokens));
        out << QJsonDocument(array).toJson(QJsonDocument::Indented);
        return 0;
    }
    if (tokens)
        out << "For " << *tokens << " tokens" << (parser.isSet(QStringLiteral("doc")) ? " (estimated)" : "") << ":\n";
    QList<QStringList> rows{{QStringLiteral("NAME"), QStringLiteral("SIZE"), QStringLiteral("CONTEXT"),
                             QStringLiteral("LICENCE"), QStringLiteral("FOLIO")}};
    if (tokens)
        rows.front() << QStringLiteral("METHOD") << QStringLiteral("MEMORY");
    rows.front() << QStringLiteral("SOURCE");
    for (const CatalogEntry& e : catalog.models) {
        QStringList row{e.name, sizeText(e.sizeBytes, e.sizeApproximate), QString::number(e.trainedContext), e.licence,
                        e.runs ? QStringLiteral("runs") : QStringLiteral("not yet")};
        if (tokens) {
            const CatalogPlan plan = planForCatalogEntry(e, *tokens);
            row << QString::fromStdString(std::string(extensionMethodName(plan.method)))
                << sizeText(static_cast<qint64>(plan.total()), e.sizeApproximate);
        }
        rows.append(row << e.huggingFace);
    }
    QList<qsizetype> widths(rows.front().size() - 1, 0);  // the last column is not padded
    for (const QStringList& row : rows)
        for (qsizetype c = 0; c < widths.size(); ++c)
            widths[c] = std::max(widths[c], row[c].size());
    for (const QStringList& row : rows) {
        for (qsizetype c = 0; c < widths.size(); ++c)
            out << row[c].leftJustified(widths[c] + 2);
        out << row.back() << '\n';
    }
    return 0;
}

} // namespace folio::cli
