#include "app/store/store_writer.h"

#include <QCoreApplication>
#include <QMetaObject>

#include <chrono>
#include <optional>

namespace folio {

StoreWriter::StoreWriter(const QString& databasePath, const StoreWriterOptions& options)
    : m_path(databasePath), m_options(options), m_relay(std::make_unique<QObject>())
{
    m_thread = std::thread([this] { run(); });
}

StoreWriter::~StoreWriter()
{
    {
        std::lock_guard lock(m_mutex);
        m_stopping = true;
    }
    m_wake.notify_all();
    m_thread.join();
}

void StoreWriter::enqueue(Task task)
{
    {
        std::lock_guard lock(m_mutex);
        m_queue.push_back(std::move(task));
    }
    m_wake.notify_one();
}

void StoreWriter::flush()
{
    std::unique_lock lock(m_mutex);
    m_drained.wait(lock, [this] { return m_queue.empty() && !m_running; });
}

bool StoreWriter::isIdle() const
{
    std::lock_guard lock(m_mutex);
    return m_queue.empty() && !m_running;
}

void StoreWriter::deliver(const QPointer<QObject>& target, std::function<void()> call)
{
    // The relay outlives this thread (the destructor joins it first); calls still queued
    // when the relay goes are dropped with it.
    QMetaObject::invokeMethod(m_relay.get(), [target, call = std::move(call)] {
        if (target)
            call();
    }, Qt::QueuedConnection);
}

void StoreWriter::runRetrying(const std::function<void()>& attempt)
{
    const auto start = std::chrono::steady_clock::now();
    for (;;) {
        try {
            attempt();
            return;
        } catch (const StoreError& e) {
            const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(
                                    std::chrono::steady_clock::now() - start).count();
            if (e.kind() != StoreError::Kind::Busy || waited >= m_options.retryForMs)
                throw;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(m_options.retryPauseMs));
    }
}

void StoreWriter::run()
{
    // The connection is opened on first use, on this thread, and kept; a failure to
    // open it is every job's failure until one succeeds.
    std::unique_ptr<Database> db;
    std::unique_ptr<LibraryStore> store;
    for (;;) {
        Task task;
        {
            std::unique_lock lock(m_mutex);
            m_wake.wait(lock, [this] { return m_stopping || !m_queue.empty(); });
            if (m_queue.empty())
                return;   // stopping, and everything queued has run
            task = std::move(m_queue.front());
            m_queue.pop_front();
            m_running = true;
        }
        std::optional<StoreError> unopened;
        if (!store) {
            try {
                runRetrying([&] { db = std::make_unique<Database>(m_path, m_options.database); });
                store = std::make_unique<LibraryStore>(*db);
            } catch (const StoreError& e) {
                db.reset();
                unopened = e;
            }
        }
        task(store.get(), unopened ? &*unopened : nullptr);
        {
            std::lock_guard lock(m_mutex);
            m_running = false;
        }
        m_drained.notify_all();
    }
}

} // namespace folio
