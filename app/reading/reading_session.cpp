#include "app/reading/reading_session.h"

#include "app/documents/document_loader.h"
#include "app/reading/evidence_collector.h"
#include "app/store/database.h"
#include "app/store/kv_snapshot_store.h"
#include "engine/session/session_state.h"
#include "engine/session/stop_strings.h"
#include "engine/tokenizer/tokenizer.h"

#include <QFileInfo>
#include <QThread>

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

ExtensionMethod methodFor(const ReadingOptions& o)
{
    if (o.dca.enabled)
        return ExtensionMethod::Dca;
    if (!o.rope.scaling)
        return o.method;
    switch (*o.rope.scaling) {
    case RopeScaling::None: return ExtensionMethod::None;
    case RopeScaling::Linear: return ExtensionMethod::Linear;
    case RopeScaling::Ntk: return ExtensionMethod::Ntk;
    case RopeScaling::Yarn: return ExtensionMethod::Yarn;
    }
    return o.method;
}

template <typename T>
void overrideIfSet(std::optional<T>& into, const std::optional<T>& user)
{
    if (user)
        into = user;
}

// Runs a store write again while another connection holds the database (each try
// waits the connection's busy timeout first): on the worker's thread, so waiting costs
// the window nothing, and an answer is never dropped for a lock held a while.
template <typename Write>
auto retryWhileBusy(const ReadingSession::Callbacks& callbacks, Write write)
{
    constexpr int kTries = 12;
    for (int attempt = 1;; ++attempt) {
        try {
            return write();
        } catch (const StoreError& e) {
            if (e.kind() != StoreError::Kind::Busy || attempt == kTries)
                throw;
            if (callbacks.notice)
                callbacks.notice(QStringLiteral("the database is busy (another program is writing to it): "
                                                "trying again"));
            QThread::msleep(200);
        }
    }
}

// Clears the session's attention observer however the generation ends.
struct ObserverScope {
    Session& session;
    ObserverScope(Session& s, AttentionObserver* observer) : session(s) { session.setAttentionObserver(observer); }
    ~ObserverScope() { session.setAttentionObserver(nullptr); }
};

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
    const Tokenizer& tok = model_->tokenizer();
    ChatTemplate chat = ChatTemplate::detect(model_->file().getString("tokenizer.chat_template").value_or(""),
                                             model_->params().architecture,
                                             [&](std::string_view piece) { return tok.findToken(piece).has_value(); });
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
    options_ = options;
    if (shapesSession)
        ++optionsGeneration_;
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
    PlanRequest request;
    request.tokens = options_.contextLength.value_or(prefix + options_.conversationRoom);
    if (request.tokens <= prefix)
        throw ReadingError(AnswerErrorKind::Document, "the document takes " + std::to_string(prefix) + " tokens, more than the context of "
                           + std::to_string(request.tokens) + " asked for: give a larger context");
    request.method = methodFor(options_);
    request.kvType = options_.kvType;
    request.batchSize = options_.batchSize;
    request.availableBytes = options_.availableBytes;
    request.threads = options_.threads;
    const ContextPlan plan = planContext(*model_, request);
    if (!plan.fits)
        throw ReadingError(AnswerErrorKind::Document, "the document does not fit in memory with this model:\n" + plan.report());
    for (const std::string& s : plan.suggestions)
        notice(callbacks, fromStd(s));
    SessionOptions o = plan.options;
    if (options_.dca.enabled)
        o.dca = options_.dca;
    RopeOverrides& r = o.rope;
    const RopeOverrides& u = options_.rope;
    overrideIfSet(r.scaling, u.scaling);
    overrideIfSet(r.scale, u.scale);
    overrideIfSet(r.freqBase, u.freqBase);
    overrideIfSet(r.yarnOriginalContext, u.yarnOriginalContext);
    overrideIfSet(r.yarnExtFactor, u.yarnExtFactor);
    overrideIfSet(r.yarnAttnFactor, u.yarnAttnFactor);
    overrideIfSet(r.yarnBetaFast, u.yarnBetaFast);
    overrideIfSet(r.yarnBetaSlow, u.yarnBetaSlow);
    o.threads = options_.threads;
    o.batchSize = options_.batchSize;
    return o;
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

