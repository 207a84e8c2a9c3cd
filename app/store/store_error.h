// What can go wrong with the store, as one exception type with a kind the caller can act
// on (retry when busy, tell the user to free disk space, read the document again when a
// snapshot is bad) and a message for the user that names the database file.
#pragma once

#include <QByteArray>
#include <QString>

#include <exception>

namespace folio {

class StoreError : public std::exception {
public:
    enum class Kind {
        Busy,          // another connection holds the lock longer than the busy timeout
        ReadOnly,      // the file (or its folder) cannot be written
        DiskFull,      // SQLITE_FULL: disk or quota full, or the page limit reached
        NewerSchema,   // written by a newer Folio; left untouched
        Corrupt,       // not a database, or a damaged one
        Checksum,      // a snapshot's bytes do not match its checksum (it was deleted)
        NotFound,      // no such conversation / document / snapshot
        Io,            // cannot open, read or write the file
        Other,
    };

    StoreError(Kind kind, const QString& message);
    Kind kind() const { return m_kind; }
    const QString& message() const { return m_message; }
    const char* what() const noexcept override { return m_utf8.constData(); }

private:
    Kind m_kind;
    QString m_message;
    QByteArray m_utf8;
};

} // namespace folio
