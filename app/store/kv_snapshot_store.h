// Saved KV-cache states ("snapshots") in the store: a document's state after reading it,
// shared by every conversation about it with the same model and options, and each
// conversation's own state after its last answer (only what follows the document's).
//
// A snapshot is a row in kv_snapshots plus its bytes in kv_snapshot_chunks rows of
// bounded size. It is written in pieces as the engine produces them (KvSnapshotWriter,
// the app's side of the engine's StateWriter) and committed in batches of chunks so that
// a gigabyte-sized state neither holds the write lock for long nor grows the WAL without
// bound; the row is marked complete in the last transaction, and only complete
// snapshots are ever found or read. A writer that dies half way (killed, disk full)
// leaves an incomplete row that nobody sees and removeAbandoned() deletes.
//
// Reading (KvSnapshotReader) checks each chunk's CRC-32C before handing out any of its
// bytes, and the whole snapshot's at the end; a snapshot that fails is deleted and the
// reader throws StoreError::Checksum, so the caller reads the document again.
#pragma once

#include "app/store/database.h"
#include "engine/session/session_state.h"

#include <QString>
#include <QVector>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>

namespace folio {

enum class KvSnapshotKind { Document, Conversation };

struct KvSnapshotSpec {
    QString fingerprint;   // model file hash, architecture, options, template, document hash, ...
    KvSnapshotKind kind = KvSnapshotKind::Document;
    qint64 documentId = 0;
    std::optional<qint64> conversationId;   // for KvSnapshotKind::Conversation
    std::optional<qint64> baseSnapshotId;   // the document snapshot a conversation's state follows
    qint64 tokenCount = 0;
    QString kvType;   // "f16", "q8_0", ...
};

struct KvSnapshotInfo : KvSnapshotSpec {
    qint64 id = 0;
    qint64 totalBytes = 0;
    int chunkCount = 0;
    QString checksum;   // "crc32c:" + 8 hex digits
    qint64 createdAtMs = 0;
    qint64 lastUsedAtMs = 0;
    bool complete = false;
};

struct KvSnapshotWriteOptions {
    std::size_t chunkBytes = std::size_t{4} << 20;          // one row's blob
    std::size_t transactionBytes = std::size_t{64} << 20;   // chunks per commit; 0: all in one transaction
};

// Session::saveState(writer) streams a session's state straight into the store.
class KvSnapshotWriter : public StateWriter {
public:
    ~KvSnapshotWriter() override;   // without commit(): removes what was written
    KvSnapshotWriter(const KvSnapshotWriter&) = delete;
    KvSnapshotWriter& operator=(const KvSnapshotWriter&) = delete;

    // Appends bytes (any piece size). Throws StoreError (DiskFull, Busy, ...) after
    // removing the partial snapshot; the writer is then unusable.
    void write(const void* data, std::size_t bytes) override;
    // Makes the snapshot visible and removes the ones it supersedes (same kind,
    // fingerprint, document and conversation). Returns its id.
    qint64 commit();
    void abort();   // removes the partial snapshot

    qint64 id() const { return m_id; }
    qint64 bytesWritten() const { return m_written; }
    qint64 bytesCommitted() const { return m_committed; }   // in the file, still invisible

private:
    friend class KvSnapshotStore;
    KvSnapshotWriter(Database& db, const KvSnapshotSpec& spec, const KvSnapshotWriteOptions& options);
    void flushChunk();
    void commitBatch();
    [[noreturn]] void failed(const StoreError& error);
    void removePartial() noexcept;

    Database& m_db;
    KvSnapshotSpec m_spec;
    KvSnapshotWriteOptions m_options;
    qint64 m_id = 0;
    QByteArray m_chunk;
    int m_chunkCount = 0;
    uint32_t m_crc = 0;
    qint64 m_written = 0;
    qint64 m_committed = 0;
    qint64 m_batchBytes = 0;
    std::unique_ptr<Transaction> m_transaction;
    enum class State { Writing, Committed, Aborted, Failed } m_state = State::Writing;
};

// Session::loadState(reader) restores a session from the store.
class KvSnapshotReader : public StateReader {
public:
    ~KvSnapshotReader() override;
    KvSnapshotReader(const KvSnapshotReader&) = delete;
    KvSnapshotReader& operator=(const KvSnapshotReader&) = delete;

    // Copies up to `bytes`; fewer only at the end, 0 once everything was read and the
    // checksum verified. Throws StoreError::Checksum (the snapshot is deleted first).
    std::size_t read(void* data, std::size_t bytes) override;
    const KvSnapshotInfo& info() const { return m_info; }

private:
    friend class KvSnapshotStore;
    KvSnapshotReader(Database& db, const KvSnapshotInfo& info);
    bool nextChunk();
    [[noreturn]] void damaged(const QString& problem);

    Database& m_db;
    KvSnapshotInfo m_info;
    std::unique_ptr<Statement> m_chunks;   // open while reading: one consistent view
    const char* m_data = nullptr;          // the current chunk, owned by SQLite until the next step
    std::size_t m_size = 0;
    std::size_t m_pos = 0;
    int m_nextIndex = 0;
    qint64 m_total = 0;
    uint32_t m_crc = 0;
    bool m_done = false;
};

class KvSnapshotStore {
public:
    explicit KvSnapshotStore(Database& db) : m_db(db) {}

    std::unique_ptr<KvSnapshotWriter> beginSnapshot(const KvSnapshotSpec& spec, const KvSnapshotWriteOptions& options = {});
    // Streams the snapshot's bytes back and marks it used now. Throws NotFound.
    std::unique_ptr<KvSnapshotReader> openReader(qint64 id);
    QByteArray readAll(qint64 id);   // small snapshots and tests

    // The most recent complete snapshot with this fingerprint for the document (and
    // conversation, for KvSnapshotKind::Conversation).
    std::optional<KvSnapshotInfo> findLatest(const QString& fingerprint, qint64 documentId,
                                             KvSnapshotKind kind = KvSnapshotKind::Document,
                                             std::optional<qint64> conversationId = std::nullopt);
    KvSnapshotInfo snapshot(qint64 id);    // a complete one; throws NotFound
    QVector<KvSnapshotInfo> snapshots();   // complete ones, most recently used first
    qint64 totalBytes();                   // of complete snapshots
    void remove(qint64 id);                // with the conversation snapshots built on it

    // Removes complete snapshots, least recently used first, until they take at most
    // `budgetBytes`; never those in `keep`. Returns the bytes removed.
    qint64 prune(qint64 budgetBytes, const QVector<qint64>& keep = {});
    // Removes incomplete snapshots whose writer made no progress for `idle` (a writer
    // that was killed). Returns how many.
    int removeAbandoned(std::chrono::milliseconds idle = std::chrono::minutes(10));
    int incompleteCount();

private:
    Database& m_db;
};

QString kvSnapshotKindKey(KvSnapshotKind kind);   // "document", "conversation"

} // namespace folio