QString ReadingSession::resumeConversation(qint64 conversationId, const Callbacks& callbacks,
                                           const std::atomic<bool>* cancel)
{
    if (loadedConversation_ == conversationId && sessionHoldsPrefix())
        return QStringLiteral("memory");
    if (options_.useSnapshots) {
        auto findConversation = [&] {
            return KvSnapshotStore(*db_).findLatest(fingerprint_, documentId_, KvSnapshotKind::Conversation,
                                                    conversationId);
        };
        std::optional<KvSnapshotInfo> found = findConversation();
        if (found && found->baseSnapshotId) {
            // The turns after the document: its prefix first (in memory already, or the
            // document snapshot the delta was saved against), then the delta. A damaged
            // document snapshot is deleted on the way, and its deltas with it.
            restoreOrReadPrefix(callbacks, cancel, nullptr);
            found = findConversation();
        } else if (found) {
            session_->truncate(0);
        }
        if (found) {
            if (restoreSnapshot(found->id, callbacks, nullptr)) {
                if (sessionHoldsPrefix()) {
                    loadedConversation_ = conversationId;
                    return QStringLiteral("conversation snapshot");
                }
                notice(callbacks, QStringLiteral("the conversation's saved state does not start with this document — "
                                                 "reading its turns again"));
                session_->truncate(0);
            }
        }
    }
    // Rebuild: the document prefix, then the earlier turns from the stored messages.
    replayTurns(conversationTurns(LibraryStore(*db_).messages(conversationId)), callbacks, cancel);
    loadedConversation_ = conversationId;
    return prefixSource_ == PrefixSource::Snapshot ? QStringLiteral("document snapshot + replay")
                                                   : QStringLiteral("document read + replay");
}

QVector<ConversationTurn> conversationTurns(const QVector<MessageRecord>& messages)
{
    QVector<ConversationTurn> turns;
    bool afterAnswer = false;
    for (const MessageRecord& m : messages) {
        if (m.role == MessageRole::User) {
            if (afterAnswer && !turns.isEmpty() && turns.back().question == m.text)
                turns.back().answer.clear();  // asked again: the answer that follows replaces it
            else
                turns.push_back({m.text, {}});
            afterAnswer = false;
        } else if (m.role == MessageRole::Assistant && !turns.isEmpty()) {
            turns.back().answer = m.text;  // the newest of consecutive answers counts
            afterAnswer = true;
        }
    }
    return turns;
}

AnswerResult ReadingSession::ask(const QString& question, qint64 conversationId, const Callbacks& callbacks,
                                 const std::atomic<bool>* cancel)
{
    if (question.trimmed().isEmpty())
        throw ReadingError(AnswerErrorKind::Request, "the question is empty");
    return answer(question, conversationId, false, callbacks, cancel);
}

AnswerResult ReadingSession::regenerate(qint64 conversationId, const Callbacks& callbacks,
                                        const std::atomic<bool>* cancel)
{
    if (!conversationId)
        throw ReadingError(AnswerErrorKind::Request, "no conversation to answer again");
    const QVector<ConversationTurn> turns = conversationTurns(LibraryStore(*db_).messages(conversationId));
    if (turns.isEmpty())
        throw ReadingError(AnswerErrorKind::Request, "conversation " + std::to_string(conversationId) + " has no question to answer again");
    return answer(turns.back().question, conversationId, true, callbacks, cancel);
}

void ReadingSession::replayTurns(const QVector<ConversationTurn>& turns, const Callbacks& callbacks,
                                 const std::atomic<bool>* cancel)
{
    restoreOrReadPrefix(callbacks, cancel, nullptr);
    const std::vector<int32_t> replay = builder_->replayTokens(turns);
    const int prefix = session_->position();
    try {
        prefillReporting(replay, 0, static_cast<int>(replay.size()), callbacks, cancel);
    } catch (const ReadingCancelled&) {
        session_->truncate(prefix);
        throw;
    }
}

