// The chat pane through the main window with a scripted backend: reading progress,
// streamed answers saved with their evidence, Stop, cancelling a reading (resumed
// next time), citations that move the reader, conversations (new, rename, delete),
// and the app state reopened from the database.
#include "app/store/store_writer.h"
#include "ui/chat/chat_view.h"
#include "ui/shell/main_window.h"
#include "ui/reader/page_strip.h"
#include "ui/reader/reader_view.h"
#include "ui/chat/reading_progress.h"
#include "ui/chat/scripted_backend.h"
#include "ui_fixtures.h"

#include <QApplication>
#include <QClipboard>
#include <QComboBox>
#include <QLabel>
#include <QLocale>
#include <QPushButton>
#include <QTemporaryDir>
#include <QTextBrowser>
#include <QToolButton>
#include <QtTest>

using namespace folio;

class ChatTest : public QObject {
    Q_OBJECT

private slots:
    void initTestCase()
    {
        test::initUiTestApp(QStringLiteral("FolioChatTest"));
        QVERIFY(m_dir.isValid());
        m_text = test::writeTideTables(m_dir, QStringLiteral("tides.txt"));
    }

    void streamsAnAnswerAndKeepsIt()
    {
        MainWindow window;
        ScriptedBackend backend;
        backend.setAnswer(QStringLiteral("High water comes at dawn [p. 2], low water at noon."), {{1, 0.75}, {0, 0.25}});
        window.setChatBackend(&backend);
        window.show();
        open(window, m_text);
        ChatView* chat = window.chat();

        QSignalSpy tokens(&backend, &AnswerSource::token);
        QSignalSpy progress(&backend, &AnswerSource::readingProgress);
        QSignalSpy finished(chat, &ChatView::answerFinished);
        QVERIFY(chat->ask(QStringLiteral("When is high water?")));
        QVERIFY(chat->isAnswering());
        // The reading is reported with tokens done / total before the answer streams.
        QTRY_VERIFY_WITH_TIMEOUT(tokens.count() >= 2, 5000);
        QVERIFY(progress.count() >= 2);
        QCOMPARE(progress.last().at(1).toLongLong(), progress.last().at(2).toLongLong());
        QVERIFY(chat->streamingText().startsWith(QStringLiteral("High water")));
        QTRY_VERIFY(chat->transcript()->toPlainText().contains(QStringLiteral("High water")));
        QVERIFY(finished.wait(5000));

        QCOMPARE(chat->messages().size(), 2);
        QCOMPARE(chat->messages()[1].text, QStringLiteral("High water comes at dawn [p. 2], low water at noon."));
        QCOMPARE(backend.lastRequest().question, QStringLiteral("When is high water?"));
        QCOMPARE(backend.lastRequest().documentId, window.documentId());
        // The answer's evidence is drawn in the page strip.
        const QVector<double> weights = window.reader()->pageStrip()->weights();
        QCOMPARE(weights.value(1), 0.75);
        QCOMPARE(weights.value(0), 0.25);

        // The citation is a link that moves the reader.
        QVERIFY(chat->transcript()->toHtml().contains(QStringLiteral("folio-page:2")));
        emit chat->transcript()->anchorClicked(QUrl(QStringLiteral("folio-page:2")));
        QCOMPARE(window.currentPage(), 1);

        chat->copyLastAnswer();
        QCOMPARE(QApplication::clipboard()->text(), chat->messages()[1].text);

        // A second question reads nothing again.
        progress.clear();
        QVERIFY(chat->ask(QStringLiteral("And low water?")));
        QVERIFY(finished.wait(5000));
        QCOMPARE(progress.count(), 0);
        QCOMPARE(chat->messages().size(), 4);
        QCOMPARE(backend.lastRequest().history.size(), 2);
    }

    void stopEndsTheAnswerWithWhatWasWritten()
    {
        MainWindow window;
        ScriptedBackend backend;
        backend.setReadingTokens(0, 1);
        backend.setInterval(40);
        backend.setAnswer(QStringLiteral("one two three four five six seven eight nine ten"), {});
        window.setChatBackend(&backend);
        open(window, m_text);
        ChatView* chat = window.chat();
        chat->newConversation(QStringLiteral("Stopping"));
        QSignalSpy tokens(&backend, &AnswerSource::token);
        QVERIFY(chat->ask(QStringLiteral("Count to ten")));
        QTRY_VERIFY(tokens.count() >= 2);
        auto* stop = window.findChild<QPushButton*>(QStringLiteral("stopButton"));
        QVERIFY(stop->isEnabled());
        stop->click();
        QVERIFY(!chat->isAnswering());
        QVERIFY(!stop->isEnabled());
        const QString kept = chat->messages().last().text;
        QVERIFY(kept.startsWith(QStringLiteral("one two")));
        QVERIFY(!kept.endsWith(QStringLiteral("ten")));
    }

