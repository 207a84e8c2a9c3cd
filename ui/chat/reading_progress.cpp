#include "ui/chat/reading_progress.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QLocale>
#include <QProgressBar>
#include <QPushButton>

#include <cmath>

namespace folio {

ReadingProgress::ReadingProgress(QWidget* parent) : QWidget(parent)
{
    setObjectName(QStringLiteral("readingPanel"));
    m_bar = new QProgressBar;
    m_bar->setObjectName(QStringLiteral("readingProgress"));
    m_bar->setTextVisible(true);
    m_label = new QLabel;
    m_label->setObjectName(QStringLiteral("readingLabel"));
    m_cancel = new QPushButton(QIcon::fromTheme(QStringLiteral("process-stop")), tr("Cancel"));
    m_cancel->setObjectName(QStringLiteral("cancelReadingButton"));
    m_cancel->setToolTip(tr("Stop reading; what was read is kept and reading continues from there next time"));
    connect(m_cancel, &QPushButton::clicked, this, &ReadingProgress::cancelRequested);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    auto* row = new QHBoxLayout;
    row->addWidget(m_bar, 1);
    row->addWidget(m_cancel);
    layout->addWidget(new QLabel(tr("Reading the document…")));
    layout->addLayout(row);
    layout->addWidget(m_label);
    hide();
}

void ReadingProgress::start(qint64 totalTokens)
{
    m_clock.start();
    m_startDone = -1;
    m_bar->setRange(0, 1000);
    m_bar->setValue(0);
    m_label->setText(tr("0 / %1 tokens").arg(QLocale().toString(totalTokens)));
    show();
}

void ReadingProgress::report(qint64 done, qint64 total, double seconds)
{
    if (!isVisible())
        start(total);
    if (m_startDone < 0) {
        // Speed counts from the first report: a reading resumed half way is not "fast".
        m_startDone = done;
        m_clock.restart();
    }
    const double elapsed = seconds >= 0 ? seconds : m_clock.elapsed() / 1000.0;
    const qint64 measured = done - (seconds >= 0 ? 0 : m_startDone);
    const double speed = elapsed > 0.05 && measured > 0 ? measured / elapsed : -1;
    display(done, total, speed, speed > 0 ? (total - done) / speed : -1);
}

void ReadingProgress::report(qint64 done, qint64 total, double tokensPerSecond, double etaSeconds)
{
    if (tokensPerSecond <= 0 || etaSeconds < 0) {
        report(done, total);
        return;
    }
    if (!isVisible())
        start(total);
    display(done, total, tokensPerSecond, etaSeconds);
}

void ReadingProgress::display(qint64 done, qint64 total, double tokensPerSecond, double etaSeconds)
{
    const QLocale locale;
    m_bar->setValue(total > 0 ? int(1000 * done / total) : 0);
    m_bar->setFormat(QStringLiteral("%1%").arg(total > 0 ? 100.0 * done / total : 0.0, 0, 'f', 1));
    QString text = tr("%1 / %2 tokens").arg(locale.toString(done), locale.toString(total));
    if (tokensPerSecond > 0) {
        text += tr(" · %1 tokens/s").arg(locale.toString(tokensPerSecond, 'f', tokensPerSecond < 100 ? 1 : 0));
        text += tr(" · %1 left").arg(durationText(etaSeconds));
    }
    m_label->setText(text);
}

void ReadingProgress::finish() { hide(); }

QString ReadingProgress::text() const { return m_label->text(); }

QString ReadingProgress::durationText(double seconds)
{
    const qint64 s = std::llround(std::max(0.0, seconds));
    if (s < 60)
        return tr("%1 s").arg(s);
    if (s < 3600)
        return tr("%1 min %2 s").arg(s / 60).arg(s % 60);
    return tr("%1 h %2 min").arg(s / 3600).arg((s % 3600) / 60);
}

} // namespace folio
