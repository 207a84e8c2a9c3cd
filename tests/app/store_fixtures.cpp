#include "store_fixtures.h"

#include <QCryptographicHash>
#include <QFile>
#include <QRandomGenerator>

namespace folio::test {

Document storeDocument(const QString& name, int pages)
{
    Document doc;
    doc.path = QStringLiteral("/books/%1.txt").arg(name);
    doc.kind = DocumentKind::PlainText;
    doc.title = name;
    doc.author = QStringLiteral("Author of ") + name;
    doc.contentHash = QString::fromLatin1(QCryptographicHash::hash(name.toUtf8(), QCryptographicHash::Sha256).toHex());
    for (int i = 0; i < pages; ++i) {
        const qsizetype begin = doc.text.size();
        doc.text += QStringLiteral("Page %1 of %2. ").arg(i + 1).arg(name);
        doc.pages.append(begin, doc.text.size(), QString::number(i + 1));
    }
    return doc;
}

QByteArray patternBytes(qsizetype size, quint32 seed)
{
    QRandomGenerator rng(seed);
    QByteArray bytes(size, Qt::Uninitialized);
    qsizetype i = 0;
    for (; i + 4 <= size; i += 4) {
        const quint32 v = rng.generate();
        memcpy(bytes.data() + i, &v, 4);
    }
    for (; i < size; ++i)
        bytes[i] = char(rng.generate());
    return bytes;
}

qint64 saveSnapshot(KvSnapshotStore& store, const KvSnapshotSpec& spec, const QByteArray& bytes, std::size_t piece,
                    const KvSnapshotWriteOptions& options)
{
    std::unique_ptr<KvSnapshotWriter> writer = store.beginSnapshot(spec, options);
    for (qsizetype at = 0; at < bytes.size(); at += qsizetype(piece))
        writer->write(bytes.constData() + at, std::size_t(qMin<qsizetype>(qsizetype(piece), bytes.size() - at)));
    return writer->commit();
}

KvSnapshotSpec documentSpec(qint64 documentId, const QString& fingerprint)
{
    KvSnapshotSpec spec;
    spec.fingerprint = fingerprint;
    spec.kind = KvSnapshotKind::Document;
    spec.documentId = documentId;
    spec.tokenCount = 1234;
    spec.kvType = QStringLiteral("f16");
    return spec;
}

qint64 queryInteger(Database& db, const char* sql)
{
    Statement select = db.prepare(sql);
    return select.step() ? select.integer(0) : -1;
}

QByteArray sha256OfFile(const QString& path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return {};
    return QCryptographicHash::hash(file.readAll(), QCryptographicHash::Sha256);
}

} // namespace folio::test
