// The library, the reader (rendered PDF pages, text sections, find, zoom), the page
// strip, the theme and the error log, driven through the main window (offscreen).
#include "ui/error_log.h"
#include "ui/library_view.h"
#include "ui/main_window.h"
#include "ui/page_strip.h"
#include "ui/pdf_page_view.h"
#include "ui/reader_view.h"
#include "ui/theme.h"
#include "ui_fixtures.h"

#include <QAction>
#include <QApplication>
#include <QLineEdit>
#include <QSettings>
#include <QSplitter>
#include <QTemporaryDir>
#include <QTextBrowser>
#include <QTreeWidget>
#include <QtTest>

using namespace folio;

class ReaderTest : public QObject {
    Q_OBJECT

private slots:
    void initTestCase()
    {
        test::initUiTestApp(QStringLiteral("FolioReaderTest"));
        QVERIFY(m_dir.isValid());
        m_pdf = test::writeTextPdf(m_dir, QStringLiteral("harbour.pdf"),
                                   {QStringLiteral("The first page is about ships."),
                                    QStringLiteral("The harbour master keeps the tide tables."),
                                    QStringLiteral("Another harbour lies to the north.")},
                                   QStringLiteral("Harbour Notes"));
        m_text = test::writeTideTables(m_dir, QStringLiteral("tides.txt"));
    }

    void rendersPdfPagesAndFindsWithHighlights()
    {
        MainWindow window;
        window.show();
        open(window, m_pdf);
        ReaderView* reader = window.reader();
        QVERIFY(reader->isPdf());
        PdfPageView* pdf = reader->pdfView();
        QSignalSpy rendered(pdf, &PdfPageView::pageRendered);
        if (pdf->renderedImage().isNull())
            QVERIFY(rendered.wait(5000));
        const QImage first = pdf->renderedImage();
        QVERIFY(!first.isNull());

        // Zoom in: the page is drawn again, larger.
        const double zoom = pdf->zoom();
        reader->zoomIn();
        QVERIFY(pdf->zoom() > zoom);
        QTRY_VERIFY_WITH_TIMEOUT(pdf->renderedImage().width() > first.width(), 5000);

        // Ctrl+F opens the find bar; two matches, on pages 2 and 3.
        QTest::keyClick(&window, Qt::Key_F, Qt::ControlModifier);
        auto* edit = window.findChild<QLineEdit*>(QStringLiteral("findEdit"));
        QVERIFY(edit->isVisible());
        QCOMPARE(reader->find(QStringLiteral("HARBOUR")), 2);
        QCOMPARE(window.currentPage(), 1);
        QCOMPARE(pdf->highlights().size(), 1);
        QVERIFY(pdf->highlights().first().width() > 10);
        reader->findNext();
        QCOMPARE(window.currentPage(), 2);
        QCOMPARE(pdf->highlights().size(), 1);
        QCOMPARE(reader->find(QStringLiteral("nowhere to be found")), 0);
        QVERIFY(pdf->highlights().isEmpty());
    }

    void findsInTextSections()
    {
        MainWindow window;
        window.show();
        open(window, m_text);
        ReaderView* reader = window.reader();
        QVERIFY(!reader->isPdf());
        QCOMPARE(reader->find(QStringLiteral("lighthouse keeper")), 1);
        const int last = reader->pageCount() - 1;
        QCOMPARE(window.currentPage(), last);
        QCOMPARE(reader->textView()->extraSelections().size(), 1);
        QCOMPARE(reader->textView()->extraSelections().first().cursor.selectedText(), QStringLiteral("lighthouse keeper"));
    }

    void pageStripClickJumpsToThePage()
    {
        MainWindow window;
        window.resize(1000, 700);
        window.show();
        open(window, m_pdf);
        ReaderView* reader = window.reader();
        PageStrip* strip = reader->pageStrip();
        QCOMPARE(strip->pageCount(), 3);
        reader->setEvidence({{2, 0.6}, {0, 0.2}, {2, 0.1}});
        QCOMPARE(strip->weights(), (QVector<double>{0.2, 0.0, 0.7}));
        QVERIFY(strip->barRect(2).width() > strip->barRect(0).width());
        QTest::mouseClick(strip, Qt::LeftButton, Qt::NoModifier, strip->barRect(2).center());
        QCOMPARE(window.currentPage(), 2);
        QTest::mouseClick(strip, Qt::LeftButton, Qt::NoModifier, QPoint(4, strip->barRect(0).center().y()));
        QCOMPARE(window.currentPage(), 0);
    }