    void cancellingAReadingResumesLater()
    {
        MainWindow window;
        ScriptedBackend backend;
        backend.setReadingTokens(10000, 1000);
        backend.pauseReadingAt(3000);
        window.setChatBackend(&backend);
        window.show();
        open(window, m_text);
        ChatView* chat = window.chat();
        QVERIFY(chat->ask(QStringLiteral("What does the keeper sign?")));
        ReadingProgress* panel = chat->readingProgress();
        QTRY_VERIFY(panel->isVisible());
        const QString expected = QStringLiteral("%1 / %2 tokens").arg(QLocale().toString(3000), QLocale().toString(10000));
        QTRY_VERIFY2(panel->text().startsWith(expected), qPrintable(panel->text()));
        // The event loop keeps turning while the reading runs.
        int turns = 0;
        QTimer ticker;
        connect(&ticker, &QTimer::timeout, [&turns] { ++turns; });
        ticker.start(1);
        QTest::qWait(200);
        QVERIFY(turns > 2);

        window.findChild<QPushButton*>(QStringLiteral("cancelReadingButton"))->click();
        QVERIFY(!panel->isVisible());
        QVERIFY(!chat->isAnswering());
        QCOMPARE(backend.readTokens(window.documentId()), 3000);

        // Asking again continues from 3,000 tokens.
        backend.pauseReadingAt(-1);
        QSignalSpy progress(&backend, &AnswerSource::readingProgress);
        QSignalSpy finished(chat, &ChatView::answerFinished);
        QVERIFY(chat->ask(QStringLiteral("What does the keeper sign?")));
        QVERIFY(finished.wait(5000));
        QCOMPARE(progress.first().at(1).toLongLong(), 4000);
    }

    void conversationsAreKeptPerDocumentAndReopened()
    {
        qint64 first = 0;
        {
            MainWindow window;
            ScriptedBackend backend;
            backend.setReadingTokens(0, 1);
            window.setChatBackend(&backend);
            open(window, m_text);
            ChatView* chat = window.chat();
            const int before = chat->conversationCount();
            chat->newConversation(QStringLiteral("Tides"));
            // Listed at once; in the store with its first turn, not before.
            QCOMPARE(chat->conversationCount(), before + 1);
            QCOMPARE(chat->conversationId(), 0);
            QCOMPARE(window.store()->conversations(window.documentId()).size(), before);
            QSignalSpy finished(chat, &ChatView::answerFinished);
            QVERIFY(chat->ask(QStringLiteral("Who signs the log?")));
            QVERIFY(finished.wait(5000));
            // The turn is saved off the GUI thread; the conversation then has its id.
            QTRY_VERIFY(chat->conversationId() != 0);
            first = chat->conversationId();
            QCOMPARE(window.store()->messages(first).size(), 2);
            QCOMPARE(window.store()->conversation(first).title, QStringLiteral("Tides"));
            chat->renameConversation(QStringLiteral("Tides and keepers"));
            chat->newConversation();
            QCOMPARE(chat->conversationCount(), before + 2);
            QCOMPARE(chat->conversationId(), 0);
            QVERIFY(chat->messages().isEmpty());
            chat->deleteConversation();   // an empty new one: never stored, just gone
            QCOMPARE(chat->conversationCount(), before + 1);
            chat->selectConversation(first);
            QCOMPARE(chat->messages().size(), 2);
            window.storeWriter()->flush();
        }
        // A new window (the app started again) shows the conversation as it was.
        MainWindow again;
        open(again, m_text);
        ChatView* chat = again.chat();
        auto* box = again.findChild<QComboBox*>(QStringLiteral("conversationBox"));
        const int index = box->findData(first);
        QVERIFY(index >= 0);
        QCOMPARE(box->itemText(index), QStringLiteral("Tides and keepers"));
        chat->selectConversation(first);
        QCOMPARE(chat->messages().size(), 2);
        QCOMPARE(chat->messages()[0].text, QStringLiteral("Who signs the log?"));
        QVERIFY(chat->transcript()->toPlainText().contains(QStringLiteral("Who signs the log?")));
        // Without a model, asking says so in the window instead of failing silently.
        QVERIFY(!chat->ask(QStringLiteral("Anything else?")));
        QVERIFY(again.lastError().contains(QStringLiteral("Model Manager")));
    }

