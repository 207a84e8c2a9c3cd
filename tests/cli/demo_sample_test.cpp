// The README's promise, end to end: folio-cli ask with the bundled demo model on the
// bundled long sample (about ten times the model's training context, so the context
// planner turns Dual Chunk Attention on) answers each of the README's six questions
// exactly, through the app's own reading prompt, store and snapshots; and the whole-book
// sample of the README's second demo is what its script makes.
#include "tests/support/shared_data.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QProcess>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QTemporaryDir>

#include <gtest/gtest.h>

#include <algorithm>

namespace {

struct QuestionAndAnswer {
    QString question, answer;
};

// The questions of the README's demo tables ("| What is the secret word? | juniper |"),
// each once, in the README's order.
QVector<QuestionAndAnswer> readmeQuestions()
{
    QFile readme(QStringLiteral(FOLIO_SOURCE_DIR "/README.md"));
    if (!readme.open(QIODevice::ReadOnly))
        return {};
    const QString text = QString::fromUtf8(readme.readAll());
    static const QRegularExpression row(QStringLiteral(R"(^\s*\| ((?:What|Where|When) [^|]*\?) \| ([^|]+?) \|\s*$)"),
                                        QRegularExpression::MultilineOption);
    QVector<QuestionAndAnswer> all;
    for (auto it = row.globalMatch(text); it.hasNext();) {
        const auto m = it.next();
        const QuestionAndAnswer qa{m.captured(1).trimmed(), m.captured(2).trimmed()};
        if (std::none_of(all.begin(), all.end(), [&](const QuestionAndAnswer& seen) { return seen.question == qa.question; }))
            all.append(qa);
    }
    return all;
}

struct Answer {
    int exitCode = -1;
    QString text, out, err;
};

Answer ask(const QString& db, const QString& question, const QStringList& extra = {})
{
    const QString source = QStringLiteral(FOLIO_SOURCE_DIR);
    QProcess p;
    p.start(QStringLiteral(FOLIO_CLI_PATH),
            QStringList{QStringLiteral("ask"), QStringLiteral("--model"),
                        source + QStringLiteral("/resources/models/folio-demo.gguf"), QStringLiteral("--doc"),
                        source + QStringLiteral("/resources/samples/moby-dick-planted-facts.txt"), question,
                        QStringLiteral("--db"), db, QStringLiteral("--threads"), QStringLiteral("2")}
                + extra);
    Answer a;
    if (!p.waitForFinished(120000)) {
        p.kill();
        ADD_FAILURE() << "folio-cli did not finish";
        return a;
    }
    a.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -2;
    a.out = QString::fromUtf8(p.readAllStandardOutput());
    a.err = QString::fromUtf8(p.readAllStandardError());
    a.text = a.out.section(QLatin1Char('\n'), 0, 0).trimmed();
    return a;
}

} // namespace

TEST(DemoSample, AnswersTheQuestionsOfTheSamplesReadme)
{
    // The README's six, each through folio-cli ask (greedy, the planner's DCA), each
    // in a new conversation, each answered exactly.
    const QVector<QuestionAndAnswer> cases = readmeQuestions();
    ASSERT_EQ(cases.size(), 6) << "the README's demo table lists six questions";
    QTemporaryDir dir;
    const QString db = QDir(dir.path()).filePath(QStringLiteral("folio.sqlite"));
    for (const QuestionAndAnswer& c : cases) {
        const Answer a = ask(db, c.question);
        ASSERT_EQ(a.exitCode, 0) << a.err.toStdString();
        std::printf("%s -> %s (expected %s)\n", qPrintable(c.question), qPrintable(a.text), qPrintable(c.answer));
        EXPECT_EQ(a.text, c.answer) << c.question.toStdString();
    }

    // A follow-up in the first conversation resumes from its saved state, reads nothing.
    const Answer follow = ask(db, QStringLiteral("What is the secret word?"),
                              {QStringLiteral("--conversation"), QStringLiteral("1")});
    ASSERT_EQ(follow.exitCode, 0) << follow.err.toStdString();
    EXPECT_EQ(follow.text, QStringLiteral("juniper"));
    EXPECT_FALSE(follow.err.contains(QStringLiteral("reading:"))) << follow.err.toStdString();
}

