// Turns a file into a Document, or says clearly why it cannot: which file, what is wrong.
#pragma once

#include "app/documents/document.h"

#include <QByteArray>
#include <QString>

#include <exception>

namespace folio {

class DocumentError : public std::exception {
public:
    DocumentError(const QString& path, const QString& problem);
    const QString& message() const { return m_message; }   // "<path>: <problem>"
    const QString& problem() const { return m_problem; }
    const char* what() const noexcept override { return m_utf8.constData(); }

private:
    QString m_problem;
    QString m_message;
    QByteArray m_utf8;
};

struct LoadOptions {
    qint64 maxFileBytes = 512LL * 1024 * 1024;   // larger files are refused, not read; also
                                                  // the most an EPUB may unpack to (zip bombs)
    int textPageChars = 3000;                     // size of a "page" of plain text or Markdown
    bool operator==(const LoadOptions&) const = default;
};

class DocumentLoader {
public:
    // Throws DocumentError. Safe to call from any thread.
    static Document load(const QString& path, const LoadOptions& options = {});
};

// Format-specific loaders, used by DocumentLoader once the file passed the common checks.
Document loadPdf(const QString& path, const QByteArray& bytes);
Document loadText(const QString& path, const QByteArray& bytes, DocumentKind kind, int pageChars);
// One "page" per chapter (spine item with text); unpacks at most `maxUnpackedBytes` in all.
Document loadEpub(const QString& path, const QByteArray& bytes, qint64 maxUnpackedBytes);

} // namespace folio
