// A thin strip beside the reader: one bar per page, its height the page's share of the
// evidence for the selected answer (attention mass); the current page is outlined.
// Clicking a bar asks the reader to go to that page.
#pragma once

#include <QVector>
#include <QWidget>

namespace folio {

class PageStrip : public QWidget {
    Q_OBJECT
public:
    explicit PageStrip(QWidget* parent = nullptr);

    void setPageCount(int pages);   // clears the weights
    // Per-page values (any scale; shown relative to the largest). Missing pages are 0.
    void setWeights(const QVector<double>& weights);
    void setCurrentPage(int page);
    int pageCount() const { return m_pages; }
    const QVector<double>& weights() const { return m_weights; }
    // The page under a point of the widget (-1 when none): tests click with it.
    int pageAt(const QPoint& point) const;
    QRect barRect(int page) const;

    QSize sizeHint() const override { return {28, 200}; }
    QSize minimumSizeHint() const override { return {18, 60}; }

signals:
    void pageClicked(int page);

protected:
    void paintEvent(QPaintEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    bool event(QEvent* event) override;   // tooltips

private:
    double slotHeight() const;

    int m_pages = 0;
    int m_current = -1;
    QVector<double> m_weights;
};

} // namespace folio
