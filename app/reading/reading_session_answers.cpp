// ReadingSession, its conversations: resuming one, asking, answering again, and saving
// each turn (the document's reading and its snapshots are in reading_session.cpp).
#include "app/reading/reading_session.h"

#include "app/reading/evidence_collector.h"
#include "app/store/database.h"
#include "app/store/kv_snapshot_store.h"
#include "engine/session/answer_text.h"
#include "engine/session/stop_strings.h"
#include "engine/tokenizer/tokenizer.h"

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
    return answer(question, conversationId, AnswerMode::New, callbacks, cancel);
}

AnswerResult ReadingSession::regenerate(qint64 conversationId, const Callbacks& callbacks,
                                        const std::atomic<bool>* cancel)
{
    if (!conversationId)
        throw ReadingError(AnswerErrorKind::Request, "no conversation to answer again");
    const QVector<ConversationTurn> turns = conversationTurns(LibraryStore(*db_).messages(conversationId));
    if (turns.isEmpty())
        throw ReadingError(AnswerErrorKind::Request, "conversation " + std::to_string(conversationId) + " has no question to answer again");
    return answer(turns.back().question, conversationId, AnswerMode::Again, callbacks, cancel);
}

AnswerResult ReadingSession::continueAnswer(qint64 conversationId, const Callbacks& callbacks,
                                            const std::atomic<bool>* cancel)
{
    if (!conversationId)
        throw ReadingError(AnswerErrorKind::Request, "no conversation to continue");
    const QVector<MessageRecord> messages = LibraryStore(*db_).messages(conversationId);
    if (messages.isEmpty() || messages.back().role != MessageRole::Assistant || !messages.back().interrupted)
        throw ReadingError(AnswerErrorKind::Request, "the last answer of conversation " + std::to_string(conversationId)
                                                         + " was not stopped: there is nothing to continue");
    const QVector<ConversationTurn> turns = conversationTurns(messages);
    return answer(turns.back().question, conversationId, AnswerMode::Continue, callbacks, cancel);
}

