#include "ui/reader/text_page.h"

#include <QRegularExpression>
#include <QTextDocument>
#include <QTextEdit>

#include <algorithm>

namespace folio {

namespace {

bool startsWithSpace(const QString& line) { return !line.isEmpty() && line.front().isSpace(); }

// Columns or code: several lines all indented, or gaps of three spaces or a tab inside a line.
bool looksPreformatted(const QStringList& lines)
{
    static const QRegularExpression innerGap(QStringLiteral("\\S(\\t| {3,})\\S"));
    const bool allIndented = lines.size() > 1 && std::all_of(lines.begin(), lines.end(), startsWithSpace);
    return allIndented || std::any_of(lines.begin(), lines.end(),
                                      [](const QString& l) { return innerGap.match(l).hasMatch(); });
}

bool looksLikeHeading(const QString& line)
{
    static const QRegularExpression numbered(
        QStringLiteral("^(chapter|book|part|section)\\s+([0-9]+|[ivxlc]+)\\b"), QRegularExpression::CaseInsensitiveOption);
    if (line.size() > 70)
        return false;
    if (numbered.match(line).hasMatch())
        return true;
    bool letter = false;
    for (QChar c : line) {
        if (c.isLower())
            return false;
        letter = letter || c.isLetter();
    }
    return letter;
}

QString paragraphHtml(const QStringList& lines)
{
    if (looksPreformatted(lines))
        return QStringLiteral("<p style=\"white-space: pre-wrap\">%1</p>").arg(lines.join(QChar(u'\n')).toHtmlEscaped());
    QStringList trimmed;
    qsizetype longest = 0;
    for (const QString& line : lines) {
        trimmed << line.trimmed().toHtmlEscaped();
        longest = std::max(longest, line.trimmed().size());
    }
    if (lines.size() == 1 && looksLikeHeading(lines.first().trimmed()))
        return QStringLiteral("<h3>%1</h3>").arg(trimmed.first());
    // Prose wrapped at 60-80 columns flows again; verse and addresses keep their lines.
    const bool keepLines = lines.size() > 1 && longest < 48;
    return QStringLiteral("<p>%1</p>").arg(trimmed.join(keepLines ? QStringLiteral("<br/>") : QStringLiteral(" ")));
}

} // namespace

QString plainTextToHtml(QStringView text)
{
    QString html;
    QStringList paragraph;
    const auto flush = [&] {
        if (!paragraph.isEmpty())
            html += paragraphHtml(paragraph);
        paragraph.clear();
    };
    for (const QString& line : text.toString().split(QChar(u'\n'))) {
        if (line.trimmed().isEmpty())
            flush();
        else
            paragraph << line;
    }
    flush();
    return html;
}

TextPage textPage(const Document& document, int index)
{
    if (index < 0 || index >= document.pageCount())
        return {};
    if (const QString html = document.pageHtml(index); !html.isEmpty())
        return {TextPage::Format::Html, html};
    if (document.kind == DocumentKind::Markdown)
        return {TextPage::Format::Markdown, document.pageText(index)};
    return {TextPage::Format::Html, plainTextToHtml(document.pageText(index))};
}

void showTextPage(QTextEdit* view, const TextPage& page)
{
    if (page.format == TextPage::Format::Markdown)
        view->setMarkdown(page.source);
    else
        view->setHtml(page.source);
}

void setTextPage(QTextDocument* target, const TextPage& page)
{
    if (page.format == TextPage::Format::Markdown)
        target->setMarkdown(page.source);
    else
        target->setHtml(page.source);
}

QString shownText(const Document& document, int index)
{
    QTextDocument formatted;
    setTextPage(&formatted, textPage(document, index));
    return formatted.toPlainText();
}

} // namespace folio
