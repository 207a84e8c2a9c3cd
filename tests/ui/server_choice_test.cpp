// Answering with a server from the app: the model manager's Server page against a
// scripted server on 127.0.0.1 (Test connection, the models with their contexts, an
// error with its status), and the whole way through — chosen in the dialog, the key
// handed over by the keyring (this session's memory here: the test has no session
// bus), asked from the chat, answered and stored. The key never reaches the settings.
#include "app/answers/embedded_answer_source.h"
#include "app/documents/document_loader.h"
#include "app/remote/answer_source_choice.h"
#include "app/remote/api_key_store.h"
#include "app/remote/remote_reading.h"
#include "app/remote/remote_answer_source.h"
#include "app/remote/server_profiles.h"
#include "app/settings/model_settings.h"
#include "app/store/database.h"
#include "remote/fake_http_server.h"
#include "ui/chat/chat_view.h"
#include "ui/models/model_manager_dialog.h"
#include "ui/models/server_page.h"
#include "ui/review/review_dialog.h"
#include "app/review/venue_form.h"
#include "ui/shell/main_window.h"
#include "ui_fixtures.h"

#include <QComboBox>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QRadioButton>
#include <QSettings>
#include <QTemporaryDir>
#include <QtTest>

using namespace folio;
using test::FakeHttpServer;
using test::FakeReply;
using test::FakeRequest;

namespace {

const QString kKey = QStringLiteral("sk-test-only-5150");

QByteArray chunk(const char* content)
{
    return QByteArray("data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"") + content + "\"}}]}\n\n";
}

FakeReply reader(const FakeRequest& r)
{
    if (r.headers.value("authorization") != "Bearer " + kKey.toUtf8())
        return FakeReply::http(401, R"({"error":{"message":"Invalid API Key","type":"invalid_request_error"}})");
    if (r.path == "/v1/models")
        return FakeReply::http(200, R"({"object":"list","data":[{"id":"qwen2.5-7b-instruct-1m","object":"model",)"
                                    R"("max_model_len":1010000},{"id":"small","object":"model","max_model_len":4096}]})");
    if (r.path == "/tokenize")
        return FakeReply::http(200, R"({"count":40})");
    return FakeReply::stream({chunk("The keeper's word "), chunk("is juniper."), "data: [DONE]\n\n"}, 5);
}

QString label(QWidget& parent, const char* name) { return parent.findChild<QLabel*>(QLatin1String(name))->text(); }

} // namespace

class ServerChoiceTest : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() { test::initUiTestApp(QStringLiteral("FolioServerChoiceTest")); }

    void testConnectionListsTheModelsWithTheirContexts()
    {
        FakeHttpServer server(reader);
        ApiKeyStore keys;
        ServerPage page(&keys);
        page.setProfiles({}, QString());
        page.findChild<QLineEdit*>(QStringLiteral("serverAddressEdit"))->setText(server.url(QStringLiteral("/v1")));
        auto* key = page.findChild<QLineEdit*>(QStringLiteral("serverKeyEdit"));
        QCOMPARE(key->echoMode(), QLineEdit::Password);
        QTest::keyClicks(key, kKey);
        QSignalSpy tested(&page, &ServerPage::tested);
        QTest::mouseClick(page.findChild<QPushButton*>(QStringLiteral("testConnectionButton")), Qt::LeftButton);
        QVERIFY(tested.wait(10000));
        QCOMPARE(tested.first().first().toBool(), true);
        QCOMPARE(label(page, "serverStatus"), QStringLiteral("Connected: 2 models."));
        auto* models = page.findChild<QComboBox*>(QStringLiteral("serverModelCombo"));
        QCOMPARE(models->count(), 2);
        QVERIFY2(models->itemText(0).contains(QStringLiteral("1,010,000 tokens (max_model_len)")),
                 qPrintable(models->itemText(0)));
        models->setCurrentIndex(1);
        QCOMPARE(page.current().model, QStringLiteral("small"));
    }

