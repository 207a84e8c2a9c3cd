// The reader: a document page by page. PDFs are shown as rendered pages in one
// continuous column (PdfPageView; the page follows the scrolling);
// text, Markdown and EPUB as formatted text, one section or chapter at a time. Beside it,
// the page strip with the evidence of the selected answer. A find bar searches the whole
// document and highlights the matches on the page shown.
#pragma once

#include "app/documents/document.h"
#include "app/store/library_store.h"

#include <QWidget>

#include <memory>

class QLabel;
class QLineEdit;
class QStackedWidget;
class QTextBrowser;
class QToolButton;

namespace folio {

class EvidenceMargin;
class PageStrip;
class PdfPageView;

class ReaderView : public QWidget {
    Q_OBJECT
public:
    explicit ReaderView(QWidget* parent = nullptr);

    void setDocument(std::shared_ptr<const Document> document);
    const Document* document() const { return m_document.get(); }
    void showPage(int index);
    int currentPage() const { return m_page; }
    int pageCount() const { return m_document ? m_document->pageCount() : 0; }
    // The page index a citation's label names ("12" → the page labelled 12), or -1.
    int pageForLabel(const QString& label) const;

    void zoomIn();
    void zoomOut();
    void fitWidth();
    bool isPdf() const;

    // Find: matches across the document, in reading order; the next one from the page
    // shown is selected. Returns the number of matches (0: nothing found).
    int find(const QString& text);
    void findNext();
    void findPrevious();
    int findMatchCount() const { return int(m_matches.size()); }
    int currentFindMatch() const { return m_currentMatch; }
    void showFindBar();

    // The selected answer's evidence: the page strip, and a mark on the page shown (a
    // bar and tint on a PDF page, a bar beside a chapter's text) as strong as its share.
    void setEvidence(const QVector<EvidencePage>& evidence);
    double evidenceStrength(int page) const;   // relative to the strongest page, 0..1
    PageStrip* pageStrip() const { return m_strip; }
    PdfPageView* pdfView() const { return m_pdf; }
    QTextBrowser* textView() const { return m_text; }

signals:
    void pageChanged(int page);
    void failed(const QString& message);

private:
    struct Match {
        int page = 0;
        int occurrence = 0;   // its rank among the matches on that page
    };
    void selectMatch(int index);
    void highlightMatchesOnPage();
    void updateFindStatus();
    void updateTextEvidence();

    std::shared_ptr<const Document> m_document;
    int m_page = -1;
    QString m_findText;
    QVector<Match> m_matches;
    QVector<double> m_evidence;   // per page, as the answer weighed them
    QStringList m_shownText;   // each page's text as formatted for the view (find), once needed
    int m_currentMatch = -1;
    bool m_followingScroll = false;   // the page changes because the PDF was scrolled

    QLabel* m_heading = nullptr;
    QStackedWidget* m_stack = nullptr;
    QTextBrowser* m_text = nullptr;
    EvidenceMargin* m_textEvidence = nullptr;
    PdfPageView* m_pdf = nullptr;
    PageStrip* m_strip = nullptr;
    QWidget* m_findBar = nullptr;
    QLineEdit* m_findEdit = nullptr;
    QLabel* m_findStatus = nullptr;
};

} // namespace folio