    void regenerateKeepsTheEarlierAnswers()
    {
        qint64 conversation = 0;
        {
            MainWindow window;
            ScriptedBackend backend;
            backend.setReadingTokens(0, 1);
            backend.setAnswer(QStringLiteral("First answer [p. 1]."), {{0, 1.0}});
            window.setChatBackend(&backend);
            window.show();
            open(window, m_text);
            ChatView* chat = window.chat();
            chat->newConversation(QStringLiteral("Twice"));
            QSignalSpy finished(chat, &ChatView::answerFinished);
            QVERIFY(chat->ask(QStringLiteral("Where is the keeper?")));
            QVERIFY(finished.wait(5000));

            backend.setAnswer(QStringLiteral("Second answer [p. 2]."), {{1, 1.0}});
            auto* regenerate = window.findChild<QToolButton*>(QStringLiteral("regenerateButton"));
            QVERIFY(regenerate->isEnabled());
            regenerate->click();
            QVERIFY(chat->isAnswering());
            QVERIFY(backend.lastRequest().history.isEmpty());   // the question is asked again, not after its answer
            QCOMPARE(backend.lastRequest().question, QStringLiteral("Where is the keeper?"));
            QVERIFY(finished.wait(5000));

            // Both answers are kept; the new one is shown with a way back to the first.
            QCOMPARE(chat->messages().size(), 3);
            QCOMPARE(chat->turnCount(), 1);
            QCOMPARE(chat->shownAnswer(0), 1);
            QString shown = chat->transcript()->toPlainText();
            QVERIFY2(shown.contains(QStringLiteral("Second answer")) && shown.contains(QStringLiteral("2/2")), qPrintable(shown));
            QVERIFY(!shown.contains(QStringLiteral("First answer")));
            QCOMPARE(shown.count(QStringLiteral("Where is the keeper?")), 1);
            QCOMPARE(window.reader()->pageStrip()->weights().value(1), 1.0);

            QVERIFY(chat->transcript()->toHtml().contains(QStringLiteral("folio-answer:0.0")));
            emit chat->transcript()->anchorClicked(QUrl(QStringLiteral("folio-answer:0.0")));
            shown = chat->transcript()->toPlainText();
            QVERIFY2(shown.contains(QStringLiteral("First answer")) && shown.contains(QStringLiteral("1/2")), qPrintable(shown));
            QVERIFY(!shown.contains(QStringLiteral("Second answer")));
            // The answer shown is the one selected: its evidence, its text to copy.
            QCOMPARE(window.reader()->pageStrip()->weights().value(0), 1.0);
            QCOMPARE(window.reader()->pageStrip()->weights().value(1), 0.0);
            chat->copyLastAnswer();
            QCOMPARE(QApplication::clipboard()->text(), QStringLiteral("First answer [p. 1]."));

            // A follow-up continues from the answer shown.
            backend.setAnswer(QStringLiteral("Third."), {});
            QVERIFY(chat->ask(QStringLiteral("And then?")));
            QCOMPARE(backend.lastRequest().history.size(), 2);
            QCOMPARE(backend.lastRequest().history[1].text, QStringLiteral("First answer [p. 1]."));
            QVERIFY(finished.wait(5000));
            QCOMPARE(chat->turnCount(), 2);
            QCOMPARE(chat->shownAnswer(0), 0);
            window.storeWriter()->flush();
            QTRY_VERIFY(chat->conversationId() != 0);
            conversation = chat->conversationId();
            QCOMPARE(window.store()->conversation(conversation).title, QStringLiteral("Twice"));
        }
        // Reopened, the conversation still holds both answers (the newest shown).
        MainWindow again;
        open(again, m_text);
        ChatView* chat = again.chat();
        chat->selectConversation(conversation);
        QCOMPARE(chat->messages().size(), 5);
        QCOMPARE(chat->turnCount(), 2);
        QCOMPARE(chat->shownAnswer(0), 1);
        QVERIFY(chat->transcript()->toPlainText().contains(QStringLiteral("2/2")));
        chat->showAnswer(0, 0);
        QVERIFY(chat->transcript()->toPlainText().contains(QStringLiteral("First answer")));
    }

