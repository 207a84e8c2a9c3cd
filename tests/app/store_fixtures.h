// Helpers for the store tests: documents without files, snapshot bytes, raw SQL.
#pragma once

#include "app/documents/document.h"
#include "app/store/kv_snapshot_store.h"

#include <QByteArray>
#include <QString>

namespace folio::test {

// A document as the loader would give it, with a content hash made from `name`.
Document storeDocument(const QString& name, int pages = 3);
// Deterministic bytes that differ with `seed` (a stand-in for KV state).
QByteArray patternBytes(qsizetype size, quint32 seed);
// Writes `bytes` in pieces of `piece` bytes and commits; returns the snapshot id.
qint64 saveSnapshot(KvSnapshotStore& store, const KvSnapshotSpec& spec, const QByteArray& bytes,
                    std::size_t piece = 100'000, const KvSnapshotWriteOptions& options = {});
KvSnapshotSpec documentSpec(qint64 documentId, const QString& fingerprint = QStringLiteral("model-a|f16|doc"));
qint64 queryInteger(Database& db, const char* sql);   // the first column of the first row
QByteArray sha256OfFile(const QString& path);

} // namespace folio::test
