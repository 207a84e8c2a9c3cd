// The chat transcript rendered a turn at a time: the parts of a TranscriptDocument read
// as one Markdown document of them would, whatever order they were appended, replaced
// and cut in; a streamed answer appears as it comes and changes only its own turn; a
// finished transcript (stopped, regenerated, another answer shown) reads the same as
// its whole Markdown rendered at once, which is how the pane drew it before.
#include "app/store/database.h"
#include "app/store/library_store.h"
#include "app/store/store_writer.h"
#include "ui/chat/chat_view.h"
#include "ui/chat/scripted_backend.h"
#include "ui/chat/transcript_document.h"
#include "ui_fixtures.h"

#include <QTemporaryDir>
#include <QTextBrowser>
#include <QTextDocument>
#include <QtTest>

using namespace folio;

// An answer long enough to be stopped part way however slowly the test runs.
static const QString kCounting = QStringLiteral(
    "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen "
    "eighteen nineteen twenty twenty-one twenty-two twenty-three twenty-four twenty-five twenty-six twenty-seven");

class ChatTranscriptTest : public QObject {
    Q_OBJECT

private slots:
    void initTestCase()
    {
        test::initUiTestApp(QStringLiteral("FolioChatTranscriptTest"));
        QVERIFY(m_dir.isValid());
    }

    void partsReadAsTheirMarkdownJoined()
    {
        const QStringList kinds = {
            QStringLiteral("**You**\n\nWhat is *this*?\n\n---\n\n"),
            QStringLiteral("**Folio**  ‹ 1/2 ›\n\n# Head\n\nText [p. 1](folio-page:1).\n\n- a\n- b\n\n```\ncode\n```\n\n---\n\n"),
            QStringLiteral("**You**\n\n1. first\n2. second\n\n---\n\n"),
            QStringLiteral("**Folio**\n\n> quoted\n\nwriting ▍\n\n"),
        };
        QTextDocument document;
        TranscriptDocument parts(&document);
        QStringList shown;
        const auto check = [&] {
            QTextDocument whole;
            whole.setMarkdown(shown.join(QString()));
            QCOMPARE(document.toHtml(), whole.toHtml());
            QCOMPARE(parts.partCount(), shown.size());
        };
        for (int i = 0; i < 8; ++i) {
            parts.append(kinds[i % kinds.size()]);
            shown << kinds[i % kinds.size()];
            check();
        }
        // Replaced at the start, in the middle and at the end; the others move.
        for (int index : {0, 3, 7}) {
            parts.replace(index, kinds[(index + 1) % kinds.size()]);
            shown[index] = kinds[(index + 1) % kinds.size()];
            check();
        }
        parts.truncate(5);
        shown = shown.mid(0, 5);
        check();
        parts.append(kinds[3]);
        shown << kinds[3];
        check();
        parts.truncate(0);
        shown.clear();
        check();
        QVERIFY(document.isEmpty());
        parts.append(kinds[1]);
        shown << kinds[1];
        check();
    }

    void aStreamedAnswerChangesOnlyItsTurn()
    {
        Fixture f(m_dir, 20);
        f.backend.setInterval(15);
        f.backend.setAnswer(QStringLiteral("Low water comes **at noon** [p. 3], and again after midnight when the "
                                           "moon is new, as the keeper's log of the spring tides says."),
                            {{2, 1.0}});
        QTextDocument* document = f.view.transcript()->document();
        const QString before = document->toPlainText().trimmed();
        QVERIFY(before.contains(QStringLiteral("Question 20")));

        // What the transcript showed while the answer was written, and where it changed.
        QStringList frames;
        connect(document, &QTextDocument::contentsChanged, this, [&] {
            if (f.view.isAnswering() && (frames.isEmpty() || frames.last() != document->toPlainText()))
                frames << document->toPlainText();
        });
        int earliestChange = document->characterCount();
        connect(document, &QTextDocument::contentsChange, this,
                [&](int position, int, int) { earliestChange = std::min(earliestChange, position); });
        QSignalSpy finished(&f.view, &ChatView::answerFinished);
        QVERIFY(f.view.ask(QStringLiteral("And low water?")));
        QVERIFY(finished.wait(5000));

        // The answer appeared a few words at a time, below what was there.
        QStringList partial;
        for (const QString& frame : frames) {
            QVERIFY(frame.startsWith(before));
            if (frame.contains(QStringLiteral("Low water")) && !frame.contains(QStringLiteral("spring tides says.")))
                partial << frame;
        }
        QVERIFY2(partial.size() >= 2, qPrintable(frames.join(QStringLiteral("\n=====\n"))));
        QVERIFY(partial.last().contains(QStringLiteral("▍")));
        const QString shown = f.view.transcript()->toPlainText();
        QVERIFY(shown.contains(QStringLiteral("Low water comes at noon p. 3, and again")));
        QVERIFY(shown.contains(QStringLiteral("the keeper's log of the spring tides says.")));
        QVERIFY(!shown.contains(QStringLiteral("▍")));
        // Nothing above the new turn was drawn again.
        QVERIFY2(earliestChange >= before.size(), qPrintable(QString::number(earliestChange)));
    }

