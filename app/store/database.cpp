#include "app/store/database.h"

#include "app/store/schema.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QDir>
#include <QStandardPaths>

#include <sqlite3.h>

namespace folio {

namespace {

QString tr(const char* text) { return QCoreApplication::translate("Database", text); }

} // namespace

qint64 nowMs()
{
    return QDateTime::currentMSecsSinceEpoch();
}

// ---------------------------------------------------------------------------------------
// Statement

Statement::Statement(Database& db, const char* sql) : m_db(&db)
{
    const int rc = sqlite3_prepare_v2(db.handle(), sql, -1, &m_stmt, nullptr);
    if (rc != SQLITE_OK)
        db.fail(rc, {});
}

Statement::~Statement()
{
    sqlite3_finalize(m_stmt);
}

Statement::Statement(Statement&& other) noexcept : m_db(other.m_db), m_stmt(other.m_stmt)
{
    other.m_stmt = nullptr;
}

Statement& Statement::bind(int index, qint64 value)
{
    sqlite3_bind_int64(m_stmt, index + 1, value);
    return *this;
}

Statement& Statement::bind(int index, const QString& value)
{
    const QByteArray utf8 = value.toUtf8();
    sqlite3_bind_text(m_stmt, index + 1, utf8.constData(), int(utf8.size()), SQLITE_TRANSIENT);
    return *this;
}

Statement& Statement::bind(int index, const std::optional<qint64>& value)
{
    return value ? bind(index, *value) : bindNull(index);
}

Statement& Statement::bindBlob(int index, const void* data, std::size_t bytes)
{
    sqlite3_bind_blob64(m_stmt, index + 1, bytes ? data : "", sqlite3_uint64(bytes), SQLITE_STATIC);
    return *this;
}

Statement& Statement::bindNull(int index)
{
    sqlite3_bind_null(m_stmt, index + 1);
    return *this;
}

bool Statement::step()
{
    const int rc = sqlite3_step(m_stmt);
    if (rc == SQLITE_ROW)
        return true;
    if (rc == SQLITE_DONE)
        return false;
    sqlite3_reset(m_stmt);   // release locks before the caller handles the error
    m_db->fail(rc, {});
}

void Statement::run()
{
    while (step()) {
    }
    sqlite3_reset(m_stmt);
}

void Statement::reset()
{
    sqlite3_reset(m_stmt);
    sqlite3_clear_bindings(m_stmt);
}

qint64 Statement::integer(int column) const { return sqlite3_column_int64(m_stmt, column); }
double Statement::real(int column) const { return sqlite3_column_double(m_stmt, column); }
bool Statement::isNull(int column) const { return sqlite3_column_type(m_stmt, column) == SQLITE_NULL; }
const void* Statement::blob(int column) const { return sqlite3_column_blob(m_stmt, column); }
std::size_t Statement::blobBytes(int column) const { return std::size_t(sqlite3_column_bytes(m_stmt, column)); }

std::optional<qint64> Statement::optionalInteger(int column) const
{
    if (isNull(column))
        return std::nullopt;
    return integer(column);
}

QString Statement::text(int column) const
{
    const auto* data = reinterpret_cast<const char*>(sqlite3_column_text(m_stmt, column));
    return QString::fromUtf8(data, sqlite3_column_bytes(m_stmt, column));
}

// ---------------------------------------------------------------------------------------
// Database

Database::Database(const QString& path, const DatabaseOptions& options) : m_path(path), m_options(options)
{
    try {
        open();
        configure();
    } catch (...) {
        sqlite3_close_v2(m_db);
        throw;
    }
}

Database::~Database()
{
    sqlite3_close_v2(m_db);
}

QString Database::defaultPath()
{
    const QString dir = QStandardPaths::writableLocation(QStandardPaths::AppDataLocation);
    QDir().mkpath(dir);
    return QDir(dir).filePath(QStringLiteral("folio.sqlite"));
}

void Database::open()
{
    const int flags = m_options.readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    const int rc = sqlite3_open_v2(m_path.toUtf8().constData(), &m_db, flags, nullptr);
    if (rc != SQLITE_OK)
        fail(rc, tr("opening it"));
    sqlite3_extended_result_codes(m_db, 1);
    sqlite3_busy_timeout(m_db, m_options.busyTimeoutMs);
}

void Database::configure()
{
    // Look before changing anything: a file from a newer Folio, or not a database at all,
    // is refused as it is (journal_mode=WAL would rewrite its header).
    const int version = schemaVersion();
    if (version > currentSchemaVersion()) {
        throw StoreError(StoreError::Kind::NewerSchema,
                         tr("%1: the database was written by a newer version of Folio (schema version %2; this "
                            "version knows up to %3). It was left unchanged; update Folio to open it.")
                             .arg(m_path)
                             .arg(version)
                             .arg(currentSchemaVersion()));
    }
    if (m_options.readOnly) {
        if (version < currentSchemaVersion())
            throw StoreError(StoreError::Kind::ReadOnly,
                             tr("%1: the database has an older schema (version %2) and cannot be upgraded when "
                                "opened read-only")
                                 .arg(m_path)
                                 .arg(version));
        execute("PRAGMA foreign_keys = ON");
        return;
    }
    if (sqlite3_db_readonly(m_db, "main") == 1)
        throw StoreError(StoreError::Kind::ReadOnly,
                         tr("%1: the database file is read-only; Folio needs to write to it to keep conversations "
                            "and snapshots. Nothing was changed.")
                             .arg(m_path));
    bool empty = false;
    if (version == 0) {
        Statement count = prepare("SELECT count(*) FROM sqlite_schema");
        empty = count.step() && count.integer(0) == 0;
    }
    if (empty) {
        // A new file: the largest pages suit megabyte-sized snapshot chunks (measured:
        // writing 512 MiB took 2.7 s with 64 KiB pages, 3.6 s with 16 KiB, 4.4 s with
        // 4 KiB), and incremental vacuum lets pruning give space back. Both must precede
        // the first table.
        execute("PRAGMA page_size = 65536; PRAGMA auto_vacuum = INCREMENTAL");
    }
    execute("PRAGMA journal_mode = WAL");
    // FULL: a commit survives a power cut too. A journal size limit keeps the WAL file
    // from staying at its largest after a big snapshot.
    execute("PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL; PRAGMA journal_size_limit = 67108864");
    migrateSchema(*this);
}

int Database::schemaVersion()
{
    Statement pragma = prepare("PRAGMA user_version");
    return pragma.step() ? int(pragma.integer(0)) : 0;
}

void Database::execute(const char* sql)
{
    const int rc = sqlite3_exec(m_db, sql, nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK)
        fail(rc, {});
}

qint64 Database::lastInsertId() const
{
    return sqlite3_last_insert_rowid(m_db);
}

int Database::changes() const
{
    return sqlite3_changes(m_db);
}

void Database::fail(int rc, const QString& action) const
{
    const QString detail = QString::fromUtf8(m_db ? sqlite3_errmsg(m_db) : sqlite3_errstr(rc));
    const QString context = action.isEmpty() ? detail : QStringLiteral("%1: %2").arg(action, detail);
    using Kind = StoreError::Kind;
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        throw StoreError(Kind::Busy, tr("%1: the database is in use by another Folio window or program and stayed "
                                        "locked for %2 s (%3). Nothing was changed; try again when it is done.")
                                         .arg(m_path)
                                         .arg(m_options.busyTimeoutMs / 1000.0)
                                         .arg(context));
    case SQLITE_READONLY:
        throw StoreError(Kind::ReadOnly, tr("%1: the database cannot be written (the file or its folder is "
                                            "read-only) (%2). Nothing was changed.")
                                             .arg(m_path, context));
    case SQLITE_FULL:
        throw StoreError(Kind::DiskFull, tr("%1: the disk is full (%2). What was saved before is kept; free some "
                                            "space or prune old snapshots, then try again.")
                                             .arg(m_path, context));
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
        throw StoreError(Kind::Corrupt, tr("%1: the file is not a Folio database or it is damaged (%2). It was left "
                                           "as it is; move it away to start a new one.")
                                            .arg(m_path, context));
    case SQLITE_CANTOPEN:
    case SQLITE_IOERR:
    case SQLITE_PERM:
        throw StoreError(Kind::Io, tr("%1: the database file cannot be opened or accessed (%2).").arg(m_path, context));
    default:
        throw StoreError(Kind::Other, tr("%1: database error (%2).").arg(m_path, context));
    }
}

// ---------------------------------------------------------------------------------------
// Transaction

Transaction::Transaction(Database& db, Mode mode) : m_db(db)
{
    db.execute(mode == Mode::Write ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED");
}

Transaction::~Transaction()
{
    if (m_open)
        sqlite3_exec(m_db.handle(), "ROLLBACK", nullptr, nullptr, nullptr);   // no throwing from here
}

void Transaction::commit()
{
    m_db.execute("COMMIT");
    m_open = false;
}

void Transaction::rollback()
{
    if (m_open)
        m_db.execute("ROLLBACK");
    m_open = false;
}

} // namespace folio
