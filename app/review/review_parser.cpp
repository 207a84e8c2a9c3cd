#include "app/review/review_parser.h"

#include "app/review/review_prompt_builder.h"

#include <QRegularExpression>
#include <QHash>
#include <QSet>

#include <optional>

namespace folio {

namespace {

// Words that headings add or drop freely ("Questions for the authors" = "Questions").
const QSet<QString>& fillerWords()
{
    static const QSet<QString> words{QStringLiteral("and"), QStringLiteral("or"), QStringLiteral("the"),
                                     QStringLiteral("of"),  QStringLiteral("for"), QStringLiteral("to"),
                                     QStringLiteral("a"),   QStringLiteral("an"),  QStringLiteral("s")};
    return words;
}

// "Comments/Suggestions/Typos" and "Comments, suggestions and typos" both become
// "comments suggestions typos".
QString headingKey(const QString& text)
{
    static const QRegularExpression separators(QStringLiteral("[^a-z0-9]+"));
    QStringList words;
    for (const QString& word : text.toLower().split(separators, Qt::SkipEmptyParts))
        if (!fillerWords().contains(word))
            words << word;
    return words.join(QLatin1Char(' '));
}

struct HeadingCandidate {
    QString title;        // the text that may name a section
    QString rest;         // text after "Title:" on the same line
    bool marked = false;  // written with '#', bold or a colon, not as a bare line
};

// Splits a line that may be a heading into its title and any inline text. Accepts
// "## Title", "### 2. Title", "**Title**", "**Title:** text", "Title:" and "Title: text";
// a bare line has no rest, so it names a section only when it is the title itself.
std::optional<HeadingCandidate> headingCandidate(const QString& line)
{
    static const QRegularExpression listMarker(QStringLiteral(R"(^(?:[-*+]\s+)?(?:\d{1,2}[.)]\s*)?)"));
    HeadingCandidate candidate;
    QString s = line.trimmed();
    if (s.startsWith(QLatin1Char('#'))) {
        candidate.marked = true;
        while (s.startsWith(QLatin1Char('#')))
            s.remove(0, 1);
        s = s.trimmed();
    }
    s.remove(listMarker);
    if (s.startsWith(QStringLiteral("**")) || s.startsWith(QStringLiteral("__"))) {
        const QString bold = s.left(2);
        candidate.marked = true;
        s.remove(0, 2);
        const qsizetype close = s.indexOf(bold);
        candidate.title = close < 0 ? s : s.left(close);
        candidate.rest = close < 0 ? QString() : s.mid(close + 2);
    } else if (const qsizetype colon = s.indexOf(QLatin1Char(':')); colon >= 0) {
        candidate.marked = true;
        candidate.title = s.left(colon);
        candidate.rest = s.mid(colon + 1);
    } else {
        candidate.title = s;
    }
    // "**Title:**" and "**Title**:" both leave a colon to drop.
    candidate.title = candidate.title.trimmed();
    while (candidate.title.endsWith(QLatin1Char(':')))
        candidate.title.chop(1);
    candidate.rest = candidate.rest.trimmed();
    while (candidate.rest.startsWith(QLatin1Char(':')))
        candidate.rest = candidate.rest.mid(1).trimmed();
    if (candidate.title.isEmpty() || candidate.title.size() > 80)
        return std::nullopt;
    return candidate;
}

// "Rating: 6: marginally above", "- **Soundness**: 3/4", "Overall assessment = 3.5".
std::optional<double> scoreValue(const QString& line, const QString& titleKey, QString* matchedLine)
{
    static const QRegularExpression pattern(QStringLiteral(
        R"(^\s*(?:#{1,6}\s*)?(?:[-*+]\s+)?(?:\d{1,2}[.)]\s+)?(?:\*\*|__)?\s*([A-Za-z][A-Za-z ,/&()'-]*?)\s*(?:\*\*|__)?\s*[:=]\s*(?:\*\*|__)?\s*([-+]?\d+(?:[.,]\d+)?)(?!\d))"));
    const QRegularExpressionMatch match = pattern.match(line);
    if (!match.hasMatch() || headingKey(match.captured(1)) != titleKey)
        return std::nullopt;
    bool ok = false;
    const double value = match.captured(2).replace(QLatin1Char(','), QLatin1Char('.')).toDouble(&ok);
    if (!ok)
        return std::nullopt;
    *matchedLine = line.trimmed();
    return value;
}

// A score given as a heading with the number on the next line ("### Soundness" / "3 good").
std::optional<double> leadingNumber(const QString& line)
{
    static const QRegularExpression pattern(QStringLiteral(R"(^\s*(?:\*\*)?([-+]?\d+(?:[.,]\d+)?)(?!\d))"));
    const QRegularExpressionMatch match = pattern.match(line);
    if (!match.hasMatch())
        return std::nullopt;
    bool ok = false;
    const double value = match.captured(1).replace(QLatin1Char(','), QLatin1Char('.')).toDouble(&ok);
    return ok ? std::optional<double>(value) : std::nullopt;
}

} // namespace

const ParsedSection* ParsedReview::section(const QString& id) const
{
    for (const ParsedSection& s : sections)
        if (s.id == id)
            return &s;
    return nullptr;
}

const ParsedScore* ParsedReview::score(const QString& id) const
{
    for (const ParsedScore& s : scores)
        if (s.id == id)
            return &s;
    return nullptr;
}

bool ParsedReview::complete() const
{
    for (const ParsedSection& s : sections)
        if (s.text.isEmpty())
            return false;
    for (const ParsedScore& s : scores)
        if (!s.found || !s.onScale)
            return false;
    return true;
}

QStringList ParsedReview::problems(const VenueForm& form) const
{
    QStringList out;
    for (const ParsedSection& s : sections)
        if (s.text.isEmpty())
            out << QStringLiteral("The section \"%1\" is missing.").arg(s.title);
    for (const ParsedScore& s : scores) {
        const ReviewScore* definition = form.score(s.id);
        const QString scale = definition ? definition->scale.describe() : QString();
        if (!s.found)
            out << QStringLiteral("The score \"%1\" is missing (scale: %2).").arg(s.title, scale);
        else if (!s.onScale)
            out << QStringLiteral("The score \"%1\" is %2, which is not on its scale (%3).")
                       .arg(s.title, QString::number(s.value, 'g', 6), scale);
    }
    return out;
}

ParsedReview ReviewParser::parse(const VenueForm& form, const QString& answer)
{
    ParsedReview review;
    review.venueId = form.id;
    QHash<QString, int> sectionByKey;
    for (int i = 0; i < form.sections.size(); ++i) {
        const ReviewSection& s = form.sections[i];
        review.sections.append({s.id, s.title, {}, false});
        sectionByKey.insert(headingKey(s.title), i);
        sectionByKey.insert(headingKey(QString(s.id).replace(QLatin1Char('_'), QLatin1Char(' '))), i);
    }
    QVector<QString> scoreKeys;
    QSet<QString> scoreHeadingKeys;
    for (const ReviewScore& s : form.scores) {
        review.scores.append({s.id, s.title, false, 0, false, {}});
        scoreKeys.append(headingKey(s.title));
        scoreHeadingKeys.insert(headingKey(s.title));
    }
    const QString scoresKey = headingKey(ReviewPromptBuilder::scoresHeading());

    enum class Target { Preamble, Section, Elsewhere };
    Target target = Target::Preamble;
    int current = -1;
    QStringList preamble;
    QVector<QStringList> bodies(form.sections.size());
    int pendingScore = -1;   // a score heading waiting for its number on the next line

    const QStringList lines = answer.split(QLatin1Char('\n'));
    for (const QString& rawLine : lines) {
        const QString line = QString(rawLine).remove(QLatin1Char('\r'));

        if (pendingScore >= 0 && !line.trimmed().isEmpty()) {
            if (const std::optional<double> value = leadingNumber(line)) {
                ParsedScore& score = review.scores[pendingScore];
                score.found = true;
                score.value = *value;
                score.line = line.trimmed();
                pendingScore = -1;
                continue;
            }
            pendingScore = -1;
        }

        // Score lines count wherever they appear and never become section text.
        bool wasScore = false;
        for (int i = 0; i < scoreKeys.size(); ++i) {
            QString matched;
            if (const std::optional<double> value = scoreValue(line, scoreKeys[i], &matched)) {
                ParsedScore& score = review.scores[i];
                score.found = true;   // the last one written wins: the final Scores block
                score.value = *value;
                score.line = matched;
                wasScore = true;
                break;
            }
        }
        if (wasScore)
            continue;

        if (const std::optional<HeadingCandidate> heading = headingCandidate(line)) {
            const QString key = headingKey(heading->title);
            const bool wholeLine = heading->rest.isEmpty();
            if (sectionByKey.contains(key)) {
                current = sectionByKey.value(key);
                target = Target::Section;
                review.sections[current].found = true;
                if (!wholeLine)
                    bodies[current] << heading->rest;
                continue;
            }
            if (key == scoresKey && wholeLine) {
                target = Target::Elsewhere;
                continue;
            }
            if (scoreHeadingKeys.contains(key) && wholeLine && heading->marked) {
                pendingScore = static_cast<int>(scoreKeys.indexOf(key));
                target = Target::Elsewhere;
                continue;
            }
        }

        switch (target) {
        case Target::Preamble: preamble << line; break;
        case Target::Section: bodies[current] << line; break;
        case Target::Elsewhere: break;
        }
    }

    for (int i = 0; i < bodies.size(); ++i)
        review.sections[i].text = bodies[i].join(QLatin1Char('\n')).trimmed();
    review.preamble = preamble.join(QLatin1Char('\n')).trimmed();
    for (int i = 0; i < review.scores.size(); ++i)
        if (review.scores[i].found)
            review.scores[i].onScale = form.scores[i].scale.contains(review.scores[i].value);
    return review;
}

QString reviewToMarkdown(const VenueForm& form, const ParsedReview& review, const QString& paperTitle)
{
    QStringList out;
    out << QStringLiteral("# Pre-submission self-check for %1").arg(form.name);
    out << QString();
    if (!paperTitle.trimmed().isEmpty())
        out << QStringLiteral("Paper: %1  ").arg(paperTitle.trimmed());
    out << QStringLiteral("Form: %1 %2 (%3)  ").arg(form.name).arg(form.formYear).arg(form.source);
    out << QStringLiteral("Written by a language model for the authors; it is not a real review.");
    out << QString();
    for (const ParsedSection& section : review.sections) {
        out << QStringLiteral("## %1").arg(section.title);
        out << QString();
        out << (section.text.isEmpty() ? QStringLiteral("_(not given)_") : section.text);
        out << QString();
    }
    out << QStringLiteral("## Scores");
    out << QString();
    out << QStringLiteral("| Score | Value | Meaning | Scale |");
    out << QStringLiteral("|---|---|---|---|");
    for (int i = 0; i < review.scores.size() && i < form.scores.size(); ++i) {
        const ParsedScore& score = review.scores[i];
        const ScoreScale& scale = form.scores[i].scale;
        QString value = QStringLiteral("—");
        QString meaning;
        if (score.found) {
            value = QString::number(score.value, 'g', 6);
            meaning = score.onScale ? scale.labelFor(score.value) : QStringLiteral("**not on the scale**");
        } else {
            meaning = QStringLiteral("_(not given)_");
        }
        meaning.replace(QLatin1Char('|'), QStringLiteral("\\|"));
        out << QStringLiteral("| %1 | %2 | %3 | %4 |").arg(score.title, value, meaning, scale.describe());
    }
    const QStringList problems = review.problems(form);
    if (!problems.isEmpty()) {
        out << QString();
        out << QStringLiteral("## Problems with this review");
        out << QString();
        for (const QString& problem : problems)
            out << QStringLiteral("- %1").arg(problem);
    }
    return out.join(QLatin1Char('\n')) + QLatin1Char('\n');
}

} // namespace folio
