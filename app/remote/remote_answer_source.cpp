#include "app/remote/remote_answer_source.h"

#include "app/remote/remote_reading.h"

namespace folio {

namespace {

AnswerErrorKind kindOf(RemoteReading::Failure failure)
{
    switch (failure) {
    case RemoteReading::Failure::Document: return AnswerErrorKind::Document;
    case RemoteReading::Failure::TooLong: return AnswerErrorKind::Document;  // does not fit: as for the engine
    case RemoteReading::Failure::Store: return AnswerErrorKind::Store;
    case RemoteReading::Failure::Cancelled: return AnswerErrorKind::Cancelled;
    case RemoteReading::Failure::Server: break;
    }
    return AnswerErrorKind::Server;
}

QVector<EvidencePage> evidencePages(const QVector<TextEvidence>& evidence)
{
    QVector<EvidencePage> pages;
    for (const TextEvidence& e : evidence)
        pages.append({e.page, e.weight,
                      e.kind == TextEvidence::Kind::Citation ? EvidenceSource::Citation : EvidenceSource::TextMatch});
    return pages;
}

AnswerOutcome outcomeOf(const RemoteAnswer& answer)
{
    AnswerOutcome outcome;
    outcome.text = answer.text;
    outcome.evidence = evidencePages(answer.evidence);
    outcome.conversationId = answer.conversationId;
    outcome.questionId = answer.questionId;
    outcome.answerId = answer.answerId;
    outcome.interrupted = answer.interrupted;
    outcome.reasoning = answer.reasoning.trimmed();
    return outcome;
}

} // namespace

RemoteAnswerSource::RemoteAnswerSource(const QString& databasePath, QObject* parent)
    : AnswerSource(parent), m_databasePath(databasePath), m_anchor(new QObject)
{
    qRegisterMetaType<folio::RemoteAnswer>();
    qRegisterMetaType<folio::RemoteReading::Failure>();
    m_anchor->moveToThread(&m_thread);
    connect(&m_thread, &QThread::finished, m_anchor, &QObject::deleteLater);
    m_thread.setObjectName(QStringLiteral("folio-remote"));
    m_thread.start();
}

RemoteAnswerSource::~RemoteAnswerSource()
{
    if (m_reading) {
        RemoteReading* reading = m_reading;
        QMetaObject::invokeMethod(reading, [reading] { delete reading; }, Qt::BlockingQueuedConnection);
    }
    m_thread.quit();
    m_thread.wait();
}

void RemoteAnswerSource::setServer(const ServerProfile& profile, const QString& apiKey, int maxTokens, double temperature)
{
    m_maxTokens = maxTokens;
    m_temperature = temperature;
    if (m_reading) {
        m_reading->disconnect(this);
        RemoteReading* old = std::exchange(m_reading, nullptr);
        QMetaObject::invokeMethod(old, [old] { delete old; }, Qt::QueuedConnection);
    }
    // Made on the thread it works on: its client, timers and database belong there.
    RemoteReading* reading = nullptr;
    const QString databasePath = m_databasePath;
    QMetaObject::invokeMethod(
        m_anchor, [&reading, profile, apiKey, databasePath] { reading = new RemoteReading(profile, apiKey, databasePath); },
        Qt::BlockingQueuedConnection);
    m_reading = reading;
    connect(reading, &RemoteReading::notice, this, &RemoteAnswerSource::notice);
    connect(reading, &RemoteReading::delta, this, [this](const QString& text) {
        if (m_active)
            emit token(m_request, text);
    });
    connect(reading, &RemoteReading::reasoningDelta, this, [this](const QString& text) {
        if (m_active)
            emit reasoning(m_request, text);
    });
    connect(reading, &RemoteReading::finished, this, [this](const RemoteAnswer& answer) {
        if (!m_active)
            return;
        end();
        emit contextUsed(answer.promptTokens, 0);
        emit conversationSaved(m_request, answer.conversationId);
        emit answered(m_request, outcomeOf(answer));
    });
    connect(reading, &RemoteReading::failed, this,
            [this](RemoteReading::Failure failure, const QString& message, const RemoteAnswer& kept) {
                if (!m_active)
                    return;
                end();
                if (kept.conversationId > 0)
                    emit conversationSaved(m_request, kept.conversationId);
                if (failure == RemoteReading::Failure::Cancelled) {
                    if (kept.conversationId > 0)  // stopped: what was written is the answer, marked interrupted
                        emit answered(m_request, outcomeOf(kept));
                    else
                        emit cancelled(m_request);
                    return;
                }
                emit failed(m_request, kindOf(failure), message);
            });
}

quint64 RemoteAnswerSource::ask(const AnswerRequest& request)
{
    const quint64 id = nextRequest();
    if (m_active) {
        refuse(id, AnswerErrorKind::Request, tr("A question is already being answered."));
        return id;
    }
    if (!m_reading) {
        refuse(id, AnswerErrorKind::Server, tr("No server is chosen: choose one in Tools → Model Manager."));
        return id;
    }
    if (request.continuing) {
        // Servers differ in how (and whether) they write on a final assistant message.
        refuse(id, AnswerErrorKind::Request,
               tr("An answer from a server cannot be continued: use Answer again to ask for a new one."));
        return id;
    }
    m_active = true;
    m_request = id;
    RemoteReading* reading = m_reading;
    const auto document = request.document;
    const QString question = request.question;
    const qint64 conversation = request.conversationId;
    const int maxTokens = m_maxTokens;
    const double temperature = m_temperature;
    const bool again = request.again;
    QMetaObject::invokeMethod(reading, [=] {
        if (again)
            reading->answerAgain(document, conversation, maxTokens, temperature);
        else
            reading->ask(document, question, conversation, maxTokens, temperature);
    });
    emit sessionDescribed(tr("read by the server"), QString(), 0);
    return id;
}

void RemoteAnswerSource::stop(quint64 request)
{
    if (!m_active || request != m_request || !m_reading)
        return;
    RemoteReading* reading = m_reading;
    QMetaObject::invokeMethod(reading, [reading] { reading->cancel(); });
}

void RemoteAnswerSource::cancelReading(quint64 request)
{
    stop(request);  // the server reads and answers in one request
}

} // namespace folio
