// One model reading one document and answering questions about it, with the store
// behind it: the engine side of the app's reading workflow, without threads or
// signals (ReadingWorker runs it on its own thread; the CLI through the worker).
//
// Reading a document: load it, build its prompt (PromptBuilder), let the context
// planner choose how to hold it (extension method, KV type; the user's choices
// win), then restore the document's KV snapshot when one with the same fingerprint
// exists, or prefill the document block and save the snapshot once. A cancelled
// prefill keeps what it did: the next openDocument() of the same document with the
// same model continues from session position.
//
// Asking: a new conversation starts from the document prefix; an existing one
// continues from the state in memory, else from its own snapshot, else (snapshot
// missing, damaged, or the document changed) from the document prefix plus its
// earlier turns re-read from the stored messages. After each answer the question and
// the answer (with their token ranges and evidence pages) are saved in one transaction,
// then the conversation's session state; the conversation snapshot names the document
// snapshot it grew from. A question cancelled before its answer's first word leaves no
// message and rolls the session back; one cancelled later is answered with what was
// written, saved and marked interrupted (the context holds it, as after a length stop).
#pragma once

#include "app/answers/answer_error.h"
#include "app/documents/document.h"
#include "app/documents/document_loader.h"
#include "app/reading/prompt_builder.h"
#include "app/store/kv_snapshot_store.h"
#include "app/store/library_store.h"
#include "engine/session/context_planner.h"
#include "engine/session/sampler.h"
#include "engine/session/session.h"

#include <QDateTime>
#include <QMetaType>
#include <QString>
#include <QStringList>
#include <QVector>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>

namespace folio {

class Database;

struct ReadingOptions {
    // How to hold the document: the planner decides what is not forced here.
    ExtensionMethod method = ExtensionMethod::Auto;
    std::optional<KvType> kvType;
    std::optional<int> contextLength;  // tokens in all; default: document + conversationRoom
    RopeOverrides rope;                // set fields override the plan's RoPE
    DcaOptions dca;                    // enabled: Dual Chunk Attention with these parameters
    int conversationRoom = 2048;       // tokens kept free for questions and answers
    int batchSize = 0;                 // prefill micro-batch; 0: the planner's (defaultBatchSize)
    int threads = 0;
    std::size_t availableBytes = 0;    // memory to plan against (0: the machine's)
    // Answers.
    SamplerParams sampler{0.0f, 40, 0.95f, 0.05f, 1.0f, 64, 0};  // greedy by default
    int maxAnswerTokens = 512;
    bool thinking = true;              // a reasoning model (Qwen3) may think before it answers
    int evidencePages = 3;
    std::vector<int> evidenceLayers;   // empty: defaultEvidenceLayers(); {kEveryLayer}: all

    LoadOptions documents;             // how files are read (page size of plain text, limits)
    // Snapshots.
    bool useSnapshots = true;
    qint64 snapshotBudgetBytes = 0;    // > 0: prune least recently used snapshots beyond it
};

struct ReadProgress {
    int done = 0;
    int total = 0;
    double tokensPerSecond = 0;
    double etaSeconds = -1;  // < 0: unknown yet
};

struct DocumentStatus {
    qint64 documentId = 0;
    QString path;
    QString title;
    int pages = 0;
    int promptTokens = 0;      // the shared prefix
    int contextLength = 0;
    QString extension;         // "DCA (C 3072, W 512) over RoPE ..." or "RoPE ..."
    QString kvType;
    bool restored = false;     // from a snapshot, not read
    double seconds = 0;        // to read or restore
    qint64 snapshotBytes = 0;  // the document snapshot written or read
    double snapshotSeconds = 0;
};

struct AnswerResult {
    qint64 conversationId = 0;
    qint64 questionId = 0;        // the stored question
    qint64 messageId = 0;         // the stored answer
    bool interrupted = false;     // cancelled after some text: saved, marked interrupted
    QString question;
    QString answer;
    QString reasoning;            // the thinking before it, when the model thought first
    QVector<EvidencePage> evidence;
    QStringList evidenceMarkers;  // "[p. 12]" for each evidence page
    int answerTokens = 0;
    int contextTokens = 0;        // in the session after the answer
    double secondsToFirstToken = 0;
    double seconds = 0;
    QString resumedFrom;          // "memory", "conversation snapshot", "document snapshot|read + replay", "new"
    qint64 conversationSnapshotBytes = 0;
    bool continued = false;       // a stopped answer written on (answer: the whole text)
};

// A request the session cannot carry out: its kind says what was at fault, the
// message says why for the user.
class ReadingError : public std::runtime_error {
public:
    ReadingError(AnswerErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
    AnswerErrorKind kind() const { return kind_; }

private:
    AnswerErrorKind kind_;
};

// Thrown when *cancel became true; the session and store are consistent.
class ReadingCancelled : public std::runtime_error {
public:
    ReadingCancelled() : std::runtime_error("cancelled") {}
};

// A conversation's stored messages as the turns the model holds: a question asked
// again right after its answer (ReadingSession::regenerate) and consecutive answers
// (the chat pane's) leave one turn with the newest answer.
QVector<ConversationTurn> conversationTurns(const QVector<MessageRecord>& messages);

class ReadingSession {
public:
    struct Callbacks {
        std::function<void(const ReadProgress&)> progress;
        std::function<void(const QString& text)> token;    // streamed answer text
        std::function<void(const QString& text)> reasoning;  // streamed thinking (Qwen3's <think>), apart
        std::function<void(const QString& text)> notice;   // "snapshot damaged: reading again"
    };

