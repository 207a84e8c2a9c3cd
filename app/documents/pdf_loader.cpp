// PDF through Poppler: text of each page in reading order, title and author.
#include "app/documents/document_loader.h"

#include <poppler-qt6.h>

#include <QCoreApplication>
#include <QFileInfo>
#include <QRectF>
#include <QRegularExpression>

#include <functional>
#include <mutex>

namespace folio {

namespace {

QString tr(const char* text) { return QCoreApplication::translate("PdfLoader", text); }

// "1 page" / "3 pages", without relying on an installed English plural translation.
QString pages(int n) { return n == 1 ? tr("1 page") : tr("%1 pages").arg(n); }

bool isMeaningfulTitle(const QString& title, const QString& path)
{
    static const QRegularExpression junk(QStringLiteral("^(untitled|microsoft word - .*|.*\\.(docx?|tex|dvi|pdf))$"),
                                         QRegularExpression::CaseInsensitiveOption);
    return title.size() >= 3 && title != QFileInfo(path).completeBaseName() && !junk.match(title).hasMatch();
}

// The opening lines of the first page, when the file carries no usable title (common for
// arXiv papers): the first paragraph, joined. Small capitals often come out as
// "E XTENDING C ONTEXT": join those letters to their words.
QString titleFromFirstPage(const QString& firstPage)
{
    static const QRegularExpression smallCaps(QStringLiteral("\\b(\\p{Lu}) (\\p{Lu}{2,})\\b"));
    static const QRegularExpression hyphenBreak(QStringLiteral("(\\w) ?-\\n"));
    static const QRegularExpression spacedHyphen(QStringLiteral("(\\w) - (\\w)"));
    for (const QString& paragraph : firstPage.split(QStringLiteral("\n\n"), Qt::SkipEmptyParts)) {
        QString title = paragraph.trimmed();
        if (title.size() < 8 || title.startsWith(QStringLiteral("arXiv:")))
            continue;
        // Titles rarely run past two or three lines; authors follow on lines of their own.
        title = title.section(QChar(u'\n'), 0, 2);
        title.replace(hyphenBreak, QStringLiteral("\\1-"));
        title.replace(spacedHyphen, QStringLiteral("\\1-\\2"));
        title = title.simplified();
        title.replace(smallCaps, QStringLiteral("\\1\\2"));
        return title.size() <= 200 ? title : QString();
    }
    return {};
}

void silencePoppler()
{
    // Poppler prints its parser complaints to stderr; the user gets our message instead.
    static std::once_flag once;
    std::call_once(once, [] { Poppler::setDebugErrorFunction([](const QString&, const QVariant&) {}, QVariant()); });
}

// Whether `box` continues the row `line` to its right (Poppler puts table cells in
// blocks of their own): they overlap vertically by most of the smaller height.
bool sameRow(const QRectF& line, const QRectF& box)
{
    const double overlap = qMin(line.bottom(), box.bottom()) - qMax(line.top(), box.top());
    return box.left() >= line.right() - 1.0 && overlap > 0.6 * qMin(line.height(), box.height());
}

struct TextLine {
    QString text;
    QRectF box;
};

// The page's words in reading order (Poppler's text flow: columns one after another),
// as lines. Page::text() would give the physical layout, which interleaves columns.
QVector<TextLine> flowLines(const Poppler::Page& page)
{
    const std::vector<std::unique_ptr<Poppler::TextBox>> words = page.textList();
    QVector<TextLine> lines;
    const Poppler::TextBox* previous = nullptr;
    for (const auto& word : words) {
        const QRectF box = word->boundingBox();
        if (previous && previous->nextWord() == word.get()) {
            if (previous->hasSpaceAfter())
                lines.last().text += QChar(u' ');
        } else if (previous && sameRow(lines.last().box, box)) {
            lines.last().text += QChar(u' ');   // the next cell of a table row
        } else {
            lines.append(TextLine());
        }
        lines.last().text += word->text();
        lines.last().box = lines.last().box.isNull() ? box : lines.last().box.united(box);
        previous = word.get();
    }
    return lines;
}

// Figures as financial tables hold them: "1,204", "(7.4%)", "$ 88", "—".
bool isFigures(const QString& text)
{
    static const QString punctuation = QStringLiteral(",.()%$\u20ac\u00a3\u00a5+-\u2013\u2014/");
    qsizetype digits = 0, other = 0, marks = 0;
    for (QChar c : text) {
        if (c.isDigit())
            ++digits;
        else if (punctuation.contains(c))
            ++marks;
        else if (!c.isSpace())
            ++other;
    }
    return (digits > 0 || marks > 0) && other * 4 <= digits + marks;
}

// A line of running text: wide, and with a neighbour in the flow just above or below it
// that starts at the same place and is wide too. Figures to its right belong to another
// column (a table beside a paragraph), not to its row.
bool isProse(const QVector<TextLine>& lines, int k, double pageWidth)
{
    const TextLine& line = lines[k];
    if (line.box.width() < 0.3 * pageWidth || isFigures(line.text))
        return false;
    for (int m : {k - 1, k + 1}) {
        if (m < 0 || m >= lines.size())
            continue;
        const QRectF& other = lines[m].box;
        const double gap = qMax(other.top() - line.box.bottom(), line.box.top() - other.bottom());
        if (other.width() >= 0.3 * pageWidth && qAbs(other.left() - line.box.left()) < 2.0 && gap >= 0 &&
            gap < 0.8 * line.box.height())
            return true;
    }
    return false;
}

// Poppler's flow sometimes puts the figures of a table's rows in a block apart from their
// labels (all labels, then all figures). Puts each short run of figures back after the
// line to its left on the same row, so that every table row reads as one line. Prose is
// left alone: a last paragraph line such as "2019." follows the line above it.
QVector<TextLine> joinTableRows(const QVector<TextLine>& lines, double pageWidth)
{
    const int n = int(lines.size());
    QVector<int> anchor(n, -1);   // the line each figures line follows
    for (int j = 0; j < n; ++j) {
        const TextLine& piece = lines[j];
        if (piece.box.width() > 0.4 * pageWidth || !isFigures(piece.text))
            continue;
        if (j > 0 && !isFigures(lines[j - 1].text) && lines[j - 1].box.bottom() <= piece.box.top() + 1.0 &&
            qAbs(lines[j - 1].box.left() - piece.box.left()) < 2.0)
            continue;   // the end of a paragraph
        int best = -1;
        for (int k = 0; k < n; ++k) {
            // Similar heights: a tall box (vertical margin text, a figure's label) is no row.
            const bool similar = lines[k].box.height() < 2.0 * piece.box.height() &&
                                 piece.box.height() < 2.0 * lines[k].box.height();
            if (k != j && similar && !isProse(lines, k, pageWidth) && lines[k].box.left() < piece.box.left() && sameRow(lines[k].box, piece.box) &&
                (best < 0 || lines[k].box.right() > lines[best].box.right()))
                best = k;
        }
        anchor[j] = best;   // where it already follows its row in the flow, nothing moves
    }
    QVector<QVector<int>> followers(n);
    for (int j = 0; j < n; ++j) {
        if (anchor[j] >= 0)
            followers[anchor[j]].append(j);
    }
    QVector<TextLine> out;
    out.reserve(n);
    // Lines to the left come first, so a row of figures with its own anchors joins in x order.
    std::function<void(int)> emitWithFollowers = [&](int i) {
        if (out.isEmpty() || anchor[i] < 0)
            out.append(lines[i]);
        else {
            out.last().text += QChar(u' ') + lines[i].text;
            out.last().box = out.last().box.united(lines[i].box);
        }
        for (int f : followers[i])
            emitWithFollowers(f);
    };
    for (int i = 0; i < n; ++i) {
        if (anchor[i] < 0)
            emitWithFollowers(i);
    }
    return out;
}

// Lines into text: a blank line where a paragraph or a block ends: a gap of more than
// about half a line, or a jump back up (the next column).
QString linesToText(const QVector<TextLine>& lines)
{
    QString text;
    for (int i = 0; i < lines.size(); ++i) {
        if (i > 0) {
            const QRectF& above = lines[i - 1].box;
            const QRectF& box = lines[i].box;
            const double height = qMax(1.0, above.height());
            const bool paragraph = box.top() - above.bottom() > 0.6 * height || box.bottom() < above.top();
            text += paragraph ? QStringLiteral("\n\n") : QStringLiteral("\n");
        }
        text += lines[i].text;
    }
    return text;
}

// Typographic ligatures (U+FB00..U+FB06) as the letters they join: a model and a search
// both expect "fiscal", not "\ufb01scal".
void expandLigatures(QString& text)
{
    static const char* const letters[] = {"ff", "fi", "fl", "ffi", "ffl", "st", "st"};
    for (qsizetype i = text.size() - 1; i >= 0; --i) {
        const char16_t c = text.at(i).unicode();
        if (c >= 0xfb00 && c <= 0xfb06)
            text.replace(i, 1, QLatin1String(letters[c - 0xfb00]));
    }
}

QString readingOrderText(const Poppler::Page& page)
{
    QString text = linesToText(joinTableRows(flowLines(page), page.pageSizeF().width()));
    expandLigatures(text);
    return text;
}

} // namespace

Document loadPdf(const QString& path, const QByteArray& bytes)
{
    silencePoppler();
    std::unique_ptr<Poppler::Document> pdf = Poppler::Document::loadFromData(bytes);
    if (!pdf)
        throw DocumentError(path, tr("the PDF is damaged or truncated and cannot be read"));
    if (pdf->isLocked())
        throw DocumentError(path, tr("the PDF is encrypted and needs a password"));
    const int pageCount = pdf->numPages();
    if (pageCount <= 0)
        throw DocumentError(path, tr("the PDF has no pages (it is damaged or truncated)"));

    Document doc;
    doc.path = path;
    doc.kind = DocumentKind::Pdf;
    doc.unit = PageUnit::Page;
    doc.pageUnit = pageUnitKey(doc.unit);
    doc.title = pdf->info(QStringLiteral("Title")).simplified();
    doc.author = pdf->info(QStringLiteral("Author")).simplified();

    int missingPages = 0;
    int emptyPages = 0;
    for (int i = 0; i < pageCount; ++i) {
        if (!doc.text.isEmpty())
            doc.text += QStringLiteral("\n\n");
        const qsizetype begin = doc.text.size();
        std::unique_ptr<Poppler::Page> page = pdf->page(i);
        QString label = QString::number(i + 1);
        if (page) {
            const QString text = readingOrderText(*page).trimmed();
            doc.text += text;
            if (text.isEmpty())
                ++emptyPages;
            if (const QString own = page->label(); !own.isEmpty())
                label = own;
        } else {
            ++missingPages;
        }
        doc.pages.append(begin, doc.text.size(), label);
    }
    if (missingPages == pageCount)
        throw DocumentError(path, tr("none of the PDF's %1 can be read (the file is damaged)").arg(pages(pageCount)));
    if (missingPages > 0)
        doc.warnings << tr("%1 could not be read (damaged)").arg(pages(missingPages));
    if (emptyPages == pageCount)
        doc.warnings << tr("the PDF has no text layer (scanned images?); there is nothing to read aloud to the model");
    else if (emptyPages > 0)
        doc.warnings << tr("%1 without text").arg(pages(emptyPages));
    if (!isMeaningfulTitle(doc.title, path))
        doc.title = titleFromFirstPage(doc.pageText(0));
    if (doc.title.isEmpty())
        doc.title = QFileInfo(path).completeBaseName();
    doc.wordCount = countWords(doc.text);
    return doc;
}

} // namespace folio
