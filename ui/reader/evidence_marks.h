// How the reader marks the selected answer's evidence on a page it shows (a rendered
// PDF page, or the text of a chapter or section): a bar down the left margin and a light
// tint, both as strong as the page's share of the evidence relative to the strongest
// page (the page strip beside the reader shows every page at once).
#pragma once

#include <QVector>
#include <QWidget>

class QPainter;

namespace folio {

constexpr int kEvidenceBarWidth = 6;

// `strength` 0..1; nothing is painted for 0.
void paintEvidence(QPainter& painter, const QRectF& page, double strength, const QPalette& palette);
// Per-page weights (any scale) as strengths relative to the largest, 0..1.
QVector<double> relativeStrengths(const QVector<double>& weights);

// The margin beside a text page: the bar alone (a tint over the text would hurt reading).
class EvidenceMargin : public QWidget {
    Q_OBJECT
public:
    explicit EvidenceMargin(QWidget* parent = nullptr);
    void setStrength(double strength, double share);   // share: of all the evidence, 0..1
    double strength() const { return m_strength; }

protected:
    void paintEvent(QPaintEvent* event) override;

private:
    double m_strength = 0;
};

} // namespace folio
