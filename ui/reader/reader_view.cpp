#include "ui/reader/reader_view.h"

#include "ui/reader/evidence_marks.h"
#include "ui/reader/page_strip.h"
#include "ui/reader/pdf_page_view.h"
#include "ui/reader/text_page.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QShortcut>
#include <QStackedWidget>
#include <QTextBrowser>
#include <QToolButton>
#include <QVBoxLayout>

#include <numeric>

namespace folio {

namespace {

// The page's text and nothing else: a Markdown file's images or links to local files
// are never read from disk (books and notes come from anywhere). The left margin shows
// the page's evidence for the selected answer.
class PageBrowser : public QTextBrowser {
public:
    PageBrowser() : m_margin(new EvidenceMargin(this)) { setViewportMargins(kEvidenceBarWidth, 0, 0, 0); }
    QVariant loadResource(int, const QUrl&) override { return {}; }
    EvidenceMargin* margin() const { return m_margin; }

protected:
    void resizeEvent(QResizeEvent* event) override
    {
        QTextBrowser::resizeEvent(event);
        const QRect page = viewport()->geometry();
        m_margin->setGeometry(page.left() - kEvidenceBarWidth, page.top(), kEvidenceBarWidth, page.height());
    }

private:
    EvidenceMargin* m_margin;
};

} // namespace

ReaderView::ReaderView(QWidget* parent) : QWidget(parent)
{
    m_heading = new QLabel;
    m_heading->setObjectName(QStringLiteral("pageHeading"));
    QFont headingFont = m_heading->font();
    headingFont.setBold(true);
    m_heading->setFont(headingFont);

    auto* text = new PageBrowser;
    m_textEvidence = text->margin();
    m_text = text;
    m_text->setObjectName(QStringLiteral("reader"));
    m_text->setOpenExternalLinks(true);
    m_text->setPlaceholderText(tr("Open a PDF, EPUB, text or Markdown file (Ctrl+O), or drop one here."));
    QFont readerFont(QStringLiteral("serif"));
    readerFont.setPointSizeF(font().pointSizeF() * 1.15);
    m_text->setFont(readerFont);

    m_pdf = new PdfPageView;
    // Scrolling through the PDF moves the reader's page (heading, strip, find) with it.
    connect(m_pdf, &PdfPageView::currentPageChanged, this, [this](int page) {
        if (!isPdf())
            return;
        m_followingScroll = true;
        showPage(page);
        m_followingScroll = false;
    });
    m_stack = new QStackedWidget;
    m_stack->addWidget(m_text);
    m_stack->addWidget(m_pdf);

    m_strip = new PageStrip;
    connect(m_strip, &PageStrip::pageClicked, this, &ReaderView::showPage);

    m_findBar = new QWidget;
    m_findBar->setObjectName(QStringLiteral("findBar"));
    m_findEdit = new QLineEdit;
    m_findEdit->setObjectName(QStringLiteral("findEdit"));
    m_findEdit->setPlaceholderText(tr("Find in document"));
    m_findEdit->setClearButtonEnabled(true);
    m_findStatus = new QLabel;
    m_findStatus->setObjectName(QStringLiteral("findStatus"));
    auto* previous = new QToolButton;
    previous->setText(tr("Previous"));
    previous->setIcon(QIcon::fromTheme(QStringLiteral("go-up")));
    auto* next = new QToolButton;
    next->setText(tr("Next"));
    next->setIcon(QIcon::fromTheme(QStringLiteral("go-down")));
    auto* close = new QToolButton;
    close->setText(tr("Close"));
    close->setIcon(QIcon::fromTheme(QStringLiteral("window-close")));
    auto* findLayout = new QHBoxLayout(m_findBar);
    findLayout->setContentsMargins(0, 0, 0, 0);
    findLayout->addWidget(m_findEdit, 1);
    findLayout->addWidget(previous);
    findLayout->addWidget(next);
    findLayout->addWidget(m_findStatus);
    findLayout->addWidget(close);
    m_findBar->hide();
    connect(m_findEdit, &QLineEdit::returnPressed, this, [this] {
        if (m_findEdit->text() == m_findText && !m_matches.isEmpty())
            findNext();
        else
            find(m_findEdit->text());
    });
    connect(next, &QToolButton::clicked, this, [this] { m_findEdit->text() == m_findText ? findNext() : void(find(m_findEdit->text())); });
    connect(previous, &QToolButton::clicked, this, &ReaderView::findPrevious);
    connect(close, &QToolButton::clicked, this, [this] {
        m_findBar->hide();
        find(QString());
    });
    auto* escape = new QShortcut(QKeySequence(Qt::Key_Escape), m_findBar, nullptr, nullptr, Qt::WidgetWithChildrenShortcut);
    connect(escape, &QShortcut::activated, close, &QToolButton::click);

    auto* pageRow = new QHBoxLayout;
    pageRow->setContentsMargins(0, 0, 0, 0);
    pageRow->addWidget(m_stack, 1);
    pageRow->addWidget(m_strip);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 6, 6, 6);
    layout->addWidget(m_heading);
    layout->addLayout(pageRow, 1);
    layout->addWidget(m_findBar);
}

