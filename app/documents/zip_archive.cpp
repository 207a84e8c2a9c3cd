#include "app/documents/zip_archive.h"

#include <QCoreApplication>
#include <QLocale>

#include <zip.h>

namespace folio {

namespace {

QString tr(const char* text) { return QCoreApplication::translate("ZipArchive", text); }

QString describe(zip_error_t* error)
{
    return QString::fromUtf8(zip_error_strerror(error)).toLower();
}

} // namespace

ZipArchive::ZipArchive(const QByteArray& bytes, qint64 maxUnpackedBytes) : m_budget(maxUnpackedBytes)
{
    zip_error_t error;
    zip_error_init(&error);
    zip_source_t* source = zip_source_buffer_create(bytes.constData(), zip_uint64_t(bytes.size()), 0, &error);
    if (source)
        m_zip = zip_open_from_source(source, ZIP_RDONLY, &error);
    if (!m_zip) {
        const int code = zip_error_code_zip(&error);
        const QString detail = describe(&error);
        zip_error_fini(&error);
        if (source)
            zip_source_free(source);   // still ours when opening failed
        if (code == ZIP_ER_NOZIP)
            throw ZipError(tr("not a zip archive (the file is damaged, truncated or of another type)"));
        throw ZipError(tr("the zip archive is damaged or truncated (%1)").arg(detail));
    }
    zip_error_fini(&error);
}

ZipArchive::~ZipArchive()
{
    if (m_zip)
        zip_discard(m_zip);   // read-only: nothing to write back
}

qint64 ZipArchive::indexOf(const QString& name) const
{
    const QByteArray utf8 = name.toUtf8();
    zip_int64_t index = zip_name_locate(m_zip, utf8.constData(), ZIP_FL_ENC_GUESS);
    if (index < 0)   // hrefs in the wild sometimes differ from entry names in case only
        index = zip_name_locate(m_zip, utf8.constData(), ZIP_FL_NOCASE | ZIP_FL_ENC_GUESS);
    return index;
}

bool ZipArchive::contains(const QString& name) const
{
    return indexOf(name) >= 0;
}

QByteArray ZipArchive::read(const QString& name)
{
    const qint64 index = indexOf(name);
    if (index < 0)
        throw ZipError(tr("\"%1\" is missing from the archive").arg(name));
    zip_stat_t stat;
    zip_stat_init(&stat);
    if (zip_stat_index(m_zip, zip_uint64_t(index), 0, &stat) != 0)
        throw ZipError(tr("\"%1\" cannot be read (%2)").arg(name, describe(zip_get_error(m_zip))));
    if ((stat.valid & ZIP_STAT_ENCRYPTION_METHOD) && stat.encryption_method != ZIP_EM_NONE)
        throw ZipError(tr("\"%1\" is encrypted").arg(name));

    const QLocale locale;
    auto overBudget = [&] {
        return ZipError(tr("the archive unpacks to more than %1 (a damaged file or a zip bomb)")
                            .arg(locale.formattedDataSize(m_budget)));
    };
    // The declared size may lie; it only refuses early. The count below is what holds.
    if ((stat.valid & ZIP_STAT_SIZE) && qint64(stat.size) > m_budget - m_unpacked)
        throw overBudget();

    zip_file_t* file = zip_fopen_index(m_zip, zip_uint64_t(index), 0);
    if (!file)
        throw ZipError(tr("\"%1\" cannot be opened (%2)").arg(name, describe(zip_get_error(m_zip))));
    QByteArray data;
    if (stat.valid & ZIP_STAT_SIZE)
        data.reserve(qsizetype(stat.size));
    char buffer[64 * 1024];
    for (;;) {
        const zip_int64_t n = zip_fread(file, buffer, sizeof buffer);
        if (n < 0) {
            const QString detail = describe(zip_file_get_error(file));
            zip_fclose(file);
            throw ZipError(tr("\"%1\" is damaged (%2)").arg(name, detail));
        }
        if (n == 0)
            break;
        m_unpacked += n;
        if (m_unpacked > m_budget) {
            zip_fclose(file);
            throw overBudget();
        }
        data.append(buffer, qsizetype(n));
    }
    // zip_fclose reports a CRC mismatch found at the end of the entry.
    if (const int status = zip_fclose(file); status != 0) {
        zip_error_t error;
        zip_error_init_with_code(&error, status);
        const QString detail = describe(&error);
        zip_error_fini(&error);
        throw ZipError(tr("\"%1\" is damaged (%2)").arg(name, detail));
    }
    return data;
}

} // namespace folio
