// folio-bench chat-render: how fast the chat pane takes a streamed answer when the
// conversation above it is short and when it is long. For each length (2 and 200
// finished turns by default) a ChatView shows a conversation from a scratch store, and
// the scripted answer source streams the same answer into it, one word per timer tick
// (as the real source's queued token signals arrive), with the event loop painting and
// running the view's timers. It prints the tokens per second the view kept up with, the
// GUI thread's CPU time per token, and the ratios long ÷ short: a view whose cost per
// token grows with the transcript falls behind the source as the conversation grows.
// Built only with ui/ (Qt Widgets, offscreen platform): see bench/CMakeLists.txt.
#include "app/store/database.h"
#include "app/store/library_store.h"
#include "app/store/store_writer.h"
#include "ui/chat/chat_view.h"
#include "ui/chat/scripted_backend.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QDateTime>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTimer>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <vector>

namespace folio::bench {

namespace {

double threadCpuSeconds()
{
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + ts.tv_nsec * 1e-9;
}

// An answer as a model writes one: a few hundred characters of Markdown with a list,
// emphasis and page citations.
QString answerText(int turn)
{
    return QStringLiteral(
               "The keeper records **high water** at dawn [p. %1] and signs the log before the pilot boards. "
               "Three things follow from the tables:\n\n"
               "- the spring tides peak two days after the new moon [p. %2];\n"
               "- the neap tides are *weakest* in the first quarter;\n"
               "- a westerly gale raises the evening water by a hand's breadth [pp. %3-%4].\n\n"
               "So the harbour is safest to enter on the morning flood, as the master's notes say.")
        .arg(turn % 40 + 1)
        .arg(turn % 40 + 2)
        .arg(turn % 40 + 3)
        .arg(turn % 40 + 4);
}

// The streamed answer: its first `words` tokens (words with the space before them, as
// the scripted source splits them) of answers like the others, one after another.
QString streamedAnswer(int words)
{
    QString out;
    int count = 0;
    const QRegularExpression word(QStringLiteral("\\s*\\S+"));
    for (int turn = 0; count < words; ++turn)
        for (auto it = word.globalMatch((turn ? QStringLiteral("\n\n") : QString()) + answerText(turn)); it.hasNext() && count < words; ++count)
            out += it.next().captured();
    return out;
}

struct Figures {
    double tokensPerSecond = 0;
    double cpuMicrosPerToken = 0;
};

// One conversation of `turns` finished turns, then one answer of `words` tokens streamed.
Figures streamOnce(int turns, int words, int intervalMs, const QString& dir)
{
    Database db(dir + QStringLiteral("/chat-%1-%2.sqlite").arg(turns).arg(QDateTime::currentMSecsSinceEpoch()));
    LibraryStore store(db);
    auto document = std::make_shared<Document>();
    document->path = QStringLiteral("tides.txt");
    document->title = QStringLiteral("Tide tables");
    document->contentHash = QStringLiteral("%1").arg(turns, 64, 10, QChar(u'0'));
    document->text = QStringLiteral("The tide tables of the harbour.");
    const qint64 documentId = store.rememberDocument(*document);
    const qint64 conversation = store.createConversation(documentId, QString(), QStringLiteral("Tides"));
    for (int t = 0; t < turns; ++t) {
        MessageRecord question;
        question.role = MessageRole::User;
        question.text = QStringLiteral("Question %1: when is it safest to enter the harbour?").arg(t + 1);
        store.appendMessage(conversation, question);
        MessageRecord answer;
        answer.role = MessageRole::Assistant;
        answer.text = answerText(t);
        answer.evidence = {{t % 40, 0.7}, {t % 40 + 1, 0.3}};
        store.appendMessage(conversation, answer);
    }

    ScriptedBackend source;
    source.setReadingTokens(0, 1);
    source.setInterval(intervalMs);
    source.setAnswer(streamedAnswer(words), {{1, 1.0}});
    StoreWriter writer(db.path());
    ChatView view;
    view.setStore(&store, &writer);
    view.setBackend(&source);
    view.setDocument(document, documentId);
    view.resize(560, 900);
    view.show();
    QCoreApplication::processEvents();

    int tokens = 0;
    QElapsedTimer wall;
    double cpuStart = 0;
    QObject::connect(&source, &AnswerSource::token, &view, [&](quint64, const QString&) {
        if (tokens++ == 0) {   // from the first token: the reading and the question are not the stream
            wall.start();
            cpuStart = threadCpuSeconds();
        }
    });
    QEventLoop loop;
    QObject::connect(&view, &ChatView::answerFinished, &loop, &QEventLoop::quit);
    QTimer::singleShot(120000, &loop, &QEventLoop::quit);
    view.ask(QStringLiteral("And at night?"));
    loop.exec();
    const double seconds = wall.nsecsElapsed() * 1e-9;
    const double cpu = threadCpuSeconds() - cpuStart;
    if (tokens != words)
        std::fprintf(stderr, "chat-render: %d of %d tokens arrived\n", tokens, words);
    return {tokens / seconds, 1e6 * cpu / std::max(1, tokens)};
}

Figures median(std::vector<Figures> runs)
{
    const auto middle = [&](auto key) {
        std::sort(runs.begin(), runs.end(), [&](const Figures& a, const Figures& b) { return key(a) < key(b); });
        return key(runs[runs.size() / 2]);
    };
    return {middle([](const Figures& f) { return f.tokensPerSecond; }),
            middle([](const Figures& f) { return f.cpuMicrosPerToken; })};
}

} // namespace

int runChatRenderBenchMain(int argc, char** argv)
{
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM"))
        qputenv("QT_QPA_PLATFORM", "offscreen");
    QApplication app(argc, argv);
    QCommandLineParser parser;
    parser.addPositionalArgument(QStringLiteral("chat-render"), QString());
    parser.addOption({QStringLiteral("turns"), QStringLiteral("Finished turns before the answer."), QStringLiteral("list"),
                      QStringLiteral("2,200")});
    parser.addOption({QStringLiteral("tokens"), QStringLiteral("Tokens streamed."), QStringLiteral("n"), QStringLiteral("400")});
    parser.addOption({QStringLiteral("interval"), QStringLiteral("Milliseconds between tokens."), QStringLiteral("ms"),
                      QStringLiteral("1")});
    parser.addOption({QStringLiteral("repeats"), QStringLiteral("Runs per length (median)."), QStringLiteral("n"),
                      QStringLiteral("3")});
    parser.process(app);
    const int words = parser.value(QStringLiteral("tokens")).toInt();
    const int interval = parser.value(QStringLiteral("interval")).toInt();
    const int repeats = std::max(1, parser.value(QStringLiteral("repeats")).toInt());
    QTemporaryDir dir;

    std::printf("chat-render: %d tokens offered at one per %d ms (%.0f tokens/s), median of %d\n", words, interval,
                interval > 0 ? 1000.0 / interval : 0.0, repeats);
    std::printf("%8s %12s %14s\n", "turns", "tokens/s", "CPU us/token");
    streamOnce(2, std::min(words, 50), interval, dir.path());   // warm up: fonts, the first paints
    std::vector<Figures> results;
    for (const QString& item : parser.value(QStringLiteral("turns")).split(QChar(u','))) {
        std::vector<Figures> runs;
        for (int r = 0; r < repeats; ++r)
            runs.push_back(streamOnce(item.toInt(), words, interval, dir.path()));
        results.push_back(median(runs));
        std::printf("%8d %12.1f %14.1f\n", item.toInt(), results.back().tokensPerSecond, results.back().cpuMicrosPerToken);
    }
    if (results.size() >= 2)
        std::printf("ratio last/first: tokens/s %.2f, CPU per token %.2f\n",
                    results.back().tokensPerSecond / results.front().tokensPerSecond,
                    results.back().cpuMicrosPerToken / results.front().cpuMicrosPerToken);
    return 0;
}

} // namespace folio::bench
