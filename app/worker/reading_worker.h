// The engine off the GUI thread. ReadingWorker owns a ReadingSession (model, session,
// its own database connection) and lives on a QThread of its own; ReadingController,
// on the GUI thread, owns that thread and the worker, queues requests to it and
// relays its signals (queued: they arrive on the controller's thread, one job at a
// time, in order). One controller per open document or chat, as in GPT4All.
//
// Every request ends with exactly one of: modelLoaded, documentReady, finished,
// cancelled or failed. Each reading or answering request carries a cancel token of its
// own, made when it is queued: cancel() sets the tokens of every request not yet ended
// (the engine polls them between prefill micro-batches and before each generated
// token; a request whose token is set before it starts ends cancelled at once), so a
// Stop pressed during a model load or a snapshot write still stops the question queued
// behind it. A model load runs to its end.
#pragma once

#include "app/reading/reading_session.h"

#include <QObject>
#include <QString>
#include <QThread>

#include <atomic>
#include <deque>
#include <memory>

namespace folio {

using CancelToken = std::shared_ptr<std::atomic<bool>>;

class ReadingWorker : public QObject {
    Q_OBJECT
public:
    // The database is opened on the worker's thread, at its first job.
    ReadingWorker(QString databasePath, ReadingOptions options);
    ~ReadingWorker() override;

public slots:
    void setOptions(const folio::ReadingOptions& options);
    void loadModel(const QString& path);
    void openDocument(const QString& path, const folio::CancelToken& cancel);
    // conversationId 0: a new conversation. documentPath (optional) is opened first,
    // without reading it when the conversation's own state can be restored.
    void ask(const QString& question, qint64 conversationId, const QString& documentPath,
             const folio::CancelToken& cancel);
    // The conversation's last question answered again (ReadingSession::regenerate).
    void regenerate(qint64 conversationId, const QString& documentPath, const folio::CancelToken& cancel);
    // The conversation's stopped answer written on (ReadingSession::continueAnswer).
    void continueAnswer(qint64 conversationId, const QString& documentPath, const folio::CancelToken& cancel);
    void dropSession();

signals:
    void progress(int tokensDone, int total, double tokensPerSecond, double etaSeconds);
    void token(const QString& text);
    void reasoning(const QString& text);   // a reasoning model's thinking, before its answer
    void notice(const QString& message);
    void modelLoaded(const QString& description);
    void documentReady(const folio::DocumentStatus& status);
    void finished(const folio::AnswerResult& result);
    void cancelled();
    void failed(folio::AnswerErrorKind kind, const QString& message);

private:
    template <typename Job>
    void run(const CancelToken& cancel, Job job);
    ReadingSession::Callbacks callbacks();

    QString databasePath_;
    ReadingOptions options_;
    std::unique_ptr<ReadingSession> session_;
};

class ReadingController : public QObject {
    Q_OBJECT
public:
    explicit ReadingController(const QString& databasePath, const ReadingOptions& options = {},
                               QObject* parent = nullptr);
    // Cancels, then waits for the thread: a reading or answer stops at once, but a snapshot
    // being written is finished (hours of reading, for a book). The app destroys the
    // controller after its window has closed, so the wait holds no window.
    ~ReadingController() override;

    void setOptions(const ReadingOptions& options);
    void loadModel(const QString& path);
    void openDocument(const QString& path);
    void ask(const QString& question, qint64 conversationId = 0, const QString& documentPath = {});
    void regenerate(qint64 conversationId, const QString& documentPath = {});
    void continueAnswer(qint64 conversationId, const QString& documentPath = {});
    void dropSession();
    void cancel();          // every request not yet ended; no effect when idle
    bool isBusy() const { return !pending_.empty(); }
    // For tests that must act at an exact point on the worker's thread (a direct
    // connection to its signals); everything else goes through the controller.
    ReadingWorker* worker() const { return worker_; }

signals:
    void progress(int tokensDone, int total, double tokensPerSecond, double etaSeconds);
    void token(const QString& text);
    void reasoning(const QString& text);   // a reasoning model's thinking, before its answer
    void notice(const QString& message);
    void modelLoaded(const QString& description);
    void documentReady(const folio::DocumentStatus& status);
    void finished(const folio::AnswerResult& result);
    void cancelled();
    void failed(folio::AnswerErrorKind kind, const QString& message);
    void idle();            // after the last queued request ended

private:
    // A new request's token (null for one that cannot be cancelled: a model load).
    CancelToken queued(bool cancellable = true);
    void ended();

    QThread thread_;
    ReadingWorker* worker_ = nullptr;   // lives on thread_; deleted when it finishes
    std::deque<CancelToken> pending_;   // the requests not yet ended, in order
};

} // namespace folio
