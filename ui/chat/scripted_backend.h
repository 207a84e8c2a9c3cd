// A AnswerSource that plays a script instead of running a model: it "reads" the document
// in timed steps and streams a fixed answer word by word. The screenshots (folio
// --screenshots) and the UI tests use it to show every state of the chat pane without a
// model; the real answers come from the app's worker.
#pragma once

#include "app/answers/answer_source.h"

#include <QSet>

class QTimer;

namespace folio {

class ScriptedBackend : public AnswerSource {
    Q_OBJECT
public:
    explicit ScriptedBackend(QObject* parent = nullptr);

    // The answer to every question, and the pages it draws on.
    void setAnswer(const QString& text, const QVector<EvidencePage>& evidence);
    // Thinking streamed before the answer (a reasoning model); empty: none.
    void setReasoning(const QString& text) { m_reasoning = text; }
    void setReadingTokens(qint64 tokens, qint64 step) { m_total = tokens; m_step = step; }
    void setInterval(int ms);
    // Stops after reading `tokens` and waits (screenshots of a reading in progress).
    void pauseReadingAt(qint64 tokens) { m_pauseAt = tokens; }
    // The next question fails with this message (a server error), as a real source's would.
    void failNextWith(const QString& message) { m_failure = message; }

    quint64 ask(const AnswerRequest& request) override;
    void stop(quint64 request) override;
    void cancelReading(quint64 request) override;
    bool isBusy() const override;
    bool canContinue() const override { return true; }

    int askCount() const { return m_asks; }
    const AnswerRequest& lastRequest() const { return m_request; }
    qint64 readTokens(qint64 documentId) const { return m_read.value(documentId); }

private:
    void tick();

    QString m_answer;
    QString m_reasoning;
    QString m_failure;
    bool m_reasoned = false;   // this request's thinking has been streamed
    QVector<EvidencePage> m_evidence;
    QStringList m_words;
    int m_next = 0;
    QString m_written;
    qint64 m_total = 4096, m_step = 1024, m_pauseAt = -1;
    QHash<qint64, qint64> m_read;   // tokens read per document, kept across cancels
    enum class Phase { Idle, Reading, Answering } m_phase = Phase::Idle;
    AnswerRequest m_request;
    quint64 m_id = 0;   // of the request played
    int m_asks = 0;
    QTimer* m_timer;
};

} // namespace folio
