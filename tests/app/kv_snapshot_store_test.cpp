// KV snapshots: written in pieces, stored in bounded chunks, invisible until complete,
// found by fingerprint, checked on reading, pruned by size, and a full disk.
#include "app/store/crc32c.h"
#include "app/store/kv_snapshot_store.h"
#include "app/store/library_store.h"

#include "store_fixtures.h"

#include <QTemporaryDir>
#include <QThread>

#include <gtest/gtest.h>

using namespace folio;

namespace {

class KvSnapshotStoreTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        db = std::make_unique<Database>(path());
        library = std::make_unique<LibraryStore>(*db);
        store = std::make_unique<KvSnapshotStore>(*db);
        doc = library->rememberDocument(test::storeDocument(QStringLiteral("moby")));
    }
    QString path() const { return dir.filePath(QStringLiteral("folio.sqlite")); }

    QTemporaryDir dir;
    std::unique_ptr<Database> db;
    std::unique_ptr<LibraryStore> library;
    std::unique_ptr<KvSnapshotStore> store;
    qint64 doc = 0;
};

KvSnapshotWriteOptions smallChunks()
{
    KvSnapshotWriteOptions options;
    options.chunkBytes = 64 * 1024;
    options.transactionBytes = 256 * 1024;
    return options;
}

} // namespace

