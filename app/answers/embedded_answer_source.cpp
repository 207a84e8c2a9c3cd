#include "app/answers/embedded_answer_source.h"

#include "app/worker/reading_worker.h"

namespace folio {

ReadingOptions readingOptions(const ModelSettings& s)
{
    ReadingOptions o;
    try {
        o.method = parseExtensionMethod(s.method.toStdString());
        if (s.kvType != QLatin1String("auto"))
            o.kvType = parseKvType(s.kvType.toStdString());
    } catch (const std::invalid_argument&) {
        // A hand-edited settings file: keep the automatic choices.
    }
    o.threads = s.threads;
    o.sampler = s.samplerParams();
    o.maxAnswerTokens = s.maxTokens;
    o.thinking = s.thinking;
    SessionOptions session;
    session.dca.enabled = o.method == ExtensionMethod::Dca;
    s.applyOverrides(session);
    o.rope = session.rope;
    if (o.method == ExtensionMethod::Dca)
        o.dca = session.dca;
    return o;
}

EmbeddedAnswerSource::EmbeddedAnswerSource(const QString& databasePath, QObject* parent)
    : AnswerSource(parent), m_controller(new ReadingController(databasePath, {}, this))
{
    applySettings(ModelSettings::load());
    connect(m_controller, &ReadingController::progress, this, [this](int done, int total, double rate, double eta) {
        if (!m_active)
            return;
        m_reading = true;
        emit readingProgress(m_request, done, total, rate, eta);
    });
    connect(m_controller, &ReadingController::documentReady, this, [this](const DocumentStatus& status) {
        m_contextTokens = status.contextLength;
        emit sessionDescribed(status.extension, status.kvType.toUpper(), status.contextLength);
        if (m_reading) {
            m_reading = false;
            emit readingFinished(m_request, true);
        }
        if (m_active && m_waiting) {
            send(*std::exchange(m_waiting, std::nullopt));
        }
    });
    connect(m_controller, &ReadingController::token, this, [this](const QString& text) {
        if (!m_active)
            return;
        if (m_reading) {
            m_reading = false;
            emit readingFinished(m_request, true);
        }
        emit token(m_request, text);
    });
    connect(m_controller, &ReadingController::reasoning, this, [this](const QString& text) {
        if (!m_active)
            return;
        if (m_reading) {
            m_reading = false;
            emit readingFinished(m_request, true);
        }
        emit reasoning(m_request, text);
    });
    connect(m_controller, &ReadingController::finished, this, [this](const AnswerResult& result) {
        if (!m_active)
            return;
        if (m_reading) {
            m_reading = false;
            emit readingFinished(m_request, true);
        }
        const quint64 request = m_request;
        endRequest();
        emit contextUsed(result.contextTokens, m_contextTokens);
        emit conversationSaved(request, result.conversationId);
        emit answered(request, {result.answer, result.evidence, result.conversationId, result.questionId,
                                result.messageId, result.interrupted, result.reasoning});
    });
    connect(m_controller, &ReadingController::cancelled, this, [this] {
        if (!m_active)
            return;
        const bool wasReading = m_reading;
        const quint64 request = m_request;
        m_reading = false;
        endRequest();
        if (wasReading)
            emit readingFinished(request, false);
        emit cancelled(request);
    });
    connect(m_controller, &ReadingController::failed, this, [this](AnswerErrorKind kind, const QString& message) {
        // A failed model load also fails the question queued behind it: report once.
        if (!m_active)
            return;
        if (kind == AnswerErrorKind::Model)
            m_loadedModel.clear();   // try loading it again next time
        const quint64 request = m_request;
        m_reading = false;
        m_openedDocument.clear();
        endRequest();
        emit failed(request, kind, message);
    });
}

EmbeddedAnswerSource::~EmbeddedAnswerSource() = default;

void EmbeddedAnswerSource::applySettings(const ModelSettings& settings)
{
    m_settings = settings;
    m_controller->setOptions(readingOptions(settings));
    if (settings.effectiveModelPath() != m_loadedModel)
        m_loadedModel.clear();
}

quint64 EmbeddedAnswerSource::ask(const AnswerRequest& request)
{
    const quint64 id = nextRequest();
    if (m_active) {
        refuse(id, AnswerErrorKind::Request, tr("Still answering the previous question."));
        return id;
    }
    const QString model = m_settings.effectiveModelPath();
    if (model.isEmpty()) {
        refuse(id, AnswerErrorKind::Model, tr("No model is chosen: pick a GGUF file in Tools → Model Manager."));
        return id;
    }
    m_active = true;
    m_request = id;
    m_reading = false;
    if (model != m_loadedModel) {
        m_controller->loadModel(model);
        m_loadedModel = model;
        m_openedDocument.clear();
    }
    const QString path = request.document ? request.document->path : QString();
    // A conversation's first question reads the document first (progress, and the
    // status bar learns how it is held); later ones resume from the saved state.
    if (request.history.isEmpty() && request.document && path != m_openedDocument) {
        m_controller->openDocument(path);
        m_openedDocument = path;
        m_waiting = request;
        return id;
    }
    send(request);
    return id;
}

void EmbeddedAnswerSource::send(const AnswerRequest& request)
{
    const QString path = request.document ? request.document->path : QString();
    if (request.continuing && request.conversationId)
        m_controller->continueAnswer(request.conversationId, path);
    else if (request.again && request.conversationId)
        m_controller->regenerate(request.conversationId, path);
    else
        m_controller->ask(request.question, request.conversationId, path);
}

void EmbeddedAnswerSource::endRequest()
{
    m_active = false;
    m_waiting.reset();
}

void EmbeddedAnswerSource::stop(quint64 request)
{
    if (m_active && request == m_request)
        m_controller->cancel();
}

void EmbeddedAnswerSource::cancelReading(quint64 request)
{
    if (m_active && request == m_request) {
        m_controller->cancel();
        m_openedDocument.clear();   // read on from where it stopped next time
    }
}

bool EmbeddedAnswerSource::isBusy() const { return m_active || m_controller->isBusy(); }

} // namespace folio
