// One PDF page at a time, rendered by Poppler at the zoom's resolution in a scroll
// area. Rendering runs on a pool thread (only the page being shown, so a 500-page book
// costs no more than a leaflet); the GUI thread only paints the finished image and the
// search highlights over it.
#pragma once

#include <QFutureWatcher>
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

    void showPage(int index);
    int currentPage() const { return m_page; }

    static constexpr double kMinZoom = 0.25, kMaxZoom = 6.0;
    void setZoom(double zoom);   // 1.0: the page at its printed size on a 96 DPI screen
    double zoom() const { return m_zoom; }
    void setFitWidth(bool fit);  // re-zooms whenever the view's width changes
    bool fitWidth() const { return m_fitWidth; }

    // Rectangles (in points) to highlight on `page`; `current` is drawn stronger and
    // scrolled into view.
    void setHighlights(int page, const QList<QRectF>& rects, int current = -1);
    const QList<QRectF>& highlights() const { return m_highlights; }
    // Where `text` occurs on `page` (Poppler's search, case-insensitive), in points.
    QList<QRectF> search(int page, const QString& text) const;

    QImage renderedImage() const { return m_image; }   // the page as shown now (tests)

signals:
    void pageRendered(int page);
    void zoomChanged(double zoom);

protected:
    void resizeEvent(QResizeEvent* event) override;

private:
    double dpi() const;
    double fitWidthZoom() const;
    void render();
    void onRendered();
    void scrollToHighlight();

    struct Shared {
        std::mutex mutex;   // Poppler objects are not for two threads at once
        std::unique_ptr<Poppler::Document> document;
    };
    std::shared_ptr<Shared> m_pdf;
    int m_pageCount = 0;
    int m_page = -1;
    double m_zoom = 1.0;
    bool m_fitWidth = false;
    QSizeF m_pagePoints;
    QImage m_image;
    double m_imageDpi = 0;
    int m_highlightPage = -1;
    QList<QRectF> m_highlights;
    int m_currentHighlight = -1;
    quint64 m_generation = 0;
    struct Rendered {
        quint64 generation = 0;
        int page = -1;
        double dpi = 0;
        QImage image;
    };
    QFutureWatcher<Rendered>* m_watcher = nullptr;
    bool m_renderQueued = false;
    PdfPageCanvas* m_canvas = nullptr;
    friend class PdfPageCanvas;
};

} // namespace folio
