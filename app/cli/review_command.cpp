#include "app/cli/review_command.h"

#include "app/cli/context_cli.h"
#include "app/reading/reading_session.h"
#include "app/review/review_parser.h"
#include "app/review/review_prompt_builder.h"
#include "app/review/venue_form.h"
#include "app/store/database.h"
#include "app/worker/reading_worker.h"

#include <QCommandLineParser>
#include <QEventLoop>
#include <QFile>
#include <QFileInfo>
#include <QTextStream>

#include <cstdio>

namespace folio::cli {

namespace {

struct UsageError {
    QString message;
};

int wholeOption(const QCommandLineParser& parser, const QString& name, int minimum)
{
    bool ok = false;
    const int value = parser.value(name).toInt(&ok);
    if (!ok || value < minimum)
        throw UsageError{QStringLiteral("--%1 needs a whole number of at least %2").arg(name).arg(minimum)};
    return value;
}

void addOptions(QCommandLineParser& parser)
{
    auto add = [&](const QString& name, const QString& help, const QString& value = {}, const QString& fallback = {}) {
        parser.addOption(QCommandLineOption(name, help, value, fallback));
    };
    add(QStringLiteral("model"), QStringLiteral("A GGUF model."), QStringLiteral("MODEL"));
    add(QStringLiteral("doc"), QStringLiteral("The paper (PDF, or text/Markdown)."), QStringLiteral("PAPER"));
    add(QStringLiteral("venue"), QStringLiteral("The venue whose form to follow: %1.")
                                     .arg(VenueCatalog::builtIn().ids().join(QStringLiteral(", "))),
        QStringLiteral("VENUE"));
    add(QStringLiteral("db"), QStringLiteral("The database (default: the app's)."), QStringLiteral("PATH"));
    add(QStringLiteral("out"), QStringLiteral("Also write the review as Markdown to this file."), QStringLiteral("FILE"));
    // A review is longer than an answer: more tokens and more room by default.
    add(QStringLiteral("n"), QStringLiteral("Most review tokens (default 2048)."), QStringLiteral("N"),
        QStringLiteral("2048"));
    add(QStringLiteral("room"), QStringLiteral("Context tokens kept beyond the paper (default 3072)."),
        QStringLiteral("N"), QStringLiteral("3072"));
    add(QStringLiteral("threads"), QStringLiteral("Threads (default: all cores)."), QStringLiteral("N"),
        QStringLiteral("0"));
    add(QStringLiteral("no-snapshots"), QStringLiteral("Neither restore nor save KV snapshots."));
    addContextOptions(parser);
}

ReadingOptions optionsFrom(const QCommandLineParser& parser)
{
    ReadingOptions o;
    SessionOptions given;
    applyContextOptions(parser, given);
    if (parser.isSet(QStringLiteral("ctx")))
        o.contextLength = given.contextLength;
    if (parser.isSet(QStringLiteral("kv-type")))
        o.kvType = given.kvType;
    o.rope = given.rope;
    o.dca = given.dca;
    o.batchSize = parser.isSet(QStringLiteral("ubatch")) ? given.batchSize : 0;  // 0: the planner's
    o.threads = wholeOption(parser, QStringLiteral("threads"), 0);
    o.conversationRoom = wholeOption(parser, QStringLiteral("room"), 256);
    o.maxAnswerTokens = wholeOption(parser, QStringLiteral("n"), 16);
    o.useSnapshots = !parser.isSet(QStringLiteral("no-snapshots"));
    return o;   // greedy sampling: a self-check should be reproducible
}

QString requiredValue(const QCommandLineParser& parser, const QString& name)
{
    const QString value = parser.value(name);
    if (value.isEmpty())
        throw UsageError{QStringLiteral("--%1 is required").arg(name)};
    return value;
}

int review(const QStringList& arguments)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Review a paper along a venue's reviewing form, as the authors' check before submission."));
    parser.addPositionalArgument(QStringLiteral("review"), QStringLiteral("The command."));
    parser.addHelpOption();
    addOptions(parser);
    if (!parser.parse(arguments))
        throw UsageError{parser.errorText()};
    if (parser.isSet(QStringLiteral("help"))) {
        QTextStream(stdout) << parser.helpText();
        return 0;
    }
    if (parser.positionalArguments().size() != 1)
        throw UsageError{QStringLiteral("review takes no positional arguments")};
    const QString model = requiredValue(parser, QStringLiteral("model"));
    const QString doc = requiredValue(parser, QStringLiteral("doc"));
    const VenueCatalog catalog = VenueCatalog::builtIn();
    const std::optional<VenueForm> form = catalog.find(requiredValue(parser, QStringLiteral("venue")));
    if (!form)
        throw UsageError{QStringLiteral("unknown venue \"%1\"; one of: %2")
                             .arg(parser.value(QStringLiteral("venue")), catalog.ids().join(QStringLiteral(", ")))};
    const QString dbPath = parser.value(QStringLiteral("db")).isEmpty() ? Database::defaultPath()
                                                                         : parser.value(QStringLiteral("db"));
    const QString outPath = parser.value(QStringLiteral("out"));
    const QString instruction = ReviewPromptBuilder(*form).instruction();