    void libraryListsDocumentsAndSwitchesBetweenThem()
    {
        MainWindow window;
        window.show();
        open(window, m_text);
        open(window, m_pdf);
        LibraryView* library = window.library();
        QVERIFY(library->count() >= 2);
        // Most recently opened first: the PDF, then the text.
        QCOMPARE(library->pathAt(0), m_pdf);
        auto* tree = library->findChild<QTreeWidget*>(QStringLiteral("libraryTree"));
        QCOMPARE(tree->topLevelItem(0)->text(0), QStringLiteral("Harbour Notes"));
        QCOMPARE(tree->topLevelItem(0)->text(1), QStringLiteral("PDF"));
        QCOMPARE(tree->topLevelItem(0)->text(2), QStringLiteral("3"));
        QSignalSpy shown(&window, &MainWindow::documentShown);
        int textRow = -1;
        for (int row = 0; row < library->count(); ++row)
            if (library->pathAt(row) == m_text)
                textRow = row;
        QVERIFY(textRow >= 0);
        emit tree->itemActivated(tree->topLevelItem(textRow), 0);
        QVERIFY(shown.wait(10000));
        QCOMPARE(window.document()->path, m_text);
        QVERIFY(!window.reader()->isPdf());
    }

    void remembersSplitterSizes()
    {
        QList<int> sizes;
        {
            MainWindow window;
            window.resize(1200, 700);
            window.show();
            QVERIFY(QTest::qWaitForWindowExposed(&window));
            auto* splitter = window.findChild<QSplitter*>(QStringLiteral("mainSplitter"));
            splitter->setSizes({300, 500, 390});
            sizes = splitter->sizes();
            window.close();
        }
        MainWindow again;
        again.resize(1200, 700);
        again.show();
        QVERIFY(QTest::qWaitForWindowExposed(&again));
        QCOMPARE(again.findChild<QSplitter*>(QStringLiteral("mainSplitter"))->sizes(), sizes);
    }

    void themeMenuSwitchesPalettes()
    {
        MainWindow window;
        auto* dark = window.findChild<QAction*>(QStringLiteral("theme-dark"));
        auto* light = window.findChild<QAction*>(QStringLiteral("theme-light"));
        auto* system = window.findChild<QAction*>(QStringLiteral("theme-system"));
        QVERIFY(dark && light && system);
        dark->trigger();
        QVERIFY(ThemeManager::isDark());
        QCOMPARE(QSettings().value(QStringLiteral("view/theme")).toString(), QStringLiteral("dark"));
        light->trigger();
        QVERIFY(!ThemeManager::isDark());
        system->trigger();
        QCOMPARE(ThemeManager::isDark(), ThemeManager::systemIsDark());
    }

    void failuresAreShownAndLogged()
    {
        MainWindow window;
        window.show();
        const QString junk = test::writeFile(m_dir, QStringLiteral("junk.pdf"), QByteArray("%PDF-1.5\n") + QByteArray(3000, '\x01'));
        QSignalSpy failed(&window, &MainWindow::openFailed);
        window.openDocument(junk);
        QVERIFY(failed.wait(10000));
        QVERIFY(window.lastError().contains(QStringLiteral("damaged")));
        const QString logged = ErrorLog::lastEntry();
        QVERIFY2(logged.contains(junk) && logged.contains(QStringLiteral("damaged")), qPrintable(logged));
        QVERIFY(ErrorLog::path().startsWith(QStandardPaths::writableLocation(QStandardPaths::AppDataLocation)));
    }

private:
    static void open(MainWindow& window, const QString& path)
    {
        QSignalSpy shown(&window, &MainWindow::documentShown);
        window.openDocument(path);
        QVERIFY(shown.wait(10000));
        QCOMPARE(window.document()->path, path);
    }

    QTemporaryDir m_dir;
    QString m_pdf, m_text;
};

QTEST_MAIN(ReaderTest)
#include "reader_test.moc"
