#include "app/remote/text_evidence.h"

#include "app/documents/document.h"
#include "app/reading/prompt_builder.h"

#include <QHash>
#include <QRegularExpression>
#include <QStringList>

#include <algorithm>
#include <map>

namespace folio {

namespace {

// Runs of this many words count as a match; shorter ones ("of the sea") are everywhere.
constexpr int kRunWords = 6;
constexpr int kRunMinChars = 24;

// Lower-case letters and digits with single spaces between words, and for each of its
// characters the position in `text` it came from.
QString normalise(const QString& text, QVector<qsizetype>* origin)
{
    QString out;
    out.reserve(text.size());
    if (origin)
        origin->reserve(text.size());
    bool space = true;
    for (qsizetype i = 0; i < text.size(); ++i) {
        const QChar c = text.at(i);
        if (c.isLetterOrNumber()) {
            out.append(c.toLower());
            if (origin)
                origin->append(i);
            space = false;
        } else if (!space) {
            out.append(QLatin1Char(' '));
            if (origin)
                origin->append(i);
            space = true;
        }
    }
    return out;
}

} // namespace

QVector<TextEvidence> evidenceFromText(const Document& document, const QString& answer, int limit)
{
    QVector<TextEvidence> evidence;
    if (document.pages.isEmpty() || limit <= 0)
        return evidence;

    // Citations: the markers the prompt put before each page, read back.
    QHash<QString, int> markers;
    for (int i = 0; i < document.pageCount(); ++i)
        markers.insert(PromptBuilder::pageMarker(document, i), i);
    static const QRegularExpression citation(QStringLiteral(R"(\[(?:p\.|pp\.|ch\.|§)\s*[^\[\]]{1,20}\])"));
    static const QRegularExpression list(QStringLiteral(R"(^\[(p\.|pp\.|ch\.|§)\s*(.+)\]$)"));
    for (auto it = citation.globalMatch(answer); it.hasNext();) {
        const QString whole = it.next().captured(0);
        // "[p. 12]" as given, or each of "[p. 12, 14]" / "[pp. 12-14]" (the ends of a range).
        QStringList candidates{whole};
        const QRegularExpressionMatch parts = list.match(whole);
        if (parts.hasMatch()) {
            const QString prefix = parts.captured(1) == QLatin1String("pp.") ? QStringLiteral("p.") : parts.captured(1);
            for (const QString& label : parts.captured(2).split(QRegularExpression(QStringLiteral("[,;–-]")), Qt::SkipEmptyParts))
                candidates.append(QStringLiteral("[%1 %2]").arg(prefix, label.trimmed()));
        }
        for (const QString& candidate : candidates) {
            const auto found = markers.constFind(candidate);
            if (found == markers.constEnd())
                continue;
            const bool seen = std::any_of(evidence.begin(), evidence.end(),
                                          [&](const TextEvidence& e) { return e.page == *found; });
            if (!seen)
                evidence.append({*found, TextEvidence::Kind::Citation, 1.0});
        }
    }

    // Text matches: every run of kRunWords of the answer's words found in the document.
    QVector<qsizetype> origin;
    const QString haystack = normalise(document.text, &origin);
    const QStringList words = normalise(answer, nullptr).split(QLatin1Char(' '), Qt::SkipEmptyParts);
    std::map<int, int> matchesPerPage;
    int runs = 0;
    for (qsizetype w = 0; w + kRunWords <= words.size(); ++w) {
        const QString run = words.mid(w, kRunWords).join(QLatin1Char(' '));
        if (run.size() < kRunMinChars)
            continue;
        ++runs;
        const qsizetype at = haystack.indexOf(run);
        if (at < 0)
            continue;
        const int page = document.pages.pageAt(origin.at(at));
        if (page >= 0)
            ++matchesPerPage[page];
    }
    std::vector<std::pair<int, int>> ranked(matchesPerPage.begin(), matchesPerPage.end());
    std::stable_sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
    for (const auto& [page, matches] : ranked) {
        const bool cited = std::any_of(evidence.begin(), evidence.end(), [&](const TextEvidence& e) { return e.page == page; });
        if (!cited)
            evidence.append({page, TextEvidence::Kind::TextMatch, static_cast<double>(matches) / std::max(runs, 1)});
    }
    if (evidence.size() > limit)
        evidence.resize(limit);
    return evidence;
}

} // namespace folio
