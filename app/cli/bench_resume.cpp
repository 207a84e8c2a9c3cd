// folio-bench resume (also folio-cli bench-resume): what saved KV snapshots buy. In one run: read a document
// and answer a first question (saving the document's and the conversation's state),
// then, as after a restart (a fresh ReadingSession), answer a second question in that
// conversation twice: restoring its snapshot, and reading the document again (no
// snapshots: the document and the first turn are prefilled). Prints both times and
// their ratio, and the snapshot size with write/read throughput.
#include "app/cli/reading_commands.h"

#include "app/cli/context_cli.h"
#include "app/reading/reading_session.h"
#include "app/store/database.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QTemporaryDir>
#include <QTextStream>

#include <chrono>

namespace folio::cli {

namespace {

double since(std::chrono::steady_clock::time_point start)
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double mbPerSecond(qint64 bytes, double seconds) { return seconds > 0 ? bytes / 1e6 / seconds : 0.0; }

} // namespace

int runBenchResume(const QStringList& arguments)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Time to answer after reopening a conversation: restore vs read again."));
    parser.addHelpOption();
    parser.addPositionalArgument(QStringLiteral("resume"), QStringLiteral("The command (folio-bench resume, folio-cli bench-resume)."));
    parser.addOption({QStringLiteral("model"), QStringLiteral("A GGUF model."), QStringLiteral("MODEL")});
    parser.addOption({QStringLiteral("doc"), QStringLiteral("The document."), QStringLiteral("FILE")});
    parser.addOption({QStringLiteral("db"), QStringLiteral("Database (default: a temporary one)."), QStringLiteral("PATH")});
    parser.addOption({QStringLiteral("n"), QStringLiteral("Answer tokens (default 16)."), QStringLiteral("N"), QStringLiteral("16")});
    parser.addOption({QStringLiteral("threads"), QStringLiteral("Threads (default: all)."), QStringLiteral("N"), QStringLiteral("0")});
    addContextOptions(parser);
    if (!parser.parse(arguments)) {
        QTextStream(stderr) << "resume: " << parser.errorText() << Qt::endl;
        return 2;
    }
    if (parser.isSet(QStringLiteral("help"))) {
        QTextStream(stdout) << parser.helpText();
        return 0;
    }
    const QString modelPath = parser.value(QStringLiteral("model"));
    const QString docPath = parser.value(QStringLiteral("doc"));
    if (modelPath.isEmpty() || docPath.isEmpty()) {
        QTextStream(stderr) << "resume: --model and --doc are required" << Qt::endl;
        return 2;
    }
    QTextStream out(stdout);
    QTextStream err(stderr);
    try {
        QTemporaryDir dir;
        const QString dbPath = parser.isSet(QStringLiteral("db")) ? parser.value(QStringLiteral("db"))
                                                                  : dir.filePath(QStringLiteral("bench.sqlite"));
        ReadingOptions options;
        SessionOptions given;
        applyContextOptions(parser, given);
        if (parser.isSet(QStringLiteral("ctx")))
            options.contextLength = given.contextLength;
        if (parser.isSet(QStringLiteral("kv-type")))
            options.kvType = given.kvType;
        options.rope = given.rope;
        options.dca = given.dca;
        options.batchSize = parser.isSet(QStringLiteral("ubatch")) ? given.batchSize : 0;  // 0: the planner's
        options.threads = parser.value(QStringLiteral("threads")).toInt();
        options.maxAnswerTokens = std::max(1, parser.value(QStringLiteral("n")).toInt());
        // Room for two turns even when an answer re-tokenizes longer (the replay).
        options.conversationRoom = 1024 + 4 * options.maxAnswerTokens;
        ReadingSession::Callbacks quiet;
        quiet.notice = [&](const QString& text) { err << "note: " << text << Qt::endl; };
        const QString q1 = QStringLiteral("What is this document about?");
        const QString q2 = QStringLiteral("Who are the main people in it?");

        // 1. Read the document and answer a first question; both states are saved.
        auto db = std::make_shared<Database>(dbPath);
        ReadingSession first(db, options);
        first.loadModel(modelPath);
        const DocumentStatus read = first.openDocument(docPath, quiet);
        if (read.restored)
            err << "note: the document's state was already in " << dbPath << "; its read time is a restore" << Qt::endl;
        const AnswerResult a1 = first.ask(q1, 0, quiet);
        err << "read " << read.promptTokens << " tokens in " << read.seconds << " s; first answer in " << a1.seconds
            << " s" << Qt::endl;
        const qint64 conversation = a1.conversationId;
        first.dropSession();

        // 2. Reopen (a fresh session, as after a restart): restore the conversation's state.
        ReadingSession reopened(db, options);
        reopened.loadModel(modelPath);
        auto start = std::chrono::steady_clock::now();
        reopened.prepareDocument(docPath, quiet);
        const AnswerResult restored = reopened.ask(q2, conversation, quiet);
        const double restoreSeconds = since(start);
        reopened.dropSession();

        // 3. The same question without snapshots: read the document and the first turn again.
        ReadingOptions noSnapshots = options;
        noSnapshots.useSnapshots = false;
        ReadingSession again(db, noSnapshots);
        again.loadModel(modelPath);
        start = std::chrono::steady_clock::now();
        again.prepareDocument(docPath, quiet);
        const AnswerResult reread = again.ask(q2, conversation, quiet);
        const double rereadSeconds = since(start);
        again.dropSession();

        // 4. Read throughput of the document snapshot alone.
        ReadingSession restoreDoc(db, options);
        restoreDoc.loadModel(modelPath);
        const DocumentStatus docRestore = restoreDoc.openDocument(docPath, quiet);

        out << "document:             " << read.title << " (" << read.promptTokens << " tokens, " << read.pages
            << " pages)\n"
            << "context:              " << read.contextLength << " tokens, " << read.extension << ", KV " << read.kvType
            << '\n'
            << "answer after reopen:  restore " << QString::number(restoreSeconds, 'f', 3) << " s (" << restored.resumedFrom
            << ") vs read again " << QString::number(rereadSeconds, 'f', 3) << " s (" << reread.resumedFrom << ")\n"
            << "ratio (read/restore): " << QString::number(rereadSeconds / restoreSeconds, 'f', 1) << "x\n"
            << "same answer:          "
            << (restored.answer == reread.answer
                    ? QStringLiteral("yes")
                    : QStringLiteral("no (the replay re-tokenizes the first answer's text): \"%1\" vs \"%2\"")
                          .arg(restored.answer.left(60), reread.answer.left(60)))
            << '\n'
            << "document snapshot:    " << QString::number(read.snapshotBytes / 1e6, 'f', 1) << " MB, write "
            << QString::number(mbPerSecond(read.snapshotBytes, read.snapshotSeconds), 'f', 0) << " MB/s, read "
            << QString::number(mbPerSecond(docRestore.snapshotBytes, docRestore.snapshotSeconds), 'f', 0)
            << " MB/s (restore " << QString::number(docRestore.snapshotSeconds, 'f', 3) << " s)\n"
            << "conversation snapshot: " << QString::number(a1.conversationSnapshotBytes / 1e6, 'f', 1)
            << " MB (the turns after the document, on top of its snapshot)\n";
        return 0;
    } catch (const StoreError& e) {
        err << "error: " << e.message() << Qt::endl;
    } catch (const std::exception& e) {
        err << "error: " << QString::fromUtf8(e.what()) << Qt::endl;
    }
    return 1;
}

int runBenchResumeMain(int argc, char** argv)
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("Folio"));
    QCoreApplication::setOrganizationName(QStringLiteral("Folio"));
    return runBenchResume(app.arguments());
}

} // namespace folio::cli
