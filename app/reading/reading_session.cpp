#include "app/reading/reading_session.h"

#include "app/documents/document_loader.h"
#include "app/reading/reading_plan.h"
#include "app/store/database.h"
#include "app/store/kv_snapshot_store.h"
#include "engine/session/session_state.h"
#include "engine/tokenizer/tokenizer.h"

#include <QFileInfo>

#include <algorithm>
#include <chrono>

namespace folio {

namespace {

using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point start)
{
    return std::chrono::duration<double>(Clock::now() - start).count();
}

QString fromStd(const std::string& s) { return QString::fromStdString(s); }

} // namespace

ReadingSession::ReadingSession(std::shared_ptr<Database> database, ReadingOptions options)
    : db_(std::move(database)), options_(std::move(options))
{
}

ReadingSession::~ReadingSession() = default;

std::atomic<int> ReadingSession::documentReads_{0};

void ReadingSession::notice(const Callbacks& callbacks, const QString& text) const
{
    if (callbacks.notice)
        callbacks.notice(text);
}

void ReadingSession::loadModel(const QString& path)
{
    if (!QFileInfo::exists(path))
        throw ReadingError(AnswerErrorKind::Model, "model file not found: " + path.toStdString()
                           + " (was it moved or deleted? give its current path)");
    dropSession();
    builder_.reset();
    model_.reset();
    model_ = Model::load(path.toStdString());
    makeBuilder();
}

// The prompt's shape from the model's template and the options (thinking on or off
// changes only what opens the assistant's turn, not the document's prefix).
void ReadingSession::makeBuilder()
{
    const Tokenizer& tok = model_->tokenizer();
    ChatTemplate chat = ChatTemplate::detect(model_->file().getString("tokenizer.chat_template").value_or(""),
                                             model_->params().architecture,
                                             [&](std::string_view piece) { return tok.findToken(piece).has_value(); });
    chat.setThinking(options_.thinking);
    builder_ = std::make_unique<PromptBuilder>(tok, std::move(chat));
    if (document_)
        prompt_ = builder_->documentPrompt(*document_);
}

void ReadingSession::setOptions(const ReadingOptions& options)
{
    const ReadingOptions& o = options_;
    const bool shapesSession = o.method != options.method || o.kvType != options.kvType
                               || o.contextLength != options.contextLength || !(o.rope == options.rope)
                               || !(o.dca == options.dca) || o.conversationRoom != options.conversationRoom
                               || o.batchSize != options.batchSize || o.threads != options.threads
                               || o.availableBytes != options.availableBytes || !(o.documents == options.documents);
    const bool thinkingChanged = o.thinking != options.thinking;
    options_ = options;
    if (shapesSession)
        ++optionsGeneration_;
    if (thinkingChanged && model_)
        makeBuilder();
}

void ReadingSession::dropSession()
{
    session_.reset();
    sessionKey_.clear();
    loadedConversation_ = 0;
}

SessionOptions ReadingSession::planSession(const Callbacks& callbacks) const
{
    const int prefix = static_cast<int>(prompt_.tokens.size());
    const int tokens = plannedContextTokens(prefix, options_);
    if (tokens <= prefix)
        throw ReadingError(AnswerErrorKind::Document, "the document takes " + std::to_string(prefix) + " tokens, more than the context of "
                           + std::to_string(tokens) + " asked for: give a larger context");
    const ContextPlan plan = planReading(*model_, prefix, options_);
    if (!plan.fits)
        throw ReadingError(AnswerErrorKind::Document, "the document does not fit in memory with this model:\n" + plan.report());
    for (const std::string& s : plan.suggestions)
        notice(callbacks, fromStd(s));
    return plan.options;
}

void ReadingSession::ensureSession(const Callbacks& callbacks)
{
    const QString key = fromStd(prompt_.tokensDigest) + QLatin1Char('/') + QString::number(optionsGeneration_);
    if (session_ && sessionKey_ == key)
        return;
    const SessionOptions options = planSession(callbacks);
    dropSession();  // free the old cache before allocating the new one
    session_ = std::make_unique<Session>(model_, options);
    sessionKey_ = key;
    // Everything that shaped the document prefix's KV state.
    QString fp = QStringLiteral("folio-reading; prompt v%1; template %2; document %3; prefix %4")
                     .arg(kPromptFormatVersion)
                     .arg(fromStd(builder_->chatTemplate().name()), document_->contentHash, fromStd(prompt_.tokensDigest));
    for (const auto& [name, value] : session_->shapingOptions())
        fp += QStringLiteral("; %1 %2").arg(fromStd(name), fromStd(value));
    fingerprint_ = fp;
    documentSnapshotId_.reset();
    partialSnapshotId_.reset();
    partialSavedAt_ = 0;
}

