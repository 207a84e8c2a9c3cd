// The permanent part of the status bar: which model, how full its context is, how the
// context is stretched, the KV cache type and the memory in use.
#pragma once

#include <QObject>

class QLabel;
class QStatusBar;
class QTimer;

namespace folio {

class StatusWidgets : public QObject {
    Q_OBJECT
public:
    explicit StatusWidgets(QStatusBar* bar);

    void setModel(const QString& name);                  // empty: no model chosen
    void setContext(qint64 usedTokens, qint64 contextTokens);
    void setExtension(const QString& method);            // e.g. "DCA, trained 2K → 64K"
    void setKvType(const QString& type);                 // "F16", "Q8_0", ...
    void setPlannedMemory(qint64 bytes);                 // the planner's estimate; < 0: unknown

    static QString compactTokens(qint64 tokens);         // 2048 → "2K", 65536 → "64K"
    static QString bytesText(qint64 bytes);               // "1.2 GiB"
    static qint64 residentBytes();                        // this process, from /proc (0 if unknown)

private:
    void updateMemory();

    QLabel* m_model;
    QLabel* m_context;
    QLabel* m_extension;
    QLabel* m_kv;
    QLabel* m_memory;
    qint64 m_planned = -1;
    QTimer* m_timer;
};

} // namespace folio
