// The library, the reader (rendered PDF pages, text sections, find, zoom), the page
// strip, the theme and the error log, driven through the main window (offscreen).
#include "ui/shell/error_log.h"
#include "ui/reader/evidence_marks.h"
#include "ui/shell/library_view.h"
#include "ui/shell/main_window.h"
#include "ui/reader/page_strip.h"
#include "ui/reader/pdf_page_view.h"
#include "ui/reader/reader_view.h"
#include "ui/reader/text_page.h"
#include "ui/shell/theme.h"
#include "ui_fixtures.h"

#include <QAction>
#include <QApplication>
#include <QLabel>
#include <QLineEdit>
#include <QScrollBar>
#include <QSettings>
#include <QSplitter>
#include <QTemporaryDir>
#include <QTextBlock>
#include <QTextBrowser>
#include <QTextDocument>
#include <QTextList>
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
        // The page at the zoom that fits it (an image from the zoom before may be shown
        // scaled for a moment).
        QTRY_VERIFY_WITH_TIMEOUT(pdf->currentPageSharp(), 5000);
        const QImage first = pdf->renderedImage();
        QVERIFY(!first.isNull());

        // Zoom in: the page is drawn again, larger.
        const double zoom = pdf->zoom();
        reader->zoomIn();
        QVERIFY(pdf->zoom() > zoom);
        QTRY_VERIFY_WITH_TIMEOUT(pdf->currentPageSharp() && pdf->renderedImage().width() > first.width(), 5000);

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

    void showsEpubChaptersAsFormattedText()
    {
        ReaderView reader;
        reader.resize(700, 500);
        reader.show();
        auto doc = std::make_shared<Document>();
        doc->kind = DocumentKind::Epub;
        doc->unit = PageUnit::Chapter;
        const QStringList texts = {QStringLiteral("Loomings\n\nCall me Ishmael. The whale is white.\n\n• one\n• two"),
                                   QStringLiteral("The Carpet-Bag\n\nThe whale again, and the whale.")};
        doc->html = {QStringLiteral("<h1>Loomings</h1><p>Call me <em>Ishmael</em>. The <b>whale</b> is white.</p>"
                                    "<ul><li>one</li><li>two</li></ul>"),
                     QStringLiteral("<h2>The Carpet-Bag</h2><p>The whale again, and <i>the whale</i>.</p>")};
        for (const QString& t : texts) {
            if (!doc->text.isEmpty())
                doc->text += QStringLiteral("\n\n");
            const qsizetype begin = doc->text.size();
            doc->text += t;
            doc->pages.append(begin, doc->text.size(), t.section(QChar(u'\n'), 0, 0));
        }
        reader.setDocument(doc);
        QTextDocument* shown = reader.textView()->document();
        QCOMPARE(shown->firstBlock().text(), QStringLiteral("Loomings"));
        QCOMPARE(shown->firstBlock().blockFormat().headingLevel(), 1);
        QVERIFY(formatOf(shown, QStringLiteral("Ishmael")).fontItalic());
        QVERIFY(formatOf(shown, QStringLiteral("whale")).fontWeight() >= QFont::Bold);
        QVERIFY(!shown->toHtml().contains(QStringLiteral("&lt;")));   // markup is shown as formatting, not text
        QVERIFY(shown->findBlock(shown->toPlainText().indexOf(QStringLiteral("one"))).textList());

        // Find counts what the chapters show and highlights it there.
        QCOMPARE(reader.find(QStringLiteral("WHALE")), 3);
        QCOMPARE(reader.currentPage(), 0);
        QCOMPARE(reader.textView()->extraSelections().size(), 1);
        reader.findNext();
        QCOMPARE(reader.currentPage(), 1);
        QCOMPARE(reader.textView()->extraSelections().size(), 2);
        QCOMPARE(reader.textView()->extraSelections().first().cursor.selectedText(), QStringLiteral("whale"));
        QCOMPARE(reader.textView()->document()->firstBlock().blockFormat().headingLevel(), 2);
        reader.showPage(0);
        QCOMPARE(reader.textView()->document()->firstBlock().text(), QStringLiteral("Loomings"));
    }

    void showsMarkdownAsMarkdownAndPlainTextAsParagraphs()
    {
        MainWindow window;
        window.show();
        const QString md = test::writeFile(m_dir, QStringLiteral("notes.md"),
                                           "# Tides\n\nHigh **water** at dawn, low water at *noon*.\n\n- one\n- two\n");
        open(window, md);
        ReaderView* reader = window.reader();
        QTextDocument* shown = reader->textView()->document();
        QCOMPARE(shown->firstBlock().text(), QStringLiteral("Tides"));
        QCOMPARE(shown->firstBlock().blockFormat().headingLevel(), 1);
        QVERIFY(formatOf(shown, QStringLiteral("water")).fontWeight() >= QFont::Bold);
        QVERIFY(!shown->toPlainText().contains(QStringLiteral("**")));
        // "High **water**" in the file is "High water" on the page: find looks at the page.
        QCOMPARE(reader->find(QStringLiteral("high water")), 1);
        QCOMPARE(reader->textView()->extraSelections().size(), 1);

        open(window, m_text);
        shown = reader->textView()->document();
        // Title and author lines keep their break; every paragraph is a block of its own.
        QCOMPARE(shown->firstBlock().text(), QStringLiteral("Title: The Tide Tables\u2028Author: Harbour Office"));
        QCOMPARE(shown->firstBlock().next().text(), QStringLiteral("Paragraph 0: high water at dawn, low water at noon."));
        QVERIFY(shown->blockCount() > 10);
    }

    void plainTextParagraphsJoinWrappedLinesAndKeepVerse()
    {
        const QString html = plainTextToHtml(
            u"CHAPTER I\n\nIt was a wrapped line of prose that goes on and on for a while\nand ends here.\n\n"
            u"Roses are red,\nviolets are blue.\n\n    code line one\n    code line two\n\n<b>not bold</b>");
        QTextDocument doc;
        doc.setHtml(html);
        QCOMPARE(doc.firstBlock().blockFormat().headingLevel(), 3);
        QCOMPARE(doc.firstBlock().text(), QStringLiteral("CHAPTER I"));
        QVERIFY(doc.toPlainText().contains(QStringLiteral("for a while and ends here.")));
        QVERIFY(doc.toPlainText().contains(QStringLiteral("Roses are red,\nviolets are blue.")));
        QVERIFY(doc.toPlainText().contains(QStringLiteral("    code line one\n    code line two")));
        QVERIFY(doc.toPlainText().contains(QStringLiteral("<b>not bold</b>")));
    }

    void scrollsThroughPdfPagesRenderingOnlyThoseInView()
    {
        QStringList pages;
        for (int i = 1; i <= 14; ++i)
            pages << QStringLiteral("Page %1 of the long harbour book.").arg(i);
        const QString path = test::writeTextPdf(m_dir, QStringLiteral("long.pdf"), pages, QStringLiteral("Long"));
        MainWindow window;
        window.resize(1600, 800);
        window.show();
        window.findChild<QSplitter*>(QStringLiteral("mainSplitter"))->setSizes({200, 800, 600});
        open(window, path);
        ReaderView* reader = window.reader();
        PdfPageView* pdf = reader->pdfView();
        QVERIFY(reader->isPdf());
        QTRY_VERIFY(pdf->viewport()->width() > 400);
        QTRY_VERIFY_WITH_TIMEOUT(!pdf->renderedImage().isNull(), 5000);
        // One column of pages, fitted to the width.
        QVERIFY(pdf->pageRect(1).top() > pdf->pageRect(0).bottom());
        QCOMPARE(pdf->pageRect(1).width(), pdf->pageRect(0).width());
        QVERIFY(qAbs(pdf->pageRect(0).width() - (pdf->viewport()->width() - 16)) <= 2);
        QScrollBar* bar = pdf->verticalScrollBar();
        QVERIFY(bar->maximum() > 10 * pdf->pageRect(0).height());
        const auto bounded = [&] {
            // Only pages near the view hold an image: those in view, and one either side.
            const QList<int> held = pdf->renderedPages();
            const int top = pdf->verticalScrollBar()->value();
            for (int page : held) {
                const QRect box = pdf->pageRect(page);
                const int gap = box.height() + 20;
                if (box.bottom() < top - gap || box.top() > top + pdf->viewport()->height() + gap)
                    return false;
            }
            return held.size() <= 5;
        };
        QTRY_VERIFY(pdf->renderedPages().size() >= 2);
        QVERIFY(bounded());

        // Scrolling moves the page: heading, page number, strip; far pages are dropped.
        QSignalSpy changed(reader, &ReaderView::pageChanged);
        bar->setValue(pdf->pageRect(6).top() + 5);
        QCOMPARE(window.currentPage(), 6);
        QCOMPARE(changed.count(), 1);
        QVERIFY(window.findChild<QLabel*>(QStringLiteral("pageHeading"))->text().startsWith(QStringLiteral("Page 7 of 14")));
        QTRY_VERIFY_WITH_TIMEOUT(pdf->renderedPages().contains(6), 5000);
        QVERIFY(!pdf->renderedPages().contains(0));
        QVERIFY(bounded());
        bar->setValue(bar->maximum());
        QCOMPARE(window.currentPage(), 13);
        QTRY_VERIFY_WITH_TIMEOUT(pdf->renderedPages().contains(13), 5000);
        QVERIFY(bounded());

        // Going to a page scrolls to it (and stays there, even near the end).
        window.showPage(2);
        QCOMPARE(window.currentPage(), 2);
        QVERIFY(qAbs(bar->value() - pdf->pageRect(2).top()) <= 8);
        window.showPage(13);
        QCOMPARE(window.currentPage(), 13);

        // Zoom keeps the page in view; fit width comes back.
        window.showPage(4);
        const int width = pdf->pageRect(4).width();
        reader->zoomIn();
        QVERIFY(pdf->pageRect(4).width() > width);
        QCOMPARE(window.currentPage(), 4);
        QVERIFY(bar->value() >= pdf->pageRect(4).top() - 8 && bar->value() <= pdf->pageRect(4).bottom());
        QTRY_VERIFY_WITH_TIMEOUT(pdf->renderedImage().width() > width, 5000);
        reader->fitWidth();
        QCOMPARE(pdf->pageRect(4).width(), width);
        QCOMPARE(window.currentPage(), 4);

        // Find goes to the page of the match and highlights it there.
        QCOMPARE(reader->find(QStringLiteral("Page 12 of")), 1);
        QCOMPARE(window.currentPage(), 11);
        QCOMPARE(pdf->highlights().size(), 1);
        const QRect box = pdf->pageRect(11);
        QVERIFY(bar->value() <= box.bottom() && bar->value() + pdf->viewport()->height() >= box.top());
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

    void marksTheEvidenceOnThePageShown()
    {
        MainWindow window;
        window.resize(1000, 700);
        window.show();
        open(window, m_pdf);
        ReaderView* reader = window.reader();
        PdfPageView* pdf = reader->pdfView();
        QSignalSpy rendered(pdf, &PdfPageView::pageRendered);
        if (pdf->renderedImage().isNull())
            QVERIFY(rendered.wait(5000));
        reader->setEvidence({{1, 0.9}, {0, 0.3}});
        QCOMPARE(pdf->evidenceStrength(1), 1.0);
        QVERIFY(qAbs(pdf->evidenceStrength(0) - 1.0 / 3) < 1e-9);
        QCOMPARE(pdf->evidenceStrength(2), 0.0);

        // The bar down the page's left margin is as strong as the page's evidence.
        auto* canvas = pdf->findChild<QWidget*>(QStringLiteral("pdfPageCanvas"));
        QVERIFY(canvas);
        const auto barInk = [&](int page) {
            const QRect box = pdf->pageRect(page);
            const QImage shot = canvas->grab(box).toImage();
            const QColor bar = shot.pixelColor(2, box.height() / 2);
            return 3 * 255 - (bar.red() + bar.green() + bar.blue());   // how far from white paper
        };
        const int weak = barInk(0), strong = barInk(1), none = barInk(2);
        QVERIFY2(strong > weak && weak > none + 30 && none < 30,
                 qPrintable(QStringLiteral("%1 %2 %3").arg(strong).arg(weak).arg(none)));

        // A text section gets the bar beside its text.
        open(window, m_text);
        auto* margin = reader->findChild<EvidenceMargin*>(QStringLiteral("textEvidenceBar"));
        QVERIFY(margin && margin->isVisible());
        QCOMPARE(margin->strength(), 0.0);
        QCOMPARE(reader->pageCount(), 2);
        reader->showPage(0);
        reader->setEvidence({{1, 0.5}, {0, 0.25}});
        QCOMPARE(margin->strength(), 0.5);
        reader->showPage(1);
        QCOMPARE(margin->strength(), 1.0);
        QVERIFY(margin->toolTip().contains(QStringLiteral("66.7%")));
        QCOMPARE(margin->grab().toImage().pixelColor(margin->width() / 2, margin->height() / 2),
                 margin->palette().color(QPalette::Highlight));
        reader->setEvidence({{0, 0.5}});
        QCOMPARE(margin->strength(), 0.0);
        reader->setEvidence({});
        reader->showPage(0);
        QCOMPARE(margin->strength(), 0.0);
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
    static QTextCharFormat formatOf(QTextDocument* doc, const QString& word)
    {
        QTextCursor at = doc->find(word);
        return at.isNull() ? QTextCharFormat() : at.charFormat();
    }

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
