// Documents, conversations and messages: saved, listed, changed, deleted, kept across reopening.
#include "app/store/kv_snapshot_store.h"
#include "app/store/library_store.h"

#include "store_fixtures.h"

#include <QTemporaryDir>
#include <QThread>

#include <gtest/gtest.h>

using namespace folio;

namespace {

class LibraryStoreTest : public ::testing::Test {
protected:
    QString path() const { return dir.filePath(QStringLiteral("folio.sqlite")); }
    QTemporaryDir dir;
};

StoreError::Kind errorKind(const std::function<void()>& action)
{
    try {
        action();
    } catch (const StoreError& e) {
        return e.kind();
    }
    return StoreError::Kind::Other;
}

} // namespace

TEST_F(LibraryStoreTest, DocumentsAreKnownByTheirContent)
{
    Database db(path());
    LibraryStore library(db);
    Document moby = test::storeDocument(QStringLiteral("moby"), 5);
    const qint64 id = library.rememberDocument(moby);
    DocumentRecord record = library.document(id);
    EXPECT_EQ(record.contentHash, moby.contentHash);
    EXPECT_EQ(record.title, QStringLiteral("moby"));
    EXPECT_EQ(record.author, QStringLiteral("Author of moby"));
    EXPECT_EQ(record.kind, QStringLiteral("text"));
    EXPECT_EQ(record.pages, 5);
    EXPECT_EQ(record.characters, moby.text.size());
    EXPECT_FALSE(record.tokens.has_value());

    // The same content opened from elsewhere is the same document.
    moby.path = QStringLiteral("/elsewhere/moby.txt");
    EXPECT_EQ(library.rememberDocument(moby), id);
    EXPECT_EQ(library.document(id).path, QStringLiteral("/elsewhere/moby.txt"));
    library.setDocumentTokens(id, 271'000);
    EXPECT_EQ(library.documentByHash(moby.contentHash)->tokens, 271'000);

    const qint64 other = library.rememberDocument(test::storeDocument(QStringLiteral("pequod")));
    EXPECT_NE(other, id);
    EXPECT_EQ(library.documents().size(), 2);
    EXPECT_FALSE(library.documentByHash(QStringLiteral("unknown")).has_value());
    EXPECT_EQ(errorKind([&] { library.document(9999); }), StoreError::Kind::NotFound);
}

TEST_F(LibraryStoreTest, ConversationsAndMessages)
{
    Database db(path());
    LibraryStore library(db);
    const qint64 moby = library.rememberDocument(test::storeDocument(QStringLiteral("moby")));
    const qint64 pequod = library.rememberDocument(test::storeDocument(QStringLiteral("pequod")));
    const qint64 first = library.createConversation(moby, QStringLiteral("model-a"), QStringLiteral("Whales"));
    const qint64 second = library.createConversation(moby, QStringLiteral("model-a"), QStringLiteral("Ahab"));
    const qint64 third = library.createConversation(pequod, QStringLiteral("model-b"), QStringLiteral("Ship"));

    EXPECT_EQ(library.conversations().size(), 3);
    EXPECT_EQ(library.conversations(moby).size(), 2);
    EXPECT_EQ(library.conversations(pequod).size(), 1);
    EXPECT_EQ(library.conversation(third).modelFingerprint, QStringLiteral("model-b"));

    MessageRecord question;
    question.role = MessageRole::User;
    question.text = QStringLiteral("Why is the whale white?");
    question.tokenBegin = 4000;
    question.tokenEnd = 4012;
    MessageRecord answer;
    answer.role = MessageRole::Assistant;
    answer.text = QStringLiteral("Because of \"The Whiteness of the Whale\" — chapter 42.");
    answer.tokenBegin = 4012;
    answer.tokenEnd = 4040;
    answer.evidence = {{41, 0.62}, {40, 0.21}};
    answer.reasoning = QStringLiteral("Chapter 42 is about whiteness.\nIt answers the question.");
    QThread::msleep(2);
    library.appendMessage(first, question);
    library.appendMessage(first, answer);

    const QVector<MessageRecord> messages = library.messages(first);
    ASSERT_EQ(messages.size(), 2);
    EXPECT_EQ(messages[0].role, MessageRole::User);
    EXPECT_EQ(messages[0].text, question.text);
    EXPECT_EQ(messages[0].tokenBegin, 4000);
    EXPECT_EQ(messages[1].role, MessageRole::Assistant);
    EXPECT_EQ(messages[1].text, answer.text);
    EXPECT_EQ(messages[1].tokenEnd, 4040);
    EXPECT_EQ(messages[1].evidence, answer.evidence);
    EXPECT_EQ(messages[1].reasoning, answer.reasoning);  // kept beside the answer, not in it
    EXPECT_EQ(messages[0].reasoning, QString());
    EXPECT_GT(messages[1].createdAtMs, 0);

    // Appending marks the conversation updated: it comes first.
    ConversationRecord updated = library.conversation(first);
    EXPECT_EQ(updated.messageCount, 2);
    EXPECT_GT(updated.updatedAtMs, updated.createdAtMs);
    EXPECT_EQ(library.conversations(moby).first().id, first);

    library.renameConversation(second, QStringLiteral("Captain Ahab"));
    EXPECT_EQ(library.conversation(second).title, QStringLiteral("Captain Ahab"));
    QThread::msleep(2);
    library.touchConversation(third);
    EXPECT_EQ(library.conversations().first().id, third);

    EXPECT_EQ(errorKind([&] { library.conversation(9999); }), StoreError::Kind::NotFound);
    EXPECT_EQ(errorKind([&] { library.renameConversation(9999, QStringLiteral("x")); }), StoreError::Kind::NotFound);
    EXPECT_EQ(errorKind([&] { library.appendMessage(9999, question); }), StoreError::Kind::NotFound);
    EXPECT_EQ(errorKind([&] { library.createConversation(9999, QStringLiteral("m"), {}); }), StoreError::Kind::NotFound);
}

TEST_F(LibraryStoreTest, DeletingCascadesToMessagesAndSnapshots)
{
    Database db(path());
    LibraryStore library(db);
    KvSnapshotStore snapshots(db);
    const qint64 doc = library.rememberDocument(test::storeDocument(QStringLiteral("moby")));
    const qint64 shared = test::saveSnapshot(snapshots, test::documentSpec(doc), test::patternBytes(10'000, 1));
    const qint64 kept = library.createConversation(doc, QStringLiteral("model-a"), QStringLiteral("kept"));
    const qint64 gone = library.createConversation(doc, QStringLiteral("model-a"), QStringLiteral("gone"));
    for (qint64 conversation : {kept, gone}) {
        library.appendMessage(conversation, {0, 0, MessageRole::User, QStringLiteral("hello"), 0, {}, {}, {}, false, {}});
        KvSnapshotSpec spec = test::documentSpec(doc);
        spec.kind = KvSnapshotKind::Conversation;
        spec.conversationId = conversation;
        spec.baseSnapshotId = shared;
        test::saveSnapshot(snapshots, spec, test::patternBytes(5'000, 2));
    }
    EXPECT_EQ(snapshots.snapshots().size(), 3);

    library.deleteConversation(gone);
    EXPECT_EQ(library.conversations(doc).size(), 1);
    EXPECT_EQ(test::queryInteger(db, "SELECT count(*) FROM messages"), 1);
    EXPECT_EQ(snapshots.snapshots().size(), 2);   // the shared one and the kept conversation's
    EXPECT_EQ(errorKind([&] { library.deleteConversation(gone); }), StoreError::Kind::NotFound);

    library.removeDocument(doc);
    EXPECT_TRUE(library.conversations().isEmpty());
    EXPECT_EQ(test::queryInteger(db, "SELECT count(*) FROM messages"), 0);
    EXPECT_TRUE(snapshots.snapshots().isEmpty());
    EXPECT_EQ(test::queryInteger(db, "SELECT count(*) FROM kv_snapshot_chunks"), 0);
}

TEST_F(LibraryStoreTest, EverythingIsThereAfterReopening)
{
    qint64 conversation = 0;
    {
        Database db(path());
        LibraryStore library(db);
        const qint64 doc = library.rememberDocument(test::storeDocument(QStringLiteral("moby")));
        conversation = library.createConversation(doc, QStringLiteral("model-a"), QStringLiteral("Whales"));
        library.appendMessage(conversation, {0, 0, MessageRole::User, QStringLiteral("Call me?"), 0, 10, 14, {}, false, {}});
    }
    Database db(path());
    LibraryStore library(db);
    EXPECT_EQ(library.conversation(conversation).title, QStringLiteral("Whales"));
    ASSERT_EQ(library.messages(conversation).size(), 1);
    EXPECT_EQ(library.messages(conversation)[0].text, QStringLiteral("Call me?"));
}
