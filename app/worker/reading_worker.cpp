#include "app/worker/reading_worker.h"

#include "app/documents/document_loader.h"
#include "app/store/database.h"

#include <QMetaObject>

namespace folio {

ReadingWorker::ReadingWorker(QString databasePath, ReadingOptions options)
    : databasePath_(std::move(databasePath)), options_(std::move(options))
{
}

ReadingWorker::~ReadingWorker() = default;

ReadingSession::Callbacks ReadingWorker::callbacks()
{
    ReadingSession::Callbacks c;
    c.progress = [this](const ReadProgress& p) { emit progress(p.done, p.total, p.tokensPerSecond, p.etaSeconds); };
    c.token = [this](const QString& text) { emit token(text); };
    c.reasoning = [this](const QString& text) { emit reasoning(text); };
    c.notice = [this](const QString& text) { emit notice(text); };
    return c;
}

// Runs one job on this thread; every way it can end becomes one signal.
template <typename Job>
void ReadingWorker::run(const CancelToken& cancel, Job job)
{
    if (cancel && cancel->load()) {
        emit cancelled();   // stopped while it waited in the queue
        return;
    }
    try {
        if (!session_)
            session_ = std::make_unique<ReadingSession>(std::make_shared<Database>(databasePath_), options_);
        job();
    } catch (const ReadingCancelled&) {
        emit cancelled();
        // Then keep what was read, so the next reading (after a restart too) goes on from
        // there; a later job waits for this write, the window does not.
        if (session_)
            session_->savePartialReading(callbacks());
    } catch (const ReadingError& e) {
        emit failed(e.kind(), QString::fromUtf8(e.what()));
    } catch (const StoreError& e) {
        emit failed(AnswerErrorKind::Store, e.message());
    } catch (const DocumentError& e) {
        emit failed(AnswerErrorKind::Document, e.message());
    } catch (const std::exception& e) {
        // ModelError, and what else the engine throws (a state it cannot load, memory).
        emit failed(AnswerErrorKind::Model, QString::fromUtf8(e.what()));
    }
}

void ReadingWorker::setOptions(const ReadingOptions& options)
{
    options_ = options;
    if (session_)
        session_->setOptions(options);
}

void ReadingWorker::loadModel(const QString& path)
{
    run(nullptr, [&] {
        session_->loadModel(path);
        emit modelLoaded(QString::fromStdString(session_->model()->describe()));
    });
}

void ReadingWorker::openDocument(const QString& path, const CancelToken& cancel)
{
    run(cancel, [&] { emit documentReady(session_->openDocument(path, callbacks(), cancel.get())); });
}

void ReadingWorker::ask(const QString& question, qint64 conversationId, const QString& documentPath,
                        const CancelToken& cancel)
{
    run(cancel, [&] {
        if (!documentPath.isEmpty()) {
            if (conversationId)
                session_->prepareDocument(documentPath, callbacks());
            else
                session_->openDocument(documentPath, callbacks(), cancel.get());
        }
        emit finished(session_->ask(question, conversationId, callbacks(), cancel.get()));
    });
}

void ReadingWorker::regenerate(qint64 conversationId, const QString& documentPath, const CancelToken& cancel)
{
    run(cancel, [&] {
        if (!documentPath.isEmpty())
            session_->prepareDocument(documentPath, callbacks());
        emit finished(session_->regenerate(conversationId, callbacks(), cancel.get()));
    });
}

void ReadingWorker::continueAnswer(qint64 conversationId, const QString& documentPath, const CancelToken& cancel)
{
    run(cancel, [&] {
        if (!documentPath.isEmpty())
            session_->prepareDocument(documentPath, callbacks());
        emit finished(session_->continueAnswer(conversationId, callbacks(), cancel.get()));
    });
}

void ReadingWorker::dropSession()
{
    if (session_)
        session_->dropSession();
}

ReadingController::ReadingController(const QString& databasePath, const ReadingOptions& options, QObject* parent)
    : QObject(parent)
{
    qRegisterMetaType<folio::ReadingOptions>("folio::ReadingOptions");
    qRegisterMetaType<folio::DocumentStatus>("folio::DocumentStatus");
    qRegisterMetaType<folio::AnswerResult>("folio::AnswerResult");
    qRegisterMetaType<folio::AnswerErrorKind>("folio::AnswerErrorKind");
    thread_.setObjectName(QStringLiteral("folio-reading"));
    worker_ = new ReadingWorker(databasePath, options);
    worker_->moveToThread(&thread_);
    connect(&thread_, &QThread::finished, worker_, &QObject::deleteLater);
    connect(worker_, &ReadingWorker::progress, this, &ReadingController::progress);
    connect(worker_, &ReadingWorker::token, this, &ReadingController::token);
    connect(worker_, &ReadingWorker::reasoning, this, &ReadingController::reasoning);
    connect(worker_, &ReadingWorker::notice, this, &ReadingController::notice);
    connect(worker_, &ReadingWorker::modelLoaded, this, [this](const QString& d) { emit modelLoaded(d); ended(); });
    connect(worker_, &ReadingWorker::documentReady, this, [this](const DocumentStatus& s) { emit documentReady(s); ended(); });
    connect(worker_, &ReadingWorker::finished, this, [this](const AnswerResult& r) { emit finished(r); ended(); });
    connect(worker_, &ReadingWorker::cancelled, this, [this] { emit cancelled(); ended(); });
    connect(worker_, &ReadingWorker::failed, this, [this](AnswerErrorKind kind, const QString& m) {
        emit failed(kind, m);
        ended();
    });
    thread_.start();
}

ReadingController::~ReadingController()
{
    cancel();
    thread_.quit();
    thread_.wait();
}

CancelToken ReadingController::queued(bool cancellable)
{
    CancelToken token = cancellable ? std::make_shared<std::atomic<bool>>(false) : nullptr;
    pending_.push_back(token);
    return token;
}

void ReadingController::ended()
{
    if (pending_.empty())
        return;
    pending_.pop_front();
    if (pending_.empty())
        emit idle();
}

void ReadingController::setOptions(const ReadingOptions& options)
{
    QMetaObject::invokeMethod(worker_, [w = worker_, options] { w->setOptions(options); }, Qt::QueuedConnection);
}

void ReadingController::loadModel(const QString& path)
{
    queued(false);
    QMetaObject::invokeMethod(worker_, [w = worker_, path] { w->loadModel(path); }, Qt::QueuedConnection);
}

void ReadingController::openDocument(const QString& path)
{
    QMetaObject::invokeMethod(worker_, [w = worker_, path, c = queued()] { w->openDocument(path, c); },
                              Qt::QueuedConnection);
}

void ReadingController::ask(const QString& question, qint64 conversationId, const QString& documentPath)
{
    QMetaObject::invokeMethod(
        worker_,
        [w = worker_, question, conversationId, documentPath, c = queued()] {
            w->ask(question, conversationId, documentPath, c);
        },
        Qt::QueuedConnection);
}

void ReadingController::regenerate(qint64 conversationId, const QString& documentPath)
{
    QMetaObject::invokeMethod(
        worker_, [w = worker_, conversationId, documentPath, c = queued()] { w->regenerate(conversationId, documentPath, c); },
        Qt::QueuedConnection);
}

void ReadingController::continueAnswer(qint64 conversationId, const QString& documentPath)
{
    QMetaObject::invokeMethod(
        worker_,
        [w = worker_, conversationId, documentPath, c = queued()] { w->continueAnswer(conversationId, documentPath, c); },
        Qt::QueuedConnection);
}

void ReadingController::dropSession()
{
    QMetaObject::invokeMethod(worker_, [w = worker_] { w->dropSession(); }, Qt::QueuedConnection);
}

void ReadingController::cancel()
{
    for (const CancelToken& token : pending_)
        if (token)
            *token = true;
}

} // namespace folio
