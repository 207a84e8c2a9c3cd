#include "ui/reader/page_strip.h"

#include <QHelpEvent>
#include <QMouseEvent>
#include <QPainter>
#include <QToolTip>

#include <algorithm>
#include <numeric>

namespace folio {

PageStrip::PageStrip(QWidget* parent) : QWidget(parent)
{
    setObjectName(QStringLiteral("pageStrip"));
    setToolTip(tr("Evidence per page for the selected answer; click a bar to go there"));
    setSizePolicy(QSizePolicy::Fixed, QSizePolicy::Expanding);
}

void PageStrip::setPageCount(int pages)
{
    m_pages = std::max(0, pages);
    m_weights.fill(0.0, m_pages);
    m_current = -1;
    update();
}

void PageStrip::setWeights(const QVector<double>& weights)
{
    m_weights = weights;
    m_weights.resize(m_pages);
    update();
}

void PageStrip::setCurrentPage(int page)
{
    m_current = page;
    update();
}

double PageStrip::slotHeight() const { return m_pages > 0 ? double(height()) / m_pages : 0.0; }

// Pages run top to bottom, like the document; each bar grows to the right.
QRect PageStrip::barRect(int page) const
{
    if (page < 0 || page >= m_pages)
        return {};
    const double slot = slotHeight();
    const int top = int(page * slot);
    const int bottom = std::max(top + 1, int((page + 1) * slot) - (slot >= 4 ? 1 : 0));
    const double largest = m_weights.isEmpty() ? 0.0 : *std::max_element(m_weights.begin(), m_weights.end());
    const double share = largest > 0 ? m_weights.value(page) / largest : 0.0;
    const int width = std::max(2, int((this->width() - 4) * share));
    return QRect(2, top, width, bottom - top);
}

int PageStrip::pageAt(const QPoint& point) const
{
    if (m_pages == 0 || point.y() < 0 || point.y() >= height())
        return -1;
    return std::clamp(int(point.y() / slotHeight()), 0, m_pages - 1);
}

void PageStrip::paintEvent(QPaintEvent*)
{
    QPainter painter(this);
    const QPalette pal = palette();
    painter.fillRect(rect(), pal.color(QPalette::Base));
    const double largest = m_weights.isEmpty() ? 0.0 : *std::max_element(m_weights.begin(), m_weights.end());
    const QColor evidence = pal.color(QPalette::Highlight);
    QColor empty = pal.color(QPalette::Mid);
    empty.setAlpha(90);
    for (int page = 0; page < m_pages; ++page) {
        const QRect bar = barRect(page);
        const bool has = largest > 0 && m_weights.value(page) > 0;
        painter.fillRect(has ? bar : QRect(bar.left(), bar.top(), 2, bar.height()), has ? evidence : empty);
    }
    if (m_current >= 0 && m_current < m_pages) {
        const double slot = slotHeight();
        painter.setPen(QPen(pal.color(QPalette::Text), 1));
        painter.drawRect(QRectF(0.5, m_current * slot, width() - 1.0, std::max(2.0, slot - 1)));
    }
}

void PageStrip::mousePressEvent(QMouseEvent* event)
{
    const int page = pageAt(event->position().toPoint());
    if (page >= 0 && event->button() == Qt::LeftButton)
        emit pageClicked(page);
}

bool PageStrip::event(QEvent* event)
{
    if (event->type() == QEvent::ToolTip) {
        auto* help = static_cast<QHelpEvent*>(event);
        const int page = pageAt(help->pos());
        if (page >= 0) {
            const double total = std::accumulate(m_weights.begin(), m_weights.end(), 0.0);
            const double share = total > 0 ? m_weights.value(page) / total : 0.0;
            QToolTip::showText(help->globalPos(), tr("Page %1: %2% of the evidence").arg(page + 1).arg(share * 100, 0, 'f', 1), this);
            return true;
        }
    }
    return QWidget::event(event);
}

} // namespace folio
