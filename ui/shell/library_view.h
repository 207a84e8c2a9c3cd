// The library: every document Folio has opened (from the store), with what the reader
// wants to know before picking one: kind, pages, tokens, whether a saved reading (a KV
// snapshot) exists, and when it was last opened. Activating a row asks to open it.
#pragma once

#include "app/store/library_store.h"

#include <QSet>
#include <QWidget>

class QTreeWidget;

namespace folio {

class LibraryView : public QWidget {
    Q_OBJECT
public:
    explicit LibraryView(QWidget* parent = nullptr);

    // `withReading`: ids of documents that have a saved reading.
    void setDocuments(const QVector<DocumentRecord>& documents, const QSet<qint64>& withReading);
    void selectDocument(qint64 id);
    int count() const;
    qint64 documentIdAt(int row) const;
    QString pathAt(int row) const;

signals:
    void openRequested(const QString& path, qint64 documentId);
    void removeRequested(qint64 documentId);

private:
    QTreeWidget* m_tree = nullptr;
};

} // namespace folio