bool ReadingSession::rewindLastTurn(const QVector<MessageRecord>& messages, const QVector<ConversationTurn>& turns,
                                    const Callbacks& callbacks, const std::atomic<bool>* cancel)
{
    const bool firstTurn = turns.size() == 1;
    loadedConversation_ = 0;  // from here on the session holds less than the saved conversation
    // Exact and cheap when the state holds the last turn where its messages say (it was
    // answered in this state, or restored from the snapshot saved after it): cut there.
    int lastUser = -1;
    for (int i = 0; i < messages.size(); ++i)
        if (messages[i].role == MessageRole::User)
            lastUser = i;
    if (lastUser >= 0 && lastUser + 1 < messages.size() && messages.back().role == MessageRole::Assistant) {
        const MessageRecord& q = messages[lastUser];
        const std::vector<int32_t> expected = builder_->questionTokens(q.text, firstTurn);
        const std::vector<int32_t>& have = session_->tokens();
        if (q.tokenBegin && q.tokenEnd && messages.back().tokenEnd == session_->position()
            && *q.tokenBegin >= static_cast<qint64>(prompt_.tokens.size())
            && *q.tokenEnd - *q.tokenBegin == static_cast<qint64>(expected.size()) && *q.tokenEnd <= qint64(have.size())
            && std::equal(expected.begin(), expected.end(), have.begin() + *q.tokenBegin)) {
            session_->truncate(static_cast<int>(*q.tokenBegin));
            return firstTurn;
        }
    }
    // Else: the document prefix, then the turns before the last one, read again.
    replayTurns(turns.mid(0, turns.size() - 1), callbacks, cancel);
    return firstTurn;
}

