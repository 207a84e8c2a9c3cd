// PDFs the tests make themselves: known text on known pages, and damaged ones.
#pragma once

#include <QByteArray>
#include <QString>
#include <QStringList>

#include <ostream>

// Readable QString values in GoogleTest failure messages.
inline void PrintTo(const QString& s, std::ostream* os) { *os << '"' << s.toStdString() << '"'; }

namespace folio::test {

// One string per page, drawn with QPainter into a PDF at `path`; title/author in the metadata.
void writeTextPdf(const QString& path, const QStringList& pages, const QString& title = {},
                  const QString& author = {});
// A table: each row's cells drawn left to right on one line.
void writeTablePdf(const QString& path, const QList<QStringList>& rows);
// A page of a financial report: a paragraph, a table (first column left-aligned, the
// figures right-aligned in their columns, as reports set them), another paragraph.
void writeReportPdf(const QString& path, const QString& before, const QList<QStringList>& rows, const QString& after);
// A small valid PDF with a Standard security handler whose user password is not empty.
QByteArray encryptedPdfBytes();
void writeBytes(const QString& path, const QByteArray& bytes);
QByteArray readBytes(const QString& path);

} // namespace folio::test