// The conversation's state (resumed) ends with the stopped answer: generation goes on
// from there, and the answer is saved again in place, longer.
AnswerResult ReadingSession::continueStopped(qint64 conversationId, AnswerResult result,
                                             const std::vector<int>& evidenceLayers, Clock::time_point start,
                                             const Callbacks& callbacks, const std::atomic<bool>* cancel)
{
    LibraryStore library(*db_);
    const QVector<MessageRecord> messages = library.messages(conversationId);
    const MessageRecord stopped = messages.back();
    MessageRecord question;
    for (const MessageRecord& m : messages)
        if (m.role == MessageRole::User)
            question = m;
    const int end = session_->position();
    const std::vector<int32_t>& have = session_->tokens();
    const std::vector<int32_t> written = builder_->answerTokens(stopped.text);
    // Where the stopped answer begins in the state: where its message says (answered or
    // restored in this state), or where the replay of the turns put it.
    int answerBegin = -1;
    if (stopped.tokenBegin && stopped.tokenEnd && *stopped.tokenEnd == end
        && *stopped.tokenBegin >= static_cast<qint64>(prompt_.tokens.size()) && *stopped.tokenBegin <= end)
        answerBegin = static_cast<int>(*stopped.tokenBegin);
    else if (end >= static_cast<int>(written.size()) && std::equal(written.begin(), written.end(), have.end() - written.size()))
        answerBegin = end - static_cast<int>(written.size());
    if (answerBegin < 0)
        throw ReadingError(AnswerErrorKind::Request, "the conversation's state does not end with its stopped answer: "
                                                     "answer the question again instead");
    if (answerBegin != stopped.tokenBegin.value_or(-1)) {
        // Replayed: the question sits just before the answer.
        const bool firstTurn = conversationTurns(messages).size() == 1;
        question.tokenEnd = answerBegin;
        question.tokenBegin = answerBegin - static_cast<qint64>(builder_->questionTokens(question.text, firstTurn).size());
    }
    GeneratedAnswer more = generateAnswer(evidenceLayers, start, end - answerBegin, callbacks, cancel);
    if (more.interrupted && more.text.empty()) {
        session_->truncate(end);   // nothing more written: the answer stays as it was
        throw ReadingCancelled();
    }
    MessageRecord reply = stopped;
    reply.text = (stopped.text + QString::fromStdString(more.text)).trimmed();
    reply.tokenBegin = answerBegin;
    reply.tokenEnd = session_->position();
    if (!more.evidence.isEmpty())
        reply.evidence = more.evidence;
    reply.interrupted = more.interrupted;
    if (!more.reasoning.empty())
        reply.reasoning = (stopped.reasoning + QString::fromStdString(more.reasoning)).trimmed();
    try {
        retryWhileBusy(callbacks, [&] { library.updateTurn(conversationId, question, reply); });
    } catch (const StoreError&) {
        session_->truncate(end);   // the state as the store has it
        throw;
    }
    loadedConversation_ = conversationId;
    result.conversationId = conversationId;
    result.questionId = question.id;
    result.messageId = reply.id;
    result.interrupted = reply.interrupted;
    result.answer = reply.text;
    result.reasoning = reply.reasoning;
    result.evidence = reply.evidence;
    for (const EvidencePage& page : result.evidence)
        result.evidenceMarkers << PromptBuilder::pageMarker(*document_, page.page);
    result.secondsToFirstToken = more.secondsToFirstToken;
    result.answerTokens = session_->position() - answerBegin;
    result.contextTokens = session_->position();
    result.continued = true;
    saveConversationSnapshot(conversationId, &result, callbacks);
    result.seconds = secondsSince(start);
    return result;
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

ReadingSession::GeneratedAnswer ReadingSession::generateAnswer(const std::vector<int>& evidenceLayers,
                                                              Clock::time_point start, int written,
                                                              const Callbacks& callbacks, const std::atomic<bool>* cancel)
{
    std::vector<int> pageIndex;
    for (const PageTokenRange& p : prompt_.pages)
        pageIndex.push_back(p.page);
    EvidenceCollector evidence(prompt_.keyRanges(), pageIndex, evidenceLayers);
    Sampler sampler(options_.sampler);
    TokenStreamDecoder decoder(model_->tokenizer());
    // The stop strings cut the turn; a reasoning model's <think> block goes apart.
    AnswerText text(builder_->chatTemplate().stopStrings());
    GeneratedAnswer out;
    auto show = [&](const AnswerText::Piece& piece) {
        if (!piece.reasoning.empty()) {
            out.reasoning += piece.reasoning;
            if (callbacks.reasoning)
                callbacks.reasoning(QString::fromStdString(piece.reasoning));
        }
        if (piece.answer.empty())
            return;
        if (out.text.empty())
            out.secondsToFirstToken = secondsSince(start);
        out.text += piece.answer;
        if (callbacks.token)
            callbacks.token(QString::fromStdString(piece.answer));
    };
    out.begin = session_->position();
    const int room = session_->contextLength() - out.begin;
    GenerationStop stop;
    {
        ObserverScope scope(*session_, &evidence);
        // The thinking's attention is not the answer's evidence: counted once it is over.
        evidence.setPaused(text.inReasoning());
        // An answer written on keeps to the same cap as one never stopped.
        const int budget = std::max(1, options_.maxAnswerTokens - written);
        stop = session_->generate(sampler, std::min(budget, room), [&](int32_t token) {
            const AnswerText::Piece piece = text.push(decoder.push(token));
            show(piece);
            evidence.setPaused(text.inReasoning());
            return !piece.stopped;
        }, cancel);
    }
    out.interrupted = stop == GenerationStop::Cancelled;
    show(text.finish(text.stopped() ? std::string() : decoder.flush()));  // what was held back
    out.evidence = evidence.topPages(options_.evidencePages);
    return out;
}

AnswerResult ReadingSession::answer(const QString& question, qint64 conversationId, AnswerMode mode,
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
        if (mode == AnswerMode::Continue)
            return continueStopped(conversationId, std::move(result), evidenceLayers, start, callbacks, cancel);
        if (mode == AnswerMode::Again) {
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

    GeneratedAnswer generated = generateAnswer(evidenceLayers, start, 0, callbacks, cancel);
    result.interrupted = generated.interrupted;
    result.secondsToFirstToken = generated.secondsToFirstToken;
    const int answerBegin = generated.begin;
    // Stopped before a word was written: as if not asked (the chat gives the question
    // back). Stopped later: the question and what was written are kept, marked.
    if (result.interrupted && generated.text.empty()) {
        session_->truncate(before);
        throw ReadingCancelled();
    }
    const std::string& answer = generated.text;
    const std::string& reasoning = generated.reasoning;
    result.evidence = generated.evidence;
    result.answer = QString::fromStdString(answer).trimmed();
    result.reasoning = QString::fromStdString(reasoning).trimmed();
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
    reply.reasoning = result.reasoning;
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

    saveConversationSnapshot(conversationId, &result, callbacks);
    result.seconds = secondsSince(start);
    return result;
}

// The conversation's state, so that reopening it reads nothing again: only what follows
// the document prefix when the document's snapshot is saved (the delta loads on top of
// it), else the whole state.
void ReadingSession::saveConversationSnapshot(qint64 conversationId, AnswerResult* result, const Callbacks& callbacks)
{
    if (!options_.useSnapshots)
        return;
    try {
        KvSnapshotStore store(*db_);
        KvSnapshotSpec spec = snapshotSpec(KvSnapshotKind::Conversation);
        spec.conversationId = conversationId;
        spec.baseSnapshotId = documentSnapshotId_;
        std::unique_ptr<KvSnapshotWriter> writer = store.beginSnapshot(spec);
        session_->saveState(*writer, 0, documentSnapshotId_ ? static_cast<int>(prompt_.tokens.size()) : 0);
        result->conversationSnapshotBytes = writer->bytesWritten();
        writer->commit();
    } catch (const StoreError& e) {
        notice(callbacks, QStringLiteral("the conversation's state was not saved: %1").arg(e.message()));
    }
}

} // namespace folio
