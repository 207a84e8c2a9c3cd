// The store's database file: settings, migrations from every older version, and files
// it must refuse (newer schema, not a database, damaged, locked, read-only) without
// losing or changing anything.
#include "app/store/crc32c.h"
#include "app/store/database.h"
#include "app/store/kv_snapshot_store.h"
#include "app/store/library_store.h"
#include "app/store/schema.h"

#include "pdf_fixtures.h"
#include "store_fixtures.h"

#include <QFile>
#include <QFileInfo>
#include <QStandardPaths>
#include <QTemporaryDir>

#include <sqlite3.h>

#include <gtest/gtest.h>

using namespace folio;

namespace {

// The error opening `path` throws, or Kind::Other with "<opened>" when it opened.
StoreError openError(const QString& path, const DatabaseOptions& options = {})
{
    try {
        Database db(path, options);
    } catch (const StoreError& e) {
        return e;
    }
    return StoreError(StoreError::Kind::Other, QStringLiteral("<opened>"));
}

// A database file at schema `version`, made with the raw C API the way that version of
// Folio made it, holding one document, conversation, message and snapshot.
void writeDatabaseAtVersion(const QString& path, int version, const QByteArray& snapshot)
{
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.toUtf8().constData(), &db), SQLITE_OK);
    auto exec = [&](const QByteArray& sql) {
        char* error = nullptr;
        ASSERT_EQ(sqlite3_exec(db, sql.constData(), nullptr, nullptr, &error), SQLITE_OK) << error;
    };
    exec("PRAGMA journal_mode = WAL");
    for (const Migration& m : schemaMigrations()) {
        if (m.version <= version)
            exec(m.sql);
    }
    exec("PRAGMA user_version = " + QByteArray::number(version));
    exec("INSERT INTO documents (id, content_hash, path, title, author, kind, pages, characters, tokens, added_at, "
         "opened_at) VALUES (7, 'abc123', '/books/old.epub', 'Old Book', 'Old Author', 'epub', 12, 50000, 13000, "
         "1000, 2000)");
    exec("INSERT INTO conversations (id, document_id, model_fingerprint, title, created_at, updated_at) "
         "VALUES (3, 7, 'model-a', 'Whales', 3000, 4000)");
    exec("INSERT INTO messages (conversation_id, role, text, created_at, token_begin, token_end, evidence) "
         "VALUES (3, 'user', 'Who is Ahab?', 3500, 13000, 13010, '[{\"page\":4,\"weight\":0.5}]')");
    const uint32_t crc = crc32c(snapshot.constData(), std::size_t(snapshot.size()));
    exec("INSERT INTO kv_snapshots (id, fingerprint, kind, document_id, token_count, kv_type, total_bytes, "
         "chunk_count, checksum, created_at, last_used_at, complete) VALUES (5, 'model-a|doc', 'document', 7, 13000, "
         "'f16', " + QByteArray::number(snapshot.size()) + ", 1, 'crc32c:" +
         QByteArray::number(crc, 16).rightJustified(8, '0') + "', 5000, 5000, 1)");
    sqlite3_stmt* insert = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db, "INSERT INTO kv_snapshot_chunks (snapshot_id, chunk_index, crc, data) "
                                     "VALUES (5, 0, ?, ?)", -1, &insert, nullptr), SQLITE_OK);
    sqlite3_bind_int64(insert, 1, crc);
    sqlite3_bind_blob(insert, 2, snapshot.constData(), int(snapshot.size()), SQLITE_STATIC);
    ASSERT_EQ(sqlite3_step(insert), SQLITE_DONE);
    sqlite3_finalize(insert);
    ASSERT_EQ(sqlite3_close(db), SQLITE_OK);
}

class StoreDatabase : public ::testing::Test {
protected:
    QString file(const QString& name = QStringLiteral("folio.sqlite")) const { return dir.filePath(name); }
    QTemporaryDir dir;
};

} // namespace

TEST_F(StoreDatabase, NewFileGetsTheSchemaWalAndForeignKeys)
{
    Database db(file());
    EXPECT_EQ(db.schemaVersion(), currentSchemaVersion());
    Statement mode = db.prepare("PRAGMA journal_mode");
    ASSERT_TRUE(mode.step());
    EXPECT_EQ(mode.text(0), QStringLiteral("wal"));
    EXPECT_EQ(test::queryInteger(db, "PRAGMA foreign_keys"), 1);
    EXPECT_EQ(test::queryInteger(db, "PRAGMA auto_vacuum"), 2);   // incremental
    EXPECT_EQ(test::queryInteger(db, "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name IN "
                                     "('documents', 'conversations', 'messages', 'kv_snapshots', 'kv_snapshot_chunks')"),
              5);
    // Reopening an up-to-date file changes nothing.
    Database again(file());
    EXPECT_EQ(again.schemaVersion(), currentSchemaVersion());
}

