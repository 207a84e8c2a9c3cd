// The engine off the GUI thread. ReadingWorker owns a ReadingSession (model, session,
// its own database connection) and lives on a QThread of its own; ReadingController,
// on the GUI thread, owns that thread and the worker, queues requests to it and
// relays its signals (queued: they arrive on the controller's thread, one job at a
// time, in order). One controller per open document or chat, as in GPT4All.
//
// Every request ends with exactly one of: modelLoaded, documentReady, finished,
// cancelled or failed. cancel() sets an atomic flag the engine polls between
// prefill micro-batches and before each generated token.
#pragma once

#include "app/reading/reading_session.h"

#include <QObject>
#include <QString>
#include <QThread>

#include <atomic>
#include <memory>

namespace folio {

class ReadingWorker : public QObject {
    Q_OBJECT
public:
    // The database is opened on the worker's thread, at its first job.
    ReadingWorker(QString databasePath, ReadingOptions options);
    ~ReadingWorker() override;

    std::atomic<bool>& cancelFlag() { return cancel_; }

public slots:
    void setOptions(const folio::ReadingOptions& options);
    void loadModel(const QString& path);
    void openDocument(const QString& path);
    // conversationId 0: a new conversation. documentPath (optional) is opened first,
    // without reading it when the conversation's own state can be restored.
    void ask(const QString& question, qint64 conversationId, const QString& documentPath);
    // The conversation's last question answered again (ReadingSession::regenerate).
    void regenerate(qint64 conversationId, const QString& documentPath);
    void dropSession();

signals:
    void progress(int tokensDone, int total, double tokensPerSecond, double etaSeconds);
    void token(const QString& text);
    void notice(const QString& message);
    void modelLoaded(const QString& description);
    void documentReady(const folio::DocumentStatus& status);
    void finished(const folio::AnswerResult& result);
    void cancelled();
    void failed(const QString& message);

private:
    template <typename Job>
    void run(Job job);
    ReadingSession::Callbacks callbacks();

    QString databasePath_;
    ReadingOptions options_;
    std::unique_ptr<ReadingSession> session_;
    std::atomic<bool> cancel_{false};
};

class ReadingController : public QObject {
    Q_OBJECT
public:
    explicit ReadingController(const QString& databasePath, const ReadingOptions& options = {},
                               QObject* parent = nullptr);
    ~ReadingController() override;   // cancels, then waits for the thread

    void setOptions(const ReadingOptions& options);
    void loadModel(const QString& path);
    void openDocument(const QString& path);
    void ask(const QString& question, qint64 conversationId = 0, const QString& documentPath = {});
    void regenerate(qint64 conversationId, const QString& documentPath = {});
    void dropSession();
    void cancel();          // no effect when idle
    bool isBusy() const { return pending_ > 0; }

signals:
    void progress(int tokensDone, int total, double tokensPerSecond, double etaSeconds);
    void token(const QString& text);
    void notice(const QString& message);
    void modelLoaded(const QString& description);
    void documentReady(const folio::DocumentStatus& status);
    void finished(const folio::AnswerResult& result);
    void cancelled();
    void failed(const QString& message);
    void idle();            // after the last queued request ended

private:
    void queued();
    void ended();

    QThread thread_;
    ReadingWorker* worker_ = nullptr;   // lives on thread_; deleted when it finishes
    int pending_ = 0;
};

} // namespace folio
