// The main window, driven as a user would, on the offscreen platform.
#include "ui/shell/main_window.h"

#include "app/documents/document.h"

#include <QLabel>
#include <QListWidget>
#include <QMenu>
#include <QMessageBox>
#include <QMimeData>
#include <QSettings>
#include <QSpinBox>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTextBrowser>
#include <QUrl>
#include <QtTest>

using folio::MainWindow;

class MainWindowTest : public QObject {
    Q_OBJECT

private slots:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);   // settings go to a test location
        QCoreApplication::setOrganizationName(QStringLiteral("FolioTest"));
        QCoreApplication::setApplicationName(QStringLiteral("FolioTest"));
        QSettings().clear();
        QVERIFY(m_dir.isValid());
        QString text = QStringLiteral("Title: The Tide Tables\nAuthor: Harbour Office\n\n");
        for (int i = 0; i < 60; ++i)
            text += QStringLiteral("Paragraph %1: high water at dawn, low water at noon.\n\n").arg(i);
        m_textPath = writeFile(QStringLiteral("tides.txt"), text.toUtf8());
    }

    void opensFromThePathAndShowsPages()
    {
        MainWindow window;
        window.show();
        QSignalSpy shown(&window, &MainWindow::documentShown);
        window.openDocument(m_textPath);
        QVERIFY(shown.wait(10000));

        QVERIFY(window.document());
        QCOMPARE(window.windowTitle(), QStringLiteral("The Tide Tables — Folio"));
        const int pages = window.document()->pageCount();
        QVERIFY(pages > 1);
        auto* list = window.findChild<QListWidget*>(QStringLiteral("pageList"));
        QCOMPARE(list->count(), pages);
        QCOMPARE(list->currentRow(), 0);
        auto* reader = window.findChild<QTextBrowser*>(QStringLiteral("reader"));
        QVERIFY(reader->toPlainText().startsWith(QStringLiteral("Title: The Tide Tables")));
        QCOMPARE(window.findChild<QLabel*>(QStringLiteral("pageHeading"))->text(),
                 QStringLiteral("Section 1 of %1").arg(pages));
        QCOMPARE(window.findChild<QLabel*>(QStringLiteral("titleLabel"))->text(),
                 QStringLiteral("The Tide Tables by Harbour Office"));
        QCOMPARE(window.findChild<QLabel*>(QStringLiteral("pagesLabel"))->text(),
                 QStringLiteral("%1 sections").arg(pages));
        QVERIFY(window.findChild<QLabel*>(QStringLiteral("wordsLabel"))->text().endsWith(QStringLiteral(" words")));

        // Next page by keyboard, then by the page list, then by the spin box.
        QTest::keyClick(&window, Qt::Key_PageDown);
        QCOMPARE(window.currentPage(), 1);
        // The section's text, as paragraphs (one line each, not a blank line between).
        QCOMPARE(reader->toPlainText().simplified(), window.document()->pageText(1).simplified());
        list->setCurrentRow(pages - 1);
        QCOMPARE(window.currentPage(), pages - 1);
        auto* spin = window.findChild<QSpinBox*>(QStringLiteral("pageSpin"));
        QCOMPARE(spin->value(), pages);
        spin->setValue(1);
        QCOMPARE(window.currentPage(), 0);
        QCOMPARE(window.findChild<QLabel*>(QStringLiteral("pageHeading"))->text(),
                 QStringLiteral("Section 1 of %1").arg(pages));
    }

    void remembersRecentFiles()
    {
        QSettings().remove(QStringLiteral("recentFiles"));
        MainWindow window;
        QSignalSpy shown(&window, &MainWindow::documentShown);
        window.openDocument(m_textPath);
        QVERIFY(shown.wait(10000));
        const QStringList recent = QSettings().value(QStringLiteral("recentFiles")).toStringList();
        QCOMPARE(recent.value(0), QFileInfo(m_textPath).absoluteFilePath());
        auto* menu = window.findChild<QMenu*>(QStringLiteral("recentMenu"));
        QVERIFY(menu->isEnabled());
        QCOMPARE(menu->actions().first()->text(), QStringLiteral("tides.txt"));
    }

    void opensADroppedFile()
    {
        const QString path = writeFile(QStringLiteral("dropped.md"), "# Dropped Notes\n\nA note dropped on the window.\n");
        MainWindow window;
        window.show();
        QSignalSpy shown(&window, &MainWindow::documentShown);
        QMimeData mime;
        mime.setUrls({QUrl::fromLocalFile(path)});
        QDragEnterEvent enter(QPoint(50, 50), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
        QCoreApplication::sendEvent(&window, &enter);
        QVERIFY(enter.isAccepted());
        QDropEvent drop(QPointF(50, 50), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
        QCoreApplication::sendEvent(&window, &drop);
        QVERIFY(shown.wait(10000));
        QCOMPARE(window.document()->title, QStringLiteral("Dropped Notes"));
        // Markdown is shown formatted: the heading marker is gone.
        auto* reader = window.findChild<QTextBrowser*>(QStringLiteral("reader"));
        QVERIFY(reader->toPlainText().startsWith(QStringLiteral("Dropped Notes")));
    }

    void showsAnErrorAndKeepsTheOpenDocument()
    {
        MainWindow window;
        window.show();
        QSignalSpy shown(&window, &MainWindow::documentShown);
        window.openDocument(m_textPath);
        QVERIFY(shown.wait(10000));

        const QString junk = writeFile(QStringLiteral("junk.pdf"), QByteArray("%PDF-1.5\n") + QByteArray(5000, '\x01'));
        QSignalSpy failed(&window, &MainWindow::openFailed);
        window.openDocument(junk);
        QVERIFY(failed.wait(10000));
        auto* box = window.findChild<QMessageBox*>(QStringLiteral("errorBox"));
        QVERIFY(box);
        QVERIFY(box->isVisible());
        QVERIFY(box->text().startsWith(junk));
        QVERIFY(box->text().contains(QStringLiteral("damaged")));
        QCOMPARE(window.lastError(), box->text());
        // What the user had is still there.
        QVERIFY(window.document());
        QCOMPARE(window.document()->path, m_textPath);
        box->close();
    }

private:
    QString writeFile(const QString& name, const QByteArray& bytes)
    {
        const QString path = m_dir.filePath(name);
        QFile file(path);
        if (!file.open(QIODevice::WriteOnly))
            qFatal("cannot write %s", qPrintable(path));
        file.write(bytes);
        return path;
    }

    QTemporaryDir m_dir;
    QString m_textPath;
};

QTEST_MAIN(MainWindowTest)
#include "main_window_test.moc"
