// Loads documents off the GUI thread and reports back with queued signals.
#pragma once

#include "app/documents/document_loader.h"

#include <QFutureWatcher>
#include <QObject>

#include <memory>

namespace folio {

class DocumentOpener : public QObject {
    Q_OBJECT
public:
    explicit DocumentOpener(QObject* parent = nullptr);
    ~DocumentOpener() override;

    void setOptions(const LoadOptions& options) { m_options = options; }
    // Starts loading; a newer request supersedes one still running (its result is dropped).
    void open(const QString& path);
    bool isBusy() const;

signals:
    void started(const QString& path);
    void opened(std::shared_ptr<const folio::Document> document);
    void failed(const QString& path, const QString& message);

private:
    struct Outcome {
        std::shared_ptr<const Document> document;
        QString path;
        QString error;
    };
    LoadOptions m_options;
    QFutureWatcher<Outcome>* m_watcher = nullptr;
    quint64 m_generation = 0;
};

} // namespace folio
