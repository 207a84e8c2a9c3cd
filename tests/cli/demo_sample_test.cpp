// The README's promise, end to end: folio-cli ask with the bundled demo model on the
// bundled long sample (about ten times the model's training context, so the context
// planner turns Dual Chunk Attention on) answers the questions the samples README
// lists, through the app's own reading prompt, store and snapshots.
#include <QDir>
#include <QProcess>
#include <QTemporaryDir>

#include <gtest/gtest.h>

namespace {

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
    const struct {
        const char* question;
        const char* answer;
    } cases[] = {
        {"What is the key to the blue cabinet?", "7431"},
        {"Where was Captain Ortega born?", "Valparaiso"},
        {"When did the Halcyon sail?", "March 14, 1847"},
        {"What is the pass key?", "58203"},
        {"Where did Martha hide the ledger?", "the bell tower"},
        {"What is the secret word?", "juniper"},
    };
    QTemporaryDir dir;
    const QString db = QDir(dir.path()).filePath(QStringLiteral("folio.sqlite"));
    int correct = 0;
    for (const auto& c : cases) {
        const Answer a = ask(db, QString::fromUtf8(c.question));
        ASSERT_EQ(a.exitCode, 0) << a.err.toStdString();
        correct += a.text == QString::fromUtf8(c.answer);
        std::printf("%s -> %s (expected %s)\n", c.question, qPrintable(a.text), c.answer);
    }
    EXPECT_GE(correct, 5) << "of 6";

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
