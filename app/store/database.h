// One SQLite database file (the sqlite3 C API, no QtSql): opened in WAL mode with
// foreign keys on and a busy timeout, its schema brought up to date by the migrations
// in schema.cpp. Every SQLite failure becomes a StoreError that names the file and says
// what to do about it.
//
// A Database is one connection: use it from one thread at a time. Several connections
// (the GUI's, a worker's, folio-cli in another process) may share the file.
#pragma once

#include "app/store/store_error.h"

#include <QByteArray>
#include <QString>

#include <cstddef>
#include <cstdint>
#include <optional>

struct sqlite3;
struct sqlite3_stmt;

namespace folio {

struct DatabaseOptions {
    int busyTimeoutMs = 5000;   // how long to wait for another writer before StoreError::Busy
    bool readOnly = false;      // open for reading only (listing conversations, tests)
};

class Database;

// A prepared statement. Columns and parameters count from 0 (SQLite's binding index is 1-based).
class Statement {
public:
    Statement(Database& db, const char* sql);
    ~Statement();
    Statement(Statement&& other) noexcept;
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;

    Statement& bind(int index, qint64 value);
    Statement& bind(int index, int value) { return bind(index, qint64(value)); }
    Statement& bind(int index, const QString& value);
    Statement& bind(int index, const std::optional<qint64>& value);
    Statement& bindBlob(int index, const void* data, std::size_t bytes);   // not copied: keep it alive until step()
    Statement& bindNull(int index);

    bool step();        // true when a row is ready, false when done; throws StoreError
    void run();         // step() to completion, for statements without results
    void reset();       // to run again with new bindings

    qint64 integer(int column) const;
    std::optional<qint64> optionalInteger(int column) const;
    double real(int column) const;
    QString text(int column) const;
    const void* blob(int column) const;
    std::size_t blobBytes(int column) const;
    bool isNull(int column) const;

private:
    Database* m_db;
    sqlite3_stmt* m_stmt = nullptr;
};

class Database {
public:
    // Opens (creating it if needed) and migrates; throws StoreError.
    explicit Database(const QString& path, const DatabaseOptions& options = {});
    ~Database();
    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;

    // QStandardPaths::AppDataLocation/folio.sqlite; creates the folder.
    static QString defaultPath();

    const QString& path() const { return m_path; }
    bool isReadOnly() const { return m_options.readOnly; }
    int schemaVersion();   // PRAGMA user_version

    void execute(const char* sql);   // one or more statements without results
    Statement prepare(const char* sql) { return Statement(*this, sql); }
    Statement prepare(const QByteArray& sql) { return Statement(*this, sql.constData()); }
    qint64 lastInsertId() const;
    int changes() const;   // rows changed by the last statement

    // Throws the StoreError for SQLite result `rc` met while `action` ("saving a snapshot").
    [[noreturn]] void fail(int rc, const QString& action) const;
    sqlite3* handle() const { return m_db; }

private:
    void open();
    void configure();

    QString m_path;
    DatabaseOptions m_options;
    sqlite3* m_db = nullptr;
};

// BEGIN IMMEDIATE (takes the write lock now, so a busy database fails here and not half
// way) or BEGIN DEFERRED (a read transaction: one consistent view); rolls back unless
// commit() ran.
class Transaction {
public:
    enum class Mode { Write, Read };
    explicit Transaction(Database& db, Mode mode = Mode::Write);
    ~Transaction();
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    void commit();
    void rollback();

private:
    Database& m_db;
    bool m_open = true;
};

qint64 nowMs();   // the store's clock: milliseconds since the epoch, UTC

} // namespace folio
