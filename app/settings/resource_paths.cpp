#include "app/settings/resource_paths.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>

namespace folio {

QString findResource(const QString& relative)
{
    const QDir bin(QCoreApplication::applicationDirPath());
    QStringList candidates{bin.filePath(QStringLiteral("../share/folio/") + relative),
                           bin.filePath(QStringLiteral("resources/") + relative)};
    QDir up = bin;
    for (int level = 0; level < 5 && up.cdUp(); ++level)
        candidates << up.filePath(QStringLiteral("resources/") + relative);
    for (const QString& candidate : candidates)
        if (QFileInfo::exists(candidate))
            return QFileInfo(candidate).canonicalFilePath();
    return {};
}

QString bundledDemoModel() { return findResource(QStringLiteral("models/folio-demo.gguf")); }

} // namespace folio
