// PDF through Poppler: text of each page in reading order, title and author.
#include "app/documents/document_loader.h"

#include <poppler-qt6.h>

#include <QCoreApplication>
#include <QFileInfo>
#include <QRectF>
#include <QRegularExpression>

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
    return box.left() >= line.right() && overlap > 0.6 * qMin(line.height(), box.height());
}

// The page's words in reading order (Poppler's text flow: columns one after another, a
// table row on one line), rebuilt into lines, with a blank line where a paragraph or a
// block ends. Page::text() would give the physical layout, which interleaves columns.
QString readingOrderText(const Poppler::Page& page)
{
    const std::vector<std::unique_ptr<Poppler::TextBox>> words = page.textList();
    QString text;
    const Poppler::TextBox* previous = nullptr;
    QRectF line;   // the line being written
    for (const auto& word : words) {
        const QRectF box = word->boundingBox();
        if (previous) {
            if (previous->nextWord() == word.get()) {
                if (previous->hasSpaceAfter())
                    text += QChar(u' ');
            } else if (sameRow(line, box)) {
                text += QChar(u' ');   // the next cell of a table row: keep the row on one line
            } else {
                // A new line: a gap of more than about half a line, or a jump back up (the
                // next column), starts a new paragraph.
                const double height = qMax(1.0, line.height());
                const bool paragraph = box.top() - line.bottom() > 0.6 * height || box.bottom() < line.top();
                text += paragraph ? QStringLiteral("\n\n") : QStringLiteral("\n");
                line = QRectF();
            }
        }
        text += word->text();
        line = line.isNull() ? box : line.united(box);
        previous = word.get();
    }
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
    doc.pageUnit = QStringLiteral("page");
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