    ReadingController controller(dbPath, optionsFrom(parser));
    QEventLoop loop;
    int exitCode = 0;
    QString answer;
    QString title = QFileInfo(doc).completeBaseName();
    QTextStream err(stderr);
    bool progressShown = false;
    auto endProgress = [&] {
        if (progressShown)
            err << Qt::endl;
        progressShown = false;
    };
    QObject::connect(&controller, &ReadingController::progress, [&](int done, int total, double rate, double) {
        err << "\rreading: " << done << "/" << total << " tokens";
        if (rate > 0)
            err << ", " << qRound(rate) << " tokens/s   ";
        err.flush();
        progressShown = true;
    });
    QObject::connect(&controller, &ReadingController::notice, [&](const QString& text) {
        endProgress();
        err << "note: " << text << Qt::endl;
    });
    QObject::connect(&controller, &ReadingController::modelLoaded, [&](const QString&) {
        controller.openDocument(doc);
    });
    QObject::connect(&controller, &ReadingController::documentReady, [&](const DocumentStatus& status) {
        endProgress();
        if (!status.title.isEmpty())
            title = status.title;
        err << "reviewing \"" << title << "\" for " << form->name << " (" << form->formYear << " form)" << Qt::endl;
        controller.ask(instruction, 0, doc);
    });
    QObject::connect(&controller, &ReadingController::token, [&](const QString& text) {
        answer += text;
        const QByteArray utf8 = text.toUtf8();
        std::fwrite(utf8.constData(), 1, std::size_t(utf8.size()), stdout);
        std::fflush(stdout);
    });
    QObject::connect(&controller, &ReadingController::finished, [&](const AnswerResult& result) {
        const ParsedReview parsed = ReviewParser::parse(*form, result.answer.isEmpty() ? answer : result.answer);
        QTextStream(stdout) << "\n" << Qt::endl;
        for (const QString& problem : parsed.problems(*form))
            err << "check: " << problem << Qt::endl;
        if (!outPath.isEmpty()) {
            QFile file(outPath);
            if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate)) {
                err << "error: cannot write " << outPath << ": " << file.errorString() << Qt::endl;
                exitCode = 1;
            } else {
                file.write(reviewToMarkdown(*form, parsed, title).toUtf8());
                err << "wrote " << outPath << Qt::endl;
            }
        }
        err << "Conversation: " << result.conversationId << " (" << result.answerTokens << " tokens, "
            << QString::number(result.seconds, 'f', 1) << " s)" << Qt::endl;
    });
    QObject::connect(&controller, &ReadingController::failed, [&](AnswerErrorKind, const QString& message) {
        endProgress();
        err << "error: " << message << Qt::endl;
        exitCode = 1;
    });
    QObject::connect(&controller, &ReadingController::cancelled, [&] {
        endProgress();
        err << "cancelled" << Qt::endl;
        exitCode = 130;
    });
    QObject::connect(&controller, &ReadingController::idle, &loop, &QEventLoop::quit);
    controller.loadModel(model);
    loop.exec();
    return exitCode;
}

} // namespace

int runReview(const QStringList& arguments)
{
    try {
        return review(arguments);
    } catch (const UsageError& e) {
        QTextStream(stderr) << "folio-cli review: " << e.message << Qt::endl;
        return 2;
    } catch (const std::invalid_argument& e) {
        QTextStream(stderr) << "folio-cli review: " << QString::fromUtf8(e.what()) << Qt::endl;
        return 2;
    } catch (const VenueFormError& e) {
        QTextStream(stderr) << "error: " << e.message() << Qt::endl;
        return 1;
    } catch (const std::exception& e) {
        QTextStream(stderr) << "error: " << QString::fromUtf8(e.what()) << Qt::endl;
        return 1;
    }
}

} // namespace folio::cli