bool ReaderView::isPdf() const { return m_document && m_document->kind == DocumentKind::Pdf && m_pdf->isLoaded(); }

void ReaderView::setDocument(std::shared_ptr<const Document> document)
{
    m_document = std::move(document);
    m_page = -1;
    m_matches.clear();
    m_currentMatch = -1;
    m_findText.clear();
    m_shownText.clear();
    m_evidence.clear();
    m_textEvidence->setStrength(0, 0);
    updateFindStatus();
    m_pdf->clear();
    m_strip->setPageCount(m_document ? m_document->pageCount() : 0);
    if (m_document && m_document->kind == DocumentKind::Pdf) {
        QString error;
        if (m_pdf->load(m_document->path, &error) && m_pdf->pageCount() == m_document->pageCount()) {
            m_stack->setCurrentWidget(m_pdf);
            m_pdf->setFitWidth(true);
        } else {
            // The text was read, the pages cannot be drawn: show the text rather than nothing.
            m_pdf->clear();
            m_stack->setCurrentWidget(m_text);
            if (!error.isEmpty())
                emit failed(error);
        }
    } else {
        m_stack->setCurrentWidget(m_text);
    }
    if (!m_document) {
        m_heading->clear();
        m_text->clear();
        return;
    }
    showPage(0);
}

void ReaderView::showPage(int index)
{
    if (!m_document || index < 0 || index >= m_document->pageCount())
        return;
    const bool changed = index != m_page;
    m_page = index;
    m_heading->setText(tr("%1 of %2").arg(m_document->pageName(index)).arg(m_document->pageCount()));
    if (isPdf()) {
        m_pdf->showPage(index);
    } else if (changed || m_text->document()->isEmpty()) {
        showTextPage(m_text, textPage(*m_document, index));
    }
    m_strip->setCurrentPage(index);
    updateTextEvidence();
    highlightMatchesOnPage();
    if (changed)
        emit pageChanged(index);
}

int ReaderView::pageForLabel(const QString& label) const
{
    if (!m_document)
        return -1;
    for (int i = 0; i < m_document->pageCount(); ++i)
        if (m_document->pages.page(i).label == label)
            return i;
    bool ok = false;
    const int number = label.toInt(&ok);
    return ok && number >= 1 && number <= m_document->pageCount() ? number - 1 : -1;
}

void ReaderView::zoomIn()
{
    if (isPdf())
        m_pdf->setZoom(m_pdf->zoom() * 1.2);
    else
        m_text->zoomIn(1);
}

void ReaderView::zoomOut()
{
    if (isPdf())
        m_pdf->setZoom(m_pdf->zoom() / 1.2);
    else
        m_text->zoomOut(1);
}

void ReaderView::fitWidth()
{
    if (isPdf())
        m_pdf->setFitWidth(true);
}

void ReaderView::showFindBar()
{
    m_findBar->show();
    m_findEdit->setFocus();
    m_findEdit->selectAll();
}