bool ReadingSession::sessionHoldsPrefix() const
{
    const std::vector<int32_t>& have = session_->tokens();
    const std::vector<int32_t>& want = prompt_.tokens;
    return have.size() >= want.size() && std::equal(want.begin(), want.end(), have.begin());
}

void ReadingSession::prefillReporting(const std::vector<int32_t>& tokens, int alreadyDone, int total,
                                      const Callbacks& callbacks, const std::atomic<bool>* cancel)
{
    const int target = session_->position() + static_cast<int>(tokens.size());
    const Clock::time_point start = Clock::now();
    if (callbacks.progress)
        callbacks.progress({alreadyDone, total, 0.0, -1.0});
    session_->prefill(
        tokens,
        [&](int done, int) {
            if (!callbacks.progress)
                return;
            const double elapsed = secondsSince(start);
            const double rate = elapsed > 0 ? done / elapsed : 0.0;
            const int remaining = static_cast<int>(tokens.size()) - done;
            callbacks.progress({alreadyDone + done, total, rate, rate > 0 ? remaining / rate : -1.0});
        },
        cancel);
    if (session_->position() < target) {
        // The logits are an earlier micro-batch's (only the last one computes them):
        // drop them, so that no saved partial reading passes them off as its last token's.
        session_->truncate(session_->position());
        throw ReadingCancelled();
    }
}

bool ReadingSession::restoreSnapshot(qint64 snapshotId, const Callbacks& callbacks, qint64* bytes)
{
    KvSnapshotStore store(*db_);
    try {
        std::unique_ptr<KvSnapshotReader> reader = store.openReader(snapshotId);
        if (bytes)
            *bytes = reader->info().totalBytes;
        session_->loadState(*reader);
        return true;
    } catch (const StoreError& e) {
        if (e.kind() != StoreError::Kind::Checksum)
            throw;
        notice(callbacks, e.message() + QStringLiteral(" — reading the document again"));
    } catch (const SessionStateError& e) {
        notice(callbacks, QStringLiteral("a saved state cannot be used (%1) — reading the document again")
                              .arg(QString::fromUtf8(e.what())));
        store.remove(snapshotId);
    }
    if (!sessionHoldsPrefix() && session_->position() > 0)
        session_->truncate(0);
    return false;
}

void ReadingSession::restoreOrReadPrefix(const Callbacks& callbacks, const std::atomic<bool>* cancel,
                                         DocumentStatus* status)
{
    const int prefix = static_cast<int>(prompt_.tokens.size());
    const Clock::time_point start = Clock::now();
    if (sessionHoldsPrefix()) {
        if (session_->position() > prefix)
            session_->truncate(prefix);
        loadedConversation_ = 0;
        if (status)
            status->restored = true;
        return;
    }
    loadedConversation_ = 0;
    if (options_.useSnapshots && session_->position() == 0) {
        const std::optional<KvSnapshotInfo> found = KvSnapshotStore(*db_).findLatest(fingerprint_, documentId_);
        qint64 bytes = 0;
        if (found && restoreSnapshot(found->id, callbacks, &bytes)) {
            const std::vector<int32_t>& have = session_->tokens();
            if (session_->position() < prefix && std::equal(have.begin(), have.end(), prompt_.tokens.begin())) {
                // A reading cancelled earlier: continue it (below) from where it stopped.
                partialSnapshotId_ = found->id;
                partialSavedAt_ = session_->position();
                notice(callbacks, QStringLiteral("continuing the reading saved at %1 of %2 tokens")
                                      .arg(session_->position())
                                      .arg(prefix));
            } else if (session_->position() == prefix && sessionHoldsPrefix()) {
                documentSnapshotId_ = found->id;
                prefixSource_ = PrefixSource::Snapshot;
                if (status) {
                    status->restored = true;
                    status->snapshotBytes = bytes;
                    status->snapshotSeconds = secondsSince(start);
                }
                return;
            } else {
                notice(callbacks,
                       QStringLiteral("the saved state does not hold this document's prompt — reading it again"));
                session_->truncate(0);
            }
        }
    }
    // Read, continuing a prefill that was cancelled half way.
    const std::vector<int32_t>& have = session_->tokens();
    if (!std::equal(have.begin(), have.end(), prompt_.tokens.begin()))
        session_->truncate(0);
    const int done = session_->position();
    prefillReporting(std::vector<int32_t>(prompt_.tokens.begin() + done, prompt_.tokens.end()), done, prefix,
                     callbacks, cancel);
    prefixSource_ = PrefixSource::Read;
    saveDocumentSnapshot(status, callbacks);
    if (partialSnapshotId_ && documentSnapshotId_) {
        try {
            KvSnapshotStore(*db_).remove(*partialSnapshotId_);
        } catch (const StoreError& e) {
            notice(callbacks, QStringLiteral("an old partial reading was not removed: %1").arg(e.message()));
        }
        partialSnapshotId_.reset();
        partialSavedAt_ = 0;
    }
}

