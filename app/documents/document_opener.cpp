#include "app/documents/document_opener.h"

#include <QtConcurrent/QtConcurrentRun>

namespace folio {

DocumentOpener::DocumentOpener(QObject* parent) : QObject(parent) {}

DocumentOpener::~DocumentOpener()
{
    // Loading is not cancellable mid-file; wait so the worker never outlives us.
    if (m_watcher)
        m_watcher->waitForFinished();
}

bool DocumentOpener::isBusy() const { return m_watcher && m_watcher->isRunning(); }

void DocumentOpener::open(const QString& path)
{
    const quint64 generation = ++m_generation;
    auto* watcher = new QFutureWatcher<Outcome>(this);
    connect(watcher, &QFutureWatcherBase::finished, this, [this, watcher, generation] {
        const Outcome outcome = watcher->result();
        watcher->deleteLater();
        if (m_watcher == watcher)
            m_watcher = nullptr;
        if (generation != m_generation)
            return;   // superseded by a later open()
        if (outcome.document)
            emit opened(outcome.document);
        else
            emit failed(outcome.path, outcome.error);
    });
    m_watcher = watcher;
    emit started(path);
    const LoadOptions options = m_options;
    watcher->setFuture(QtConcurrent::run([path, options]() -> Outcome {
        try {
            return {std::make_shared<const Document>(DocumentLoader::load(path, options)), path, {}};
        } catch (const DocumentError& e) {
            return {nullptr, path, e.message()};
        } catch (const std::exception& e) {
            return {nullptr, path, QStringLiteral("%1: %2").arg(path, QString::fromUtf8(e.what()))};
        }
    }));
}

} // namespace folio