AnswerResult ReadingSession::answer(const QString& question, qint64 conversationId, bool again,
                                    const Callbacks& callbacks, const std::atomic<bool>* cancel)
{
    if (!model_)
        throw ReadingError(AnswerErrorKind::Model, "no model loaded");
    std::vector<int> evidenceLayers;
    try {
        evidenceLayers = resolveEvidenceLayers(options_.evidenceLayers, model_->params().blockCount);
    } catch (const std::invalid_argument& e) {
        throw ReadingError(AnswerErrorKind::Request, e.what());
    }
    const Clock::time_point start = Clock::now();
    LibraryStore library(*db_);
    AnswerResult result;
    result.question = question.trimmed();
    bool firstTurn = true;
    if (conversationId) {
        const ConversationRecord conversation = library.conversation(conversationId);
        if (conversation.modelFingerprint != fromStd(model_->fingerprint()))
            throw ReadingError(AnswerErrorKind::Model, "conversation " + std::to_string(conversationId) + " was held with another model (fingerprint "
                               + conversation.modelFingerprint.toStdString() + "; this one is " + model_->fingerprint()
                               + "): load that model (if it was moved, give its new path)");
        const DocumentRecord record = library.document(conversation.documentId);
        if (!document_)
            prepareDocument(record.path, callbacks);
        else if (record.contentHash != document_->contentHash)
            notice(callbacks, QStringLiteral("the document changed since conversation %1 began: its earlier turns are "
                                             "read again with the current text")
                                  .arg(conversationId));
        ensureSession(callbacks);  // after dropSession() or setOptions()
        firstTurn = conversation.messageCount == 0;
        result.resumedFrom = resumeConversation(conversationId, callbacks, cancel);
        if (again) {
            // The state before the last question; its earlier answer stays in the store.
            const QVector<MessageRecord> messages = library.messages(conversationId);
            firstTurn = rewindLastTurn(messages, conversationTurns(messages), callbacks, cancel);
        }
    } else {
        if (!document_)
            throw ReadingError(AnswerErrorKind::Document, "no document open");
        ensureSession(callbacks);
        restoreOrReadPrefix(callbacks, cancel, nullptr);
        result.resumedFrom = QStringLiteral("new");
    }

    const int before = session_->position();
    const std::vector<int32_t> questionTokens = builder_->questionTokens(question, firstTurn);
    if (before + static_cast<int>(questionTokens.size()) + 1 > session_->contextLength())
        throw ReadingError(AnswerErrorKind::Document, "the conversation has filled the context (" + std::to_string(session_->contextLength())
                           + " tokens): start a new conversation, or give a larger context");
    session_->prefill(questionTokens, {}, cancel);
    if (session_->position() < before + static_cast<int>(questionTokens.size())) {
        session_->truncate(before);
        throw ReadingCancelled();
    }

    std::vector<int> pageIndex;
    for (const PageTokenRange& p : prompt_.pages)
        pageIndex.push_back(p.page);
    EvidenceCollector evidence(prompt_.keyRanges(), pageIndex, evidenceLayers);
    Sampler sampler(options_.sampler);
    TokenStreamDecoder decoder(model_->tokenizer());
    StopStringMatcher matcher(builder_->chatTemplate().stopStrings());
    std::string answer;
    auto show = [&](const std::string& text) {
        if (text.empty())
            return;
        if (answer.empty())
            result.secondsToFirstToken = secondsSince(start);
        answer += text;
        if (callbacks.token)
            callbacks.token(QString::fromStdString(text));
    };
    const int answerBegin = session_->position();
    const int room = session_->contextLength() - answerBegin;
    GenerationStop stop;
    {
        ObserverScope scope(*session_, &evidence);
        stop = session_->generate(sampler, std::min(options_.maxAnswerTokens, room), [&](int32_t token) {
            const StopStringMatcher::Result r = matcher.push(decoder.push(token));
            show(r.text);
            return !r.stopped;
        }, cancel);
    }
    // Stopped before a word was written: as if not asked (the chat gives the question
    // back). Stopped later: the question and what was written are kept, marked.
    result.interrupted = stop == GenerationStop::Cancelled;
    if (result.interrupted && answer.empty()) {
        session_->truncate(before);
        throw ReadingCancelled();
    }
    if (!matcher.stopped())
        show(matcher.push(decoder.flush()).text + matcher.flush());

    result.answer = QString::fromStdString(answer).trimmed();
    result.evidence = evidence.topPages(options_.evidencePages);
    for (const EvidencePage& page : result.evidence)
        result.evidenceMarkers << PromptBuilder::pageMarker(*document_, page.page);
    result.answerTokens = session_->position() - answerBegin;
    result.contextTokens = session_->position();

    MessageRecord user;
    user.role = MessageRole::User;
    user.text = result.question;
    user.tokenBegin = before;
    user.tokenEnd = answerBegin;
    MessageRecord reply;
    reply.role = MessageRole::Assistant;
    reply.text = result.answer;
    reply.tokenBegin = answerBegin;
    reply.tokenEnd = session_->position();
    reply.evidence = result.evidence;
    reply.interrupted = result.interrupted;
    TurnRecord turn;
    try {
        turn = retryWhileBusy(callbacks, [&] {
            return library.appendTurn(conversationId, user, reply, documentId_, fromStd(model_->fingerprint()),
                                      result.question.left(80));
        });
    } catch (const StoreError&) {
        // Nothing of the turn was saved: the state in memory must not hold it either.
        session_->truncate(before);
        loadedConversation_ = 0;
        throw;
    }
    conversationId = turn.conversationId;
    result.questionId = turn.questionId;
    result.messageId = turn.answerId;
    result.conversationId = conversationId;
    loadedConversation_ = conversationId;

    // The conversation's state, so that reopening it reads nothing again: only what
    // follows the document prefix when the document's snapshot is saved (the delta
    // loads on top of it), else the whole state.
    if (options_.useSnapshots) {
        try {
            KvSnapshotStore store(*db_);
            KvSnapshotSpec spec = snapshotSpec(KvSnapshotKind::Conversation);
            spec.conversationId = conversationId;
            spec.baseSnapshotId = documentSnapshotId_;
            std::unique_ptr<KvSnapshotWriter> writer = store.beginSnapshot(spec);
            session_->saveState(*writer, 0, documentSnapshotId_ ? static_cast<int>(prompt_.tokens.size()) : 0);
            result.conversationSnapshotBytes = writer->bytesWritten();
            writer->commit();
        } catch (const StoreError& e) {
            notice(callbacks, QStringLiteral("the conversation's state was not saved: %1").arg(e.message()));
        }
    }
    result.seconds = secondsSince(start);
    return result;
}

} // namespace folio
