// folio: the desktop application.
#include "ui/shell/main_window.h"
#include "ui/chat/chat_view.h"
#include "app/store/database.h"
#include "app/settings/model_settings.h"
#include "ui/shell/screenshot_tour.h"
#include "app/remote/answer_source_choice.h"
#include "ui/shell/theme.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QTextStream>
#include <QTimer>

int main(int argc, char* argv[])
{
    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("Folio"));
    QApplication::setOrganizationName(QStringLiteral("Folio"));
    QApplication::setApplicationVersion(QStringLiteral(FOLIO_VERSION));
    QApplication::setDesktopFileName(QStringLiteral("org.folioreader.Folio"));

    QCommandLineParser parser;
    parser.setApplicationDescription(QApplication::translate("main", "Read long documents with a local language model."));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addPositionalArgument(QStringLiteral("FILE"), QApplication::translate("main", "A document to open."));
    const QCommandLineOption screenshot(
        QStringLiteral("screenshot"),
        QApplication::translate("main", "Open FILE, save a picture of the window to PNG, and quit (for tests and docs)."),
        QStringLiteral("PNG"));
    parser.addOption(screenshot);
    const QCommandLineOption screenshots(
        QStringLiteral("screenshots"),
        QApplication::translate("main", "Open FILE, save pictures of the main states (empty, document, model manager, "
                                        "reading, answer, review; the chat is scripted) to DIR, and quit."),
        QStringLiteral("DIR"));
    parser.addOption(screenshots);
    const QCommandLineOption ask(
        QStringLiteral("ask"),
        QApplication::translate("main", "With --screenshot: ask QUESTION about FILE with the configured model (the "
                                        "bundled demo model by default), wait for the answer, print it, then save "
                                        "the picture."),
        QStringLiteral("QUESTION"));
    parser.addOption(ask);
    parser.process(app);

    folio::ThemeManager::apply(folio::ThemeManager::saved());
    folio::MainWindow window;
    window.show();

    const QStringList files = parser.positionalArguments();
    if (parser.isSet(screenshots)) {
        if (files.isEmpty()) {
            QTextStream(stderr) << "folio: --screenshots needs a FILE to open" << Qt::endl;
            return 2;
        }
        auto* tour = new folio::ScreenshotTour(&window, parser.value(screenshots), files.first());
        QObject::connect(tour, &folio::ScreenshotTour::done, &app, [tour](bool ok) {
            for (const QString& path : tour->written())
                QTextStream(stdout) << path << Qt::endl;
            QApplication::exit(ok ? 0 : 1);
        });
        tour->start();
        return app.exec();
    }
    if (parser.isSet(screenshot)) {
        const QString target = parser.value(screenshot);
        auto shoot = [&window, target](int exitCode) {
            // Give the window a moment to lay out and paint before grabbing it.
            QTimer::singleShot(400, &window, [&window, target, exitCode] {
                const bool saved = window.grab().save(target, "PNG");
                if (!saved)
                    QTextStream(stderr) << "folio: cannot write screenshot " << target << Qt::endl;
                QApplication::exit(saved ? exitCode : 1);
            });
        };
        if (parser.isSet(ask)) {
            // A real answer from the real worker: the picture shows what a user sees.
            const QString question = parser.value(ask);
            QObject::connect(&window, &folio::MainWindow::documentShown, &window, [&window, question] {
                window.chat()->newConversation(question.left(60));
                window.chat()->ask(question);
            }, Qt::SingleShotConnection);
            QObject::connect(window.chat(), &folio::ChatView::answerFinished, &window, [&window, shoot] {
                const auto& messages = window.chat()->messages();
                if (!messages.isEmpty())
                    QTextStream(stdout) << messages.last().text << Qt::endl;
                window.chat()->selectAnswer(int(messages.size()) - 1);
                shoot(0);
            }, Qt::SingleShotConnection);
            QObject::connect(window.chat(), &folio::ChatView::failed, &window, [shoot](const QString& message) {
                QTextStream(stderr) << "folio: " << message << Qt::endl;
                shoot(1);
            });
        } else {
            QObject::connect(&window, &folio::MainWindow::documentShown, &window, [shoot] { shoot(0); });
        }
        QObject::connect(&window, &folio::MainWindow::openFailed, &window, [shoot](const QString& message) {
            QTextStream(stderr) << "folio: " << message << Qt::endl;
            shoot(1);
        });
        if (files.isEmpty())
            shoot(0);
    }
    // Answers come from the app's worker (the engine on its own thread, with its own
    // connection to the same database) or from the server chosen in the model manager.
    folio::AnswerSourceChoice sources(folio::Database::defaultPath(), window.keys());
    QObject::connect(&sources, &folio::AnswerSourceChoice::changed, &window,
                     [&window](folio::AnswerSource* source) { window.setChatBackend(source); });
    QObject::connect(&sources, &folio::AnswerSourceChoice::notice, &window, &folio::MainWindow::showNotice);
    QObject::connect(&window, &folio::MainWindow::modelSettingsChanged, &sources,
                     [&sources] { sources.apply(folio::ModelSettings::load()); });
    sources.apply(folio::ModelSettings::load());
    if (!files.isEmpty())
        window.openDocument(files.first());
    return app.exec();
}