// What a snapshot of the session as it is now records: this document and fingerprint,
// the tokens it holds, its KV type.
KvSnapshotSpec ReadingSession::snapshotSpec(KvSnapshotKind kind) const
{
    KvSnapshotSpec spec;
    spec.fingerprint = fingerprint_;
    spec.kind = kind;
    spec.documentId = documentId_;
    spec.tokenCount = session_->position();
    spec.kvType = fromStd(std::string(kvTypeName(session_->options().kvType)));
    return spec;
}

void ReadingSession::savePartialReading(const Callbacks& callbacks)
{
    if (!options_.useSnapshots || !session_ || prompt_.tokens.empty())
        return;
    const int done = session_->position();
    const std::vector<int32_t>& have = session_->tokens();
    if (done == 0 || done >= static_cast<int>(prompt_.tokens.size()) || done == partialSavedAt_
        || !std::equal(have.begin(), have.end(), prompt_.tokens.begin()))
        return;
    try {
        KvSnapshotStore store(*db_);
        std::unique_ptr<KvSnapshotWriter> writer = store.beginSnapshot(snapshotSpec(KvSnapshotKind::Document));
        session_->saveState(*writer);
        const qint64 saved = writer->commit();
        if (partialSnapshotId_)
            store.remove(*partialSnapshotId_);
        partialSnapshotId_ = saved;
        partialSavedAt_ = done;
    } catch (const StoreError& e) {
        notice(callbacks, QStringLiteral("the part of the document read so far was not saved: %1").arg(e.message()));
    }
}

void ReadingSession::saveDocumentSnapshot(DocumentStatus* status, const Callbacks& callbacks)
{
    if (!options_.useSnapshots)
        return;
    const Clock::time_point start = Clock::now();
    try {
        KvSnapshotStore store(*db_);
        std::unique_ptr<KvSnapshotWriter> writer = store.beginSnapshot(snapshotSpec(KvSnapshotKind::Document));
        session_->saveState(*writer);
        const qint64 bytes = writer->bytesWritten();
        documentSnapshotId_ = writer->commit();
        if (status) {
            status->snapshotBytes = bytes;
            status->snapshotSeconds = secondsSince(start);
        }
        if (options_.snapshotBudgetBytes > 0)
            store.prune(options_.snapshotBudgetBytes, {*documentSnapshotId_});
    } catch (const StoreError& e) {
        notice(callbacks, QStringLiteral("the document's state was not saved: %1").arg(e.message()));
    }
}

DocumentStatus ReadingSession::prepareDocument(const QString& path, const Callbacks& callbacks)
{
    if (!model_)
        throw ReadingError(AnswerErrorKind::Model, "no model loaded");
    // The file read last, unchanged since and read the same way: its prompt is built
    // already (a new conversation opens the document, then asks about it).
    const QFileInfo file(path);
    const LoadedFile loaded{file.absoluteFilePath(), file.size(), file.lastModified(), options_.documents};
    if (!document_ || !(loaded == loadedFile_)) {
        auto document = std::make_unique<Document>(DocumentLoader::load(path, options_.documents));
        LibraryStore library(*db_);
        documentId_ = library.rememberDocument(*document);
        document_ = std::move(document);
        prompt_ = builder_->documentPrompt(*document_);
        library.setDocumentTokens(documentId_, static_cast<qint64>(prompt_.tokens.size()));
        loadedFile_ = loaded;
        ++documentReads_;
    }
    ensureSession(callbacks);

    DocumentStatus status;
    status.documentId = documentId_;
    status.path = path;
    status.title = document_->title;
    status.pages = document_->pageCount();
    status.promptTokens = static_cast<int>(prompt_.tokens.size());
    status.contextLength = session_->contextLength();
    status.extension = fromStd(session_->extensionDescription());
    status.kvType = fromStd(std::string(kvTypeName(session_->options().kvType)));
    return status;
}

DocumentStatus ReadingSession::openDocument(const QString& path, const Callbacks& callbacks,
                                            const std::atomic<bool>* cancel)
{
    const Clock::time_point start = Clock::now();
    DocumentStatus status = prepareDocument(path, callbacks);
    restoreOrReadPrefix(callbacks, cancel, &status);
    status.seconds = secondsSince(start);
    return status;
}

} // namespace folio
