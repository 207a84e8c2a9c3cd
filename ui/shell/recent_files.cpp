#include "ui/shell/recent_files.h"

#include <QFileInfo>
#include <QSettings>

namespace folio {

namespace {
const char* kKey = "recentFiles";
void save(const QStringList& files) { QSettings().setValue(kKey, files); }
} // namespace

QStringList RecentFiles::load() { return QSettings().value(kKey).toStringList(); }

void RecentFiles::add(const QString& path)
{
    const QString absolute = QFileInfo(path).absoluteFilePath();
    QStringList files = load();
    files.removeAll(absolute);
    files.prepend(absolute);
    while (files.size() > kMaximum)
        files.removeLast();
    save(files);
}

void RecentFiles::remove(const QString& path)
{
    QStringList files = load();
    files.removeAll(QFileInfo(path).absoluteFilePath());
    save(files);
}

void RecentFiles::clear() { save({}); }

} // namespace folio