    void aWrongKeyShowsTheStatusAndTheServersMessage()
    {
        FakeHttpServer server(reader);
        ApiKeyStore keys;
        ServerPage page(&keys);
        page.setProfiles({}, QString());
        page.findChild<QLineEdit*>(QStringLiteral("serverAddressEdit"))->setText(server.url(QStringLiteral("/v1")));
        page.findChild<QLineEdit*>(QStringLiteral("serverKeyEdit"))->setText(QStringLiteral("sk-wrong"));
        QSignalSpy tested(&page, &ServerPage::tested);
        page.testConnection();
        QVERIFY(tested.wait(10000));
        QCOMPARE(tested.first().first().toBool(), false);
        const QString status = label(page, "serverStatus");
        QVERIFY2(status.contains(QStringLiteral("401")) && status.contains(QStringLiteral("Invalid API Key")),
                 qPrintable(status));
        QVERIFY(!status.contains(QStringLiteral("sk-wrong")));

        page.findChild<QLineEdit*>(QStringLiteral("serverAddressEdit"))->setText(QStringLiteral("ftp://nowhere"));
        tested.clear();
        page.testConnection();
        QCOMPARE(tested.size(), 1);
        QVERIFY2(label(page, "serverStatus").startsWith(QStringLiteral("Not a server address")),
                 qPrintable(label(page, "serverStatus")));
    }

    void severalServersAreSavedAndForgotten()
    {
        ApiKeyStore keys;
        ServerPage page(&keys);
        const QList<ServerProfile> saved{{QStringLiteral("http://127.0.0.1:8000/v1"), QStringLiteral("a"), 60},
                                         {QStringLiteral("http://127.0.0.1:11434/v1"), QStringLiteral("b"), 300}};
        page.setProfiles(saved, saved[1].address);
        QCOMPARE(page.current().address, saved[1].address);
        QCOMPARE(page.current().model, QStringLiteral("b"));
        QCOMPARE(page.profiles(), saved);
        page.forgetCurrent();
        QCOMPARE(page.profiles(), QList<ServerProfile>{saved[0]});
    }

    void chosenInTheDialogTheServerAnswersTheChat()
    {
        FakeHttpServer server(reader);
        QTemporaryDir dir;
        const QString book = test::writeFile(dir, QStringLiteral("keeper.txt"),
                                             "The keeper said the secret word is juniper, then climbed down.\n");
        MainWindow window;
        AnswerSourceChoice sources(Database::defaultPath(), window.keys());
        connect(&sources, &AnswerSourceChoice::changed, &window, &MainWindow::setChatBackend);
        connect(&window, &MainWindow::modelSettingsChanged, &sources, [&sources] { sources.apply(ModelSettings::load()); });
        sources.apply(ModelSettings::load());
        QVERIFY(sources.current() == sources.embedded());

        ModelManagerDialog* dialog = window.openModelManager();
        dialog->findChild<QRadioButton*>(QStringLiteral("serverBackendRadio"))->setChecked(true);
        ServerPage* page = dialog->serverPage();
        page->findChild<QLineEdit*>(QStringLiteral("serverAddressEdit"))->setText(server.url(QStringLiteral("/v1")));
        QTest::keyClicks(page->findChild<QLineEdit*>(QStringLiteral("serverKeyEdit")), kKey);
        QSignalSpy tested(page, &ServerPage::tested);
        page->testConnection();
        QVERIFY(tested.wait(10000));
        QSignalSpy changed(&sources, &AnswerSourceChoice::changed);
        dialog->accept();
        QVERIFY(changed.wait(10000));
        QVERIFY(sources.current() == sources.remote());
        QVERIFY(ModelSettings::load().usesServer());
        QSettings settings;
        QCOMPARE(loadServerProfiles(settings).size(), 1);
        QCOMPARE(loadServerProfiles(settings).first().model, QStringLiteral("qwen2.5-7b-instruct-1m"));
        settings.sync();
        QFile file(settings.fileName());
        QVERIFY(file.open(QIODevice::ReadOnly));
        QVERIFY2(!file.readAll().contains(kKey.toUtf8()), "the API key reached the settings file");

        QSignalSpy shown(&window, &MainWindow::documentShown);
        window.openDocument(book);
        QVERIFY(shown.wait(10000));
        QSignalSpy finished(window.chat(), &ChatView::answerFinished);
        QVERIFY(window.chat()->ask(QStringLiteral("What is the secret word?")));
        QVERIFY(finished.wait(15000));
        QVERIFY(!window.chat()->messages().isEmpty());
        QCOMPARE(window.chat()->messages().last().text, QStringLiteral("The keeper's word is juniper."));
        bool sawChat = false;
        for (const FakeRequest& r : server.requests())
            sawChat = sawChat || r.path == "/v1/chat/completions";
        QVERIFY(sawChat);
    }

