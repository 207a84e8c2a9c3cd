// folio-cli ask / conversations / show / delete / bench-resume (and folio-bench resume) on a tiny random model
// and a real SQLite file: the answer streams, the evidence pages and the conversation
// id are printed, a second ask continues from the conversation's snapshot.
#include "tests/engine/test_models.h"

#include <QFile>
#include <QProcess>
#include <QTemporaryDir>

#include <gtest/gtest.h>

namespace {

struct CliResult {
    int exitCode = -1;
    QString out, err;
};

CliResult runProgram(const QString& program, const QStringList& args)
{
    QProcess p;
    p.start(program, args);
    CliResult r;
    if (!p.waitForFinished(120000)) {
        p.kill();
        ADD_FAILURE() << program.toStdString() << " did not finish";
        return r;
    }
    r.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -2;
    r.out = QString::fromUtf8(p.readAllStandardOutput());
    r.err = QString::fromUtf8(p.readAllStandardError());
    return r;
}

CliResult folioCli(const QStringList& args) { return runProgram(QStringLiteral(FOLIO_CLI_PATH), args); }

class ReadingCli : public ::testing::Test {
protected:
    void SetUp() override
    {
        folio::test::TinyModelSpec spec;
        spec.contextLength = 4096;
        model = QString::fromStdString(folio::test::writeTinyModel(spec, dir.filePath(QStringLiteral("tiny.gguf")).toStdString()));
        doc = dir.filePath(QStringLiteral("book.txt"));
        QFile f(doc);
        ASSERT_TRUE(f.open(QIODevice::WriteOnly));
        for (int i = 0; i < 40; ++i)
            f.write("abc defgh ijk lmnop qrs tuv wxyz bca edc gfe ihg kji mlk\n");
        db = dir.filePath(QStringLiteral("folio.sqlite"));
    }
    QStringList askArgs(const QString& question) const
    {
        return {QStringLiteral("ask"), QStringLiteral("--model"), model, QStringLiteral("--doc"), doc, question,
                QStringLiteral("--db"), db, QStringLiteral("-n"), QStringLiteral("8"), QStringLiteral("--threads"),
                QStringLiteral("2"), QStringLiteral("--room"), QStringLiteral("128")};
    }
    QTemporaryDir dir;
    QString model, doc, db;
};

} // namespace

TEST_F(ReadingCli, AskThenContinueListShowDelete)
{
    CliResult first = folioCli(askArgs(QStringLiteral("what is it")));
    ASSERT_EQ(first.exitCode, 0) << first.err.toStdString();
    EXPECT_TRUE(first.out.contains(QStringLiteral("Evidence:"))) << first.out.toStdString();
    EXPECT_TRUE(first.out.contains(QStringLiteral("Conversation: 1"))) << first.out.toStdString();
    EXPECT_TRUE(first.err.contains(QStringLiteral("reading:"))) << first.err.toStdString();

    QStringList again = askArgs(QStringLiteral("and then"));
    again << QStringLiteral("--conversation") << QStringLiteral("1");
    CliResult second = folioCli(again);
    ASSERT_EQ(second.exitCode, 0) << second.err.toStdString();
    EXPECT_TRUE(second.err.contains(QStringLiteral("conversation snapshot"))) << second.err.toStdString();
    EXPECT_FALSE(second.err.contains(QStringLiteral("reading:"))) << second.err.toStdString();

    CliResult list = folioCli({QStringLiteral("conversations"), QStringLiteral("--db"), db});
    ASSERT_EQ(list.exitCode, 0);
    EXPECT_TRUE(list.out.startsWith(QStringLiteral("1\t"))) << list.out.toStdString();
    EXPECT_TRUE(list.out.contains(QStringLiteral("4 messages"))) << list.out.toStdString();

    CliResult show = folioCli({QStringLiteral("show"), QStringLiteral("1"), QStringLiteral("--db"), db});
    ASSERT_EQ(show.exitCode, 0);
    EXPECT_TRUE(show.out.contains(QStringLiteral("Q: what is it"))) << show.out.toStdString();
    EXPECT_TRUE(show.out.contains(QStringLiteral("Q: and then")));

    CliResult removed = folioCli({QStringLiteral("delete"), QStringLiteral("1"), QStringLiteral("--db"), db});
    EXPECT_EQ(removed.exitCode, 0);
    CliResult none = folioCli({QStringLiteral("show"), QStringLiteral("1"), QStringLiteral("--db"), db});
    EXPECT_EQ(none.exitCode, 1);
    EXPECT_FALSE(none.err.isEmpty());
}

