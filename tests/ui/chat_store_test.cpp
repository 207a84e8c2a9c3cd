// Defect 6 of the chat path: the GUI thread wrote to the library itself (a conversation
// created, renamed, deleted; the turns of a source that stores nothing; a document
// remembered or removed) and waited out another connection's lock. These writes now go
// through the window's StoreWriter: with the database held by another connection (a
// snapshot commit on the worker), the window keeps answering, and what it wrote lands
// once the lock is gone, the question with its answer in one transaction. A source
// that stores nothing, stopped by a switch of conversation, keeps its question and
// partial answer too (defect 1, for the server source).
#include "app/store/database.h"
#include "app/store/library_store.h"
#include "app/store/store_writer.h"
#include "ui/chat/chat_view.h"
#include "ui/chat/scripted_backend.h"
#include "ui/shell/main_window.h"
#include "ui_fixtures.h"

#include <QElapsedTimer>
#include <QTemporaryDir>
#include <QTimer>
#include <QtTest>

using namespace folio;

class ChatStoreTest : public QObject {
    Q_OBJECT

private slots:
    void initTestCase()
    {
        test::initUiTestApp(QStringLiteral("FolioChatStoreTest"));
        QVERIFY(m_dir.isValid());
        m_text = test::writeTideTables(m_dir, QStringLiteral("tides.txt"));
        m_other = test::writeFile(m_dir, QStringLiteral("other.txt"), "Another text about the lighthouse keeper.");
    }

    void aHeldDatabaseDoesNotHoldTheWindowAndLosesNoTurn()
    {
        MainWindow window;
        ScriptedBackend backend;
        backend.setReadingTokens(0, 1);
        backend.setAnswer(QStringLiteral("The keeper signs [p. 1]."), {{0, 1.0}});
        window.setChatBackend(&backend);
        open(window, m_text);
        ChatView* chat = window.chat();
        const qint64 documentId = window.documentId();

        // Another connection holds the write lock, far longer than a busy timeout.
        Database holder(Database::defaultPath());
        holder.execute("BEGIN IMMEDIATE");
        QElapsedTimer timer;
        timer.start();
        int turns = 0;
        QTimer ticker;
        connect(&ticker, &QTimer::timeout, [&turns] { ++turns; });
        ticker.start(5);

        chat->newConversation(QStringLiteral("Held"));
        QSignalSpy finished(chat, &ChatView::answerFinished);
        QVERIFY(chat->ask(QStringLiteral("Who signs the log?")));
        QVERIFY(finished.wait(5000));
        QCOMPARE(chat->messages().size(), 2);   // shown at once, saved later
        chat->renameConversation(QStringLiteral("Held, renamed"));
        QTest::qWait(300);
        // Nothing waited on the lock: the event loop kept turning and the window answered.
        QVERIFY2(turns > 20, qPrintable(QString::number(turns)));
        QVERIFY(timer.elapsed() < 5000);   // less than one busy timeout of the old code
        QCOMPARE(chat->conversationId(), 0);   // not in the store yet
        holder.execute("COMMIT");

        // Once the lock is gone the turn lands, question and answer together.
        QTRY_VERIFY_WITH_TIMEOUT(chat->conversationId() != 0, 20000);
        window.storeWriter()->flush();
        QCoreApplication::processEvents();
        LibraryStore reader(holder);
        const QVector<MessageRecord> saved = reader.messages(chat->conversationId());
        QCOMPARE(saved.size(), 2);
        QCOMPARE(saved[0].text, QStringLiteral("Who signs the log?"));
        QCOMPARE(saved[1].text, QStringLiteral("The keeper signs [p. 1]."));
        QCOMPARE(saved[1].evidence.size(), 1);
        QCOMPARE(reader.conversation(chat->conversationId()).title, QStringLiteral("Held, renamed"));
        QCOMPARE(reader.conversation(chat->conversationId()).documentId, documentId);
        QTRY_COMPARE(chat->messages()[1].id, saved[1].id);   // the view shows them as saved
    }

