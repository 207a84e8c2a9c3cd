// The GUI's writes to the library (a conversation created, renamed or deleted, a turn
// from a source that stores nothing, a document remembered or removed) run here, on a
// thread of their own with a connection of their own, in the order they were posted.
// The GUI thread never waits for SQLite: a snapshot commit on the worker can hold the
// write lock for seconds, and a write that finds the database busy is tried again here
// until it goes through, never dropped. Reads stay on the GUI's connection (WAL lets
// them run beside a writer).
//
// Each job runs with a LibraryStore on the writer's connection; its result comes back
// on the thread that made the writer (the GUI's), to the `context` object given with it,
// which must live on that thread (not at all if the object is gone by then), or its
// StoreError does.
#pragma once

#include "app/store/database.h"
#include "app/store/library_store.h"

#include <QObject>
#include <QPointer>
#include <QString>

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

namespace folio {

struct StoreWriterOptions {
    DatabaseOptions database;          // the writer's own connection
    int retryForMs = 10 * 60 * 1000;   // keeps trying a busy database this long in all
    int retryPauseMs = 100;            // between tries
};

class StoreWriter {
public:
    explicit StoreWriter(const QString& databasePath, const StoreWriterOptions& options = {});
    ~StoreWriter();   // runs what is queued, then stops
    StoreWriter(const StoreWriter&) = delete;
    StoreWriter& operator=(const StoreWriter&) = delete;

    const QString& databasePath() const { return m_path; }

    using Failed = std::function<void(const StoreError&)>;

    // Runs `job` on the writer's thread; then `done(result)` (or `failed(error)`) on
    // `context`'s thread. A job's Busy error is retried (the job runs again from the
    // start: keep each job one transaction, as LibraryStore's methods are).
    template <typename Job, typename Done>
    void post(QObject* context, Job job, Done done, Failed failed = {})
    {
        using Result = decltype(job(std::declval<LibraryStore&>()));
        QPointer<QObject> target(context);
        enqueue([target, job = std::move(job), done = std::move(done), failed = std::move(failed),
                 this](LibraryStore* store, const StoreError* unopened) mutable {
            try {
                if (!store)
                    throw *unopened;
                if constexpr (std::is_void_v<Result>) {
                    runRetrying([&] { job(*store); });
                    deliver(target, [done] { done(); });
                } else {
                    auto result = std::make_shared<Result>();
                    runRetrying([&] { *result = job(*store); });
                    deliver(target, [done, result] { done(*result); });
                }
            } catch (const StoreError& e) {
                if (failed)
                    deliver(target, [failed, e] { failed(e); });
            }
        });
    }

    // Blocks until everything posted so far has run (tests, and the window's close).
    void flush();
    bool isIdle() const;

private:
    // Runs with the store, or with none and the error that kept the connection from opening.
    using Task = std::function<void(LibraryStore*, const StoreError*)>;
    void enqueue(Task task);
    void run();
    void runRetrying(const std::function<void()>& attempt);
    // Queued to the relay, on the writer's owner thread: the target is checked there, never
    // on the writer's own thread, where it could be deleted while being looked at.
    void deliver(const QPointer<QObject>& target, std::function<void()> call);

    QString m_path;
    StoreWriterOptions m_options;
    std::unique_ptr<QObject> m_relay;   // lives on the thread that made the writer
    mutable std::mutex m_mutex;
    std::condition_variable m_wake;
    std::condition_variable m_drained;
    std::deque<Task> m_queue;
    bool m_running = false;   // a task is being run
    bool m_stopping = false;
    std::thread m_thread;
};

} // namespace folio