    ReadingSession(std::shared_ptr<Database> database, ReadingOptions options);
    ~ReadingSession();

    // Options that shape the session or the prompt (method, KV, context, RoPE, DCA,
    // batch, threads, documents) rebuild the session at the next request; answer-time
    // ones (sampling, answer length, evidence) apply to the next answer as they are.
    void setOptions(const ReadingOptions& options);
    const ReadingOptions& options() const { return options_; }

    // Throws ReadingError ("model file not found ... moved?") or ModelError.
    void loadModel(const QString& path);
    bool hasModel() const { return model_ != nullptr; }
    const Model* model() const { return model_.get(); }

    // Throws ReadingCancelled (progress kept), ReadingError, DocumentError, StoreError.
    DocumentStatus openDocument(const QString& path, const Callbacks& callbacks = {},
                                const std::atomic<bool>* cancel = nullptr);
    // Loads the document, builds its prompt and the session, and reads nothing yet:
    // for reopening a conversation, whose own snapshot holds the document's state.
    DocumentStatus prepareDocument(const QString& path, const Callbacks& callbacks = {});
    bool hasDocument() const { return document_ != nullptr; }
    // Documents parsed and tokenized by any session in this process (a counter for tests).
    static int documentReads() { return documentReads_.load(); }
    const Document* document() const { return document_.get(); }
    const DocumentPrompt& prompt() const { return prompt_; }
    const Session* session() const { return session_.get(); }
    QString snapshotFingerprint() const { return fingerprint_; }

    // conversationId 0: a new conversation. When no document is open, the
    // conversation's document is opened from its stored path.
    AnswerResult ask(const QString& question, qint64 conversationId = 0, const Callbacks& callbacks = {},
                     const std::atomic<bool>* cancel = nullptr);

    // After a cancelled reading of the document: saves the part read (a document
    // snapshot of fewer tokens than the prompt), so that the next reading, also in a
    // later run of the app, continues from there. Nothing to do when the reading is
    // complete or empty, or snapshots are off; a store failure is a notice, not an error.
    // Costs the write of that much KV state: call it after reporting the cancel.
    void savePartialReading(const Callbacks& callbacks = {});

    // Answers the conversation's last question again, from the state before its answer
    // (its earlier answer is not in the context). The earlier answer stays in the store:
    // the question and the new answer are appended, and conversationTurns() counts only
    // the newest answer (as the chat pane shows it, with the others beside it).
    AnswerResult regenerate(qint64 conversationId, const Callbacks& callbacks = {},
                            const std::atomic<bool>* cancel = nullptr);

    // Writes on the conversation's last answer, which was stopped, from where it stopped
    // (the state after it is resumed as for a question): the tokens stream as for a new
    // answer, and the answer is saved again in place, whole (AnswerResult::answer), with
    // its mark cleared unless it is stopped again. Stopped before a new word: unchanged.
    AnswerResult continueAnswer(qint64 conversationId, const Callbacks& callbacks = {},
                                const std::atomic<bool>* cancel = nullptr);