TEST_F(ReadingCli, MissingModelIsAClearError)
{
    QStringList args = askArgs(QStringLiteral("q"));
    args[2] = dir.filePath(QStringLiteral("moved.gguf"));
    CliResult r = folioCli(args);
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_TRUE(r.err.contains(QStringLiteral("model file not found"))) << r.err.toStdString();
}

TEST_F(ReadingCli, BenchResumePrintsTheRatio)
{
    CliResult r = folioCli({QStringLiteral("bench-resume"), QStringLiteral("--model"), model, QStringLiteral("--doc"), doc,
                      QStringLiteral("--threads"), QStringLiteral("2"), QStringLiteral("-n"), QStringLiteral("4")});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    EXPECT_TRUE(r.out.contains(QStringLiteral("ratio (read/restore)"))) << r.out.toStdString();
    EXPECT_TRUE(r.out.contains(QStringLiteral("same answer:          yes"))) << r.out.toStdString();
}

TEST_F(ReadingCli, FolioBenchResumeIsTheSameBenchmark)
{
    CliResult r = runProgram(QStringLiteral(FOLIO_BENCH_PATH),
                             {QStringLiteral("resume"), QStringLiteral("--model"), model, QStringLiteral("--doc"), doc,
                              QStringLiteral("--threads"), QStringLiteral("2"), QStringLiteral("-n"), QStringLiteral("4")});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    EXPECT_TRUE(r.out.contains(QStringLiteral("ratio (read/restore)"))) << r.out.toStdString();
    EXPECT_TRUE(r.out.contains(QStringLiteral("document snapshot:"))) << r.out.toStdString();
}

TEST_F(ReadingCli, RegenerateAnswersTheLastQuestionAgainAndKeepsTheEarlierAnswer)
{
    CliResult first = folioCli(askArgs(QStringLiteral("what is it")));
    ASSERT_EQ(first.exitCode, 0) << first.err.toStdString();
    QStringList args = askArgs(QString());
    args.removeAt(5);  // no QUESTION
    args << QStringLiteral("--conversation") << QStringLiteral("1") << QStringLiteral("--regenerate");
    CliResult again = folioCli(args);
    ASSERT_EQ(again.exitCode, 0) << again.err.toStdString();
    // Greedy from the same state: the same first line (the answer).
    EXPECT_EQ(again.out.section(QLatin1Char('\n'), 0, 0), first.out.section(QLatin1Char('\n'), 0, 0));
    CliResult list = folioCli({QStringLiteral("conversations"), QStringLiteral("--db"), db});
    EXPECT_TRUE(list.out.contains(QStringLiteral("4 messages"))) << list.out.toStdString();

    args << QStringLiteral("extra question");
    CliResult wrong = folioCli(args);
    EXPECT_EQ(wrong.exitCode, 2);
    EXPECT_TRUE(wrong.err.contains(QStringLiteral("--regenerate"))) << wrong.err.toStdString();
}

// --continue writes on a stopped answer (ReadingSessionTest and ReadingWorker test the
// writing on); here: an answer that ended by itself has nothing to continue, said plainly,
// and a QUESTION with it is a usage error.
TEST_F(ReadingCli, ContinueOfAnAnswerThatWasNotStoppedSaysSo)
{
    CliResult first = folioCli(askArgs(QStringLiteral("what is it")));
    ASSERT_EQ(first.exitCode, 0) << first.err.toStdString();
    QStringList args = askArgs(QString());
    args.removeAt(5);  // no QUESTION
    args << QStringLiteral("--conversation") << QStringLiteral("1") << QStringLiteral("--continue");
    CliResult goOn = folioCli(args);
    EXPECT_EQ(goOn.exitCode, 1);
    EXPECT_TRUE(goOn.err.contains(QStringLiteral("was not stopped"))) << goOn.err.toStdString();
    CliResult list = folioCli({QStringLiteral("conversations"), QStringLiteral("--db"), db});
    EXPECT_TRUE(list.out.contains(QStringLiteral("2 messages"))) << list.out.toStdString();

    args << QStringLiteral("extra question");
    CliResult wrong = folioCli(args);
    EXPECT_EQ(wrong.exitCode, 2);
    EXPECT_TRUE(wrong.err.contains(QStringLiteral("--continue"))) << wrong.err.toStdString();
}
