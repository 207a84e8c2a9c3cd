// Reading a long document: a progress bar with tokens done / total, tokens per second
// and the time left, and a Cancel button. Speed and ETA come from the progress reports'
// timing, smoothed over the whole reading so far.
#pragma once

#include <QElapsedTimer>
#include <QWidget>

class QLabel;
class QProgressBar;
class QPushButton;

namespace folio {

class ReadingProgress : public QWidget {
    Q_OBJECT
public:
    explicit ReadingProgress(QWidget* parent = nullptr);

    void start(qint64 totalTokens);
    // `seconds` < 0: measured here; tests and screenshots pass their own clock.
    void report(qint64 done, qint64 total, double seconds = -1);
    // With the rate and time left the answer source measured (each < 0: measure here).
    void report(qint64 done, qint64 total, double tokensPerSecond, double etaSeconds);
    void finish();
    QString text() const;
    static QString durationText(double seconds);   // "42 s", "3 min 5 s", "1 h 2 min"

signals:
    void cancelRequested();

private:
    void display(qint64 done, qint64 total, double tokensPerSecond, double etaSeconds);
    QProgressBar* m_bar;
    QLabel* m_label;
    QPushButton* m_cancel;
    QElapsedTimer m_clock;
    qint64 m_startDone = -1;
};

} // namespace folio
