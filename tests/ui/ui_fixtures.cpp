#include "ui_fixtures.h"

#include "app/store/database.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QPainter>
#include <QPdfWriter>
#include <QSettings>
#include <QStandardPaths>
#include <QTemporaryDir>

namespace folio::test {

void initUiTestApp(const QString& name)
{
    QStandardPaths::setTestModeEnabled(true);
    // No test may touch the developer's real keyring: without a session bus QtKeychain
    // finds none, and API keys stay in the session's memory.
    qunsetenv("DBUS_SESSION_BUS_ADDRESS");
    QCoreApplication::setOrganizationName(QStringLiteral("FolioTest"));
    QCoreApplication::setApplicationName(name);
    QSettings().clear();
    // A fresh database and log for each test program.
    QDir(QStandardPaths::writableLocation(QStandardPaths::AppDataLocation)).removeRecursively();
}

QString writeFile(const QTemporaryDir& dir, const QString& name, const QByteArray& bytes)
{
    const QString path = dir.filePath(name);
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly))
        qFatal("cannot write %s", qPrintable(path));
    file.write(bytes);
    return path;
}

QString writeTextPdf(const QTemporaryDir& dir, const QString& name, const QStringList& pages, const QString& title)
{
    const QString path = dir.filePath(name);
    QPdfWriter writer(path);
    writer.setTitle(title);
    writer.setResolution(72);
    writer.setPageSize(QPageSize(QPageSize::A5));
    QPainter painter(&writer);
    QFont font(QStringLiteral("Sans"));
    font.setPointSize(12);
    painter.setFont(font);
    for (int i = 0; i < pages.size(); ++i) {
        if (i > 0)
            writer.newPage();
        painter.drawText(QRect(30, 30, 340, 500), Qt::TextWordWrap, pages[i]);
    }
    return path;
}

QString writeTideTables(const QTemporaryDir& dir, const QString& name)
{
    QString text = QStringLiteral("Title: The Tide Tables\nAuthor: Harbour Office\n\n");
    for (int i = 0; i < 60; ++i)
        text += QStringLiteral("Paragraph %1: high water at dawn, low water at noon.\n\n").arg(i);
    text += QStringLiteral("The lighthouse keeper signs the log.\n");
    return writeFile(dir, name, text.toUtf8());
}

} // namespace folio::test