    void aFinishedTranscriptReadsAsItsWholeMarkdown()
    {
        Fixture f(m_dir, 3);
        QSignalSpy finished(&f.view, &ChatView::answerFinished);
        f.backend.setAnswer(QStringLiteral("The keeper signs [p. 2].\n\n- at dawn\n- at dusk"), {{1, 1.0}});
        QVERIFY(f.view.ask(QStringLiteral("Who signs?")));
        QVERIFY(finished.wait(5000));
        // Answered again, then the first answer shown again.
        f.backend.setAnswer(QStringLiteral("The master signs."), {});
        f.view.regenerate();
        QVERIFY(finished.wait(5000));
        f.view.showAnswer(f.view.turnCount() - 1, 0);
        // Stopped after a few words.
        f.backend.setInterval(30);
        f.backend.setAnswer(kCounting, {});
        QSignalSpy tokens(&f.backend, &AnswerSource::token);
        QVERIFY(f.view.ask(QStringLiteral("Count")));
        QTRY_VERIFY(tokens.count() >= 2);
        f.view.stop();
        QVERIFY(!f.view.isAnswering());

        const QString shown = f.view.transcript()->toPlainText();
        QVERIFY(shown.contains(QStringLiteral("Question 1")) && shown.contains(QStringLiteral("Who signs?")));
        QVERIFY(shown.contains(QStringLiteral("The keeper signs p. 2.")) && shown.contains(QStringLiteral("1/2")));
        QVERIFY(!shown.contains(QStringLiteral("The master signs.")));
        QVERIFY(shown.contains(QStringLiteral("(stopped)")));
        QVERIFY(f.view.transcript()->toHtml().contains(QStringLiteral("folio-answer:3.1")));
        QTextDocument whole;
        whole.setMarkdown(f.view.transcriptMarkdown());
        QCOMPARE(f.view.transcript()->toHtml(), whole.toHtml());

        // Reopened from the store (drawn at once), with the same answer shown, it reads the same.
        f.writer.flush();   // the turns are saved off this thread
        QCoreApplication::processEvents();
        ChatView again;
        again.setStore(&f.store, &f.writer);
        again.setBackend(&f.backend);
        again.setDocument(f.document, f.documentId);
        again.showAnswer(3, 0);
        QCOMPARE(again.transcriptMarkdown(), f.view.transcriptMarkdown());
        QCOMPARE(again.transcript()->toHtml(), f.view.transcript()->toHtml());
    }

    void aStoppedAnswerCanBeAnsweredAgain()
    {
        Fixture f(m_dir, 1);
        QSignalSpy finished(&f.view, &ChatView::answerFinished);
        f.backend.setInterval(30);
        f.backend.setAnswer(kCounting, {});
        QSignalSpy tokens(&f.backend, &AnswerSource::token);
        QVERIFY(f.view.ask(QStringLiteral("Count")));
        QTRY_VERIFY(tokens.count() >= 2);
        f.view.stop();
        QVERIFY(f.view.messages().last().interrupted);
        QVERIFY(f.view.transcript()->toPlainText().contains(QStringLiteral("(stopped) Continue Answer again")));
        QVERIFY(f.view.transcript()->toHtml().contains(QStringLiteral("folio-again:1")));

        f.backend.setInterval(5);
        f.backend.setAnswer(QStringLiteral("One to ten."), {});
        emit f.view.transcript()->anchorClicked(QUrl(QStringLiteral("folio-again:1")));
        QVERIFY(f.view.isAnswering());
        QVERIFY(f.backend.lastRequest().again);
        QCOMPARE(f.backend.lastRequest().question, QStringLiteral("Count"));
        QVERIFY(finished.wait(5000));
        QCOMPARE(f.view.turnCount(), 2);
        QCOMPARE(f.view.shownAnswer(1), 1);
        QVERIFY(!f.view.transcript()->toPlainText().contains(QStringLiteral("Answer again")));

        // Shown again, the stopped answer offers it while its question is the last one.
        f.view.showAnswer(1, 0);
        QVERIFY(f.view.transcript()->toPlainText().contains(QStringLiteral("Answer again")));
        QVERIFY(f.view.ask(QStringLiteral("Next")));
        QVERIFY(!f.view.transcript()->toPlainText().contains(QStringLiteral("Answer again")));
        QVERIFY(finished.wait(5000));
        QTextDocument whole;
        whole.setMarkdown(f.view.transcriptMarkdown());
        QCOMPARE(f.view.transcript()->toHtml(), whole.toHtml());
    }