int ReaderView::find(const QString& text)
{
    m_findText = text;
    m_matches.clear();
    m_currentMatch = -1;
    if (m_findEdit->text() != text)
        m_findEdit->setText(text);
    if (m_document && !text.isEmpty()) {
        // A PDF is searched in its text (Poppler finds the same on the page); other
        // documents in their formatted text, as the page shows it.
        if (!isPdf() && m_shownText.size() != m_document->pageCount()) {
            m_shownText.clear();
            for (int page = 0; page < m_document->pageCount(); ++page)
                m_shownText << shownText(*m_document, page);
        }
        for (int page = 0; page < m_document->pageCount(); ++page) {
            const QString pageText = isPdf() ? m_document->pageText(page) : m_shownText.at(page);
            int occurrence = 0;
            for (qsizetype at = pageText.indexOf(text, 0, Qt::CaseInsensitive); at >= 0;
                 at = pageText.indexOf(text, at + text.size(), Qt::CaseInsensitive))
                m_matches.push_back({page, occurrence++});
        }
    }
    if (m_matches.isEmpty()) {
        highlightMatchesOnPage();
        updateFindStatus();
        return 0;
    }
    // The first match on or after the page shown.
    int first = 0;
    while (first < m_matches.size() && m_matches[first].page < m_page)
        ++first;
    selectMatch(first == m_matches.size() ? 0 : first);
    return int(m_matches.size());
}

void ReaderView::findNext()
{
    if (!m_matches.isEmpty())
        selectMatch((m_currentMatch + 1) % int(m_matches.size()));
}

void ReaderView::findPrevious()
{
    if (!m_matches.isEmpty())
        selectMatch((m_currentMatch - 1 + int(m_matches.size())) % int(m_matches.size()));
}

void ReaderView::selectMatch(int index)
{
    m_currentMatch = index;
    const Match& match = m_matches.at(index);
    if (match.page != m_page)
        showPage(match.page);
    else
        highlightMatchesOnPage();
    updateFindStatus();
}

void ReaderView::highlightMatchesOnPage()
{
    const int current = m_currentMatch >= 0 && m_matches.value(m_currentMatch).page == m_page
                            ? m_matches.value(m_currentMatch).occurrence
                            : -1;
    if (isPdf()) {
        m_pdf->setHighlights(m_page, m_findText.isEmpty() ? QList<QRectF>{} : m_pdf->search(m_page, m_findText), current,
                             !m_followingScroll);
        return;
    }
    QList<QTextEdit::ExtraSelection> selections;
    if (!m_findText.isEmpty()) {
        QTextCursor cursor(m_text->document());
        int occurrence = 0;
        while (true) {
            cursor = m_text->document()->find(m_findText, cursor);
            if (cursor.isNull())
                break;
            QTextEdit::ExtraSelection selection;
            selection.cursor = cursor;
            const bool isCurrent = occurrence++ == current;
            selection.format.setBackground(isCurrent ? QColor(255, 140, 0) : QColor(255, 230, 0));
            selection.format.setForeground(Qt::black);
            selections.push_back(selection);
        }
    }
    m_text->setExtraSelections(selections);
    if (current >= 0 && current < selections.size()) {
        QTextCursor at = selections[current].cursor;
        at.clearSelection();
        m_text->setTextCursor(at);
        m_text->ensureCursorVisible();
    }
}

void ReaderView::updateFindStatus()
{
    if (m_findText.isEmpty())
        m_findStatus->clear();
    else if (m_matches.isEmpty())
        m_findStatus->setText(tr("Not found"));
    else
        m_findStatus->setText(tr("%1 of %2").arg(m_currentMatch + 1).arg(m_matches.size()));
}

void ReaderView::setEvidence(const QVector<EvidencePage>& evidence)
{
    QVector<double> weights(pageCount(), 0.0);
    for (const EvidencePage& e : evidence)
        if (e.page >= 0 && e.page < weights.size())
            weights[e.page] += e.weight;
    m_evidence = weights;
    m_strip->setWeights(weights);
    m_pdf->setEvidence(relativeStrengths(weights));
    updateTextEvidence();
}

void ReaderView::updateTextEvidence()
{
    const double total = std::accumulate(m_evidence.begin(), m_evidence.end(), 0.0);
    const double strength = relativeStrengths(m_evidence).value(m_page);
    m_textEvidence->setStrength(strength, total > 0 ? m_evidence.value(m_page) / total : 0.0);
}

double ReaderView::evidenceStrength(int page) const { return relativeStrengths(m_evidence).value(page); }

} // namespace folio
