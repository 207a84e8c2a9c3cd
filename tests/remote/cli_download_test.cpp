// folio-cli download against a scripted server on 127.0.0.1: exit 0 only with the file
// verified and in place, exit 1 with one "error:" line otherwise, and a second run
// resuming what the first left.
#include "fake_http_server.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QProcessEnvironment>
#include <QTemporaryDir>

#include <gtest/gtest.h>

namespace folio {
namespace {

using test::FakeHttpServer;
using test::FakeReply;
using test::FakeRequest;

struct CliRun {
    int exitCode = -1;
    QString err;
    int errorLines() const
    {
        int n = 0;
        for (const QString& line : err.split(QLatin1Char('\n')))
            n += line.startsWith(QLatin1String("error: "));
        return n;
    }
};

CliRun runCli(const QStringList& arguments, const QProcessEnvironment& env = QProcessEnvironment::systemEnvironment())
{
    QProcess process;
    process.setProcessEnvironment(env);
    process.start(QStringLiteral(FOLIO_CLI_PATH), QStringList{QStringLiteral("download")} + arguments);
    EXPECT_TRUE(test::waitUntil([&] { return process.state() == QProcess::NotRunning; }, 60000));
    return {process.exitCode(), QString::fromUtf8(process.readAllStandardError())};
}

const QByteArray kModel = [] {
    QByteArray bytes("GGUF\x03\x00\x00\x00", 8);
    for (int i = 0; bytes.size() < 300000; ++i)
        bytes += QByteArray::number(i * 7919);
    return bytes;
}();

QString sha256(const QByteArray& bytes)
{
    return QString::fromLatin1(QCryptographicHash::hash(bytes, QCryptographicHash::Sha256).toHex());
}

FakeReply serve(const FakeRequest& r, const QByteArray& extraHeaders = {})
{
    const QByteArray range = r.headers.value("range");
    if (range.isEmpty())
        return FakeReply::http(200, kModel, extraHeaders, "application/octet-stream");
    const qint64 from = range.mid(6, range.indexOf('-') - 6).toLongLong();
    return FakeReply::http(206, kModel.mid(from),
                           "Content-Range: bytes " + QByteArray::number(from) + '-' + QByteArray::number(kModel.size() - 1)
                               + '/' + QByteArray::number(kModel.size()) + "\r\n",
                           "application/octet-stream");
}

QByteArray readAll(const QString& path)
{
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

TEST(CliDownload, ExitZeroOnceVerifiedAndInPlace)
{
    FakeHttpServer server([](const FakeRequest& r) { return serve(r); });
    QTemporaryDir dir;
    const CliRun run = runCli({server.url(QStringLiteral("/m/model.gguf")), QStringLiteral("--to"), dir.filePath(QStringLiteral("models")),
                               QStringLiteral("--sha256"), sha256(kModel)});
    ASSERT_EQ(run.exitCode, 0) << run.err.toStdString();
    EXPECT_EQ(readAll(dir.filePath(QStringLiteral("models/model.gguf"))), kModel);
    EXPECT_EQ(run.errorLines(), 0);
    EXPECT_TRUE(run.err.contains(QLatin1String("verified and saved"))) << run.err.toStdString();
}

TEST(CliDownload, AWrongHashIsExitOneWithOneErrorLineAndNoFileLeft)
{
    FakeHttpServer server([](const FakeRequest& r) { return serve(r); });
    QTemporaryDir dir;
    const QString wrong(64, QLatin1Char('e'));
    const CliRun run = runCli({server.url(QStringLiteral("/model.gguf")), QStringLiteral("--to"), dir.path(),
                               QStringLiteral("--sha256"), wrong});
    EXPECT_EQ(run.exitCode, 1);
    EXPECT_EQ(run.errorLines(), 1) << run.err.toStdString();
    EXPECT_TRUE(run.err.contains(QLatin1String("expected ") + wrong)) << run.err.toStdString();
    EXPECT_TRUE(QDir(dir.path()).isEmpty());
}

TEST(CliDownload, ASecondRunResumesWhatADroppedConnectionLeft)
{
    int calls = 0;
    FakeHttpServer server([&](const FakeRequest& r) {
        if (++calls > 1)
            return serve(r);
        FakeReply half = FakeReply::http(200, kModel, {}, "application/octet-stream");
        half.pieces[0].chop(kModel.size() / 3);
        return half;
    });
    QTemporaryDir dir;
    const QStringList args{server.url(QStringLiteral("/model.gguf")), QStringLiteral("--to"), dir.path(),
                           QStringLiteral("--sha256"), sha256(kModel)};
    const CliRun first = runCli(args);
    EXPECT_EQ(first.exitCode, 1);
    EXPECT_EQ(first.errorLines(), 1) << first.err.toStdString();
    EXPECT_TRUE(QFileInfo::exists(dir.filePath(QStringLiteral("model.gguf.part"))));
    const CliRun second = runCli(args);
    ASSERT_EQ(second.exitCode, 0) << second.err.toStdString();
    ASSERT_EQ(server.requests().size(), 2);
    EXPECT_TRUE(server.requests()[1].headers.value("range").startsWith("bytes="));
    EXPECT_TRUE(second.err.contains(QLatin1String("resuming model.gguf"))) << second.err.toStdString();
    EXPECT_EQ(readAll(dir.filePath(QStringLiteral("model.gguf"))), kModel);
}

TEST(CliDownload, AHuggingFaceReferenceUsesTheLinkedHashAndNeverPrintsTheSignedQuery)
{
    FakeHttpServer server([](const FakeRequest& r) {
        if (r.path.startsWith("/org/repo/resolve/main/"))
            return FakeReply::http(302, {}, "Location: /cdn/x?X-Amz-Signature=s3cr3t\r\nX-Linked-Etag: \"" + sha256(kModel).toLatin1() + "\"\r\n");
        return serve(r);
    });
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("FOLIO_HF_ENDPOINT"), server.url());
    QTemporaryDir dir;
    const CliRun run = runCli({QStringLiteral("org/repo:model-Q4_0.gguf"), QStringLiteral("--to"), dir.path()}, env);
    ASSERT_EQ(run.exitCode, 0) << run.err.toStdString();
    EXPECT_EQ(readAll(dir.filePath(QStringLiteral("model-Q4_0.gguf"))), kModel);
    EXPECT_FALSE(run.err.contains(QLatin1String("s3cr3t")));
}

TEST(CliDownload, NoHashKnownKeepsThePartAndIsAnError)
{
    FakeHttpServer server([](const FakeRequest& r) { return serve(r); });
    QTemporaryDir dir;
    const CliRun run = runCli({server.url(QStringLiteral("/model.gguf")), QStringLiteral("--to"), dir.path()});
    EXPECT_EQ(run.exitCode, 1);
    EXPECT_EQ(run.errorLines(), 1) << run.err.toStdString();
    EXPECT_FALSE(QFileInfo::exists(dir.filePath(QStringLiteral("model.gguf"))));
    EXPECT_EQ(readAll(dir.filePath(QStringLiteral("model.gguf.part"))), kModel);
    // Given the hash, the next run checks the part (the server says 416: nothing left) and finishes.
    FakeHttpServer again([](const FakeRequest& r) {
        return r.headers.contains("range")
                   ? FakeReply::http(416, {}, "Content-Range: bytes */" + QByteArray::number(kModel.size()) + "\r\n")
                   : serve(r);
    });
    const CliRun second = runCli({again.url(QStringLiteral("/model.gguf")), QStringLiteral("--to"), dir.path(),
                                  QStringLiteral("--sha256"), sha256(kModel)});
    ASSERT_EQ(second.exitCode, 0) << second.err.toStdString();
    EXPECT_EQ(readAll(dir.filePath(QStringLiteral("model.gguf"))), kModel);
}

TEST(CliDownload, AnInterruptKeepsThePartAndSaysSo)
{
    FakeHttpServer server([](const FakeRequest&) {
        FakeReply half = FakeReply::http(200, kModel, {}, "application/octet-stream");
        half.pieces[0].chop(kModel.size() / 2);
        half.pieces.append("never sent");
        half.pieceDelayMs = 60000;
        return half;
    });
    QTemporaryDir dir;
    const QString part = dir.filePath(QStringLiteral("model.gguf.part"));
    QProcess process;
    process.start(QStringLiteral(FOLIO_CLI_PATH), {QStringLiteral("download"), server.url(QStringLiteral("/model.gguf")),
                                                   QStringLiteral("--to"), dir.path()});
    ASSERT_TRUE(test::waitUntil([&] { return QFileInfo(part).size() > 0; }));
    process.terminate();
    ASSERT_TRUE(test::waitUntil([&] { return process.state() == QProcess::NotRunning; }));
    const CliRun run{process.exitCode(), QString::fromUtf8(process.readAllStandardError())};
    EXPECT_EQ(process.exitStatus(), QProcess::NormalExit);
    EXPECT_EQ(run.exitCode, 1);
    EXPECT_EQ(run.errorLines(), 1) << run.err.toStdString();
    EXPECT_TRUE(run.err.contains(QLatin1String("error: cancelled"))) << run.err.toStdString();
    const QByteArray kept = readAll(part);
    EXPECT_FALSE(kept.isEmpty());
    EXPECT_EQ(kept, kModel.left(kept.size()));
}

TEST(CliDownload, WrongUsageIsExitTwo)
{
    EXPECT_EQ(runCli({QStringLiteral("org/repo:file.gguf")}).exitCode, 2);
    QTemporaryDir dir;
    const CliRun bad = runCli({QStringLiteral("not a source"), QStringLiteral("--to"), dir.path()});
    EXPECT_EQ(bad.exitCode, 1);
    EXPECT_EQ(bad.errorLines(), 1) << bad.err.toStdString();
}

} // namespace
} // namespace folio
