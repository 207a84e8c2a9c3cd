#include "app/cli/reading_commands.h"

#include "app/cli/context_cli.h"
#include "app/reading/evidence_collector.h"
#include "app/reading/reading_session.h"
#include "app/store/database.h"
#include "app/store/library_store.h"
#include "app/worker/reading_worker.h"

#include <QCommandLineParser>
#include <QDateTime>
#include <QEventLoop>
#include <QTextStream>

#include <cstdio>

namespace folio::cli {

namespace {

struct UsageError {
    QString message;
};

QCommandLineParser& addOption(QCommandLineParser& parser, const QString& name, const QString& help,
                              const QString& value = {}, const QString& defaultValue = {})
{
    parser.addOption(QCommandLineOption(name, help, value, defaultValue));
    return parser;
}

// Parses; false when --help was printed. Throws UsageError.
bool parse(QCommandLineParser& parser, const QStringList& arguments)
{
    parser.addHelpOption();
    if (!parser.parse(arguments))
        throw UsageError{parser.errorText()};
    if (parser.isSet(QStringLiteral("help"))) {
        QTextStream(stdout) << parser.helpText();
        return false;
    }
    return true;
}

QString required(const QCommandLineParser& parser, const char* name)
{
    const QString value = parser.value(QString::fromLatin1(name));
    if (value.isEmpty())
        throw UsageError{QStringLiteral("--%1 is required").arg(QLatin1String(name))};
    return value;
}

int whole(const QCommandLineParser& parser, const char* name, int minimum)
{
    bool ok = false;
    const int value = parser.value(QString::fromLatin1(name)).toInt(&ok);
    if (!ok || value < minimum)
        throw UsageError{QStringLiteral("--%1 needs a whole number of at least %2").arg(QLatin1String(name)).arg(minimum)};
    return value;
}

qint64 idArgument(const QCommandLineParser& parser)
{
    const QStringList positional = parser.positionalArguments();
    bool ok = false;
    const qint64 id = positional.size() == 2 ? positional.at(1).toLongLong(&ok) : 0;
    if (!ok || id <= 0)
        throw UsageError{QStringLiteral("expected one conversation ID")};
    return id;
}

QString databasePath(const QCommandLineParser& parser)
{
    const QString path = parser.value(QStringLiteral("db"));
    return path.isEmpty() ? Database::defaultPath() : path;
}

template <typename Body>
int guarded(const char* command, Body body)
{
    try {
        return body();
    } catch (const UsageError& e) {
        QTextStream(stderr) << "folio-cli " << command << ": " << e.message << Qt::endl;
        return 2;
    } catch (const std::invalid_argument& e) {
        QTextStream(stderr) << "folio-cli " << command << ": " << QString::fromUtf8(e.what()) << Qt::endl;
        return 2;
    } catch (const StoreError& e) {
        QTextStream(stderr) << "error: " << e.message() << Qt::endl;
        return 1;
    } catch (const std::exception& e) {
        QTextStream(stderr) << "error: " << QString::fromUtf8(e.what()) << Qt::endl;
        return 1;
    }
}

void addReadingOptions(QCommandLineParser& parser)
{
    addOption(parser, QStringLiteral("model"), QStringLiteral("A GGUF model."), QStringLiteral("MODEL"));
    addOption(parser, QStringLiteral("doc"), QStringLiteral("The document (PDF, EPUB, text, Markdown)."),
              QStringLiteral("FILE"));
    addOption(parser, QStringLiteral("db"), QStringLiteral("The database (default: the app's)."), QStringLiteral("PATH"));
    addOption(parser, QStringLiteral("n"), QStringLiteral("Most answer tokens (default 512)."), QStringLiteral("N"),
              QStringLiteral("512"));
    addOption(parser, QStringLiteral("temp"), QStringLiteral("Temperature; 0 is greedy (default 0)."),
              QStringLiteral("T"), QStringLiteral("0"));
    addOption(parser, QStringLiteral("seed"), QStringLiteral("Random seed (default 0)."), QStringLiteral("S"),
              QStringLiteral("0"));
    addOption(parser, QStringLiteral("threads"), QStringLiteral("Threads (default: all cores)."), QStringLiteral("N"),
              QStringLiteral("0"));
    addOption(parser, QStringLiteral("room"),
              QStringLiteral("Context tokens kept for the conversation beyond the document (default 2048)."),
              QStringLiteral("N"), QStringLiteral("2048"));
    addOption(parser, QStringLiteral("evidence"), QStringLiteral("Evidence pages to show (default 3)."),
              QStringLiteral("N"), QStringLiteral("3"));
    addOption(parser, QStringLiteral("evidence-layers"),
              QStringLiteral("Layers whose attention finds the evidence pages: all, default (all but the first quarter) or a list such as 0,2."),
              QStringLiteral("LIST"));
    addOption(parser, QStringLiteral("no-snapshots"), QStringLiteral("Neither restore nor save KV snapshots."));
    addOption(parser, QStringLiteral("no-think"),
              QStringLiteral("A reasoning model (Qwen3) answers without thinking first."));
    addContextOptions(parser);
}

ReadingOptions readingOptions(const QCommandLineParser& parser)
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
    o.threads = whole(parser, "threads", 0);
    o.conversationRoom = whole(parser, "room", 16);
    o.maxAnswerTokens = whole(parser, "n", 1);
    o.evidencePages = whole(parser, "evidence", 0);
    const QString layers = parser.value(QStringLiteral("evidence-layers")).trimmed();
    if (layers == QLatin1String("all"))
        o.evidenceLayers = {kEveryLayer};
    else if (parser.isSet(QStringLiteral("evidence-layers")) && layers != QLatin1String("default"))
        for (const QString& item : layers.split(QLatin1Char(','))) {
            bool isNumber = false;
            const int layer = item.trimmed().toInt(&isNumber);
            if (!isNumber || layer < 0)
                throw UsageError{QStringLiteral("--evidence-layers needs layer numbers such as 0,2")};
            o.evidenceLayers.push_back(layer);
        }
    bool ok = false;
    o.sampler.temperature = parser.value(QStringLiteral("temp")).toFloat(&ok);
    if (!ok)
        throw UsageError{QStringLiteral("--temp needs a number")};
    if (o.sampler.temperature > 0)
        o.sampler.repeatPenalty = 1.1f;
    o.sampler.seed = static_cast<uint64_t>(whole(parser, "seed", 0));
    o.useSnapshots = !parser.isSet(QStringLiteral("no-snapshots"));
    o.thinking = !parser.isSet(QStringLiteral("no-think"));
    return o;
}

QString formatDuration(double seconds)
{
    if (seconds < 0)
        return QStringLiteral("?");
    const qint64 s = qint64(seconds + 0.5);
    return s >= 3600 ? QStringLiteral("%1:%2:%3").arg(s / 3600).arg(s / 60 % 60, 2, 10, QLatin1Char('0')).arg(s % 60, 2, 10, QLatin1Char('0'))
                     : QStringLiteral("%1:%2").arg(s / 60).arg(s % 60, 2, 10, QLatin1Char('0'));
}

QString pageMarkerPrefix(const QString& kind)
{
    if (kind == QLatin1String("pdf"))
        return QStringLiteral("p.");
    if (kind == QLatin1String("epub"))
        return QStringLiteral("ch.");
    return QStringLiteral("§");
}

QString time(qint64 ms)
{
    return QDateTime::fromMSecsSinceEpoch(ms).toLocalTime().toString(QStringLiteral("yyyy-MM-dd hh:mm"));
}

} // namespace

