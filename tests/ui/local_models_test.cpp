// The model manager's "On this computer" page over a fake home laid out as LM Studio,
// GPT4All, Jan, Ollama, the Hugging Face cache and llama.cpp lay theirs out (real
// small GGUF files): the list, its search and sorting, choosing a model for the
// Local model page, and a remembered choice whose file changed.
#include "app/models/model_list.h"
#include "app/settings/model_settings.h"
#include "tests/app/model_home_fixture.h"
#include "ui/models/local_models_page.h"
#include "ui/models/model_manager_dialog.h"
#include "ui_fixtures.h"

#include <QLabel>
#include <QPushButton>
#include <QSettings>
#include <QTemporaryDir>
#include <QTreeWidget>
#include <QtTest>

using namespace folio;

class LocalModelsTest : public QObject {
    Q_OBJECT

private slots:
    void initTestCase()
    {
        test::initUiTestApp(QStringLiteral("FolioLocalModelsTest"));
        QVERIFY(m_dir.isValid());
        m_home = std::make_unique<test::FakeModelHome>(m_dir.path());
        m_places = defaultModelPlaces(m_home->environment());
        m_places.append(userModelFolder(m_home->userFolder));
    }

    void listsWhatTheScanFindsWithWhyNot()
    {
        LocalModelsPage page;
        QSignalSpy scanned(&page, &LocalModelsPage::scanned);
        page.setPlaces(m_places);
        QVERIFY(scanned.wait(20000));
        const ModelScan expected = scanModels(m_places);
        QCOMPARE(page.models().size(), expected.models.size());
        QCOMPARE(page.shownCount(), int(expected.models.size()));
        auto* list = page.findChild<QTreeWidget*>(QStringLiteral("localModelsList"));
        bool sawMamba = false, sawLmStudio = false;
        for (int i = 0; i < list->topLevelItemCount(); ++i) {
            const QTreeWidgetItem* item = list->topLevelItem(i);
            if (item->text(2) == QLatin1String("mamba")) {
                sawMamba = true;
                QVERIFY2(item->text(7).startsWith(QStringLiteral("no: ")), qPrintable(item->text(7)));
            }
            if (item->text(1) == QLatin1String("LM Studio") && item->text(2) == QLatin1String("llama")) {
                sawLmStudio = true;
                QCOMPARE(item->text(7), QStringLiteral("yes"));
            }
        }
        QVERIFY(sawMamba);
        QVERIFY(sawLmStudio);
        QVERIFY2(page.findChild<QLabel*>(QStringLiteral("localModelsStatus"))->text().contains(QStringLiteral("Ollama")),
                 qPrintable(page.findChild<QLabel*>(QStringLiteral("localModelsStatus"))->text()));

        page.setSearch(QStringLiteral("qwen"));
        QCOMPARE(page.shownCount(), int(filterModels(expected.models, QStringLiteral("qwen")).size()));
        QVERIFY(page.shownCount() > 0);
        page.setSearch(QString());

        // Sizes sort as numbers, not as text.
        list->sortByColumn(5, Qt::AscendingOrder);
        for (int i = 1; i < list->topLevelItemCount(); ++i)
            QVERIFY(list->topLevelItem(i - 1)->data(5, Qt::UserRole).toLongLong()
                    <= list->topLevelItem(i)->data(5, Qt::UserRole).toLongLong());
    }

    void aChosenModelGoesToTheLocalPageAndIsRememberedByItsHeader()
    {
        ModelManagerDialog dialog;
        LocalModelsPage* page = dialog.localModelsPage();
        QSignalSpy scanned(page, &LocalModelsPage::scanned);
        page->setPlaces(m_places);
        dialog.showLocalModels();
        QVERIFY(scanned.wait(20000));
        auto* list = page->findChild<QTreeWidget*>(QStringLiteral("localModelsList"));
        QTreeWidgetItem* chosen = nullptr;
        for (int i = 0; i < list->topLevelItemCount(); ++i)
            if (list->topLevelItem(i)->toolTip(0) == m_home->lmStudio)
                chosen = list->topLevelItem(i);
        QVERIFY(chosen);
        list->setCurrentItem(chosen);
        auto* use = page->findChild<QPushButton*>(QStringLiteral("useLocalModelButton"));
        QVERIFY(use->isEnabled());
        QSignalSpy inspected(&dialog, &ModelManagerDialog::modelInspected);
        QTest::mouseClick(use, Qt::LeftButton);
        QVERIFY(inspected.wait(20000));
        QVERIFY2(inspected.last().first().toBool(), qPrintable(dialog.error()));
        QCOMPARE(dialog.settings().modelPath, m_home->lmStudio);
        QVERIFY(!dialog.usesServer());
        dialog.accept();
        QVERIFY(QTest::qWaitFor([&] { return dialog.result() == QDialog::Accepted; }, 5000));
        QCOMPARE(ModelSettings::load().modelPath, m_home->lmStudio);
        QVERIFY(rememberedModelFromVariant(QSettings().value(QStringLiteral("model/remembered")).toMap()).has_value());

        // Another file under the same name (here: the same file grown) is noticed next time.
        QFile file(m_home->lmStudio);
        QVERIFY(file.open(QIODevice::Append));
        file.write(QByteArray(64, '\0'));
        file.close();
        ModelManagerDialog again;
        QSignalSpy inspectedAgain(&again, &ModelManagerDialog::modelInspected);
        QVERIFY(inspectedAgain.wait(20000));
        const QString status = again.findChild<QLabel*>(QStringLiteral("modelStatus"))->text();
        QVERIFY2(status.contains(QStringLiteral("not the model chosen before")), qPrintable(status));
    }

private:
    QTemporaryDir m_dir;
    std::unique_ptr<test::FakeModelHome> m_home;
    QList<ModelPlace> m_places;
};

QTEST_MAIN(LocalModelsTest)
#include "local_models_test.moc"
