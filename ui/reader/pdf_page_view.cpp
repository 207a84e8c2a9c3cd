#include "ui/reader/pdf_page_view.h"

#include "ui/reader/evidence_marks.h"

#include <poppler-qt6.h>

#include <QPaintEvent>
#include <QPainter>
#include <QResizeEvent>
#include <QScrollBar>
#include <QtConcurrent/QtConcurrentRun>

#include <algorithm>

namespace folio {

namespace {

constexpr int kMargin = 8;   // around the column of pages, and between two pages

} // namespace

// The column of pages: each page's image (or white paper until it is rendered), its
// evidence mark and the find highlights, painted where the layout puts the page.
class PdfPageCanvas : public QWidget {
public:
    explicit PdfPageCanvas(PdfPageView* view) : m_view(view) { setObjectName(QStringLiteral("pdfPageCanvas")); }

protected:
    void paintEvent(QPaintEvent* event) override
    {
        QPainter painter(this);
        painter.fillRect(event->rect(), palette().color(QPalette::Dark));
        painter.setRenderHint(QPainter::SmoothPixmapTransform);
        const PdfPageView& v = *m_view;
        for (int page = 0; page < v.m_pageRects.size(); ++page) {
            const QRect box = v.m_pageRects[page];
            if (box.bottom() < event->rect().top())
                continue;
            if (box.top() > event->rect().bottom())
                break;
            const QImage image = v.m_images.value(page).image;
            if (image.isNull())
                painter.fillRect(box, Qt::white);
            else
                painter.drawImage(QRectF(box), image);   // 1:1 at the zoom; scaled until re-rendered
            paintEvidence(painter, box, v.evidenceStrength(page), palette());
            if (page != v.m_highlightPage)
                continue;
            const double scale = box.width() / std::max(1.0, v.m_pagePoints.value(page).width());
            for (int i = 0; i < v.m_highlights.size(); ++i) {
                const QRectF& r = v.m_highlights.at(i);
                const QRectF mark(box.left() + r.x() * scale, box.top() + r.y() * scale, r.width() * scale,
                                  r.height() * scale);
                painter.fillRect(mark, i == v.m_currentHighlight ? QColor(255, 140, 0, 120) : QColor(255, 230, 0, 100));
            }
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
    connect(verticalScrollBar(), &QScrollBar::valueChanged, this, &PdfPageView::onScrolled);
    connect(horizontalScrollBar(), &QScrollBar::valueChanged, this, &PdfPageView::renderWanted);
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
    // The layout needs every page's size up front (cheap: no page is drawn for it).
    for (int i = 0; i < m_pageCount; ++i) {
        std::unique_ptr<Poppler::Page> page(document->page(i));
        const QSizeF size = page ? page->pageSizeF() : QSizeF();
        m_pagePoints.push_back(size.width() > 0 && size.height() > 0 ? size : QSizeF(612, 792));
    }
    m_pdf = std::make_shared<Shared>();
    m_pdf->document = std::move(document);
    m_page = m_pageCount > 0 ? 0 : -1;
    relayout();
    return true;
}

void PdfPageView::clear()
{
    ++m_generation;   // a render still running is dropped when it lands
    m_pdf.reset();
    m_pageCount = 0;
    m_page = -1;
    m_pagePoints.clear();
    m_pageRects.clear();
    m_images.clear();
    m_highlights.clear();
    m_highlightPage = -1;
    m_evidence.clear();
    m_canvas->resize(0, 0);
    m_canvas->update();
}

QList<int> PdfPageView::renderedPages() const
{
    QList<int> pages = m_images.keys();
    std::sort(pages.begin(), pages.end());
    return pages;
}

double PdfPageView::renderDpi() const { return 96.0 * m_zoom * devicePixelRatioF(); }

double PdfPageView::fitWidthZoom() const
{
    double widest = 0;
    for (const QSizeF& size : m_pagePoints)
        widest = std::max(widest, size.width());
    if (widest <= 0)
        return m_zoom;
    const double available = std::max(100, viewport()->width() - 2 * kMargin);
    return std::clamp(available / (widest / 72.0 * 96.0), kMinZoom, kMaxZoom);
}

// Pages stacked top to bottom, centred; the canvas is at least as wide as the view.
void PdfPageView::relayout()
{
    const double pixelsPerPoint = m_zoom * 96.0 / 72.0;
    m_pageRects.clear();
    int widest = 0;
    for (const QSizeF& size : m_pagePoints)
        widest = std::max(widest, int(std::lround(size.width() * pixelsPerPoint)));
    const int canvasWidth = std::max(viewport()->width(), widest + 2 * kMargin);
    int top = kMargin;
    for (const QSizeF& size : m_pagePoints) {
        const QSize px(int(std::lround(size.width() * pixelsPerPoint)), int(std::lround(size.height() * pixelsPerPoint)));
        m_pageRects.push_back(QRect(QPoint((canvasWidth - px.width()) / 2, top), px));
        top += px.height() + kMargin;
    }
    m_canvas->resize(m_pageRects.isEmpty() ? QSize(0, 0) : QSize(canvasWidth, top));
    m_canvas->update();
}

void PdfPageView::applyZoom(double zoom)
{
    if (m_pageRects.isEmpty() || qFuzzyCompare(zoom, m_zoom)) {
        m_zoom = zoom;
        return;
    }
    // Keep the same place of the current page at the top of the view.
    const QRect before = m_pageRects.value(std::max(0, m_page));
    const double within = before.height() > 0 ? double(verticalScrollBar()->value() - before.top()) / before.height() : 0;
    m_zoom = zoom;
    relayout();
    const QRect after = m_pageRects.value(std::max(0, m_page));
    setScroll(after.top() + int(within * after.height()));
    emit zoomChanged(m_zoom);
    renderWanted();
}

void PdfPageView::setZoom(double zoom)
{
    m_fitWidth = false;
    applyZoom(std::clamp(zoom, kMinZoom, kMaxZoom));
}

void PdfPageView::setFitWidth(bool fit)
{
    m_fitWidth = fit;
    if (fit)
        applyZoom(fitWidthZoom());
}

void PdfPageView::resizeEvent(QResizeEvent* event)
{
    QScrollArea::resizeEvent(event);
    if (m_fitWidth && event->size().width() != event->oldSize().width())
        applyZoom(fitWidthZoom());
    if (!m_pageRects.isEmpty() && event->size().width() != event->oldSize().width())
        relayout();   // keep the pages centred
    renderWanted();
}

void PdfPageView::setScroll(int value)
{
    m_settingScroll = true;
    verticalScrollBar()->setValue(value);
    m_settingScroll = false;
}

void PdfPageView::showPage(int index)
{
    if (!m_pdf || index < 0 || index >= m_pageCount)
        return;
    if (index != m_page) {
        m_page = index;
        setScroll(m_pageRects.value(index).top() - kMargin / 2);
    }
    renderWanted();
}

int PdfPageView::pageAtY(int y) const
{
    // The first page whose bottom (with the gap after it) lies below y.
    const auto it = std::lower_bound(m_pageRects.begin(), m_pageRects.end(), y,
                                     [](const QRect& r, int at) { return r.bottom() + kMargin < at; });
    return it == m_pageRects.end() ? int(m_pageRects.size()) - 1 : int(it - m_pageRects.begin());
}

void PdfPageView::onScrolled()
{
    if (m_pageRects.isEmpty())
        return;
    if (!m_settingScroll) {
        // The page under the upper third of the view is the one being read; at the very
        // end, the last page (which may be too short to reach that line).
        const QScrollBar* bar = verticalScrollBar();
        const int page = bar->value() >= bar->maximum() && bar->maximum() > 0
                             ? m_pageCount - 1
                             : pageAtY(bar->value() + viewport()->height() / 3);
        if (page != m_page) {
            m_page = page;
            emit currentPageChanged(page);
        }
    }
    renderWanted();
}

// The pages in view, and one on either side (so that scrolling a little shows no blank).
std::pair<int, int> PdfPageView::wantedPages() const
{
    if (m_pageRects.isEmpty())
        return {0, -1};
    const int top = verticalScrollBar()->value();
    const int first = pageAtY(top);
    const int last = pageAtY(top + std::max(1, viewport()->height()));
    return {std::max(0, first - 1), std::min(m_pageCount - 1, last + 1)};
}

void PdfPageView::renderWanted()
{
    if (!m_pdf)
        return;
    const auto [first, last] = wantedPages();
    // Memory stays bounded: far pages are dropped (and rendered again when they return).
    for (auto it = m_images.begin(); it != m_images.end();) {
        if (it.key() < first || it.key() > last)
            it = m_images.erase(it);
        else
            ++it;
    }
    if (m_watcher->isRunning())
        return;   // onRendered asks again
    const double dpi = renderDpi();
    const auto needs = [&](int page) {
        const auto it = m_images.constFind(page);
        return it == m_images.cend() || !qFuzzyCompare(it->dpi, dpi);
    };
    // The current page first, then the others nearest to it.
    int next = -1;
    if (m_page >= first && m_page <= last && needs(m_page))
        next = m_page;
    for (int distance = 1; next < 0 && distance <= last - first; ++distance) {
        for (const int page : {m_page + distance, m_page - distance})
            if (next < 0 && page >= first && page <= last && needs(page))
                next = page;
    }
    if (next < 0) {
        for (int page = first; page <= last && next < 0; ++page)
            if (needs(page))
                next = page;
    }
    if (next < 0)
        return;
    const quint64 generation = m_generation;
    const double ratio = devicePixelRatioF();
    std::shared_ptr<Shared> pdf = m_pdf;
    m_watcher->setFuture(QtConcurrent::run([pdf, next, dpi, generation, ratio] {
        Rendered out{generation, next, dpi, {}};
        std::lock_guard lock(pdf->mutex);
        std::unique_ptr<Poppler::Page> page(pdf->document->page(next));
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
    if (result.generation == m_generation && m_pdf) {
        const auto [first, last] = wantedPages();
        if (result.page >= first && result.page <= last && !result.image.isNull()) {
            // One at an older zoom is shown (scaled) until the new one is ready.
            m_images.insert(result.page, {result.image, result.dpi});
            m_canvas->update(m_pageRects.value(result.page));
            if (qFuzzyCompare(result.dpi, renderDpi()))
                emit pageRendered(result.page);
        }
    }
    renderWanted();
}

void PdfPageView::setHighlights(int page, const QList<QRectF>& rects, int current, bool reveal)
{
    m_highlightPage = page;
    m_highlights = rects;
    m_currentHighlight = current;
    m_canvas->update();
    if (reveal)
        scrollToHighlight();
}

void PdfPageView::scrollToHighlight()
{
    if (m_currentHighlight < 0 || m_currentHighlight >= m_highlights.size() || m_highlightPage < 0
        || m_highlightPage >= m_pageRects.size())
        return;
    const QRect box = m_pageRects[m_highlightPage];
    const double scale = box.width() / std::max(1.0, m_pagePoints.value(m_highlightPage).width());
    const QPointF at = box.topLeft() + m_highlights.at(m_currentHighlight).center() * scale;
    m_settingScroll = true;   // the match's page stays the current one
    ensureVisible(int(at.x()), int(at.y()), 40, 80);
    m_settingScroll = false;
}

void PdfPageView::setEvidence(const QVector<double>& strength)
{
    m_evidence = strength;
    m_canvas->update();
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
