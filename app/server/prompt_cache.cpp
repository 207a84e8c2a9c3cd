#include "app/server/prompt_cache.h"

#include "app/documents/document.h"
#include "app/store/database.h"
#include "app/store/kv_snapshot_store.h"
#include "app/store/library_store.h"
#include "app/store/store_error.h"
#include "engine/model/model.h"

#include <QCryptographicHash>

#include <cstdio>

namespace folio::server {

namespace {

QString tokensHash(const std::vector<int32_t>& prompt, int length)
{
    const QByteArray bytes(reinterpret_cast<const char*>(prompt.data()), qsizetype(length) * qsizetype(sizeof(int32_t)));
    return QString::fromLatin1(QCryptographicHash::hash(bytes, QCryptographicHash::Sha256).toHex());
}

} // namespace

PromptCache::PromptCache(PromptCacheOptions options) : options_(std::move(options)) {}

PromptCache::~PromptCache() = default;

void PromptCache::fail(const std::string& what)
{
    // Once: the server goes on reading prompts as if there were no cache.
    std::fprintf(stderr, "folio-server: the prompt cache %s is not used from now on: %s\n",
                 options_.databasePath.c_str(), what.c_str());
    broken_ = true;
    db_.reset();
}

bool PromptCache::open()
{
    if (!enabled())
        return false;
    if (db_)
        return true;
    try {
        db_ = std::make_unique<Database>(QString::fromStdString(options_.databasePath));
        KvSnapshotStore(*db_).removeAbandoned();
        return true;
    } catch (const StoreError& e) {
        fail(e.message().toStdString());
        return false;
    }
}

std::string PromptCache::fingerprint(const Session& session, const QString& hash, int length) const
{
    std::string fp = "folio-server prompt; model " + session.model().fingerprint();
    for (const auto& [name, value] : session.shapingOptions())
        fp += "; " + name + " " + value;
    fp += "; tokens " + std::to_string(length) + " " + hash.toStdString();
    return fp;
}

bool PromptCache::restore(Session& session, const std::vector<int32_t>& prompt, int length)
{
    if (length < options_.minTokens || length > static_cast<int>(prompt.size()) || !open())
        return false;
    const QString hash = tokensHash(prompt, length);
    const QString fp = QString::fromStdString(fingerprint(session, hash, length));
    try {
        LibraryStore library(*db_);
        const auto document = library.documentByHash(hash);
        if (!document)
            return false;
        KvSnapshotStore store(*db_);
        const auto found = store.findLatest(fp, document->id);
        if (!found)
            return false;
        try {
            std::unique_ptr<KvSnapshotReader> reader = store.openReader(found->id);
            session.loadState(*reader);
        } catch (const SessionStateError& e) {
            std::fprintf(stderr, "folio-server: a saved prompt state cannot be used (%s): reading the prompt again\n",
                         e.what());
            store.remove(found->id);
            session.truncate(0);
            return false;
        }
        const std::vector<int32_t>& held = session.tokens();
        if (static_cast<int>(held.size()) < length || !std::equal(prompt.begin(), prompt.begin() + length, held.begin())) {
            session.truncate(0);
            return false;
        }
        session.truncate(length);
        known_.insert(fp.toStdString());
        ++restored_;
        return true;
    } catch (const StoreError& e) {
        session.truncate(0);
        if (e.kind() == StoreError::Kind::Checksum) {  // deleted by the reader: read the prompt again
            std::fprintf(stderr, "folio-server: %s: reading the prompt again\n", e.message().toUtf8().constData());
            return false;
        }
        fail(e.message().toStdString());
        return false;
    }
}

void PromptCache::save(const Session& session, const std::vector<int32_t>& prompt, int length)
{
    if (length < options_.minTokens || session.position() < length || !open())
        return;
    const std::vector<int32_t>& held = session.tokens();
    if (!std::equal(prompt.begin(), prompt.begin() + length, held.begin()))
        return;
    const QString hash = tokensHash(prompt, length);
    const std::string fp = fingerprint(session, hash, length);
    if (known_.count(fp))
        return;
    try {
        // The prefix as the store's "document": the snapshot store keys states by one.
        Document prefix;
        prefix.path = QStringLiteral("folio-server prompt");
        prefix.title = QStringLiteral("prompt prefix of %1 tokens").arg(length);
        prefix.contentHash = hash;
        LibraryStore library(*db_);
        const qint64 documentId = library.rememberDocument(prefix);
        KvSnapshotStore store(*db_);
        if (store.findLatest(QString::fromStdString(fp), documentId)) {
            known_.insert(fp);
            return;
        }
        KvSnapshotSpec spec;
        spec.fingerprint = QString::fromStdString(fp);
        spec.kind = KvSnapshotKind::Document;
        spec.documentId = documentId;
        spec.tokenCount = session.position();
        spec.kvType = QString::fromLatin1(kvTypeName(session.options().kvType).data());
        std::unique_ptr<KvSnapshotWriter> writer = store.beginSnapshot(spec);
        session.saveState(*writer);
        const qint64 id = writer->commit();
        known_.insert(fp);
        ++saved_;
        if (options_.budgetBytes > 0)
            store.prune(options_.budgetBytes, {id});
    } catch (const StoreError& e) {
        if (e.kind() == StoreError::Kind::DiskFull || e.kind() == StoreError::Kind::Busy) {
            std::fprintf(stderr, "folio-server: a prompt state was not saved: %s\n", e.message().toUtf8().constData());
            return;
        }
        fail(e.message().toStdString());
    }
}

} // namespace folio::server
