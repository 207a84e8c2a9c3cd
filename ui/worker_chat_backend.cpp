#include "ui/worker_chat_backend.h"

#include "app/worker/reading_worker.h"
#include "ui/model_summary.h"

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
    SessionOptions session;
    session.dca.enabled = o.method == ExtensionMethod::Dca;
    s.applyOverrides(session);
    o.rope = session.rope;
    if (o.method == ExtensionMethod::Dca)
        o.dca = session.dca;
    return o;
}

WorkerChatBackend::WorkerChatBackend(const QString& databasePath, QObject* parent)
    : ChatBackend(parent), m_controller(new ReadingController(databasePath, {}, this))
{
    applySettings(ModelSettings::load());
    connect(m_controller, &ReadingController::progress, this, [this](int done, int total, double, double) {
        if (!m_active)
            return;
        m_reading = true;
        emit readingProgress(done, total);
    });
    connect(m_controller, &ReadingController::documentReady, this, [this](const DocumentStatus& status) {
        m_contextTokens = status.contextLength;
        emit sessionDescribed(status.extension, status.kvType.toUpper(), status.contextLength);
        if (m_reading) {
            m_reading = false;
            emit readingFinished(true);
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
            emit readingFinished(true);
        }
        emit token(text);
    });
    connect(m_controller, &ReadingController::finished, this, [this](const AnswerResult& result) {
        if (!m_active)
            return;
        if (m_reading) {
            m_reading = false;
            emit readingFinished(true);
        }
        endRequest();
        emit contextUsed(result.contextTokens, m_contextTokens);
        emit conversationSaved(result.conversationId);
        emit answered(result.answer, result.evidence);
    });
    connect(m_controller, &ReadingController::cancelled, this, [this] {
        if (!m_active)
            return;
        const bool wasReading = m_reading;
        m_reading = false;
        endRequest();
        if (wasReading)
            emit readingFinished(false);
        emit cancelled();
    });
    connect(m_controller, &ReadingController::failed, this, [this](const QString& message) {
        // A failed model load also fails the question queued behind it: report once.
        if (!m_active)
            return;
        if (message.contains(QLatin1String("model"), Qt::CaseInsensitive))
            m_loadedModel.clear();   // try loading it again next time
        m_reading = false;
        m_openedDocument.clear();
        endRequest();
        emit failed(message);
    });
}

WorkerChatBackend::~WorkerChatBackend() = default;

void WorkerChatBackend::applySettings(const ModelSettings& settings)
{
    m_settings = settings;
    m_controller->setOptions(readingOptions(settings));
    if (settings.effectiveModelPath() != m_loadedModel)
        m_loadedModel.clear();
}

void WorkerChatBackend::ask(const ChatRequest& request)
{
    if (m_active) {
        emit failed(tr("Still answering the previous question."));
        return;
    }
    const QString model = m_settings.effectiveModelPath();
    if (model.isEmpty()) {
        emit failed(tr("No model is chosen: pick a GGUF file in Tools → Model Manager."));
        return;
    }
    m_active = true;
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
        return;
    }
    send(request);
}

void WorkerChatBackend::send(const ChatRequest& request)
{
    const QString path = request.document ? request.document->path : QString();
    if (request.again && request.conversationId)
        m_controller->regenerate(request.conversationId, path);
    else
        m_controller->ask(request.question, request.conversationId, path);
}

void WorkerChatBackend::endRequest()
{
    m_active = false;
    m_waiting.reset();
}

void WorkerChatBackend::stop()
{
    if (m_active)
        m_controller->cancel();
}

void WorkerChatBackend::cancelReading()
{
    if (m_active) {
        m_controller->cancel();
        m_openedDocument.clear();   // read on from where it stopped next time
    }
}

bool WorkerChatBackend::isBusy() const { return m_active || m_controller->isBusy(); }

} // namespace folio
