#include "app/store/library_store.h"

#include "app/documents/document.h"

#include <QCoreApplication>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

namespace folio {

namespace {

QString tr(const char* text) { return QCoreApplication::translate("LibraryStore", text); }

QString documentKindKey(DocumentKind kind)
{
    switch (kind) {
    case DocumentKind::Pdf: return QStringLiteral("pdf");
    case DocumentKind::PlainText: return QStringLiteral("text");
    case DocumentKind::Markdown: return QStringLiteral("markdown");
    case DocumentKind::Epub: return QStringLiteral("epub");
    }
    return {};
}

MessageRole roleFromKey(const QString& key)
{
    if (key == QLatin1String("system"))
        return MessageRole::System;
    if (key == QLatin1String("assistant"))
        return MessageRole::Assistant;
    return MessageRole::User;
}

QString evidenceJson(const QVector<EvidencePage>& pages)
{
    QJsonArray array;
    for (const EvidencePage& p : pages) {
        QJsonObject o{{QStringLiteral("page"), p.page}, {QStringLiteral("weight"), p.weight}};
        if (p.source != EvidenceSource::Attention)  // older rows have no "source": attention
            o.insert(QStringLiteral("source"), p.source == EvidenceSource::Citation ? QStringLiteral("citation")
                                                                                   : QStringLiteral("text"));
        array.append(o);
    }
    return QString::fromUtf8(QJsonDocument(array).toJson(QJsonDocument::Compact));
}

QVector<EvidencePage> evidenceFromJson(const QString& json)
{
    QVector<EvidencePage> pages;
    for (const QJsonValue& v : QJsonDocument::fromJson(json.toUtf8()).array()) {
        const QJsonObject o = v.toObject();
        const QString source = o.value(QStringLiteral("source")).toString();
        pages.append({o.value(QStringLiteral("page")).toInt(), o.value(QStringLiteral("weight")).toDouble(),
                      source == QLatin1String("citation") ? EvidenceSource::Citation
                      : source == QLatin1String("text")   ? EvidenceSource::TextMatch
                                                          : EvidenceSource::Attention});
    }
    return pages;
}

constexpr const char* kDocumentColumns =
    "id, content_hash, path, title, author, kind, pages, characters, tokens, added_at, opened_at";

DocumentRecord documentFrom(const Statement& row)
{
    DocumentRecord d;
    d.id = row.integer(0);
    d.contentHash = row.text(1);
    d.path = row.text(2);
    d.title = row.text(3);
    d.author = row.text(4);
    d.kind = row.text(5);
    d.pages = int(row.integer(6));
    d.characters = row.integer(7);
    d.tokens = row.optionalInteger(8);
    d.addedAtMs = row.integer(9);
    d.openedAtMs = row.integer(10);
    return d;
}

constexpr const char* kConversationSelect =
    "SELECT c.id, c.document_id, c.model_fingerprint, c.title, c.created_at, c.updated_at, "
    "(SELECT count(*) FROM messages m WHERE m.conversation_id = c.id) FROM conversations c ";

ConversationRecord conversationFrom(const Statement& row)
{
    ConversationRecord c;
    c.id = row.integer(0);
    c.documentId = row.integer(1);
    c.modelFingerprint = row.text(2);
    c.title = row.text(3);
    c.createdAtMs = row.integer(4);
    c.updatedAtMs = row.integer(5);
    c.messageCount = int(row.integer(6));
    return c;
}

} // namespace

QString messageRoleKey(MessageRole role)
{
    switch (role) {
    case MessageRole::System: return QStringLiteral("system");
    case MessageRole::User: return QStringLiteral("user");
    case MessageRole::Assistant: return QStringLiteral("assistant");
    }
    return {};
}

void LibraryStore::notFound(const QString& what, qint64 id) const
{
    throw StoreError(StoreError::Kind::NotFound, tr("%1: there is no %2 with id %3").arg(m_db.path(), what).arg(id));
}

// ---------------------------------------------------------------------------------------
// Documents

qint64 LibraryStore::rememberDocument(const Document& document)
{
    const qint64 now = nowMs();
    Statement upsert = m_db.prepare(
        "INSERT INTO documents (content_hash, path, title, author, kind, pages, characters, added_at, opened_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (content_hash) DO UPDATE SET path = excluded.path, title = excluded.title, "
        "author = excluded.author, opened_at = excluded.opened_at RETURNING id");
    upsert.bind(0, document.contentHash)
        .bind(1, document.path)
        .bind(2, document.title)
        .bind(3, document.author)
        .bind(4, documentKindKey(document.kind))
        .bind(5, document.pageCount())
        .bind(6, qint64(document.text.size()))
        .bind(7, now)
        .bind(8, now);
    upsert.step();
    const qint64 id = upsert.integer(0);
    upsert.run();
    return id;
}

std::optional<DocumentRecord> LibraryStore::documentByHash(const QString& contentHash)
{
    Statement select =
        m_db.prepare(QStringLiteral("SELECT %1 FROM documents WHERE content_hash = ?").arg(kDocumentColumns).toUtf8());
    select.bind(0, contentHash);
    if (!select.step())
        return std::nullopt;
    return documentFrom(select);
}

DocumentRecord LibraryStore::document(qint64 id)
{
    Statement select = m_db.prepare(QStringLiteral("SELECT %1 FROM documents WHERE id = ?").arg(kDocumentColumns).toUtf8());
    select.bind(0, id);
    if (!select.step())
        notFound(tr("document"), id);
    return documentFrom(select);
}

QVector<DocumentRecord> LibraryStore::documents()
{
    Statement select = m_db.prepare(
        QStringLiteral("SELECT %1 FROM documents ORDER BY opened_at DESC, id DESC").arg(kDocumentColumns).toUtf8());
    QVector<DocumentRecord> all;
    while (select.step())
        all.append(documentFrom(select));
    return all;
}

void LibraryStore::setDocumentTokens(qint64 id, qint64 tokens)
{
    m_db.prepare("UPDATE documents SET tokens = ? WHERE id = ?").bind(0, tokens).bind(1, id).run();
    if (m_db.changes() == 0)
        notFound(tr("document"), id);
}

void LibraryStore::removeDocument(qint64 id)
{
    m_db.prepare("DELETE FROM documents WHERE id = ?").bind(0, id).run();
    if (m_db.changes() == 0)
        notFound(tr("document"), id);
}

// ---------------------------------------------------------------------------------------
// Conversations

qint64 LibraryStore::createConversation(qint64 documentId, const QString& modelFingerprint, const QString& title)
{
    document(documentId);   // a clear NotFound rather than a foreign key failure
    const qint64 now = nowMs();
    m_db.prepare("INSERT INTO conversations (document_id, model_fingerprint, title, created_at, updated_at) "
                 "VALUES (?, ?, ?, ?, ?)")
        .bind(0, documentId)
        .bind(1, modelFingerprint)
        .bind(2, title)
        .bind(3, now)
        .bind(4, now)
        .run();
    return m_db.lastInsertId();
}

ConversationRecord LibraryStore::conversation(qint64 id)
{
    Statement select = m_db.prepare(QByteArray(kConversationSelect) + "WHERE c.id = ?");
    select.bind(0, id);
    if (!select.step())
        notFound(tr("conversation"), id);
    return conversationFrom(select);
}

QVector<ConversationRecord> LibraryStore::conversations()
{
    Statement select = m_db.prepare(QByteArray(kConversationSelect) + "ORDER BY c.updated_at DESC, c.id DESC");
    QVector<ConversationRecord> all;
    while (select.step())
        all.append(conversationFrom(select));
    return all;
}

QVector<ConversationRecord> LibraryStore::conversations(qint64 documentId)
{
    Statement select = m_db.prepare(QByteArray(kConversationSelect) +
                                    "WHERE c.document_id = ? ORDER BY c.updated_at DESC, c.id DESC");
    select.bind(0, documentId);
    QVector<ConversationRecord> all;
    while (select.step())
        all.append(conversationFrom(select));
    return all;
}

void LibraryStore::renameConversation(qint64 id, const QString& title)
{
    m_db.prepare("UPDATE conversations SET title = ?, updated_at = ? WHERE id = ?")
        .bind(0, title)
        .bind(1, nowMs())
        .bind(2, id)
        .run();
    if (m_db.changes() == 0)
        notFound(tr("conversation"), id);
}

void LibraryStore::touchConversation(qint64 id)
{
    m_db.prepare("UPDATE conversations SET updated_at = ? WHERE id = ?").bind(0, nowMs()).bind(1, id).run();
    if (m_db.changes() == 0)
        notFound(tr("conversation"), id);
}

void LibraryStore::deleteConversation(qint64 id)
{
    // Messages and the conversation's snapshots go with it (ON DELETE CASCADE).
    m_db.prepare("DELETE FROM conversations WHERE id = ?").bind(0, id).run();
    if (m_db.changes() == 0)
        notFound(tr("conversation"), id);
}

// ---------------------------------------------------------------------------------------
// Messages

qint64 LibraryStore::insertMessage(qint64 conversationId, const MessageRecord& message)
{
    const qint64 now = message.createdAtMs > 0 ? message.createdAtMs : nowMs();
    m_db.prepare("UPDATE conversations SET updated_at = ? WHERE id = ?").bind(0, nowMs()).bind(1, conversationId).run();
    if (m_db.changes() == 0)
        notFound(tr("conversation"), conversationId);
    m_db.prepare("INSERT INTO messages (conversation_id, role, text, created_at, token_begin, token_end, evidence, "
                 "interrupted, reasoning) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
        .bind(0, conversationId)
        .bind(1, messageRoleKey(message.role))
        .bind(2, message.text)
        .bind(3, now)
        .bind(4, message.tokenBegin)
        .bind(5, message.tokenEnd)
        .bind(6, evidenceJson(message.evidence))
        .bind(7, message.interrupted ? 1 : 0)
        .bind(8, message.reasoning)
        .run();
    return m_db.lastInsertId();
}

qint64 LibraryStore::appendMessage(qint64 conversationId, const MessageRecord& message)
{
    Transaction transaction(m_db);
    const qint64 id = insertMessage(conversationId, message);
    transaction.commit();
    return id;
}

TurnRecord LibraryStore::appendTurn(qint64 conversationId, const MessageRecord& question, const MessageRecord& answer,
                                    qint64 documentId, const QString& modelFingerprint, const QString& title)
{
    Transaction transaction(m_db);
    TurnRecord turn;
    turn.conversationId = conversationId ? conversationId : createConversation(documentId, modelFingerprint, title);
    turn.questionId = insertMessage(turn.conversationId, question);
    turn.answerId = insertMessage(turn.conversationId, answer);
    transaction.commit();
    return turn;
}

void LibraryStore::updateTurn(qint64 conversationId, const MessageRecord& question, const MessageRecord& answer)
{
    Transaction transaction(m_db);
    if (question.id) {
        m_db.prepare("UPDATE messages SET token_begin = ?, token_end = ? WHERE id = ? AND conversation_id = ?")
            .bind(0, question.tokenBegin)
            .bind(1, question.tokenEnd)
            .bind(2, question.id)
            .bind(3, conversationId)
            .run();
        if (m_db.changes() == 0)
            notFound(tr("message"), question.id);
    }
    m_db.prepare("UPDATE messages SET text = ?, token_begin = ?, token_end = ?, evidence = ?, interrupted = ?, "
                 "reasoning = ? WHERE id = ? AND conversation_id = ? AND role = 'assistant'")
        .bind(0, answer.text)
        .bind(1, answer.tokenBegin)
        .bind(2, answer.tokenEnd)
        .bind(3, evidenceJson(answer.evidence))
        .bind(4, answer.interrupted ? 1 : 0)
        .bind(5, answer.reasoning)
        .bind(6, answer.id)
        .bind(7, conversationId)
        .run();
    if (m_db.changes() == 0)
        notFound(tr("answer"), answer.id);
    m_db.prepare("UPDATE conversations SET updated_at = ? WHERE id = ?").bind(0, nowMs()).bind(1, conversationId).run();
    transaction.commit();
}

QVector<MessageRecord> LibraryStore::messages(qint64 conversationId)
{
    Statement select = m_db.prepare("SELECT id, conversation_id, role, text, created_at, token_begin, token_end, "
                                    "evidence, interrupted, reasoning FROM messages WHERE conversation_id = ? ORDER BY id");
    select.bind(0, conversationId);
    QVector<MessageRecord> all;
    while (select.step()) {
        MessageRecord m;
        m.id = select.integer(0);
        m.conversationId = select.integer(1);
        m.role = roleFromKey(select.text(2));
        m.text = select.text(3);
        m.createdAtMs = select.integer(4);
        m.tokenBegin = select.optionalInteger(5);
        m.tokenEnd = select.optionalInteger(6);
        m.evidence = evidenceFromJson(select.text(7));
        m.interrupted = select.integer(8) != 0;
        m.reasoning = select.text(9);
        all.append(m);
    }
    return all;
}

} // namespace folio
