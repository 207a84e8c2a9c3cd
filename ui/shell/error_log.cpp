#include "ui/shell/error_log.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QStandardPaths>

namespace folio {

QString ErrorLog::path()
{
    return QDir(QStandardPaths::writableLocation(QStandardPaths::AppDataLocation)).filePath(QStringLiteral("folio.log"));
}

void ErrorLog::append(const QString& context, const QString& message)
{
    const QString file = path();
    QDir().mkpath(QFileInfo(file).absolutePath());
    QFile log(file);
    // Keep the log small: start over once it passes 1 MiB.
    const bool tooBig = log.exists() && log.size() > (1 << 20);
    if (!log.open(QIODevice::WriteOnly | QIODevice::Text | (tooBig ? QIODevice::Truncate : QIODevice::Append)))
        return;
    QString line = QStringLiteral("%1 %2: %3\n")
                       .arg(QDateTime::currentDateTime().toString(Qt::ISODate), context,
                            QString(message).replace(QLatin1Char('\n'), QLatin1String(" / ")));
    log.write(line.toUtf8());
}

QString ErrorLog::lastEntry()
{
    QFile log(path());
    if (!log.open(QIODevice::ReadOnly | QIODevice::Text))
        return {};
    const QStringList lines = QString::fromUtf8(log.readAll()).split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    return lines.isEmpty() ? QString() : lines.last();
}

} // namespace folio