TEST_F(StoreDatabase, DefaultPathIsInTheAppDataFolder)
{
    QStandardPaths::setTestModeEnabled(true);
    const QString path = Database::defaultPath();
    QStandardPaths::setTestModeEnabled(false);
    EXPECT_TRUE(path.endsWith(QStringLiteral("/folio.sqlite"))) << path.toStdString();
    EXPECT_TRUE(QFileInfo(QFileInfo(path).path()).isDir());
}

TEST_F(StoreDatabase, MigratesFromEveryOlderVersionKeepingTheData)
{
    ASSERT_GE(currentSchemaVersion(), 2) << "at least one migration beyond the first schema";
    const QByteArray snapshot = test::patternBytes(70'000, 42);
    for (int version = 1; version < currentSchemaVersion(); ++version) {
        SCOPED_TRACE(version);
        const QString path = file(QStringLiteral("v%1.sqlite").arg(version));
        writeDatabaseAtVersion(path, version, snapshot);

        Database db(path);
        EXPECT_EQ(db.schemaVersion(), currentSchemaVersion());
        LibraryStore library(db);
        const DocumentRecord doc = library.document(7);
        EXPECT_EQ(doc.title, QStringLiteral("Old Book"));
        EXPECT_EQ(doc.kind, QStringLiteral("epub"));
        EXPECT_EQ(doc.tokens, 13000);
        const ConversationRecord conversation = library.conversation(3);
        EXPECT_EQ(conversation.title, QStringLiteral("Whales"));
        const QVector<MessageRecord> messages = library.messages(3);
        ASSERT_EQ(messages.size(), 1);
        EXPECT_EQ(messages[0].text, QStringLiteral("Who is Ahab?"));
        EXPECT_EQ(messages[0].evidence, (QVector<EvidencePage>{{4, 0.5}}));

        KvSnapshotStore snapshots(db);
        const std::optional<KvSnapshotInfo> found = snapshots.findLatest(QStringLiteral("model-a|doc"), 7);
        ASSERT_TRUE(found.has_value());
        EXPECT_FALSE(found->baseSnapshotId.has_value());   // the column version 2 added
        EXPECT_EQ(snapshots.readAll(found->id), snapshot);
        EXPECT_EQ(test::queryInteger(db, "SELECT count(*) FROM sqlite_schema WHERE name = 'kv_snapshots_by_last_use'"), 1);
        // The migrated file works like a new one.
        const qint64 second = library.createConversation(7, QStringLiteral("model-a"), QStringLiteral("Second"));
        EXPECT_EQ(library.conversations(7).size(), 2);
        library.deleteConversation(second);
    }
}

TEST_F(StoreDatabase, NewerSchemaIsRefusedAndLeftUntouched)
{
    {
        Database db(file());
        LibraryStore(db).rememberDocument(test::storeDocument(QStringLiteral("kept")));
        db.execute(QStringLiteral("PRAGMA user_version = %1").arg(currentSchemaVersion() + 1).toUtf8().constData());
    }
    const QByteArray before = test::sha256OfFile(file());
    const StoreError error = openError(file());
    EXPECT_EQ(error.kind(), StoreError::Kind::NewerSchema) << error.what();
    EXPECT_TRUE(error.message().startsWith(file()));
    EXPECT_TRUE(error.message().contains(QStringLiteral("newer version of Folio"))) << error.what();
    EXPECT_TRUE(error.message().contains(QStringLiteral("left unchanged"))) << error.what();
    EXPECT_EQ(test::sha256OfFile(file()), before);
}

TEST_F(StoreDatabase, NotADatabaseIsRefusedAndLeftUntouched)
{
    test::writeBytes(file(), test::patternBytes(50'000, 9));
    const QByteArray before = test::sha256OfFile(file());
    const StoreError error = openError(file());
    EXPECT_EQ(error.kind(), StoreError::Kind::Corrupt) << error.what();
    EXPECT_TRUE(error.message().contains(QStringLiteral("not a Folio database or it is damaged"))) << error.what();
    EXPECT_EQ(test::sha256OfFile(file()), before);
}

TEST_F(StoreDatabase, DamagedDatabaseGivesCorrupt)
{
    qint64 pageSize = 0;
    {
        Database db(file());
        LibraryStore library(db);
        Transaction transaction(db);
        for (int i = 0; i < 2000; ++i)
            library.rememberDocument(test::storeDocument(QStringLiteral("book %1").arg(i)));
        transaction.commit();
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)");
        pageSize = test::queryInteger(db, "PRAGMA page_size");
    }
    QByteArray bytes = test::readBytes(file());
    ASSERT_GT(bytes.size(), 3 * pageSize);
    // Overwrite the second page onwards (the first holds the header and the schema).
    const QByteArray junk = test::patternBytes(bytes.size() - pageSize, 5);
    bytes.replace(pageSize, junk.size(), junk);
    test::writeBytes(file(), bytes);
    try {
        Database db(file());
        LibraryStore(db).documents();
        FAIL() << "a damaged file was read without complaint";
    } catch (const StoreError& e) {
        EXPECT_EQ(e.kind(), StoreError::Kind::Corrupt) << e.what();
    }
}

TEST_F(StoreDatabase, LockedDatabaseIsBusyAndLosesNothing)
{
    Database first(file());
    LibraryStore library(first);
    const qint64 kept = library.rememberDocument(test::storeDocument(QStringLiteral("kept")));
    DatabaseOptions impatient;
    impatient.busyTimeoutMs = 100;
    Database second(file(), impatient);
    {
        Transaction holding(first);   // another window in the middle of a write
        library.createConversation(kept, QStringLiteral("m"), QStringLiteral("in progress"));
        try {
            LibraryStore(second).rememberDocument(test::storeDocument(QStringLiteral("blocked")));
            FAIL() << "wrote through another connection's lock";
        } catch (const StoreError& e) {
            EXPECT_EQ(e.kind(), StoreError::Kind::Busy) << e.what();
            EXPECT_TRUE(e.message().contains(QStringLiteral("in use by another"))) << e.what();
        }
        // Reading still works while another connection writes (WAL).
        EXPECT_EQ(LibraryStore(second).documents().size(), 1);
        holding.commit();
    }
    LibraryStore(second).rememberDocument(test::storeDocument(QStringLiteral("later")));
    EXPECT_EQ(LibraryStore(second).documents().size(), 2);
    EXPECT_EQ(LibraryStore(second).conversations(kept).size(), 1);
}

TEST_F(StoreDatabase, ReadOnlyConnectionReadsButRefusesWrites)
{
    qint64 id = 0;
    {
        Database db(file());
        id = LibraryStore(db).rememberDocument(test::storeDocument(QStringLiteral("kept")));
    }
    DatabaseOptions readOnly;
    readOnly.readOnly = true;
    Database db(file(), readOnly);
    LibraryStore library(db);
    EXPECT_EQ(library.document(id).title, QStringLiteral("kept"));
    try {
        library.rememberDocument(test::storeDocument(QStringLiteral("new")));
        FAIL() << "wrote through a read-only connection";
    } catch (const StoreError& e) {
        EXPECT_EQ(e.kind(), StoreError::Kind::ReadOnly) << e.what();
        EXPECT_TRUE(e.message().contains(QStringLiteral("cannot be written"))) << e.what();
    }
    EXPECT_EQ(library.documents().size(), 1);
}

TEST_F(StoreDatabase, ReadOnlyFileIsRefusedWithAClearMessage)
{
    {
        Database db(file());
        LibraryStore(db).rememberDocument(test::storeDocument(QStringLiteral("kept")));
    }
    QFile::setPermissions(file(), QFile::ReadOwner | QFile::ReadGroup | QFile::ReadOther);
    QFile probe(file());
    if (probe.open(QIODevice::ReadWrite)) {
        QFile::setPermissions(file(), QFile::ReadOwner | QFile::WriteOwner);
        GTEST_SKIP() << "root can write any file, so permissions cannot be tested";
    }
    const QByteArray before = test::sha256OfFile(file());
    const StoreError error = openError(file());
    EXPECT_EQ(error.kind(), StoreError::Kind::ReadOnly) << error.what();
    EXPECT_EQ(test::sha256OfFile(file()), before);
    QFile::setPermissions(file(), QFile::ReadOwner | QFile::WriteOwner);
}

TEST_F(StoreDatabase, MissingFolderIsAnIoError)
{
    const StoreError error = openError(dir.filePath(QStringLiteral("no/such/folder/folio.sqlite")));
    EXPECT_EQ(error.kind(), StoreError::Kind::Io) << error.what();
    EXPECT_TRUE(error.message().contains(QStringLiteral("no/such/folder"))) << error.what();
}
