// Light and dark palettes. "System" follows the desktop: Qt 6.4 has no
// QStyleHints::colorScheme (6.5+), so the desktop's choice is read from the palette
// the platform gave us (a dark window colour means a dark desktop).
#pragma once

#include <QString>

class QApplication;

namespace folio {

enum class Theme { System, Light, Dark };

QString themeKey(Theme theme);            // "system", "light", "dark" (QSettings)
Theme parseTheme(const QString& key);     // unknown: System

class ThemeManager {
public:
    // Remembers the platform's palette and style the first time it is called.
    static void apply(Theme theme);
    static Theme current();
    static bool systemIsDark();
    static bool isDark();   // what is shown now
    static Theme saved();   // from QSettings ("view/theme")
    static void save(Theme theme);
};

} // namespace folio
