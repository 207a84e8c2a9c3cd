// Runs the built folio-cli binary as a user would.
#include "pdf_fixtures.h"
#include "support/shared_data.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QTemporaryDir>

#include <gtest/gtest.h>

namespace {

struct CliRun {
    int exitCode = -1;
    QString out;
    QString err;
};

CliRun runCli(const QStringList& args)
{
    QProcess p;
    p.start(QStringLiteral(FOLIO_CLI_PATH), args);
    CliRun r;
    if (!p.waitForFinished(60000)) {
        p.kill();
        ADD_FAILURE() << "folio-cli did not finish";
        return r;
    }
    r.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -2;
    r.out = QString::fromUtf8(p.readAllStandardOutput());
    r.err = QString::fromUtf8(p.readAllStandardError());
    return r;
}

} // namespace

TEST(Cli, InfoPrintsTitlePagesWordsAndCharacters)
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("two.pdf"));
    folio::test::writeTextPdf(path, {QStringLiteral("One two three."), QStringLiteral("Four five.")},
                              QStringLiteral("Counting"));
    const CliRun r = runCli({QStringLiteral("info"), path});
    EXPECT_EQ(r.exitCode, 0) << r.err.toStdString();
    EXPECT_TRUE(r.out.contains(QStringLiteral("Title:      Counting"))) << r.out.toStdString();
    EXPECT_TRUE(r.out.contains(QStringLiteral("Pages:      2\n"))) << r.out.toStdString();
    EXPECT_TRUE(r.out.contains(QStringLiteral("Words:      5\n"))) << r.out.toStdString();
    EXPECT_TRUE(r.out.contains(QStringLiteral("Characters: "))) << r.out.toStdString();
    EXPECT_TRUE(r.err.isEmpty()) << r.err.toStdString();
}

TEST(Cli, InfoJson)
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("notes.md"));
    folio::test::writeBytes(path, "# Field Notes\n\nSeven words live in this small note.\n");
    const CliRun r = runCli({QStringLiteral("info"), path, QStringLiteral("--json")});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    QJsonParseError error;
    const QJsonObject o = QJsonDocument::fromJson(r.out.toUtf8(), &error).object();
    ASSERT_EQ(error.error, QJsonParseError::NoError) << r.out.toStdString();
    EXPECT_EQ(o.value(QStringLiteral("title")).toString(), QStringLiteral("Field Notes"));
    EXPECT_EQ(o.value(QStringLiteral("kind")).toString(), QStringLiteral("Markdown"));
    EXPECT_EQ(o.value(QStringLiteral("pages")).toInt(), 1);
    EXPECT_EQ(o.value(QStringLiteral("words")).toInt(), 10);
    EXPECT_EQ(o.value(QStringLiteral("characters")).toInt(), 52);
}

TEST(Cli, BadInputGivesOneLineErrorAndNonZeroExit)
{
    QTemporaryDir dir;
    const QString missing = dir.filePath(QStringLiteral("missing.pdf"));
    CliRun r = runCli({QStringLiteral("info"), missing});
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_TRUE(r.out.isEmpty());
    EXPECT_EQ(r.err, QStringLiteral("error: %1: file not found\n").arg(missing));

    const QString secret = dir.filePath(QStringLiteral("secret.pdf"));
    folio::test::writeBytes(secret, folio::test::encryptedPdfBytes());
    r = runCli({QStringLiteral("info"), secret});
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_EQ(r.err, QStringLiteral("error: %1: the PDF is encrypted and needs a password\n").arg(secret));

    const QString big = dir.filePath(QStringLiteral("big.txt"));
    folio::test::writeBytes(big, QByteArray(3 * 1024 * 1024, 'x'));
    r = runCli({QStringLiteral("info"), big, QStringLiteral("--max-size"), QStringLiteral("1")});
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_TRUE(r.err.contains(QStringLiteral("too large"))) << r.err.toStdString();
    EXPECT_EQ(r.err.count(QChar(u'\n')), 1) << r.err.toStdString();
}

TEST(Cli, UsageErrors)
{
    CliRun r = runCli({});
    EXPECT_EQ(r.exitCode, 2);
    EXPECT_TRUE(r.err.contains(QStringLiteral("no command")));
    r = runCli({QStringLiteral("frobnicate")});
    EXPECT_EQ(r.exitCode, 2);
    EXPECT_TRUE(r.err.contains(QStringLiteral("unknown command 'frobnicate'")));
    r = runCli({QStringLiteral("info")});
    EXPECT_EQ(r.exitCode, 2);
    r = runCli({QStringLiteral("--help")});
    EXPECT_EQ(r.exitCode, 0);
    EXPECT_TRUE(r.out.contains(QStringLiteral("info FILE")));
}

TEST(Cli, PageCountOfARealPaperMatchesPdfinfo)
{
    FOLIO_REQUIRE_SHARED("papers/longlora.pdf");
    if (QStandardPaths::findExecutable(QStringLiteral("pdfinfo")).isEmpty())
        GTEST_SKIP() << "skipped: pdfinfo (poppler-utils) is not installed";
    const QString path = QString::fromStdString((folio::test::sharedDir() / "papers/longlora.pdf").string());
    QProcess pdfinfo;
    pdfinfo.start(QStringLiteral("pdfinfo"), {path});
    ASSERT_TRUE(pdfinfo.waitForFinished(30000));
    const auto m = QRegularExpression(QStringLiteral("^Pages:\\s+(\\d+)"), QRegularExpression::MultilineOption)
                       .match(QString::fromUtf8(pdfinfo.readAllStandardOutput()));
    ASSERT_TRUE(m.hasMatch());
    const CliRun r = runCli({QStringLiteral("info"), path, QStringLiteral("--json")});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    EXPECT_EQ(QJsonDocument::fromJson(r.out.toUtf8()).object().value(QStringLiteral("pages")).toInt(),
              m.captured(1).toInt());
}
