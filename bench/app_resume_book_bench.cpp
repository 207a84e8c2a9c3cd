// folio-bench resume --document FILE: the whole-book demo, measured. Reads the document
// once through the app's own path (ReadingController: the worker thread, its
// ReadingSession, the SQLite store in a temporary folder, the document's KV snapshot
// saved there), closes everything, then reopens as after a restart (a new controller:
// a new worker, database connection, model and session; only the store's file is
// kept), restores the document's state and asks the six questions of the samples
// README, each in a new conversation. Prints the read time (with progress lines as the
// window's bar shows them), the reopen-to-first-answer time, each answer's time and
// whether it is right. (folio-bench resume --doc FILE is the older comparison of
// restore and read again, app/cli/bench_resume.cpp.)
#include "app/store/database.h"
#include "app/worker/reading_worker.h"

#include "app/cli/context_cli.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDir>
#include <QEventLoop>
#include <QFileInfo>
#include <QTemporaryDir>
#include <QTextStream>

#include <chrono>
#include <cstdio>
#include <time.h>

namespace folio::bench {

namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// CPU seconds of this process, all threads (the worker's included): what the read
// costs when other programs share the cores.
double cpuSeconds()
{
    timespec t{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return double(t.tv_sec) + 1e-9 * double(t.tv_nsec);
}

// The planted facts of resources/samples/moby-dick-whole-book-planted-facts.txt (and of
// the short sample): tools/make_whole_book_sample.py FACTS.
struct QuestionAndAnswer {
    const char* question;
    const char* answer;
};
constexpr QuestionAndAnswer kQuestions[] = {
    {"What is the key to the blue cabinet?", "7431"},
    {"Where was Captain Ortega born?", "Valparaiso"},
    {"When did the Halcyon sail?", "March 14, 1847"},
    {"What is the pass key?", "58203"},
    {"Where did Martha hide the ledger?", "the bell tower"},
    {"What is the secret word?", "juniper"},
};

QString clock(double seconds)
{
    const qint64 s = qint64(seconds + 0.5);
    return QStringLiteral("%1:%2").arg(s / 60).arg(s % 60, 2, 10, QLatin1Char('0'));
}

// Runs the queued requests of `controller` to their end; records failures.
void waitIdle(ReadingController& controller, QString* failure)
{
    QEventLoop loop;
    QObject::connect(&controller, &ReadingController::idle, &loop, &QEventLoop::quit);
    QObject::connect(&controller, &ReadingController::failed, &loop,
                     [failure](AnswerErrorKind, const QString& message) { *failure = message; });
    loop.exec();
}

} // namespace

int runResumeBookBenchMain(int argc, char** argv)
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("Folio"));
    QCoreApplication::setOrganizationName(QStringLiteral("Folio"));
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Read a whole document once, reopen as after a restart, answer the six sample questions from the saved state."));
    parser.addHelpOption();
    parser.addPositionalArgument(QStringLiteral("resume"), QStringLiteral("The command."));
    parser.addOption({QStringLiteral("model"), QStringLiteral("A GGUF model (default: the bundled demo model)."),
                      QStringLiteral("MODEL"), QStringLiteral("resources/models/folio-demo.gguf")});
    parser.addOption({QStringLiteral("document"), QStringLiteral("The document with the six planted facts."),
                      QStringLiteral("FILE")});
    parser.addOption({QStringLiteral("db"), QStringLiteral("Database (default: a new one in a temporary folder)."),
                      QStringLiteral("PATH")});
    parser.addOption({QStringLiteral("threads"), QStringLiteral("Threads (default: all)."), QStringLiteral("N"),
                      QStringLiteral("0")});
    cli::addContextOptions(parser);
    QTextStream out(stdout);
    QTextStream err(stderr);
    if (!parser.parse(app.arguments())) {
        err << "resume: " << parser.errorText() << Qt::endl;
        return 2;
    }
    if (parser.isSet(QStringLiteral("help"))) {
        out << parser.helpText();
        return 0;
    }
    const QString modelPath = parser.value(QStringLiteral("model"));
    const QString docPath = QFileInfo(parser.value(QStringLiteral("document"))).absoluteFilePath();
    if (parser.value(QStringLiteral("document")).isEmpty()) {
        err << "resume: --document is required" << Qt::endl;
        return 2;
    }
    try {
        QTemporaryDir dir;
        const QString dbPath = parser.isSet(QStringLiteral("db")) ? parser.value(QStringLiteral("db"))
                                                                  : QDir(dir.path()).filePath(QStringLiteral("folio.sqlite"));
        ReadingOptions options;  // as folio-cli ask: greedy, the planner's choice unless told
        SessionOptions given;
        cli::applyContextOptions(parser, given);
        if (parser.isSet(QStringLiteral("ctx")))
            options.contextLength = given.contextLength;
        if (parser.isSet(QStringLiteral("kv-type")))
            options.kvType = given.kvType;
        options.rope = given.rope;
        options.dca = given.dca;
        options.batchSize = parser.isSet(QStringLiteral("ubatch")) ? given.batchSize : 0;  // 0: the planner's
        options.threads = parser.value(QStringLiteral("threads")).toInt();
        options.maxAnswerTokens = 16;  // the demo model's answers are a few words

        // 1. Open the document: read it (the window's progress bar), save its state.
        QString failure;
        DocumentStatus read;
        const auto readStart = Clock::now();
        const double readCpuStart = cpuSeconds();
        {
            ReadingController controller(dbPath, options);
            int nextTenth = 1;
            QObject::connect(&controller, &ReadingController::progress, [&](int done, int total, double rate, double eta) {
                if (total <= 0 || done * 10 < nextTenth * total)
                    return;
                while (done * 10 >= nextTenth * total)
                    ++nextTenth;
                err << "reading: " << done << "/" << total << " tokens (" << (100 * qint64(done) / total) << "%), "
                    << qRound(rate) << " tokens/s, time left " << (eta < 0 ? QStringLiteral("?") : clock(eta))
                    << ", " << clock(since(readStart)) << " so far" << Qt::endl;
            });
            QObject::connect(&controller, &ReadingController::documentReady,
                             [&](const DocumentStatus& status) { read = status; });
            controller.loadModel(modelPath);
            controller.openDocument(docPath);
            waitIdle(controller, &failure);
        }  // closes the worker, its session and its database connection
        const double openSeconds = since(readStart);
        const double openCpu = cpuSeconds() - readCpuStart;
        if (!failure.isEmpty())
            throw std::runtime_error(failure.toStdString());
        if (read.restored)
            err << "note: the document's state was already in " << dbPath << ": its read time is a restore" << Qt::endl;
        out << "document:  " << read.title << " (" << read.promptTokens << " tokens in the reading prompt, "
            << read.pages << " sections)\n"
            << "context:   " << read.contextLength << " tokens, " << read.extension << ", KV " << read.kvType
            << ", threads " << (options.threads > 0 ? QString::number(options.threads) : QStringLiteral("all")) << '\n'
            << "read:      " << QString::number(read.seconds, 'f', 1) << " s (" << clock(read.seconds) << ", "
            << qRound(read.promptTokens / std::max(1e-9, read.seconds)) << " tokens/s); snapshot "
            << QString::number(read.snapshotBytes / 1e6, 'f', 1) << " MB written in "
            << QString::number(read.snapshotSeconds, 'f', 2) << " s; open to ready "
            << QString::number(openSeconds, 'f', 1) << " s (CPU " << QString::number(openCpu, 'f', 1)
            << " s in all threads)\n";
        out.flush();

        // 2. Reopen, as after a restart: only the store's file is kept.
        const auto reopenStart = Clock::now();
        const double reopenCpuStart = cpuSeconds();
        ReadingController controller(dbPath, options);
        double modelSeconds = 0;
        DocumentStatus restored;
        QVector<AnswerResult> answers;
        QVector<double> answeredAt;  // seconds since the reopen
        QObject::connect(&controller, &ReadingController::modelLoaded, [&](const QString&) { modelSeconds = since(reopenStart); });
        QObject::connect(&controller, &ReadingController::documentReady,
                         [&](const DocumentStatus& status) { restored = status; });
        QObject::connect(&controller, &ReadingController::finished, [&](const AnswerResult& r) {
            answers.append(r);
            answeredAt.append(since(reopenStart));
        });
        controller.loadModel(modelPath);
        controller.openDocument(docPath);
        for (const QuestionAndAnswer& qa : kQuestions)
            controller.ask(QString::fromUtf8(qa.question), 0, docPath);  // each a new conversation
        waitIdle(controller, &failure);
        if (!failure.isEmpty())
            throw std::runtime_error(failure.toStdString());
        if (!restored.restored || answers.size() != int(std::size(kQuestions)))
            throw std::runtime_error("the reopened document was read again, not restored, or an answer is missing");
        out << "reopen:    model loaded in " << QString::number(modelSeconds, 'f', 2) << " s; document state restored in "
            << QString::number(restored.seconds, 'f', 2) << " s (" << QString::number(restored.snapshotBytes / 1e6, 'f', 1)
            << " MB); first answer " << QString::number(answeredAt.first(), 'f', 2) << " s after reopening\n";
        int right = 0;
        for (int i = 0; i < answers.size(); ++i) {
            const AnswerResult& r = answers[i];
            const QString expected = QString::fromUtf8(kQuestions[i].answer);
            const bool ok = r.answer.trimmed() == expected;
            right += ok;
            out << QStringLiteral("  %1 -> %2  %3  %4 s (conversation: %5)\n")
                       .arg(r.question, -38)
                       .arg(r.answer.trimmed(), -15)
                       .arg(ok ? QStringLiteral("right") : QStringLiteral("WRONG (expected %1)").arg(expected))
                       .arg(QString::number(r.seconds, 'f', 2))
                       .arg(r.resumedFrom);
        }
        out << "right:     " << right << "/" << answers.size() << "; all six answered "
            << QString::number(answeredAt.last(), 'f', 2) << " s after reopening (vs " << clock(read.seconds)
            << " to read the document); CPU " << QString::number(cpuSeconds() - reopenCpuStart, 'f', 2) << " s" << Qt::endl;
        return right == answers.size() ? 0 : 3;
    } catch (const StoreError& e) {
        err << "error: " << e.message() << Qt::endl;
    } catch (const std::exception& e) {
        err << "error: " << QString::fromUtf8(e.what()) << Qt::endl;
    }
    return 1;
}

} // namespace folio::bench