TEST(Crc32c, KnownValuesAndHardwareMatchesTable)
{
    EXPECT_EQ(crc32c("123456789", 9), 0xE3069283u);
    EXPECT_EQ(crc32cPortable("123456789", 9), 0xE3069283u);
    EXPECT_EQ(crc32c("", 0), 0u);
    const QByteArray bytes = test::patternBytes(10'007, 3);
    for (std::size_t split : {0, 1, 7, 8, 9, 4096, 10'006}) {
        const uint32_t whole = crc32cPortable(bytes.constData(), std::size_t(bytes.size()));
        const uint32_t parts = crc32c(bytes.constData() + split, bytes.size() - split, crc32c(bytes.constData(), split));
        EXPECT_EQ(parts, whole) << split;
    }
}

TEST_F(KvSnapshotStoreTest, WrittenInPiecesReadBackInOtherPieces)
{
    const QByteArray state = test::patternBytes(1024 * 1024 + 123, 11);
    const qint64 id = test::saveSnapshot(*store, test::documentSpec(doc), state, 77'777, smallChunks());
    const KvSnapshotInfo info = store->snapshot(id);
    EXPECT_TRUE(info.complete);
    EXPECT_EQ(info.totalBytes, state.size());
    EXPECT_EQ(info.chunkCount, 17);   // 16 full chunks of 64 KiB and 123 bytes
    EXPECT_EQ(info.tokenCount, 1234);
    EXPECT_EQ(info.kvType, QStringLiteral("f16"));
    EXPECT_TRUE(info.checksum.startsWith(QStringLiteral("crc32c:")));
    EXPECT_EQ(test::queryInteger(*db, "SELECT max(length(data)) FROM kv_snapshot_chunks"), 64 * 1024);

    std::unique_ptr<KvSnapshotReader> reader = store->openReader(id);
    QByteArray back;
    char buffer[50'000];
    std::size_t piece = 1;
    while (std::size_t n = reader->read(buffer, piece)) {
        back.append(buffer, qsizetype(n));
        piece = piece * 3 % sizeof buffer + 1;   // odd sizes that cross chunk borders
    }
    EXPECT_EQ(back, state);
    EXPECT_EQ(reader->read(buffer, 10), 0u);
}

TEST_F(KvSnapshotStoreTest, UsableAsTheEngineStateStreams)
{
    // What Session::saveState / loadState see: a StateWriter taking pieces of at most
    // kStatePieceBytes, a StateReader giving the bytes back in any sizes.
    const QByteArray state = test::patternBytes(qsizetype(kStatePieceBytes) + 5000, 12);
    std::unique_ptr<KvSnapshotWriter> writer = store->beginSnapshot(test::documentSpec(doc));
    StateWriter& out = *writer;
    out.write(state.constData(), kStatePieceBytes);
    out.write(state.constData() + kStatePieceBytes, 5000);
    const qint64 id = writer->commit();
    std::unique_ptr<KvSnapshotReader> reader = store->openReader(id);
    StateReader& in = *reader;
    QByteArray back(state.size(), Qt::Uninitialized);
    std::size_t got = 0;
    while (std::size_t n = in.read(back.data() + got, std::min<std::size_t>(1 << 20, back.size() - got)))
        got += n;
    EXPECT_EQ(got, std::size_t(state.size()));
    EXPECT_EQ(back, state);
}

TEST_F(KvSnapshotStoreTest, EmptyAndDefaultChunkedSnapshots)
{
    const qint64 empty = test::saveSnapshot(*store, test::documentSpec(doc, QStringLiteral("empty")), {});
    EXPECT_EQ(store->snapshot(empty).chunkCount, 0);
    EXPECT_TRUE(store->readAll(empty).isEmpty());
    const QByteArray state = test::patternBytes(9 * 1024 * 1024, 4);   // default 4 MiB chunks
    const qint64 id = test::saveSnapshot(*store, test::documentSpec(doc), state, 1 << 20);
    EXPECT_EQ(store->snapshot(id).chunkCount, 3);
    EXPECT_EQ(store->readAll(id), state);
}

TEST_F(KvSnapshotStoreTest, InvisibleUntilComplete)
{
    const QByteArray earlier = test::patternBytes(100'000, 1);
    const qint64 first = test::saveSnapshot(*store, test::documentSpec(doc), earlier);
    std::unique_ptr<KvSnapshotWriter> writer = store->beginSnapshot(test::documentSpec(doc), smallChunks());
    const QByteArray later = test::patternBytes(1'000'000, 2);
    writer->write(later.constData(), std::size_t(later.size()));
    ASSERT_GT(writer->bytesCommitted(), 0) << "some chunks should be in the file already";

    Database other(path());   // another window looking
    KvSnapshotStore otherStore(other);
    for (KvSnapshotStore* s : {store.get(), &otherStore}) {
        EXPECT_EQ(s->findLatest(test::documentSpec(doc).fingerprint, doc)->id, first);
        EXPECT_EQ(s->snapshots().size(), 1);
        EXPECT_EQ(s->incompleteCount(), 1);
        EXPECT_EQ(s->totalBytes(), earlier.size());
    }
    EXPECT_THROW(store->snapshot(writer->id()), StoreError);

    const qint64 second = writer->commit();
    EXPECT_EQ(otherStore.findLatest(test::documentSpec(doc).fingerprint, doc)->id, second);
    EXPECT_EQ(otherStore.readAll(second), later);
    // The newer state of the same document and options replaced the older one.
    EXPECT_THROW(otherStore.snapshot(first), StoreError);
    EXPECT_EQ(otherStore.snapshots().size(), 1);
}

TEST_F(KvSnapshotStoreTest, FoundByFingerprintDocumentAndConversation)
{
    const qint64 other = library->rememberDocument(test::storeDocument(QStringLiteral("pequod")));
    const qint64 a = test::saveSnapshot(*store, test::documentSpec(doc, QStringLiteral("model-a")), "a");
    const qint64 b = test::saveSnapshot(*store, test::documentSpec(doc, QStringLiteral("model-b")), "b");
    const qint64 c = test::saveSnapshot(*store, test::documentSpec(other, QStringLiteral("model-a")), "c");
    EXPECT_EQ(store->findLatest(QStringLiteral("model-a"), doc)->id, a);
    EXPECT_EQ(store->findLatest(QStringLiteral("model-b"), doc)->id, b);
    EXPECT_EQ(store->findLatest(QStringLiteral("model-a"), other)->id, c);
    EXPECT_FALSE(store->findLatest(QStringLiteral("model-b"), other).has_value());
    EXPECT_FALSE(store->findLatest(QStringLiteral("model-a"), doc, KvSnapshotKind::Conversation).has_value());

    const qint64 conversation = library->createConversation(doc, QStringLiteral("model-a"), {});
    KvSnapshotSpec spec = test::documentSpec(doc, QStringLiteral("model-a"));
    spec.kind = KvSnapshotKind::Conversation;
    spec.conversationId = conversation;
    spec.baseSnapshotId = a;
    const qint64 turn1 = test::saveSnapshot(*store, spec, "turn 1");
    const qint64 turn2 = test::saveSnapshot(*store, spec, "turn 2");
    const std::optional<KvSnapshotInfo> latest =
        store->findLatest(QStringLiteral("model-a"), doc, KvSnapshotKind::Conversation, conversation);
    ASSERT_TRUE(latest.has_value());
    EXPECT_EQ(latest->id, turn2);
    EXPECT_EQ(latest->baseSnapshotId, a);
    EXPECT_EQ(store->readAll(turn2), QByteArray("turn 2"));
    EXPECT_THROW(store->snapshot(turn1), StoreError);                       // superseded
    EXPECT_EQ(store->findLatest(QStringLiteral("model-a"), doc)->id, a);   // the document's stays
}

TEST_F(KvSnapshotStoreTest, AbortedOrAbandonedWritersLeaveNothing)
{
    {
        std::unique_ptr<KvSnapshotWriter> writer = store->beginSnapshot(test::documentSpec(doc), smallChunks());
        const QByteArray bytes = test::patternBytes(500'000, 8);
        writer->write(bytes.constData(), std::size_t(bytes.size()));
        writer->abort();
        EXPECT_THROW(writer->write("x", 1), StoreError);
    }
    {
        std::unique_ptr<KvSnapshotWriter> writer = store->beginSnapshot(test::documentSpec(doc), smallChunks());
        writer->write("partial", 7);
    }   // destroyed without commit, as when an exception unwinds
    EXPECT_EQ(store->incompleteCount(), 0);
    EXPECT_EQ(test::queryInteger(*db, "SELECT count(*) FROM kv_snapshot_chunks"), 0);

    // An incomplete row whose writer stopped making progress (killed) goes after the idle time.
    db->execute("INSERT INTO kv_snapshots (fingerprint, kind, document_id, token_count, kv_type, created_at, "
                "last_used_at, complete) VALUES ('x', 'document', 1, 1, 'f16', 0, 0, 0)");
    std::unique_ptr<KvSnapshotWriter> alive = store->beginSnapshot(test::documentSpec(doc), smallChunks());
    EXPECT_EQ(store->removeAbandoned(std::chrono::minutes(10)), 1);
    EXPECT_EQ(store->incompleteCount(), 1);   // the live writer's
    EXPECT_EQ(alive->commit(), alive->id());
}

TEST_F(KvSnapshotStoreTest, DamagedChunkIsDetectedAndTheSnapshotDeleted)
{
    const QByteArray state = test::patternBytes(300'000, 21);
    const qint64 id = test::saveSnapshot(*store, test::documentSpec(doc), state, 100'000, smallChunks());
    // Flip one bit in the third chunk, as a failing disk would.
    Statement select = db->prepare("SELECT id, data FROM kv_snapshot_chunks WHERE snapshot_id = ? AND chunk_index = 2");
    select.bind(0, id);
    ASSERT_TRUE(select.step());
    const qint64 row = select.integer(0);
    QByteArray chunk(static_cast<const char*>(select.blob(1)), qsizetype(select.blobBytes(1)));
    select.reset();
    chunk[1000] = char(chunk[1000] ^ 1);
    db->prepare("UPDATE kv_snapshot_chunks SET data = ? WHERE id = ?")
        .bindBlob(0, chunk.constData(), std::size_t(chunk.size()))
        .bind(1, row)
        .run();
    std::unique_ptr<KvSnapshotReader> reader = store->openReader(id);
    QByteArray back(state.size(), Qt::Uninitialized);
    try {
        reader->read(back.data(), std::size_t(back.size()));
        FAIL() << "damaged bytes were handed out";
    } catch (const StoreError& e) {
        EXPECT_EQ(e.kind(), StoreError::Kind::Checksum) << e.what();
        EXPECT_TRUE(e.message().contains(QStringLiteral("chunk 2 failed its checksum"))) << e.what();
        EXPECT_TRUE(e.message().contains(QStringLiteral("deleted"))) << e.what();
        EXPECT_TRUE(e.message().contains(QStringLiteral("read again"))) << e.what();
    }
    EXPECT_FALSE(store->findLatest(test::documentSpec(doc).fingerprint, doc).has_value());
    EXPECT_EQ(test::queryInteger(*db, "SELECT count(*) FROM kv_snapshot_chunks"), 0);
}

TEST_F(KvSnapshotStoreTest, MissingChunkIsDetected)
{
    const QByteArray state = test::patternBytes(300'000, 22);
    const qint64 id = test::saveSnapshot(*store, test::documentSpec(doc), state, 100'000, smallChunks());
    db->execute("DELETE FROM kv_snapshot_chunks WHERE chunk_index = 4");   // the last one
    try {
        store->readAll(id);
        FAIL() << "a truncated snapshot was read";
    } catch (const StoreError& e) {
        EXPECT_EQ(e.kind(), StoreError::Kind::Checksum) << e.what();
        EXPECT_TRUE(e.message().contains(QStringLiteral("4 of its 5 chunks"))) << e.what();
    }
    EXPECT_EQ(store->snapshots().size(), 0);
}

TEST_F(KvSnapshotStoreTest, PrunedToABudgetLeastRecentlyUsedFirst)
{
    QVector<qint64> ids;
    for (int i = 0; i < 4; ++i) {
        ids << test::saveSnapshot(*store, test::documentSpec(doc, QStringLiteral("fp%1").arg(i)),
                                  test::patternBytes(100'000, quint32(i)));
        QThread::msleep(3);   // distinct last-used times
    }
    store->openReader(ids[0]);   // used again: now the most recent
    QThread::msleep(3);
    // A conversation state built on snapshot 1 goes with it.
    const qint64 conversation = library->createConversation(doc, QStringLiteral("fp1"), {});
    KvSnapshotSpec spec = test::documentSpec(doc, QStringLiteral("fp1"));
    spec.kind = KvSnapshotKind::Conversation;
    spec.conversationId = conversation;
    spec.baseSnapshotId = ids[1];
    const qint64 dependent = test::saveSnapshot(*store, spec, test::patternBytes(10'000, 9));
    EXPECT_EQ(store->totalBytes(), 410'000);

    EXPECT_EQ(store->prune(300'000, {ids[2]}), 110'000);   // ids[1] (and its dependent) was the oldest
    QVector<qint64> left;
    for (const KvSnapshotInfo& s : store->snapshots())
        left << s.id;
    std::sort(left.begin(), left.end());
    EXPECT_EQ(left, (QVector<qint64>{ids[0], ids[2], ids[3]}));
    EXPECT_THROW(store->snapshot(dependent), StoreError);

    EXPECT_EQ(store->prune(100'000, {ids[2]}), 200'000);   // ids[3] then ids[0]; ids[2] is kept
    EXPECT_EQ(store->snapshots().size(), 1);
    EXPECT_EQ(store->snapshots().first().id, ids[2]);
    EXPECT_EQ(store->prune(0), 100'000);
    EXPECT_EQ(store->totalBytes(), 0);
}

TEST_F(KvSnapshotStoreTest, FullDiskKeepsWhatWasSaved)
{
    const QByteArray earlier = test::patternBytes(200'000, 31);
    const qint64 kept = test::saveSnapshot(*store, test::documentSpec(doc), earlier);
    const qint64 conversation = library->createConversation(doc, QStringLiteral("m"), QStringLiteral("kept"));
    // The file may grow by 1 MiB more: a 5 MiB snapshot cannot fit.
    const qint64 pages = test::queryInteger(*db, "PRAGMA page_count");
    const qint64 pageSize = test::queryInteger(*db, "PRAGMA page_size");
    db->execute(QStringLiteral("PRAGMA max_page_count = %1").arg(pages + (1 << 20) / pageSize).toUtf8().constData());
    const QByteArray big = test::patternBytes(5 * 1024 * 1024, 32);
    try {
        test::saveSnapshot(*store, test::documentSpec(doc), big, 1 << 20, smallChunks());
        FAIL() << "5 MB fit into 1 MB";
    } catch (const StoreError& e) {
        EXPECT_EQ(e.kind(), StoreError::Kind::DiskFull) << e.what();
        EXPECT_TRUE(e.message().contains(QStringLiteral("disk is full"))) << e.what();
        EXPECT_TRUE(e.message().contains(QStringLiteral("saved before is kept"))) << e.what();
    }
    EXPECT_EQ(store->incompleteCount(), 0);   // the partial one was removed
    EXPECT_EQ(store->findLatest(test::documentSpec(doc).fingerprint, doc)->id, kept);
    EXPECT_EQ(store->readAll(kept), earlier);
    EXPECT_EQ(library->conversation(conversation).title, QStringLiteral("kept"));

    // With space again, the same save succeeds.
    db->execute("PRAGMA max_page_count = 1073741823");
    const qint64 saved = test::saveSnapshot(*store, test::documentSpec(doc), big, 1 << 20, smallChunks());
    EXPECT_EQ(store->readAll(saved), big);
}