    // Review for Venue through a server: the review is asked as a question of its own,
    // streamed from the server and parsed along the form as with the local model.
    void aReviewForVenueIsWrittenByTheServer()
    {
        const VenueForm form = *VenueCatalog::builtIn().find(QStringLiteral("iclr"));
        QString review;
        for (const ReviewSection& section : form.sections)
            review += QStringLiteral("## %1\nThe %2 of the paper, briefly.\n\n").arg(section.title, section.title.toLower());
        review += QStringLiteral("## Scores\n");
        for (const ReviewScore& score : form.scores)
            review += QStringLiteral("%1: %2\n").arg(score.title).arg(score.scale.max());
        QByteArray asked;
        FakeHttpServer server([&](const FakeRequest& r) {
            if (r.path != "/v1/chat/completions")
                return reader(r);
            asked = r.body;
            QList<QByteArray> events;
            for (const QString& line : review.split(QLatin1Char('\n'))) {
                const QJsonObject delta{{QStringLiteral("content"), line + QLatin1Char('\n')}};
                const QJsonObject chunk{{QStringLiteral("choices"),
                                         QJsonArray{QJsonObject{{QStringLiteral("index"), 0}, {QStringLiteral("delta"), delta}}}}};
                events << "data: " + QJsonDocument(chunk).toJson(QJsonDocument::Compact) + "\n\n";
            }
            events << "data: [DONE]\n\n";
            return FakeReply::stream(events, 2);
        });
        QTemporaryDir dir;
        const QString pdf = test::writeTextPdf(dir, QStringLiteral("paper.pdf"),
                                               {QStringLiteral("We propose a method."), QStringLiteral("Experiments.")},
                                               QStringLiteral("A Paper"));
        MainWindow window;
        RemoteAnswerSource remote(Database::defaultPath());
        remote.setServer(ServerProfile{server.url(QStringLiteral("/v1")), QStringLiteral("small"), 30}, kKey);
        window.setChatBackend(&remote);
        QSignalSpy shown(&window, &MainWindow::documentShown);
        window.openDocument(pdf);
        QVERIFY(shown.wait(10000));
        ReviewDialog* dialog = window.openReview();
        QVERIFY(dialog);
        QVERIFY(dialog->selectVenue(QStringLiteral("iclr")));
        QSignalSpy finished(dialog, &ReviewDialog::reviewFinished);
        dialog->start();
        QVERIFY(finished.wait(15000));
        QVERIFY2(dialog->problems().isEmpty(), qPrintable(dialog->problems().join(QLatin1Char('\n'))));
        QVERIFY(dialog->markdown().contains(form.scores.first().title));
        QVERIFY(asked.contains(form.sections.first().title.toUtf8()));
        dialog->close();
    }

    void aChangeWhileAnsweringWaitsForTheAnswer()
    {
        FakeHttpServer server([](const FakeRequest& r) {
            if (r.path != "/v1/chat/completions")
                return reader(r);
            return FakeReply::stream({chunk("slowly "), chunk("and "), chunk("surely"), "data: [DONE]\n\n"}, 150);
        });
        QTemporaryDir dir;
        const QString book = test::writeFile(dir, QStringLiteral("tide.txt"), "High water at dawn, low water at noon.\n");
        ApiKeyStore keys;
        bool written = false;
        keys.write(server.url(QStringLiteral("/v1")), kKey, [&](bool, const QString&) { written = true; });
        QVERIFY(QTest::qWaitFor([&] { return written; }, 10000));
        QSettings settings;
        saveServerProfiles(settings, {{server.url(QStringLiteral("/v1")), QStringLiteral("small"), 30}});
        ModelSettings remote;
        remote.backend = QStringLiteral("server");
        remote.server = server.url(QStringLiteral("/v1"));

        AnswerSourceChoice sources(Database::defaultPath(), &keys);
        QSignalSpy changed(&sources, &AnswerSourceChoice::changed);
        sources.apply(remote);
        QVERIFY(changed.wait(10000));
        QVERIFY(sources.current() == sources.remote());
        QCOMPARE(sources.serverName(), RemoteReading::answererName(remote.server, QStringLiteral("small")));

        QSignalSpy answered(sources.remote(), &AnswerSource::answered);
        AnswerRequest request;
        request.document = std::make_shared<const Document>(DocumentLoader::load(book));
        request.question = QStringLiteral("When is high water?");
        sources.remote()->ask(request);
        QVERIFY(sources.remote()->isBusy());
        sources.apply(ModelSettings{});   // back to the local model, mid-answer
        QTest::qWait(100);
        QCOMPARE(changed.size(), 1);      // not while the server answers
        QVERIFY(sources.current() == sources.remote());
        QVERIFY(answered.wait(10000));
        QVERIFY(QTest::qWaitFor([&] { return changed.size() == 2; }, 5000));
        QVERIFY(sources.current() == sources.embedded());
        QVERIFY(sources.serverName().isEmpty());
    }
};

QTEST_MAIN(ServerChoiceTest)
#include "server_choice_test.moc"