    void aDocumentOpenedWhileTheDatabaseIsHeldIsShownAtOnceAndRememberedLater()
    {
        MainWindow window;
        ScriptedBackend backend;
        window.setChatBackend(&backend);
        Database holder(Database::defaultPath());
        holder.execute("BEGIN IMMEDIATE");
        QSignalSpy shown(&window, &MainWindow::documentShown);
        window.openDocument(m_other);
        // The reader shows it while the library waits for the lock.
        QTRY_VERIFY_WITH_TIMEOUT(window.windowTitle().contains(QStringLiteral("other")), 10000);
        QTest::qWait(300);
        QCOMPARE(shown.count(), 0);
        QCOMPARE(window.documentId(), 0);
        holder.execute("COMMIT");
        QVERIFY(shown.wait(20000));
        QVERIFY(window.documentId() != 0);
        QCOMPARE(window.chat()->conversationCount(), 0);
        LibraryStore reader(holder);
        QCOMPARE(reader.document(window.documentId()).title, window.document()->title);
    }

    void aSwitchMidAnswerKeepsTheQuestionAndThePartialAnswer()
    {
        qint64 first = 0;
        MainWindow window;
        ScriptedBackend backend;
        backend.setReadingTokens(0, 1);
        backend.setAnswer(QStringLiteral("Short."), {});
        window.setChatBackend(&backend);
        open(window, m_text);
        ChatView* chat = window.chat();
        chat->newConversation();   // the document has conversations from the tests before
        QSignalSpy finished(chat, &ChatView::answerFinished);
        QVERIFY(chat->ask(QStringLiteral("A first question")));
        QVERIFY(finished.wait(5000));
        QTRY_VERIFY(chat->conversationId() != 0);
        first = chat->conversationId();

        // A long answer in a new conversation, left for the first one part way.
        backend.setInterval(30);
        backend.setAnswer(QStringLiteral("one two three four five six seven eight nine ten eleven twelve"), {});
        chat->newConversation(QStringLiteral("Left"));
        QSignalSpy tokens(&backend, &AnswerSource::token);
        QVERIFY(chat->ask(QStringLiteral("Count to twelve")));
        QTRY_VERIFY(tokens.count() >= 2);
        chat->selectConversation(first);
        QVERIFY(!chat->isAnswering());
        QCOMPARE(chat->messages().size(), 2);   // the first conversation, as it was

        // The left conversation is in the store with its question and what was written.
        window.storeWriter()->flush();
        QCoreApplication::processEvents();
        qint64 left = 0;
        for (const ConversationRecord& c : window.store()->conversations(window.documentId()))
            if (c.title == QStringLiteral("Left"))
                left = c.id;
        QVERIFY(left != 0);
        const QVector<MessageRecord> kept = window.store()->messages(left);
        QCOMPARE(kept.size(), 2);
        QCOMPARE(kept[0].text, QStringLiteral("Count to twelve"));
        QVERIFY(kept[1].interrupted);
        QVERIFY2(kept[1].text.startsWith(QStringLiteral("one")), qPrintable(kept[1].text));
        QVERIFY(!kept[1].text.endsWith(QStringLiteral("twelve")));
        chat->selectConversation(left);
        QCOMPARE(chat->messages().size(), 2);
        QVERIFY(chat->messages()[1].interrupted);
    }

    void aFailedQuestionLeavesNothingInTheStoreAndGoesBackToTheBox()
    {
        MainWindow window;
        ScriptedBackend backend;
        backend.setReadingTokens(0, 1);
        backend.failNextWith(QStringLiteral("The server hung up."));
        window.setChatBackend(&backend);
        open(window, m_text);
        ChatView* chat = window.chat();
        const int before = int(window.store()->conversations(window.documentId()).size());
        chat->newConversation();
        QSignalSpy failed(chat, &ChatView::failed);
        QVERIFY(chat->ask(QStringLiteral("Anything?")));
        QVERIFY(failed.wait(5000));
        QVERIFY(chat->messages().isEmpty());
        window.storeWriter()->flush();
        QCOMPARE(int(window.store()->conversations(window.documentId()).size()), before);
    }

private:
    static void open(MainWindow& window, const QString& path)
    {
        QSignalSpy shown(&window, &MainWindow::documentShown);
        window.openDocument(path);
        QVERIFY(shown.wait(10000));
    }

    QTemporaryDir m_dir;
    QString m_text;
    QString m_other;
};

QTEST_MAIN(ChatStoreTest)
#include "chat_store_test.moc"