int runAsk(const QStringList& arguments)
{
    return guarded("ask", [&] {
        QCommandLineParser parser;
        parser.setApplicationDescription(QStringLiteral(
            "Read a document (or restore its saved state) and answer a question about it, streaming the answer."));
        parser.addPositionalArgument(QStringLiteral("ask"), QStringLiteral("The command."));
        parser.addPositionalArgument(QStringLiteral("QUESTION"), QStringLiteral("The question."));
        addReadingOptions(parser);
        addOption(parser, QStringLiteral("conversation"), QStringLiteral("Continue this conversation."),
                  QStringLiteral("ID"), QStringLiteral("0"));
        addOption(parser, QStringLiteral("regenerate"),
                  QStringLiteral("Answer the conversation's last question again (no QUESTION; the earlier answer is kept)."));
        addOption(parser, QStringLiteral("continue"),
                  QStringLiteral("Write on the conversation's last answer, which was stopped, from where it stopped "
                                 "(no QUESTION; the answer is saved again in place)."));
        if (!parse(parser, arguments))
            return 0;
        const QStringList positional = parser.positionalArguments();
        const qint64 conversation = parser.value(QStringLiteral("conversation")).toLongLong();
        const bool again = parser.isSet(QStringLiteral("regenerate"));
        const bool goOn = parser.isSet(QStringLiteral("continue"));
        if (again && goOn)
            throw UsageError{QStringLiteral("--regenerate and --continue do not go together")};
        if ((again || goOn) && (positional.size() != 1 || conversation == 0))
            throw UsageError{QStringLiteral("%1 takes --conversation ID and no QUESTION")
                                 .arg(again ? QStringLiteral("--regenerate") : QStringLiteral("--continue"))};
        if (!again && !goOn && positional.size() != 2)
            throw UsageError{QStringLiteral("expected exactly one QUESTION (quote it)")};
        const QString model = required(parser, "model");
        QString doc = parser.value(QStringLiteral("doc"));
        if (doc.isEmpty() && conversation == 0)
            throw UsageError{QStringLiteral("--doc is required for a new conversation")};

        ReadingController controller(databasePath(parser), readingOptions(parser));
        QEventLoop loop;
        int exitCode = 0;
        QTextStream err(stderr);
        bool progressShown = false;
        QObject::connect(&controller, &ReadingController::progress, [&](int done, int total, double rate, double eta) {
            err << "\rreading: " << done << "/" << total << " tokens";
            if (rate > 0)
                err << ", " << qRound(rate) << " tokens/s, ETA " << formatDuration(eta) << "   ";
            err.flush();
            progressShown = true;
        });
        auto endProgress = [&] {
            if (progressShown)
                err << Qt::endl;
            progressShown = false;
        };
        QObject::connect(&controller, &ReadingController::notice, [&](const QString& text) {
            endProgress();
            err << "note: " << text << Qt::endl;
        });
        // The thinking goes to stderr (a reader pipes the answer alone), the answer to stdout.
        bool thinkingShown = false;
        QObject::connect(&controller, &ReadingController::reasoning, [&](const QString& text) {
            endProgress();
            if (!thinkingShown)
                err << "thinking: ";
            thinkingShown = true;
            err << text;
            err.flush();
        });
        QObject::connect(&controller, &ReadingController::token, [&](const QString& text) {
            endProgress();
            if (std::exchange(thinkingShown, false))
                err << Qt::endl;
            const QByteArray utf8 = text.toUtf8();
            std::fwrite(utf8.constData(), 1, std::size_t(utf8.size()), stdout);
            std::fflush(stdout);
        });
        QObject::connect(&controller, &ReadingController::finished, [&](const AnswerResult& r) {
            endProgress();
            QTextStream out(stdout);
            out << "\n\n";
            if (r.evidence.isEmpty()) {
                out << "Evidence: none measured\n";
            } else {
                QStringList pages;
                for (int i = 0; i < r.evidence.size(); ++i)
                    pages << QStringLiteral("%1 (%2%)").arg(r.evidenceMarkers.value(i)).arg(100.0 * r.evidence[i].weight, 0, 'f', 1);
                out << "Evidence: " << pages.join(QStringLiteral(", ")) << '\n';
            }
            out << "Conversation: " << r.conversationId << Qt::endl;
            err << "answered in " << QString::number(r.seconds, 'f', 2) << " s (" << r.answerTokens << " tokens; state: "
                << r.resumedFrom << "; context " << r.contextTokens << " tokens)" << Qt::endl;
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
        QObject::connect(&controller, &ReadingController::modelLoaded, [&](const QString&) {
            if (exitCode == 0 && again)
                controller.regenerate(conversation, doc);
            else if (exitCode == 0 && goOn)
                controller.continueAnswer(conversation, doc);
            else if (exitCode == 0)
                controller.ask(positional.at(1), conversation, doc);
        });
        QObject::connect(&controller, &ReadingController::idle, &loop, &QEventLoop::quit);
        controller.loadModel(model);
        loop.exec();
        return exitCode;
    });
}

int runConversations(const QStringList& arguments)
{
    return guarded("conversations", [&] {
        QCommandLineParser parser;
        parser.setApplicationDescription(QStringLiteral("List saved conversations, most recent first."));
        parser.addPositionalArgument(QStringLiteral("conversations"), QStringLiteral("The command."));
        addOption(parser, QStringLiteral("db"), QStringLiteral("The database (default: the app's)."), QStringLiteral("PATH"));
        if (!parse(parser, arguments))
            return 0;
        Database db(databasePath(parser));
        LibraryStore library(db);
        QTextStream out(stdout);
        const QVector<ConversationRecord> all = library.conversations();
        if (all.isEmpty())
            out << "no conversations\n";
        for (const ConversationRecord& c : all) {
            const DocumentRecord d = library.document(c.documentId);
            out << c.id << '\t' << time(c.updatedAtMs) << '\t' << c.messageCount << " messages\t" << d.title << '\t'
                << c.title << '\n';
        }
        return 0;
    });
}

int runShow(const QStringList& arguments)
{
    return guarded("show", [&] {
        QCommandLineParser parser;
        parser.setApplicationDescription(QStringLiteral("Print a conversation with its evidence pages."));
        parser.addPositionalArgument(QStringLiteral("show"), QStringLiteral("The command."));
        parser.addPositionalArgument(QStringLiteral("ID"), QStringLiteral("The conversation."));
        addOption(parser, QStringLiteral("db"), QStringLiteral("The database (default: the app's)."), QStringLiteral("PATH"));
        if (!parse(parser, arguments))
            return 0;
        const qint64 id = idArgument(parser);
        Database db(databasePath(parser));
        LibraryStore library(db);
        const ConversationRecord c = library.conversation(id);
        const DocumentRecord d = library.document(c.documentId);
        QTextStream out(stdout);
        out << "Conversation " << c.id << ": " << c.title << '\n'
            << "Document: " << d.title << " (" << d.path << ")\n"
            << "Model: " << c.modelFingerprint << '\n'
            << "Updated: " << time(c.updatedAtMs) << "\n\n";
        const QString prefix = pageMarkerPrefix(d.kind);
        for (const MessageRecord& m : library.messages(id)) {
            out << (m.role == MessageRole::User ? "Q: " : m.role == MessageRole::Assistant ? "A: " : "System: ") << m.text
                << '\n';
            if (!m.evidence.isEmpty()) {
                QStringList pages;
                for (const EvidencePage& e : m.evidence)
                    pages << QStringLiteral("[%1 %2] (%3%)").arg(prefix).arg(e.page + 1).arg(100.0 * e.weight, 0, 'f', 1);
                out << "   Evidence: " << pages.join(QStringLiteral(", ")) << '\n';
            }
            out << '\n';
        }
        return 0;
    });
}

int runDelete(const QStringList& arguments)
{
    return guarded("delete", [&] {
        QCommandLineParser parser;
        parser.setApplicationDescription(QStringLiteral("Delete a conversation with its messages and saved state."));
        parser.addPositionalArgument(QStringLiteral("delete"), QStringLiteral("The command."));
        parser.addPositionalArgument(QStringLiteral("ID"), QStringLiteral("The conversation."));
        addOption(parser, QStringLiteral("db"), QStringLiteral("The database (default: the app's)."), QStringLiteral("PATH"));
        if (!parse(parser, arguments))
            return 0;
        const qint64 id = idArgument(parser);
        Database db(databasePath(parser));
        LibraryStore(db).deleteConversation(id);
        QTextStream(stdout) << "deleted conversation " << id << Qt::endl;
        return 0;
    });
}

} // namespace folio::cli
