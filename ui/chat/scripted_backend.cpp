#include "ui/chat/scripted_backend.h"

#include <utility>

#include <QRegularExpression>
#include <QTimer>

namespace folio {

ScriptedBackend::ScriptedBackend(QObject* parent) : AnswerSource(parent), m_timer(new QTimer(this))
{
    m_timer->setInterval(5);
    connect(m_timer, &QTimer::timeout, this, &ScriptedBackend::tick);
    setAnswer(tr("The harbour master records high water at dawn [p. 2]."), {{1, 0.8}, {0, 0.2}});
}

void ScriptedBackend::setAnswer(const QString& text, const QVector<EvidencePage>& evidence)
{
    m_answer = text;
    m_evidence = evidence;
}

void ScriptedBackend::setInterval(int ms) { m_timer->setInterval(ms); }

bool ScriptedBackend::isBusy() const { return m_phase != Phase::Idle; }

quint64 ScriptedBackend::ask(const AnswerRequest& request)
{
    const quint64 id = nextRequest();
    if (isBusy()) {
        refuse(id, AnswerErrorKind::Request, tr("Still answering the previous question."));
        return id;
    }
    ++m_asks;
    m_request = request;
    if (!m_failure.isEmpty()) {
        refuse(id, AnswerErrorKind::Server, std::exchange(m_failure, QString()));
        return id;
    }
    m_id = id;
    // Words with the space before them, so the streamed pieces join back exactly.
    m_words.clear();
    for (auto it = QRegularExpression(QStringLiteral("\\s*\\S+")).globalMatch(m_answer); it.hasNext();)
        m_words << it.next().captured();
    m_next = 0;
    m_written.clear();
    if (request.continuing && !request.history.isEmpty()) {
        // Written on: the words of the script after those already written.
        m_written = request.history.last().text;
        while (m_next < m_words.size() && m_written.startsWith((m_words.mid(0, m_next + 1)).join(QString()).trimmed()))
            ++m_next;
    }
    m_reasoned = m_reasoning.isEmpty();
    m_phase = m_read.value(request.documentId) < m_total ? Phase::Reading : Phase::Answering;
    m_timer->start();
    return id;
}

void ScriptedBackend::tick()
{
    if (m_phase == Phase::Reading) {
        qint64& done = m_read[m_request.documentId];
        if (m_pauseAt >= 0 && done >= m_pauseAt)
            return;
        done = std::min(m_total, done + m_step);
        emit readingProgress(m_id, done, m_total, -1, -1);
        if (done >= m_total) {
            emit readingFinished(m_id, true);
            m_phase = Phase::Answering;
        }
        return;
    }
    if (m_phase != Phase::Answering)
        return;
    if (!m_reasoned) {   // the whole thinking in one piece, then the answer word by word
        m_reasoned = true;
        emit reasoning(m_id, m_reasoning);
        return;
    }
    if (m_next < m_words.size()) {
        m_written += m_words[m_next];
        emit token(m_id, m_words[m_next++]);
        emit contextUsed(m_total + m_written.size() / 4, std::max<qint64>(8192, 2 * m_total));
        return;
    }
    m_timer->stop();
    m_phase = Phase::Idle;
    emit answered(m_id, {m_written, m_evidence, 0, 0, 0, false, m_reasoning});
}

void ScriptedBackend::stop(quint64 request)
{
    if (request != m_id || m_phase != Phase::Answering)
        return;
    m_timer->stop();
    m_phase = Phase::Idle;
    emit answered(m_id, {m_written, m_evidence, 0, 0, 0, true, m_reasoned ? m_reasoning : QString()});
}

void ScriptedBackend::cancelReading(quint64 request)
{
    if (request != m_id || m_phase != Phase::Reading)
        return;
    m_timer->stop();
    m_phase = Phase::Idle;
    emit readingFinished(m_id, false);
}

} // namespace folio
