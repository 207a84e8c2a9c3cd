#include "app/review/review_prompt_builder.h"

#include <QStringList>

namespace folio {

QString ReviewPromptBuilder::scoreLine(const ReviewScore& score)
{
    QString line = QStringLiteral("- %1: %2 %3")
                       .arg(score.title,
                            score.scale.isRange() ? QStringLiteral("from") : QStringLiteral("one of"),
                            score.scale.describe());
    QStringList labels;
    for (const ScoreScale::Label& label : score.scale.labels)
        labels << QStringLiteral("%1 = %2").arg(QString::number(label.value, 'g', 6), label.text);
    if (!labels.isEmpty())
        line += QStringLiteral(" (%1)").arg(labels.join(QStringLiteral("; ")));
    line += QStringLiteral(". %1").arg(score.instruction);
    return line;
}

QString ReviewPromptBuilder::instruction() const
{
    const QString venue = m_form.fullName.isEmpty()
                              ? m_form.name
                              : QStringLiteral("%1 (%2)").arg(m_form.name, m_form.fullName);
    QStringList out;
    out << QStringLiteral(
               "You are helping the authors of the paper above check it before they submit it to %1. "
               "Write the review that a careful, fair %2 reviewer would write, following the %2 %3 "
               "reviewing form, so that the authors can find and fix problems before the real "
               "reviewers see them.")
               .arg(venue, m_form.name)
               .arg(m_form.formYear);
    out << QStringLiteral(
        "Judge only what the paper contains. Be specific: point to sections, figures, tables and "
        "equations, and cite pages as [p. N]. Do not invent results, references or experiments "
        "that are not in the paper; where you are unsure, say so. Prefer concrete, fixable advice "
        "to general remarks.");
    out << QString();
    out << QStringLiteral(
        "Write the review in Markdown. Use exactly these sections, in this order, each starting "
        "with a heading line \"## \" followed by the section's title:");
    out << QString();
    for (const ReviewSection& section : m_form.sections)
        out << QStringLiteral("## %1\n%2\n").arg(section.title, section.instruction);
    out << QStringLiteral(
               "Then finish with a heading line \"## %1\" and one line per score, written exactly as "
               "\"Title: value\" with a single number taken from that score's scale (no ranges, no "
               "words instead of numbers), followed by a short reason on the same line:")
               .arg(scoresHeading());
    out << QString();
    for (const ReviewScore& score : m_form.scores)
        out << scoreLine(score);
    out << QString();
    out << QStringLiteral("Give each score on its own scale; a value that is not on the scale cannot be used.");
    return out.join(QLatin1Char('\n'));
}

} // namespace folio
