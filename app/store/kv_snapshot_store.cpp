#include "app/store/kv_snapshot_store.h"

#include "app/store/crc32c.h"

#include <QCoreApplication>
#include <QLocale>

#include <algorithm>
#include <cstring>

namespace folio {

namespace {

QString tr(const char* text) { return QCoreApplication::translate("KvSnapshotStore", text); }

QString checksumText(uint32_t crc)
{
    return QStringLiteral("crc32c:%1").arg(crc, 8, 16, QChar(u'0'));
}

KvSnapshotKind kindFromKey(const QString& key)
{
    return key == QLatin1String("conversation") ? KvSnapshotKind::Conversation : KvSnapshotKind::Document;
}

constexpr const char* kInfoSelect =
    "SELECT id, fingerprint, kind, document_id, conversation_id, base_snapshot_id, token_count, kv_type, "
    "total_bytes, chunk_count, checksum, created_at, last_used_at, complete FROM kv_snapshots ";

KvSnapshotInfo infoFrom(const Statement& row)
{
    KvSnapshotInfo s;
    s.id = row.integer(0);
    s.fingerprint = row.text(1);
    s.kind = kindFromKey(row.text(2));
    s.documentId = row.integer(3);
    s.conversationId = row.optionalInteger(4);
    s.baseSnapshotId = row.optionalInteger(5);
    s.tokenCount = row.integer(6);
    s.kvType = row.text(7);
    s.totalBytes = row.integer(8);
    s.chunkCount = int(row.integer(9));
    s.checksum = row.text(10);
    s.createdAtMs = row.integer(11);
    s.lastUsedAtMs = row.integer(12);
    s.complete = row.integer(13) != 0;
    return s;
}

} // namespace

QString kvSnapshotKindKey(KvSnapshotKind kind)
{
    return kind == KvSnapshotKind::Conversation ? QStringLiteral("conversation") : QStringLiteral("document");
}

// ---------------------------------------------------------------------------------------
// Writer

KvSnapshotWriter::KvSnapshotWriter(Database& db, const KvSnapshotSpec& spec, const KvSnapshotWriteOptions& options)
    : m_db(db), m_spec(spec), m_options(options)
{
    m_options.chunkBytes = std::clamp<std::size_t>(m_options.chunkBytes, 1, std::size_t{256} << 20);
    const qint64 now = nowMs();
    m_db.prepare("INSERT INTO kv_snapshots (fingerprint, kind, document_id, conversation_id, base_snapshot_id, "
                 "token_count, kv_type, created_at, last_used_at, complete) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0)")
        .bind(0, spec.fingerprint)
        .bind(1, kvSnapshotKindKey(spec.kind))
        .bind(2, spec.documentId)
        .bind(3, spec.conversationId)
        .bind(4, spec.baseSnapshotId)
        .bind(5, spec.tokenCount)
        .bind(6, spec.kvType)
        .bind(7, now)
        .bind(8, now)
        .run();
    m_id = m_db.lastInsertId();
    m_chunk.reserve(qsizetype(m_options.chunkBytes));
}

KvSnapshotWriter::~KvSnapshotWriter()
{
    if (m_state == State::Writing)
        removePartial();
}

void KvSnapshotWriter::write(const void* data, std::size_t bytes)
{
    if (m_state != State::Writing)
        throw StoreError(StoreError::Kind::Other, tr("%1: snapshot %2 is no longer being written").arg(m_db.path()).arg(m_id));
    try {
        const char* p = static_cast<const char*>(data);
        while (bytes > 0) {
            const std::size_t room = m_options.chunkBytes - std::size_t(m_chunk.size());
            const std::size_t n = std::min(room, bytes);
            m_chunk.append(p, qsizetype(n));
            p += n;
            bytes -= n;
            m_written += qint64(n);
            if (std::size_t(m_chunk.size()) == m_options.chunkBytes)
                flushChunk();
        }
    } catch (const StoreError& error) {
        failed(error);
    }
}

void KvSnapshotWriter::flushChunk()
{
    if (!m_transaction)
        m_transaction = std::make_unique<Transaction>(m_db);
    const uint32_t crc = crc32c(m_chunk.constData(), std::size_t(m_chunk.size()));
    m_db.prepare("INSERT INTO kv_snapshot_chunks (snapshot_id, chunk_index, crc, data) VALUES (?, ?, ?, ?)")
        .bind(0, m_id)
        .bind(1, m_chunkCount)
        .bind(2, qint64(crc))
        .bindBlob(3, m_chunk.constData(), std::size_t(m_chunk.size()))
        .run();
    m_crc = crc32c(m_chunk.constData(), std::size_t(m_chunk.size()), m_crc);
    ++m_chunkCount;
    m_batchBytes += m_chunk.size();
    m_chunk.resize(0);   // keeps the capacity
    if (m_options.transactionBytes > 0 && std::size_t(m_batchBytes) >= m_options.transactionBytes)
        commitBatch();
}

void KvSnapshotWriter::commitBatch()
{
    // The progress mark tells removeAbandoned() that this writer is alive.
    m_db.prepare("UPDATE kv_snapshots SET last_used_at = ?, total_bytes = ?, chunk_count = ? WHERE id = ?")
        .bind(0, nowMs())
        .bind(1, m_written - m_chunk.size())
        .bind(2, m_chunkCount)
        .bind(3, m_id)
        .run();
    m_transaction->commit();
    m_transaction.reset();
    m_committed += m_batchBytes;
    m_batchBytes = 0;
}

qint64 KvSnapshotWriter::commit()
{
    if (m_state != State::Writing)
        throw StoreError(StoreError::Kind::Other, tr("%1: snapshot %2 is no longer being written").arg(m_db.path()).arg(m_id));
    try {
        if (!m_chunk.isEmpty())
            flushChunk();
        if (!m_transaction)
            m_transaction = std::make_unique<Transaction>(m_db);
        m_db.prepare("UPDATE kv_snapshots SET total_bytes = ?, chunk_count = ?, checksum = ?, last_used_at = ?, "
                     "complete = 1 WHERE id = ?")
            .bind(0, m_written)
            .bind(1, m_chunkCount)
            .bind(2, checksumText(m_crc))
            .bind(3, nowMs())
            .bind(4, m_id)
            .run();
        // The newest state replaces older ones of the same document or conversation.
        m_db.prepare("DELETE FROM kv_snapshots WHERE complete = 1 AND id <> ? AND kind = ? AND fingerprint = ? "
                     "AND document_id = ? AND conversation_id IS ?")
            .bind(0, m_id)
            .bind(1, kvSnapshotKindKey(m_spec.kind))
            .bind(2, m_spec.fingerprint)
            .bind(3, m_spec.documentId)
            .bind(4, m_spec.conversationId)
            .run();
        m_transaction->commit();
        m_transaction.reset();
    } catch (const StoreError& error) {
        failed(error);
    }
    m_committed = m_written;
    m_state = State::Committed;
    return m_id;
}

void KvSnapshotWriter::abort()
{
    if (m_state == State::Writing) {
        m_state = State::Aborted;
        removePartial();
    }
}

void KvSnapshotWriter::failed(const StoreError& error)
{
    m_state = State::Failed;
    removePartial();
    throw error;
}

void KvSnapshotWriter::removePartial() noexcept
{
    m_transaction.reset();   // rolls back the open batch
    m_chunk = QByteArray();
    try {
        // Deleting frees pages, so this works on a full disk too. If it fails, the row
        // stays incomplete (invisible) until removeAbandoned().
        m_db.prepare("DELETE FROM kv_snapshots WHERE id = ? AND complete = 0").bind(0, m_id).run();
    } catch (const StoreError&) {
    }
}

// ---------------------------------------------------------------------------------------
// Reader

KvSnapshotReader::KvSnapshotReader(Database& db, const KvSnapshotInfo& info) : m_db(db), m_info(info)
{
    m_chunks = std::make_unique<Statement>(
        m_db, "SELECT chunk_index, crc, data FROM kv_snapshot_chunks WHERE snapshot_id = ? ORDER BY chunk_index");
    m_chunks->bind(0, info.id);
}

KvSnapshotReader::~KvSnapshotReader() = default;

std::size_t KvSnapshotReader::read(void* data, std::size_t bytes)
{
    char* out = static_cast<char*>(data);
    std::size_t copied = 0;
    while (copied < bytes) {
        if (m_pos == m_size && !nextChunk())
            break;
        const std::size_t n = std::min(bytes - copied, m_size - m_pos);
        std::memcpy(out + copied, m_data + m_pos, n);
        m_pos += n;
        copied += n;
    }
    return copied;
}

bool KvSnapshotReader::nextChunk()
{
    if (m_done)
        return false;
    if (!m_chunks->step()) {
        m_done = true;
        m_data = nullptr;
        m_size = m_pos = 0;
        if (m_nextIndex != m_info.chunkCount || m_total != m_info.totalBytes)
            damaged(tr("%1 of its %2 chunks are there").arg(m_nextIndex).arg(m_info.chunkCount));
        if (checksumText(m_crc) != m_info.checksum)
            damaged(tr("its checksum does not match"));
        m_chunks.reset();   // ends the read
        return false;
    }
    if (m_chunks->integer(0) != m_nextIndex)
        damaged(tr("chunk %1 is missing").arg(m_nextIndex));
    m_data = static_cast<const char*>(m_chunks->blob(2));
    m_size = m_chunks->blobBytes(2);
    m_pos = 0;
    const uint32_t crc = crc32c(m_data, m_size);
    if (qint64(crc) != m_chunks->integer(1))
        damaged(tr("chunk %1 failed its checksum").arg(m_nextIndex));
    m_crc = crc32c(m_data, m_size, m_crc);
    m_total += qint64(m_size);
    ++m_nextIndex;
    return m_size > 0 || nextChunk();
}

void KvSnapshotReader::damaged(const QString& problem)
{
    m_chunks.reset();   // end the read before deleting
    m_data = nullptr;
    m_size = m_pos = 0;
    m_done = true;
    QString removed = tr("it was deleted");
    try {
        m_db.prepare("DELETE FROM kv_snapshots WHERE id = ?").bind(0, m_info.id).run();
    } catch (const StoreError& e) {
        removed = tr("deleting it failed too: %1").arg(e.message());
    }
    throw StoreError(StoreError::Kind::Checksum,
                     tr("%1: the saved state %2 (%3 tokens) is damaged: %4; %5. The document will be read again.")
                         .arg(m_db.path())
                         .arg(m_info.id)
                         .arg(m_info.tokenCount)
                         .arg(problem, removed));
}

// ---------------------------------------------------------------------------------------
// Store

std::unique_ptr<KvSnapshotWriter> KvSnapshotStore::beginSnapshot(const KvSnapshotSpec& spec,
                                                                  const KvSnapshotWriteOptions& options)
{
    return std::unique_ptr<KvSnapshotWriter>(new KvSnapshotWriter(m_db, spec, options));
}

std::unique_ptr<KvSnapshotReader> KvSnapshotStore::openReader(qint64 id)
{
    const KvSnapshotInfo info = snapshot(id);
    try {
        m_db.prepare("UPDATE kv_snapshots SET last_used_at = ? WHERE id = ?").bind(0, nowMs()).bind(1, id).run();
    } catch (const StoreError&) {
        // Only a hint for pruning: a read-only or busy database still gives the state back.
    }
    return std::unique_ptr<KvSnapshotReader>(new KvSnapshotReader(m_db, info));
}

QByteArray KvSnapshotStore::readAll(qint64 id)
{
    std::unique_ptr<KvSnapshotReader> reader = openReader(id);
    QByteArray bytes(qsizetype(reader->info().totalBytes), Qt::Uninitialized);
    std::size_t got = reader->read(bytes.data(), std::size_t(bytes.size()));
    char extra;
    if (got != std::size_t(bytes.size()) || reader->read(&extra, 1) != 0)
        throw StoreError(StoreError::Kind::Other, tr("%1: snapshot %2 changed while it was read").arg(m_db.path()).arg(id));
    return bytes;
}

std::optional<KvSnapshotInfo> KvSnapshotStore::findLatest(const QString& fingerprint, qint64 documentId,
                                                          KvSnapshotKind kind, std::optional<qint64> conversationId)
{
    Statement select = m_db.prepare(QByteArray(kInfoSelect) +
                                    "WHERE complete = 1 AND fingerprint = ? AND document_id = ? AND kind = ? "
                                    "AND conversation_id IS ? ORDER BY created_at DESC, id DESC LIMIT 1");
    select.bind(0, fingerprint).bind(1, documentId).bind(2, kvSnapshotKindKey(kind)).bind(3, conversationId);
    if (!select.step())
        return std::nullopt;
    return infoFrom(select);
}

KvSnapshotInfo KvSnapshotStore::snapshot(qint64 id)
{
    Statement select = m_db.prepare(QByteArray(kInfoSelect) + "WHERE id = ? AND complete = 1");
    select.bind(0, id);
    if (!select.step())
        throw StoreError(StoreError::Kind::NotFound, tr("%1: there is no saved state with id %2").arg(m_db.path()).arg(id));
    return infoFrom(select);
}

QVector<KvSnapshotInfo> KvSnapshotStore::snapshots()
{
    Statement select = m_db.prepare(QByteArray(kInfoSelect) + "WHERE complete = 1 ORDER BY last_used_at DESC, id DESC");
    QVector<KvSnapshotInfo> all;
    while (select.step())
        all.append(infoFrom(select));
    return all;
}

qint64 KvSnapshotStore::totalBytes()
{
    Statement sum = m_db.prepare("SELECT coalesce(sum(total_bytes), 0) FROM kv_snapshots WHERE complete = 1");
    return sum.step() ? sum.integer(0) : 0;
}

void KvSnapshotStore::remove(qint64 id)
{
    m_db.prepare("DELETE FROM kv_snapshots WHERE id = ?").bind(0, id).run();
}

qint64 KvSnapshotStore::prune(qint64 budgetBytes, const QVector<qint64>& keep)
{
    const qint64 before = totalBytes();
    for (qint64 total = before; total > budgetBytes; total = totalBytes()) {
        std::optional<qint64> victim;
        Statement select = m_db.prepare("SELECT id FROM kv_snapshots WHERE complete = 1 ORDER BY last_used_at, id");
        while (!victim && select.step()) {
            if (!keep.contains(select.integer(0)))
                victim = select.integer(0);
        }
        select.reset();
        if (!victim)
            break;   // only kept ones are left
        remove(*victim);   // conversation snapshots built on it go too
    }
    const qint64 removed = before - totalBytes();
    if (removed > 0)
        m_db.execute("PRAGMA incremental_vacuum");   // give the space back to the file system
    return removed;
}

int KvSnapshotStore::removeAbandoned(std::chrono::milliseconds idle)
{
    m_db.prepare("DELETE FROM kv_snapshots WHERE complete = 0 AND last_used_at <= ?")
        .bind(0, nowMs() - qint64(idle.count()))
        .run();
    return m_db.changes();
}

int KvSnapshotStore::incompleteCount()
{
    Statement count = m_db.prepare("SELECT count(*) FROM kv_snapshots WHERE complete = 0");
    return count.step() ? int(count.integer(0)) : 0;
}

} // namespace folio
