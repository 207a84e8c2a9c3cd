#include "ui/pdf_page_view.h"

#include <poppler-qt6.h>

#include <QPainter>
#include <QResizeEvent>
#include <QScrollBar>
#include <QtConcurrent/QtConcurrentRun>

#include <algorithm>

namespace folio {

// The page image plus the find highlights, painted at the image's size.
class PdfPageCanvas : public QWidget {
public:
    explicit PdfPageCanvas(PdfPageView* view) : m_view(view) { setObjectName(QStringLiteral("pdfPageCanvas")); }

protected:
    void paintEvent(QPaintEvent*) override
    {
        QPainter painter(this);
        painter.fillRect(rect(), palette().color(QPalette::Dark));
        const QImage& image = m_view->m_image;
        if (image.isNull())
            return;
        const qreal ratio = image.devicePixelRatio();
        painter.drawImage(QPointF(0, 0), image);
        if (m_view->m_highlightPage != m_view->m_page)
            return;
        const double scale = m_view->m_imageDpi / 72.0 / ratio;
        for (int i = 0; i < m_view->m_highlights.size(); ++i) {
            const QRectF& r = m_view->m_highlights.at(i);
            const QRectF box(r.x() * scale, r.y() * scale, r.width() * scale, r.height() * scale);
            const bool current = i == m_view->m_currentHighlight;
            painter.fillRect(box, current ? QColor(255, 140, 0, 120) : QColor(255, 230, 0, 100));
        }
    }

private:
    PdfPageView* m_view;
};

PdfPageView::PdfPageView(QWidget* parent) : QScrollArea(parent)
{
    setObjectName(QStringLiteral("pdfView"));
    setAlignment(Qt::AlignHCenter | Qt::AlignTop);
    setBackgroundRole(QPalette::Dark);
    m_canvas = new PdfPageCanvas(this);
    setWidget(m_canvas);
    setWidgetResizable(false);
    m_watcher = new QFutureWatcher<Rendered>(this);
    connect(m_watcher, &QFutureWatcher<Rendered>::finished, this, &PdfPageView::onRendered);
}

PdfPageView::~PdfPageView()
{
    m_watcher->waitForFinished();
}

bool PdfPageView::load(const QString& path, QString* error)
{
    clear();
    std::unique_ptr<Poppler::Document> document = Poppler::Document::load(path);
    if (!document || document->isLocked()) {
        if (error)
            *error = document ? tr("%1: the PDF is encrypted").arg(path) : tr("%1: Poppler cannot read it").arg(path);
        return false;
    }
    document->setRenderHint(Poppler::Document::Antialiasing);
    document->setRenderHint(Poppler::Document::TextAntialiasing);
    m_pageCount = document->numPages();
    m_pdf = std::make_shared<Shared>();
    m_pdf->document = std::move(document);
    return true;
}

void PdfPageView::clear()
{
    ++m_generation;   // a render still running is dropped when it lands
    m_pdf.reset();
    m_pageCount = 0;
    m_page = -1;
    m_image = QImage();
    m_highlights.clear();
    m_highlightPage = -1;
    m_canvas->resize(0, 0);
    m_canvas->update();
}

void PdfPageView::showPage(int index)
{
    if (!m_pdf || index < 0 || index >= m_pageCount)
        return;
    if (index != m_page) {
        m_page = index;
        std::lock_guard lock(m_pdf->mutex);
        std::unique_ptr<Poppler::Page> page(m_pdf->document->page(index));
        m_pagePoints = page ? page->pageSizeF() : QSizeF(612, 792);
        verticalScrollBar()->setValue(0);
    }
    render();
}

double PdfPageView::fitWidthZoom() const
{
    if (m_pagePoints.width() <= 0)
        return m_zoom;
    const double available = std::max(100, viewport()->width() - 4);
    return std::clamp(available / (m_pagePoints.width() / 72.0 * 96.0), kMinZoom, kMaxZoom);
}

double PdfPageView::dpi() const { return 96.0 * m_zoom; }

void PdfPageView::setZoom(double zoom)
{
    zoom = std::clamp(zoom, kMinZoom, kMaxZoom);
    m_fitWidth = false;
    if (qFuzzyCompare(zoom, m_zoom))
        return;
    m_zoom = zoom;
    emit zoomChanged(m_zoom);
    render();
}

void PdfPageView::setFitWidth(bool fit)
{
    m_fitWidth = fit;
    if (fit && m_page >= 0) {
        m_zoom = fitWidthZoom();
        emit zoomChanged(m_zoom);
        render();
    }
}

void PdfPageView::resizeEvent(QResizeEvent* event)
{
    QScrollArea::resizeEvent(event);
    if (m_fitWidth && m_page >= 0 && event->size().width() != event->oldSize().width())
        setFitWidth(true);
}

void PdfPageView::render()
{
    if (!m_pdf || m_page < 0)
        return;
    if (m_fitWidth)
        m_zoom = fitWidthZoom();
    // One render at a time; a request made meanwhile is redone when it finishes.
    if (m_watcher->isRunning()) {
        m_renderQueued = true;
        return;
    }
    const quint64 generation = ++m_generation;
    const int pageIndex = m_page;
    const double ratio = devicePixelRatioF();
    const double dpi = this->dpi() * ratio;
    std::shared_ptr<Shared> pdf = m_pdf;
    m_watcher->setFuture(QtConcurrent::run([pdf, pageIndex, dpi, generation, ratio] {
        Rendered out{generation, pageIndex, dpi, {}};
        std::lock_guard lock(pdf->mutex);
        std::unique_ptr<Poppler::Page> page(pdf->document->page(pageIndex));
        if (page) {
            out.image = page->renderToImage(dpi, dpi);
            out.image.setDevicePixelRatio(ratio);
        }
        return out;
    }));
}

void PdfPageView::onRendered()
{
    const Rendered result = m_watcher->result();
    if (m_renderQueued) {
        m_renderQueued = false;
        render();
    }
    if (result.generation != m_generation && m_watcher->isRunning())
        return;   // superseded: the newer render will land next
    if (result.page != m_page || !m_pdf)
        return;
    m_image = result.image;
    m_imageDpi = result.dpi;
    m_canvas->resize((m_image.deviceIndependentSize()).toSize());
    m_canvas->update();
    scrollToHighlight();
    emit pageRendered(result.page);
}

void PdfPageView::setHighlights(int page, const QList<QRectF>& rects, int current)
{
    m_highlightPage = page;
    m_highlights = rects;
    m_currentHighlight = current;
    m_canvas->update();
    scrollToHighlight();
}

void PdfPageView::scrollToHighlight()
{
    if (m_highlightPage != m_page || m_currentHighlight < 0 || m_currentHighlight >= m_highlights.size()
        || m_image.isNull())
        return;
    const double scale = m_imageDpi / 72.0 / m_image.devicePixelRatio();
    const QRectF r = m_highlights.at(m_currentHighlight);
    ensureVisible(int(r.center().x() * scale), int(r.center().y() * scale), 40, 80);
}

QList<QRectF> PdfPageView::search(int page, const QString& text) const
{
    if (!m_pdf || page < 0 || page >= m_pageCount || text.isEmpty())
        return {};
    std::lock_guard lock(m_pdf->mutex);
    std::unique_ptr<Poppler::Page> p(m_pdf->document->page(page));
    return p ? p->search(text, Poppler::Page::IgnoreCase) : QList<QRectF>{};
}

} // namespace folio
