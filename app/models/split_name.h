// The names llama.cpp's gguf-split gives the parts of one model:
// NAME-00001-of-00003.gguf, NAME-00002-of-00003.gguf, ...
#pragma once

#include <QRegularExpression>
#include <QString>

#include <optional>

namespace folio {

struct SplitName {
    QString prefix;  // NAME
    int index = 0;   // 1-based
    int count = 0;
};

inline std::optional<SplitName> parseSplitName(const QString& fileName)
{
    static const QRegularExpression pattern(QStringLiteral("^(.+)-(\\d{5})-of-(\\d{5})\\.gguf$"),
                                            QRegularExpression::CaseInsensitiveOption);
    const QRegularExpressionMatch m = pattern.match(fileName);
    if (!m.hasMatch())
        return std::nullopt;
    SplitName s{m.captured(1), m.captured(2).toInt(), m.captured(3).toInt()};
    if (s.count < 1 || s.index < 1 || s.index > s.count)
        return std::nullopt;
    return s;
}

inline QString splitPartName(const SplitName& s, int index)
{
    return QStringLiteral("%1-%2-of-%3.gguf")
        .arg(s.prefix)
        .arg(index, 5, 10, QLatin1Char('0'))
        .arg(s.count, 5, 10, QLatin1Char('0'));
}

} // namespace folio
