#include "ui/reader/evidence_marks.h"

#include <QPainter>

#include <algorithm>

namespace folio {

void paintEvidence(QPainter& painter, const QRectF& page, double strength, const QPalette& palette)
{
    if (strength <= 0)
        return;
    strength = std::min(strength, 1.0);
    QColor tint = palette.color(QPalette::Highlight);
    tint.setAlphaF(float(0.12 * strength));
    painter.fillRect(page, tint);
    QColor bar = palette.color(QPalette::Highlight);
    bar.setAlphaF(float(0.35 + 0.65 * strength));
    painter.fillRect(QRectF(page.left(), page.top(), kEvidenceBarWidth, page.height()), bar);
}

QVector<double> relativeStrengths(const QVector<double>& weights)
{
    const double largest = weights.isEmpty() ? 0.0 : *std::max_element(weights.begin(), weights.end());
    QVector<double> out(weights.size(), 0.0);
    if (largest > 0)
        for (qsizetype i = 0; i < weights.size(); ++i)
            out[i] = std::max(0.0, weights[i] / largest);
    return out;
}

EvidenceMargin::EvidenceMargin(QWidget* parent) : QWidget(parent)
{
    setObjectName(QStringLiteral("textEvidenceBar"));
}

void EvidenceMargin::setStrength(double strength, double share)
{
    m_strength = std::clamp(strength, 0.0, 1.0);
    setToolTip(m_strength > 0 ? tr("Evidence for the selected answer: %1% of it is here").arg(share * 100, 0, 'f', 1)
                              : QString());
    update();
}

void EvidenceMargin::paintEvent(QPaintEvent*)
{
    if (m_strength <= 0)
        return;
    QPainter painter(this);
    QColor bar = palette().color(QPalette::Highlight);
    bar.setAlphaF(float(0.35 + 0.65 * m_strength));
    painter.fillRect(rect(), bar);
}

} // namespace folio
