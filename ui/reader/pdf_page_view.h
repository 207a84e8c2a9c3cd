// A PDF as one continuous column of pages in a scroll area, rendered by Poppler at the
// zoom's resolution. Only the pages in view and one on either side are rendered (on a
// pool thread, one page at a time, the current page first) and kept; pages further away
// are dropped, so a 500-page book costs no more memory than a leaflet. The current page
// follows the scroll position; the GUI thread only paints finished images, the find
// highlights and the evidence marks over them.
#pragma once

#include <QFutureWatcher>
#include <QHash>
#include <QImage>
#include <QRectF>
#include <QScrollArea>

#include <memory>
#include <mutex>

namespace Poppler {
class Document;
}

namespace folio {

class PdfPageCanvas;

class PdfPageView : public QScrollArea {
    Q_OBJECT
public:
    explicit PdfPageView(QWidget* parent = nullptr);
    ~PdfPageView() override;

    // Opens the file for rendering; false (and *error) when Poppler cannot.
    bool load(const QString& path, QString* error = nullptr);
    void clear();
    bool isLoaded() const { return m_pdf != nullptr; }
    int pageCount() const { return m_pageCount; }

    // Scrolls to the top of page `index` (nothing moves when it is the current page).
    void showPage(int index);
    int currentPage() const { return m_page; }

    static constexpr double kMinZoom = 0.25, kMaxZoom = 6.0;
    void setZoom(double zoom);   // 1.0: the page at its printed size on a 96 DPI screen
    double zoom() const { return m_zoom; }
    void setFitWidth(bool fit);  // re-zooms whenever the view's width changes
    bool fitWidth() const { return m_fitWidth; }

    // Rectangles (in points) to highlight on `page`; `current` is drawn stronger and
    // scrolled into view (unless `reveal` is false: the reader is scrolling).
    void setHighlights(int page, const QList<QRectF>& rects, int current = -1, bool reveal = true);
    const QList<QRectF>& highlights() const { return m_highlights; }
    // Where `text` occurs on `page` (Poppler's search, case-insensitive), in points.
    QList<QRectF> search(int page, const QString& text) const;

    // The selected answer's evidence, per page, relative to its strongest page (0..1):
    // a page with evidence gets a bar down its left margin and a light tint over it,
    // both as strong as its share.
    void setEvidence(const QVector<double>& strength);
    double evidenceStrength(int page) const { return m_evidence.value(page); }

    QImage renderedImage() const { return m_images.value(m_page).image; }   // the current page (tests)
    // The current page's image is drawn at the zoom now chosen (not one kept, scaled,
    // from an earlier zoom until the new one is ready).
    bool currentPageSharp() const
    {
        const auto it = m_images.constFind(m_page);
        return it != m_images.cend() && qFuzzyCompare(it->dpi, renderDpi());
    }
    QRect pageRect(int page) const { return m_pageRects.value(page); }      // on the canvas
    QList<int> renderedPages() const;                                         // those holding an image

signals:
    void pageRendered(int page);   // at the zoom now chosen
    void zoomChanged(double zoom);
    // The reader scrolled another page into the middle of the view.
    void currentPageChanged(int page);

protected:
    void resizeEvent(QResizeEvent* event) override;

private:
    double renderDpi() const;
    double fitWidthZoom() const;
    void applyZoom(double zoom);
    void relayout();
    void setScroll(int value);
    void onScrolled();
    int pageAtY(int y) const;
    std::pair<int, int> wantedPages() const;
    void renderWanted();
    void onRendered();
    void scrollToHighlight();

    struct Shared {
        std::mutex mutex;   // Poppler objects are not for two threads at once
        std::unique_ptr<Poppler::Document> document;
    };
    struct PageImage {
        QImage image;
        double dpi = 0;
    };
    std::shared_ptr<Shared> m_pdf;
    int m_pageCount = 0;
    int m_page = -1;
    double m_zoom = 1.0;
    bool m_fitWidth = false;
    QVector<QSizeF> m_pagePoints;   // each page's size in points
    QVector<QRect> m_pageRects;     // where each page lies on the canvas at the zoom
    QHash<int, PageImage> m_images; // the pages near the view, rendered
    bool m_settingScroll = false;   // the view scrolls itself: the current page stays
    int m_highlightPage = -1;
    QList<QRectF> m_highlights;
    int m_currentHighlight = -1;
    QVector<double> m_evidence;
    quint64 m_generation = 0;       // of the document: renders of an older one are dropped
    struct Rendered {
        quint64 generation = 0;
        int page = -1;
        double dpi = 0;
        QImage image;
    };
    QFutureWatcher<Rendered>* m_watcher = nullptr;
    PdfPageCanvas* m_canvas = nullptr;
    friend class PdfPageCanvas;
};

} // namespace folio
