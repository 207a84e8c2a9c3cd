#include "app/cli/info_command.h"

#include "app/documents/document_loader.h"

#include <QCommandLineParser>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTextStream>

#include <cstdio>

namespace folio::cli {

int runInfo(const QStringList& arguments)
{
    QTextStream out(stdout);
    QTextStream err(stderr);

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Print what a document is: title, pages, words, characters."));
    parser.addHelpOption();
    parser.addPositionalArgument(QStringLiteral("info"), QStringLiteral("The command."));
    parser.addPositionalArgument(QStringLiteral("FILE"), QStringLiteral("A PDF, plain text or Markdown file."));
    const QCommandLineOption json(QStringLiteral("json"), QStringLiteral("Print JSON instead of text."));
    const QCommandLineOption maxSize(QStringLiteral("max-size"),
                                     QStringLiteral("Refuse files larger than this many MiB (default 512)."),
                                     QStringLiteral("MiB"), QStringLiteral("512"));
    parser.addOption(json);
    parser.addOption(maxSize);
    if (!parser.parse(arguments)) {
        err << "folio-cli info: " << parser.errorText() << Qt::endl;
        return 2;
    }
    if (parser.isSet(QStringLiteral("help"))) {
        out << parser.helpText();
        return 0;
    }
    const QStringList positional = parser.positionalArguments();
    if (positional.size() != 2) {
        err << "folio-cli info: expected exactly one FILE (usage: folio-cli info FILE [--json])" << Qt::endl;
        return 2;
    }
    bool ok = false;
    const double maxMiB = parser.value(maxSize).toDouble(&ok);
    if (!ok || maxMiB <= 0) {
        err << "folio-cli info: --max-size needs a positive number of MiB" << Qt::endl;
        return 2;
    }

    LoadOptions options;
    options.maxFileBytes = qint64(maxMiB * 1024 * 1024);
    Document doc;
    try {
        doc = DocumentLoader::load(positional.at(1), options);
    } catch (const DocumentError& e) {
        err << "error: " << e.message() << Qt::endl;
        return 1;
    }

    if (parser.isSet(json)) {
        QJsonObject o;
        o[QStringLiteral("path")] = doc.path;
        o[QStringLiteral("kind")] = documentKindName(doc.kind);
        o[QStringLiteral("title")] = doc.title;
        o[QStringLiteral("author")] = doc.author;
        o[QStringLiteral("pageUnit")] = doc.pageUnit;
        o[QStringLiteral("pages")] = doc.pageCount();
        o[QStringLiteral("words")] = double(doc.wordCount);
        o[QStringLiteral("characters")] = double(doc.text.size());
        o[QStringLiteral("warnings")] = QJsonArray::fromStringList(doc.warnings);
        out << QJsonDocument(o).toJson(QJsonDocument::Indented);
    } else {
        out << "Title:      " << doc.title << '\n';
        if (!doc.author.isEmpty())
            out << "Author:     " << doc.author << '\n';
        out << "Kind:       " << documentKindName(doc.kind) << '\n';
        out << "Pages:      " << doc.pageCount() << (doc.kind == DocumentKind::Pdf ? "" : " (sections)") << '\n';
        out << "Words:      " << doc.wordCount << '\n';
        out << "Characters: " << doc.text.size() << '\n';
        out.flush();
        for (const QString& warning : doc.warnings)
            err << "warning: " << warning << Qt::endl;
    }
    return 0;
}

} // namespace folio::cli
