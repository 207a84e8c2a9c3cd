#include "app/store/schema.h"

#include "app/store/database.h"

#include <QCoreApplication>

namespace folio {

namespace {

// Times are milliseconds since the epoch (UTC). Deleting a document deletes its
// conversations, their messages and every snapshot of either.
constexpr const char* kVersion1 = R"sql(
CREATE TABLE documents (
    id           INTEGER PRIMARY KEY,
    content_hash TEXT NOT NULL UNIQUE,          -- SHA-256 of the file, hex
    path         TEXT NOT NULL,                 -- where it was last opened from
    title        TEXT NOT NULL DEFAULT '',
    author       TEXT NOT NULL DEFAULT '',
    kind         TEXT NOT NULL,                 -- pdf, text, markdown, epub
    pages        INTEGER NOT NULL DEFAULT 0,    -- pages, chapters or sections
    characters   INTEGER NOT NULL DEFAULT 0,
    tokens       INTEGER,                       -- once tokenized (depends on the model)
    added_at     INTEGER NOT NULL,
    opened_at    INTEGER NOT NULL
);

CREATE TABLE conversations (
    id                INTEGER PRIMARY KEY,
    document_id       INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    model_fingerprint TEXT NOT NULL,
    title             TEXT NOT NULL DEFAULT '',
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
);
CREATE INDEX conversations_by_document ON conversations(document_id, updated_at);

CREATE TABLE messages (
    id              INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    role            TEXT NOT NULL CHECK (role IN ('system', 'user', 'assistant')),
    text            TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    token_begin     INTEGER,                    -- where the message lies in the context
    token_end       INTEGER,
    evidence        TEXT NOT NULL DEFAULT '[]'  -- JSON: [{"page": 12, "weight": 0.31}, ...]
);
CREATE INDEX messages_by_conversation ON messages(conversation_id, id);

-- A snapshot is visible only once complete = 1; until then its chunks are being written.
CREATE TABLE kv_snapshots (
    id              INTEGER PRIMARY KEY,
    fingerprint     TEXT NOT NULL,              -- everything that shaped the state
    kind            TEXT NOT NULL CHECK (kind IN ('document', 'conversation')),
    document_id     INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    conversation_id INTEGER REFERENCES conversations(id) ON DELETE CASCADE,
    token_count     INTEGER NOT NULL,
    kv_type         TEXT NOT NULL,
    total_bytes     INTEGER NOT NULL DEFAULT 0,
    chunk_count     INTEGER NOT NULL DEFAULT 0,
    checksum        TEXT NOT NULL DEFAULT '',   -- "crc32c:" and 8 hex digits, over all bytes
    created_at      INTEGER NOT NULL,
    last_used_at    INTEGER NOT NULL,           -- while incomplete: the writer's last progress
    complete        INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX kv_snapshots_lookup ON kv_snapshots(fingerprint, document_id, complete);

-- Chunks of bounded size (a few MiB), far below SQLite's 1e9-byte value limit.
CREATE TABLE kv_snapshot_chunks (
    id          INTEGER PRIMARY KEY,
    snapshot_id INTEGER NOT NULL REFERENCES kv_snapshots(id) ON DELETE CASCADE,
    chunk_index INTEGER NOT NULL,
    crc         INTEGER NOT NULL,               -- CRC-32C of data
    data        BLOB NOT NULL,
    UNIQUE (snapshot_id, chunk_index)
);
)sql";

// A conversation's snapshot holds only what follows the document's shared snapshot, so
// it names that base (and goes when the base goes); pruning finds the least recently
// used snapshots by an index.
constexpr const char* kVersion2 = R"sql(
ALTER TABLE kv_snapshots ADD COLUMN base_snapshot_id INTEGER REFERENCES kv_snapshots(id) ON DELETE CASCADE;
CREATE INDEX kv_snapshots_by_last_use ON kv_snapshots(complete, last_used_at);
CREATE INDEX kv_snapshots_by_base ON kv_snapshots(base_snapshot_id);
)sql";

// An answer stopped before its end (Stop, or a switch to another conversation) is kept
// with what was written, marked so.
constexpr const char* kVersion3 = R"sql(
ALTER TABLE messages ADD COLUMN interrupted INTEGER NOT NULL DEFAULT 0;
)sql";

// A reasoning model's thinking before its answer (Qwen3's <think> block, a server's
// reasoning_content), kept beside the answer and shown folded; never read as the answer.
constexpr const char* kVersion4 = R"sql(
ALTER TABLE messages ADD COLUMN reasoning TEXT NOT NULL DEFAULT '';
)sql";

} // namespace

const std::vector<Migration>& schemaMigrations()
{
    static const std::vector<Migration> migrations = {
        {1, "documents, conversations, messages, KV snapshots in chunks", kVersion1},
        {2, "snapshot base (conversation snapshots after the document prefix), last-use index", kVersion2},
        {3, "messages marked interrupted", kVersion3},
        {4, "a reasoning model's thinking beside its answer", kVersion4},
    };
    return migrations;
}

int currentSchemaVersion()
{
    return schemaMigrations().back().version;
}

void migrateSchema(Database& db)
{
    if (db.schemaVersion() == currentSchemaVersion())
        return;
    Transaction transaction(db);
    // Read again under the write lock: another process may have migrated meanwhile.
    const int version = db.schemaVersion();
    if (version > currentSchemaVersion())
        throw StoreError(StoreError::Kind::NewerSchema,
                         QCoreApplication::translate("Database", "%1: the database was upgraded by a newer version of "
                                                                 "Folio (schema version %2) while opening it")
                             .arg(db.path())
                             .arg(version));
    for (const Migration& step : schemaMigrations()) {
        if (step.version > version)
            db.execute(step.sql);
    }
    db.execute(QStringLiteral("PRAGMA user_version = %1").arg(currentSchemaVersion()).toUtf8().constData());
    transaction.commit();
}

} // namespace folio
