// The model manager's Download page against a server on 127.0.0.1 serving a small
// GGUF: the catalog with what the open document would take, a download checked
// against its SHA-256 and handed to the Local model page, and a wrong hash refused.
#include "remote/fake_http_server.h"
#include "tests/engine/test_models.h"
#include "ui/models/download_page.h"
#include "ui/models/model_manager_dialog.h"
#include "ui_fixtures.h"

#include <QCryptographicHash>
#include <QFile>
#include <QLabel>
#include <QTemporaryDir>
#include <QTreeWidget>
#include <QtTest>

using namespace folio;
using test::FakeHttpServer;
using test::FakeReply;
using test::FakeRequest;

class DownloadPageTest : public QObject {
    Q_OBJECT

private slots:
    void initTestCase()
    {
        test::initUiTestApp(QStringLiteral("FolioDownloadPageTest"));
        QVERIFY(m_dir.isValid());
        test::TinyModelSpec spec;
        spec.stringKeys.push_back({"general.name", "Tiny Download"});
        const QString path = QString::fromStdString(test::writeTinyModel(spec, m_dir.filePath(QStringLiteral("tiny.gguf")).toStdString()));
        QFile file(path);
        QVERIFY(file.open(QIODevice::ReadOnly));
        m_model = file.readAll();
        m_sha = QString::fromLatin1(QCryptographicHash::hash(m_model, QCryptographicHash::Sha256).toHex());
    }

    void theCatalogSaysWhatTheDocumentWouldTake()
    {
        DownloadPage page;
        auto* list = page.findChild<QTreeWidget*>(QStringLiteral("catalogList"));
        QVERIFY(list->topLevelItemCount() >= 5);
        QCOMPARE(list->topLevelItem(0)->text(4), QStringLiteral("no document open"));
        page.setDocumentTokens(100000);   // a book past most models' trained context
        bool sawDca = false;
        for (int i = 0; i < list->topLevelItemCount(); ++i)
            sawDca = sawDca || list->topLevelItem(i)->text(4).contains(QStringLiteral("DCA"));
        QVERIFY(sawDca);
    }

    void aDownloadCheckedByItsHashGoesToTheLocalModelPage()
    {
        FakeHttpServer server([this](const FakeRequest&) {
            return FakeReply::http(200, m_model, {}, "application/octet-stream");
        });
        QTemporaryDir into;
        ModelManagerDialog dialog;
        dialog.showDownloads();
        DownloadPage* page = dialog.downloadPage();
        page->setFolder(into.path());
        QSignalSpy downloaded(page, &DownloadPage::downloaded);
        QSignalSpy inspected(&dialog, &ModelManagerDialog::modelInspected);
        page->start(server.url(QStringLiteral("/files/tiny-download.gguf")), m_sha);
        QVERIFY(downloaded.wait(20000));
        const QString path = downloaded.first().first().toString();
        QCOMPARE(path, into.filePath(QStringLiteral("tiny-download.gguf")));
        QVERIFY(!QFile::exists(path + QStringLiteral(".part")));
        QVERIFY(QTest::qWaitFor([&] { return !inspected.isEmpty(); }, 20000));
        QVERIFY2(inspected.last().first().toBool(), qPrintable(dialog.error()));
        QCOMPARE(dialog.settings().modelPath, path);
    }

    void aWrongHashIsRefusedAndNothingIsLeft()
    {
        FakeHttpServer server([this](const FakeRequest&) {
            return FakeReply::http(200, m_model, {}, "application/octet-stream");
        });
        QTemporaryDir into;
        DownloadPage page;
        page.setFolder(into.path());
        QSignalSpy failed(&page, &DownloadPage::failed);
        page.start(server.url(QStringLiteral("/files/tiny.gguf")), QString(64, QLatin1Char('0')));
        QVERIFY(failed.wait(20000));
        const QString status = page.findChild<QLabel*>(QStringLiteral("downloadStatus"))->text();
        QVERIFY2(status.contains(m_sha), qPrintable(status));   // expected vs got
        QVERIFY(QDir(into.path()).entryList(QDir::Files).isEmpty());
    }

private:
    QTemporaryDir m_dir;
    QByteArray m_model;
    QString m_sha;
};

QTEST_MAIN(DownloadPageTest)
#include "download_page_test.moc"