    void answersAskedAgainAreGroupedUnderTheirQuestion()
    {
        const auto message = [](MessageRole role, const char* text) {
            MessageRecord m;
            m.role = role;
            m.text = QString::fromUtf8(text);
            return m;
        };
        // How the app's worker stores a regenerated answer: the question again, then the answer.
        const QVector<MessageRecord> messages = {
            message(MessageRole::System, "rules"),      message(MessageRole::User, "q1"),
            message(MessageRole::Assistant, "a1"),      message(MessageRole::User, "q1"),
            message(MessageRole::Assistant, "a1 again"), message(MessageRole::Assistant, "a1 third"),
            message(MessageRole::User, "q2"),           message(MessageRole::User, "q2"),
            message(MessageRole::Assistant, "a2"),
        };
        const QVector<ChatTurn> turns = ChatView::turns(messages);
        QCOMPARE(turns.size(), 3);
        QCOMPARE(turns[0].question, 1);
        QCOMPARE(turns[0].answers, (QVector<int>{2, 4, 5}));
        // The same question twice in a row, with no answer between, is asked twice.
        QCOMPARE(turns[1].question, 6);
        QVERIFY(turns[1].answers.isEmpty());
        QCOMPARE(turns[2].question, 7);
        QCOMPARE(turns[2].answers, (QVector<int>{8}));
    }

    // A reasoning model's thinking: counted while it streams, then folded under a
    // link above the answer, unfolded as a quote on a click; the answer alone is the
    // answer (copied, stored), and the thinking is kept beside it.
    void aModelsThinkingIsFoldedAboveItsAnswer()
    {
        MainWindow window;
        ScriptedBackend backend;
        backend.setInterval(40);
        backend.setReasoning(QStringLiteral("The tide table lists dawn first.\nSo high water is at dawn."));
        backend.setAnswer(QStringLiteral("At dawn [p. 2]."), {{1, 1.0}});
        window.setChatBackend(&backend);
        window.show();
        open(window, m_text);
        ChatView* chat = window.chat();
        QSignalSpy finished(chat, &ChatView::answerFinished);
        QVERIFY(chat->ask(QStringLiteral("When is high water?")));
        QTRY_VERIFY_WITH_TIMEOUT(chat->transcript()->toPlainText().contains(QStringLiteral("Thinking… (12 words)"))
                                     || chat->transcript()->toPlainText().contains(QStringLiteral("Thought first (12 words)")),
                                 5000);
        QVERIFY(finished.wait(5000));
        const MessageRecord& answer = chat->messages().last();
        QCOMPARE(answer.text, QStringLiteral("At dawn [p. 2]."));
        QCOMPARE(answer.reasoning, QStringLiteral("The tide table lists dawn first.\nSo high water is at dawn."));
        QString text = chat->transcript()->toPlainText();
        QVERIFY2(text.contains(QStringLiteral("Show the thinking (12 words)")), qPrintable(text));
        QVERIFY(!text.contains(QStringLiteral("lists dawn first")));
        const QString html = chat->transcript()->toHtml();
        const int at = html.indexOf(QStringLiteral("folio-thinking:"));
        QVERIFY(at > 0);
        const QString link = html.mid(at, html.indexOf(QLatin1Char('"'), at) - at);
        emit chat->transcript()->anchorClicked(QUrl(link));
        text = chat->transcript()->toPlainText();
        QVERIFY2(text.contains(QStringLiteral("lists dawn first")) && text.contains(QStringLiteral("Hide the thinking")),
                 qPrintable(text));
        chat->copyLastAnswer();
        QCOMPARE(QApplication::clipboard()->text(), QStringLiteral("At dawn [p. 2]."));
        emit chat->transcript()->anchorClicked(QUrl(link));
        QVERIFY(!chat->transcript()->toPlainText().contains(QStringLiteral("lists dawn first")));
    }

    void citationsBecomeLinks()
    {
        QCOMPARE(ChatView::linkCitations(QStringLiteral("see [p. 12] and [pp. 3-4].")),
                 QStringLiteral("see [p. 12](folio-page:12) and [pp. 3-4](folio-page:3)."));
        QCOMPARE(ChatView::linkCitations(QStringLiteral("[link](http://x) [1]")), QStringLiteral("[link](http://x) [1]"));
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
};

QTEST_MAIN(ChatTest)
#include "chat_test.moc"
