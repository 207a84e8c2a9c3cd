// Review for venue: the form's sections and scores streamed, parsed, checked and
// exported as Markdown, with a scripted backend (the prompt itself is app/review's).
#include "app/review/venue_form.h"
#include "ui/shell/main_window.h"
#include "ui/review/review_dialog.h"
#include "ui/chat/scripted_backend.h"
#include "ui_fixtures.h"

#include <QComboBox>
#include <QFile>
#include <QTemporaryDir>
#include <QTextBrowser>
#include <QtTest>

using namespace folio;

namespace {

// An answer laid out as ReviewPromptBuilder asks: "## Title" sections, then scores.
QString reviewAnswer(const VenueForm& form)
{
    QString text;
    for (const ReviewSection& section : form.sections)
        text += QStringLiteral("## %1\nThe %2 of the paper, briefly.\n\n").arg(section.title, section.title.toLower());
    text += QStringLiteral("## Scores\n");
    for (const ReviewScore& score : form.scores)
        text += QStringLiteral("%1: %2\n").arg(score.title).arg(score.scale.max());
    return text;
}

} // namespace

class ReviewTest : public QObject {
    Q_OBJECT

private slots:
    void initTestCase()
    {
        test::initUiTestApp(QStringLiteral("FolioReviewTest"));
        QVERIFY(m_dir.isValid());
        m_pdf = test::writeTextPdf(m_dir, QStringLiteral("paper.pdf"),
                                   {QStringLiteral("We propose a method."), QStringLiteral("Experiments.")},
                                   QStringLiteral("A Paper"));
    }

    void reviewsAlongTheVenueFormAndExports()
    {
        MainWindow window;
        ScriptedBackend backend;
        backend.setReadingTokens(0, 1);
        window.setChatBackend(&backend);
        QSignalSpy shown(&window, &MainWindow::documentShown);
        window.openDocument(m_pdf);
        QVERIFY(shown.wait(10000));

        ReviewDialog* dialog = window.openReview();
        QVERIFY(dialog);
        QVERIFY(dialog->findChild<QComboBox*>(QStringLiteral("venueCombo"))->count() >= 4);
        QVERIFY(dialog->selectVenue(QStringLiteral("iclr")));
        const VenueForm form = *VenueCatalog::builtIn().find(QStringLiteral("iclr"));
        backend.setAnswer(reviewAnswer(form), {});
        QSignalSpy finished(dialog, &ReviewDialog::reviewFinished);
        dialog->start();
        QVERIFY(dialog->isRunning());
        QVERIFY(finished.wait(10000));
        // Sent as a question of its own about the open paper.
        QCOMPARE(backend.lastRequest().conversationId, 0);
        QVERIFY(backend.lastRequest().question.contains(form.sections.first().title));
        QVERIFY2(dialog->problems().isEmpty(), qPrintable(dialog->problems().join(QLatin1Char('\n'))));
        const QString shownText = dialog->findChild<QTextBrowser*>(QStringLiteral("reviewView"))->toPlainText();
        for (const ReviewSection& section : form.sections)
            QVERIFY2(shownText.contains(section.title), qPrintable(section.title));

        const QString out = m_dir.filePath(QStringLiteral("review.md"));
        QVERIFY(dialog->exportMarkdown(out));
        QFile file(out);
        QVERIFY(file.open(QIODevice::ReadOnly));
        const QString markdown = QString::fromUtf8(file.readAll());
        QVERIFY(markdown.contains(form.name));
        QVERIFY(markdown.contains(form.scores.first().title));
        // The chat pane was not touched by the review.
        QVERIFY(window.lastError().isEmpty());
    }

    void aStoppedReviewSaysWhatIsMissing()
    {
        MainWindow window;
        ScriptedBackend backend;
        backend.setReadingTokens(0, 1);
        backend.setInterval(30);
        window.setChatBackend(&backend);
        QSignalSpy shown(&window, &MainWindow::documentShown);
        window.openDocument(m_pdf);
        QVERIFY(shown.wait(10000));
        ReviewDialog* dialog = window.openReview();
        QVERIFY(dialog->selectVenue(QStringLiteral("neurips")));
        backend.setAnswer(reviewAnswer(*VenueCatalog::builtIn().find(QStringLiteral("neurips"))), {});
        QSignalSpy tokens(&backend, &AnswerSource::token);
        QSignalSpy finished(dialog, &ReviewDialog::reviewFinished);
        dialog->start();
        QTRY_VERIFY(tokens.count() >= 3);
        dialog->stop();
        QVERIFY(finished.count() == 1 || finished.wait(5000));
        QVERIFY(!dialog->isRunning());
        QVERIFY(!dialog->problems().isEmpty());
    }

private:
    QTemporaryDir m_dir;
    QString m_pdf;
};

QTEST_MAIN(ReviewTest)
#include "review_test.moc"