// The evidence pages point at the section the answer comes from: folio-bench evidence
// plants a fact on a random section of documents about twelve times the model's
// training length and checks the first evidence page (the measurement behind
// defaultEvidenceLayers(); the note has the full table).
TEST(DemoSample, EvidencePagesFindThePlantedSection)
{
    const QString source = QStringLiteral(FOLIO_SOURCE_DIR);
    QProcess p;
    p.start(QStringLiteral(FOLIO_BENCH_PATH),
            {QStringLiteral("evidence"), QStringLiteral("--model"), source + QStringLiteral("/resources/models/folio-demo.gguf"),
             QStringLiteral("--filler"), source + QStringLiteral("/resources/samples/moby-dick-chapters-1-12.txt"),
             QStringLiteral("--docs"), QStringLiteral("6"), QStringLiteral("--layer-sets"), QStringLiteral("default;all"),
             QStringLiteral("--threads"), QStringLiteral("2")});
    ASSERT_TRUE(p.waitForFinished(300000));
    const QString out = QString::fromUtf8(p.readAllStandardOutput());
    ASSERT_EQ(p.exitCode(), 0) << p.readAllStandardError().toStdString();
    std::printf("%s", qPrintable(out));
    // "default      83%     100% ...": the top-1 rate of the default layer set.
    const QString row = out.section(QStringLiteral("\ndefault"), 1, 1).section(QLatin1Char('\n'), 0, 0);
    const int top1 = row.section(QLatin1Char('%'), 0, 0).trimmed().toInt();
    EXPECT_GE(top1, 80) << out.toStdString();
}

// The whole-book sample (README's second demo) is the public-domain novel with the six
// facts planted, as tools/make_whole_book_sample.py makes it; reading the whole book
// is a benchmark (folio-bench resume --document), not a test.
TEST(DemoSample, WholeBookSampleHoldsTheSixFactsOnce)
{
    QFile file(QStringLiteral(FOLIO_SOURCE_DIR "/resources/samples/moby-dick-whole-book-planted-facts.txt"));
    ASSERT_TRUE(file.open(QIODevice::ReadOnly)) << "the whole-book sample is missing";
    const QString text = QString::fromUtf8(file.readAll());
    EXPECT_GT(text.size(), 1000000);
    EXPECT_TRUE(text.contains(QStringLiteral("CHAPTER 135. The Chase.—Third Day.")));
    qsizetype previous = -1;
    for (const char* fact : {"The key to the blue cabinet is 7431.", "Captain Ortega was born in Valparaiso.",
                             "The Halcyon sailed on March 14, 1847.", "The pass key is 58203. Remember it. 58203 is the pass key.",
                             "Martha hid the ledger in the bell tower.", "The secret word is juniper."}) {
        const QString needle = QString::fromUtf8(fact);
        EXPECT_EQ(text.count(needle), 1) << fact;
        const qsizetype at = text.indexOf(needle);
        EXPECT_GT(at, previous) << fact << " comes after the one before (the README's order)";
        EXPECT_TRUE(at >= 2 && text.mid(at - 2, 2) == QStringLiteral("\n\n")) << fact << " starts a paragraph";
        previous = at;
    }
}

TEST(DemoSample, WholeBookSampleIsWhatTheScriptMakes)
{
    FOLIO_REQUIRE_SHARED("corpus/moby-dick.txt");
    const QString python = QStandardPaths::findExecutable(QStringLiteral("python3"));
    if (python.isEmpty()) {
        if (folio::test::underCi())
            FAIL() << "CI=true but python3 is missing";
        GTEST_SKIP() << "skipped: python3 not found";
    }
    QTemporaryDir dir;
    const QString made = QDir(dir.path()).filePath(QStringLiteral("whole-book.txt"));
    QProcess p;
    p.start(python, {QStringLiteral(FOLIO_SOURCE_DIR "/tools/make_whole_book_sample.py"), QStringLiteral("--corpus"),
                     QString::fromStdString((folio::test::sharedDir() / "corpus/moby-dick.txt").string()),
                     QStringLiteral("--out"), made});
    ASSERT_TRUE(p.waitForFinished(60000));
    ASSERT_EQ(p.exitCode(), 0) << p.readAllStandardError().toStdString();
    auto digest = [](const QString& path) {
        QFile f(path);
        if (!f.open(QIODevice::ReadOnly))
            return QByteArray();
        return QCryptographicHash::hash(f.readAll(), QCryptographicHash::Sha256).toHex();
    };
    const QByteArray shipped = digest(QStringLiteral(FOLIO_SOURCE_DIR "/resources/samples/moby-dick-whole-book-planted-facts.txt"));
    ASSERT_FALSE(shipped.isEmpty());
    EXPECT_EQ(digest(made), shipped) << "run tools/make_whole_book_sample.py and commit its output";
}