    // Continue writes on the stopped answer where it is: one answer, longer, saved in
    // place (no new row), its mark gone; the turn shows no switcher.
    void aStoppedAnswerCanBeContinued()
    {
        Fixture f(m_dir, 1);
        QSignalSpy finished(&f.view, &ChatView::answerFinished);
        f.backend.setInterval(30);
        f.backend.setAnswer(kCounting, {});
        QSignalSpy tokens(&f.backend, &AnswerSource::token);
        QVERIFY(f.view.ask(QStringLiteral("Count")));
        QTRY_VERIFY(tokens.count() >= 3);
        f.view.stop();
        const QString partial = f.view.messages().last().text;
        QVERIFY(f.view.messages().last().interrupted);
        QVERIFY(f.view.transcript()->toHtml().contains(QStringLiteral("folio-continue:1")));
        const int before = int(f.view.messages().size());

        f.backend.setInterval(2);
        emit f.view.transcript()->anchorClicked(QUrl(QStringLiteral("folio-continue:1")));
        QVERIFY(f.view.isAnswering());
        QVERIFY(f.backend.lastRequest().continuing);
        QCOMPARE(f.backend.lastRequest().history.last().text, partial);
        // While it writes on, the text so far is shown once, in the answer being written.
        QCOMPARE(f.view.transcript()->toPlainText().count(partial), 1);
        QVERIFY(finished.wait(5000));
        QCOMPARE(int(f.view.messages().size()), before);
        QCOMPARE(f.view.messages().last().text, kCounting);
        QVERIFY(!f.view.messages().last().interrupted);
        QVERIFY(!f.view.transcript()->toPlainText().contains(QStringLiteral("(stopped)")));
        QVERIFY(!f.view.transcript()->toPlainText().contains(QStringLiteral("2/2")));

        f.writer.flush();
        const QVector<MessageRecord> saved = f.store.messages(f.view.conversationId());
        QCOMPARE(int(saved.size()), before);
        QCOMPARE(saved.last().text, kCounting);
        QVERIFY(!saved.last().interrupted);
    }

private:
    // A ChatView on a conversation of `turns` finished turns in a store of its own.
    struct Fixture {
        Fixture(const QTemporaryDir& dir, int turns)
            : db(dir.filePath(QStringLiteral("chat-%1.sqlite").arg(++s_count))), store(db)
        {
            auto doc = std::make_shared<Document>();
            doc->path = QStringLiteral("tides.txt");
            doc->contentHash = QString::number(s_count).repeated(8);
            doc->text = QStringLiteral("The tide tables.");
            document = doc;
            documentId = store.rememberDocument(*doc);
            const qint64 conversation = store.createConversation(documentId, QString(), QStringLiteral("Tides"));
            for (int t = 0; t < turns; ++t) {
                MessageRecord question;
                question.text = QStringLiteral("Question %1?").arg(t + 1);
                store.appendMessage(conversation, question);
                MessageRecord answer;
                answer.role = MessageRole::Assistant;
                answer.text = QStringLiteral("Answer %1 with **emphasis** [p. %1].").arg(t + 1);
                answer.evidence = {{t, 1.0}};
                store.appendMessage(conversation, answer);
            }
            backend.setReadingTokens(0, 1);
            view.setStore(&store, &writer);
            view.setBackend(&backend);
            view.setDocument(document, documentId);
            view.resize(500, 700);
            view.show();
        }
        static inline int s_count = 0;
        Database db;
        LibraryStore store;
        StoreWriter writer{db.path()};
        std::shared_ptr<const Document> document;
        qint64 documentId = 0;
        ScriptedBackend backend;
        ChatView view;
    };

    QTemporaryDir m_dir;
};

QTEST_MAIN(ChatTranscriptTest)
#include "chat_transcript_test.moc"
