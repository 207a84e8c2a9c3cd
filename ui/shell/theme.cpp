#include "ui/shell/theme.h"

#include <QApplication>
#include <QPalette>
#include <QSettings>
#include <QStyle>
#include <QStyleFactory>

namespace folio {

namespace {

struct Original {
    bool captured = false;
    QPalette palette;
    QString styleName;
};

Original& original()
{
    static Original o;
    if (!o.captured && qApp) {
        o.captured = true;
        o.palette = QApplication::palette();
        o.styleName = QApplication::style() ? QApplication::style()->name() : QString();
    }
    return o;
}

Theme g_current = Theme::System;

QPalette darkPalette()
{
    QPalette p;
    const QColor window(45, 45, 48), base(30, 30, 32), text(230, 230, 230), disabled(128, 128, 128);
    p.setColor(QPalette::Window, window);
    p.setColor(QPalette::WindowText, text);
    p.setColor(QPalette::Base, base);
    p.setColor(QPalette::AlternateBase, window);
    p.setColor(QPalette::ToolTipBase, base);
    p.setColor(QPalette::ToolTipText, text);
    p.setColor(QPalette::PlaceholderText, disabled);
    p.setColor(QPalette::Text, text);
    p.setColor(QPalette::Button, window);
    p.setColor(QPalette::ButtonText, text);
    p.setColor(QPalette::BrightText, Qt::red);
    p.setColor(QPalette::Link, QColor(110, 170, 255));
    p.setColor(QPalette::LinkVisited, QColor(170, 140, 255));
    p.setColor(QPalette::Highlight, QColor(60, 120, 200));
    p.setColor(QPalette::HighlightedText, Qt::white);
    p.setColor(QPalette::Light, QColor(70, 70, 74));
    p.setColor(QPalette::Midlight, QColor(60, 60, 64));
    p.setColor(QPalette::Mid, QColor(40, 40, 42));
    p.setColor(QPalette::Dark, QColor(25, 25, 27));
    p.setColor(QPalette::Shadow, Qt::black);
    for (auto role : {QPalette::WindowText, QPalette::Text, QPalette::ButtonText})
        p.setColor(QPalette::Disabled, role, disabled);
    return p;
}

} // namespace

QString themeKey(Theme theme)
{
    switch (theme) {
    case Theme::Light: return QStringLiteral("light");
    case Theme::Dark: return QStringLiteral("dark");
    case Theme::System: break;
    }
    return QStringLiteral("system");
}

Theme parseTheme(const QString& key)
{
    if (key == QLatin1String("light"))
        return Theme::Light;
    if (key == QLatin1String("dark"))
        return Theme::Dark;
    return Theme::System;
}

bool ThemeManager::systemIsDark()
{
    return original().palette.color(QPalette::Window).lightness() < 128;
}

void ThemeManager::apply(Theme theme)
{
    Original& o = original();
    g_current = theme;
    const bool wantDark = theme == Theme::Dark || (theme == Theme::System && systemIsDark());
    if (theme == Theme::System) {
        if (QApplication::style()->name() != o.styleName && !o.styleName.isEmpty())
            QApplication::setStyle(QStyleFactory::create(o.styleName));
        QApplication::setPalette(o.palette);
        return;
    }
    // Fusion draws every control from the palette, so a forced palette looks whole.
    if (QApplication::style()->name().compare(QLatin1String("fusion"), Qt::CaseInsensitive) != 0)
        QApplication::setStyle(QStyleFactory::create(QStringLiteral("Fusion")));
    QApplication::setPalette(wantDark ? darkPalette() : QApplication::style()->standardPalette());
}

Theme ThemeManager::current() { return g_current; }

bool ThemeManager::isDark() { return QApplication::palette().color(QPalette::Window).lightness() < 128; }

Theme ThemeManager::saved() { return parseTheme(QSettings().value(QStringLiteral("view/theme")).toString()); }

void ThemeManager::save(Theme theme) { QSettings().setValue(QStringLiteral("view/theme"), themeKey(theme)); }

} // namespace folio
