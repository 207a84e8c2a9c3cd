#include "app/documents/document_loader.h"

#include <QCoreApplication>
#include <QCryptographicHash>
#include <QFile>
#include <QFileInfo>
#include <QLocale>

namespace folio {

namespace {

QString tr(const char* text) { return QCoreApplication::translate("DocumentLoader", text); }

enum class Format { Pdf, Epub, Text, Markdown, Unknown };

Format formatFromSuffix(const QString& path)
{
    const QString suffix = QFileInfo(path).suffix().toLower();
    if (suffix == QLatin1String("pdf"))
        return Format::Pdf;
    if (suffix == QLatin1String("epub"))
        return Format::Epub;
    if (suffix == QLatin1String("md") || suffix == QLatin1String("markdown"))
        return Format::Markdown;
    if (suffix.isEmpty() || suffix == QLatin1String("txt") || suffix == QLatin1String("text"))
        return Format::Text;
    return Format::Unknown;
}

// An EPUB's first zip entry is "mimetype", stored uncompressed, holding "application/epub+zip".
bool looksLikeEpub(const QByteArray& bytes)
{
    return bytes.startsWith("PK\x03\x04") && bytes.left(200).contains("application/epub+zip");
}

Document loadByContent(const QString& path, const QByteArray& bytes, const LoadOptions& options)
{
    // The content decides over the name: a PDF renamed .txt is still a PDF.
    const Format format = formatFromSuffix(path);
    if (bytes.left(1024).contains("%PDF-"))
        return loadPdf(path, bytes);
    if (format == Format::Pdf)
        throw DocumentError(path, tr("not a PDF file (no %PDF header); the file is damaged or of another type"));
    if (looksLikeEpub(bytes) || format == Format::Epub)
        return loadEpub(path, bytes, options.maxFileBytes);
    if (format == Format::Unknown)
        throw DocumentError(path, tr("unsupported file type \"%1\" (Folio opens PDF, EPUB, plain text and Markdown)")
                                      .arg(QFileInfo(path).suffix()));
    return loadText(path, bytes, format == Format::Markdown ? DocumentKind::Markdown : DocumentKind::PlainText,
                    options.textPageChars);
}

} // namespace

DocumentError::DocumentError(const QString& path, const QString& problem)
    : m_problem(problem), m_message(QStringLiteral("%1: %2").arg(path, problem)), m_utf8(m_message.toUtf8())
{
}

Document DocumentLoader::load(const QString& path, const LoadOptions& options)
{
    const QFileInfo info(path);
    if (!info.exists())
        throw DocumentError(path, tr("file not found"));
    if (info.isDir())
        throw DocumentError(path, tr("is a folder, not a document"));
    if (info.size() == 0)
        throw DocumentError(path, tr("the file is empty"));
    if (info.size() > options.maxFileBytes) {
        const QLocale locale;
        throw DocumentError(path, tr("the file is too large (%1; the limit is %2)")
                                      .arg(locale.formattedDataSize(info.size()),
                                           locale.formattedDataSize(options.maxFileBytes)));
    }

    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        throw DocumentError(path, tr("cannot be read (%1)").arg(file.errorString()));
    const QByteArray bytes = file.readAll();
    if (bytes.size() != info.size())
        throw DocumentError(path, tr("could not be read completely (%1)").arg(file.errorString()));

    Document doc = loadByContent(path, bytes, options);
    doc.contentHash = QString::fromLatin1(QCryptographicHash::hash(bytes, QCryptographicHash::Sha256).toHex());
    return doc;
}

} // namespace folio
