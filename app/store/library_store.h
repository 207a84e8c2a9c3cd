// Documents, conversations and their messages in the store.
#pragma once

#include "app/store/database.h"

#include <QString>
#include <QVector>

#include <optional>

namespace folio {

struct Document;

struct DocumentRecord {
    qint64 id = 0;
    QString contentHash;
    QString path;
    QString title;
    QString author;
    QString kind;   // "pdf", "text", "markdown", "epub"
    int pages = 0;
    qint64 characters = 0;
    std::optional<qint64> tokens;
    qint64 addedAtMs = 0;
    qint64 openedAtMs = 0;
};

struct ConversationRecord {
    qint64 id = 0;
    qint64 documentId = 0;
    QString modelFingerprint;
    QString title;
    qint64 createdAtMs = 0;
    qint64 updatedAtMs = 0;
    int messageCount = 0;
};

enum class MessageRole { System, User, Assistant };
QString messageRoleKey(MessageRole role);   // "system", "user", "assistant"

// Why a page is evidence: the engine's attention, or (a server's answer, which comes
// without attention) the answer cites it or quotes it.
enum class EvidenceSource { Attention, Citation, TextMatch };

// A page the answer drew on, with its share of the attention mass (citations: 1; text
// matches: the share of the answer's matched runs).
struct EvidencePage {
    int page = 0;   // index into the document's page map
    double weight = 0;
    EvidenceSource source = EvidenceSource::Attention;
    bool operator==(const EvidencePage&) const = default;
};

struct MessageRecord {
    qint64 id = 0;
    qint64 conversationId = 0;
    MessageRole role = MessageRole::User;
    QString text;
    qint64 createdAtMs = 0;
    std::optional<qint64> tokenBegin;   // the message's token range in the context
    std::optional<qint64> tokenEnd;
    QVector<EvidencePage> evidence;
    bool interrupted = false;   // an answer stopped before its end: what was written
    QString reasoning;          // a reasoning model's thinking before this answer (shown folded)
};

// A question and its answer, saved together (LibraryStore::appendTurn).
struct TurnRecord {
    qint64 conversationId = 0;
    qint64 questionId = 0;
    qint64 answerId = 0;
};

// Methods throw StoreError (NotFound for an id that does not exist).
class LibraryStore {
public:
    explicit LibraryStore(Database& db) : m_db(db) {}

    // Adds the document, or (same content hash) updates its path, title and opened time.
    // Returns its id.
    qint64 rememberDocument(const Document& document);
    std::optional<DocumentRecord> documentByHash(const QString& contentHash);
    DocumentRecord document(qint64 id);
    QVector<DocumentRecord> documents();   // most recently opened first
    void setDocumentTokens(qint64 id, qint64 tokens);
    void removeDocument(qint64 id);   // with its conversations, messages and snapshots

    qint64 createConversation(qint64 documentId, const QString& modelFingerprint, const QString& title);
    ConversationRecord conversation(qint64 id);
    QVector<ConversationRecord> conversations();                     // most recently updated first
    QVector<ConversationRecord> conversations(qint64 documentId);   // the same, for one document
    void renameConversation(qint64 id, const QString& title);
    void touchConversation(qint64 id);
    void deleteConversation(qint64 id);   // with its messages and snapshots

    // Appends to the conversation (and marks it updated); returns the message id.
    qint64 appendMessage(qint64 conversationId, const MessageRecord& message);
    // A question and its answer in one transaction, so that no crash or failure leaves
    // one without the other; conversationId 0 creates the conversation in it too.
    TurnRecord appendTurn(qint64 conversationId, const MessageRecord& question, const MessageRecord& answer,
                          qint64 documentId = 0, const QString& modelFingerprint = {}, const QString& title = {});
    QVector<MessageRecord> messages(qint64 conversationId);   // in order
    // A stopped answer written on (Continue): the answer's text, evidence, reasoning, mark
    // and token range replaced, and its question's token range, in one transaction.
    // question.id and answer.id name the rows; both must belong to the conversation.
    void updateTurn(qint64 conversationId, const MessageRecord& question, const MessageRecord& answer);

private:
    [[noreturn]] void notFound(const QString& what, qint64 id) const;
    qint64 insertMessage(qint64 conversationId, const MessageRecord& message);   // in the caller's transaction

    Database& m_db;
};

} // namespace folio