    // Forget the in-memory state (tests and the benchmark: force a restore).
    void dropSession();
    void makeBuilder();

private:
    SessionOptions planSession(const Callbacks& callbacks) const;
    void ensureSession(const Callbacks& callbacks);
    bool sessionHoldsPrefix() const;
    void restoreOrReadPrefix(const Callbacks& callbacks, const std::atomic<bool>* cancel, DocumentStatus* status);
    bool restoreSnapshot(qint64 snapshotId, const Callbacks& callbacks, qint64* bytes);
    void saveDocumentSnapshot(DocumentStatus* status, const Callbacks& callbacks);
    KvSnapshotSpec snapshotSpec(KvSnapshotKind kind) const;
    QString resumeConversation(qint64 conversationId, const Callbacks& callbacks, const std::atomic<bool>* cancel);
    // Cuts the session back to before the last of `turns`; returns whether that turn is the first.
    bool rewindLastTurn(const QVector<MessageRecord>& messages, const QVector<ConversationTurn>& turns,
                        const Callbacks& callbacks, const std::atomic<bool>* cancel);
    void replayTurns(const QVector<ConversationTurn>& turns, const Callbacks& callbacks,
                     const std::atomic<bool>* cancel);
    enum class AnswerMode { New, Again, Continue };
    AnswerResult answer(const QString& question, qint64 conversationId, AnswerMode mode, const Callbacks& callbacks,
                        const std::atomic<bool>* cancel);
    // One answer generated from the session's state: the text, the thinking, the pages.
    struct GeneratedAnswer {
        std::string text;
        std::string reasoning;
        bool interrupted = false;
        int begin = 0;   // its first token's position
        double secondsToFirstToken = 0;
        QVector<EvidencePage> evidence;
    };
    // `written`: answer tokens already in the state (Continue), counted against the cap.
    GeneratedAnswer generateAnswer(const std::vector<int>& evidenceLayers, std::chrono::steady_clock::time_point start,
                                   int written, const Callbacks& callbacks, const std::atomic<bool>* cancel);
    AnswerResult continueStopped(qint64 conversationId, AnswerResult result, const std::vector<int>& evidenceLayers,
                                 std::chrono::steady_clock::time_point start, const Callbacks& callbacks,
                                 const std::atomic<bool>* cancel);
    void saveConversationSnapshot(qint64 conversationId, AnswerResult* result, const Callbacks& callbacks);
    void prefillReporting(const std::vector<int32_t>& tokens, int alreadyDone, int total, const Callbacks& callbacks,
                          const std::atomic<bool>* cancel);
    void notice(const Callbacks& callbacks, const QString& text) const;

    // The file document_ was read from, as it was then.
    struct LoadedFile {
        QString path;
        qint64 size = -1;
        QDateTime modified;
        LoadOptions options;
        bool operator==(const LoadedFile&) const = default;
    };
    static std::atomic<int> documentReads_;

    std::shared_ptr<Database> db_;
    LoadedFile loadedFile_;
    ReadingOptions options_;
    std::shared_ptr<const Model> model_;
    std::unique_ptr<PromptBuilder> builder_;
    std::unique_ptr<Document> document_;
    qint64 documentId_ = 0;
    DocumentPrompt prompt_;
    std::unique_ptr<Session> session_;
    QString fingerprint_;
    std::optional<qint64> documentSnapshotId_;
    std::optional<qint64> partialSnapshotId_;  // a cancelled reading's state, until the full one is saved
    int partialSavedAt_ = 0;                   // its token count
    qint64 loadedConversation_ = 0;  // whose turns follow the prefix in session_ (0: none)
    QString sessionKey_;             // prompt digest + options generation session_ was made for
    int optionsGeneration_ = 0;
    // How session_'s document prefix came to be: restored, or read in this process.
    enum class PrefixSource { Read, Snapshot } prefixSource_ = PrefixSource::Read;
};

} // namespace folio

Q_DECLARE_METATYPE(folio::ReadingOptions)
Q_DECLARE_METATYPE(folio::ReadProgress)
Q_DECLARE_METATYPE(folio::DocumentStatus)
Q_DECLARE_METATYPE(folio::AnswerResult)
