// Shared by the UI tests: a private settings/data location, files and PDFs made here.
#pragma once

#include <QString>
#include <QStringList>

class QTemporaryDir;

namespace folio::test {

// Test-mode standard paths (settings, database and log go to a test location, cleared).
void initUiTestApp(const QString& name);
QString writeFile(const QTemporaryDir& dir, const QString& name, const QByteArray& bytes);
// One string per page, drawn into a PDF.
QString writeTextPdf(const QTemporaryDir& dir, const QString& name, const QStringList& pages, const QString& title);
// A text document with `sections` sections of recognisable words.
QString writeTideTables(const QTemporaryDir& dir, const QString& name);

} // namespace folio::test
