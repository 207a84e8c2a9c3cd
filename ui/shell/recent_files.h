// The most recently opened files, remembered between runs (QSettings).
#pragma once

#include <QStringList>

namespace folio {

class RecentFiles {
public:
    static constexpr int kMaximum = 10;
    static QStringList load();
    static void add(const QString& path);      // moves it to the front
    static void remove(const QString& path);
    static void clear();
};

} // namespace folio
