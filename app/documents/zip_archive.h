// Read-only access to a zip archive held in memory (libzip), with a budget on how many
// bytes it may unpack in all: a small file must not expand into gigabytes (zip bombs).
#pragma once

#include <QByteArray>
#include <QString>

#include <stdexcept>

typedef struct zip zip_t;

namespace folio {

// What went wrong, in words for the user (the caller adds the file name).
class ZipError : public std::runtime_error {
public:
    explicit ZipError(const QString& problem) : std::runtime_error(problem.toStdString()), m_problem(problem) {}
    const QString& problem() const { return m_problem; }

private:
    QString m_problem;
};

class ZipArchive {
public:
    // Throws ZipError when `bytes` is not a readable zip archive. Keeps a reference to
    // `bytes`, which must outlive the archive.
    ZipArchive(const QByteArray& bytes, qint64 maxUnpackedBytes);
    ~ZipArchive();
    ZipArchive(const ZipArchive&) = delete;
    ZipArchive& operator=(const ZipArchive&) = delete;

    bool contains(const QString& name) const;
    // The entry's bytes; throws ZipError when it is missing, damaged, encrypted, or would
    // take the archive past its unpacking budget.
    QByteArray read(const QString& name);
    qint64 unpackedBytes() const { return m_unpacked; }

private:
    qint64 indexOf(const QString& name) const;   // -1 when absent

    zip_t* m_zip = nullptr;
    qint64 m_budget = 0;
    qint64 m_unpacked = 0;
};

} // namespace folio
