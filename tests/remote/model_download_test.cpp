// ModelDownload against a scripted server on 127.0.0.1 serving a GGUF the way Hugging
// Face and its CDN do: Range requests, redirects carrying the linked hash, a
// connection dropped halfway, a wrong hash, a stall, a full disk (as the free-space
// function says).
#include "fake_http_server.h"

#include "app/models/model_discovery.h"
#include "app/models/model_download.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFileInfo>
#include <QFile>
#include <QRandomGenerator>
#include <QRegularExpression>
#include <QTemporaryDir>

#include <gtest/gtest.h>

namespace folio {
namespace {

using test::FakeHttpServer;
using test::FakeReply;
using test::FakeRequest;

QByteArray ggufBytes(int size = (1 << 20) + 12345)
{
    QByteArray bytes(size, Qt::Uninitialized);
    QRandomGenerator generator(20);
    for (char& b : bytes)
        b = static_cast<char>(generator.generate());
    bytes.replace(0, 8, QByteArray("GGUF\x03\x00\x00\x00", 8));
    return bytes;
}

QString sha256(const QByteArray& bytes)
{
    return QString::fromLatin1(QCryptographicHash::hash(bytes, QCryptographicHash::Sha256).toHex());
}

// The file, whole or from the Range asked for (bytes=N-), as a CDN answers.
FakeReply fileReply(const FakeRequest& r, const QByteArray& data, const QByteArray& extraHeaders = {})
{
    const QByteArray range = r.headers.value("range");
    if (range.isEmpty())
        return FakeReply::http(200, data, extraHeaders, "application/octet-stream");
    const qint64 from = range.mid(6, range.indexOf('-') - 6).toLongLong();
    if (from >= data.size())
        return FakeReply::http(416, {}, "Content-Range: bytes */" + QByteArray::number(data.size()) + "\r\n");
    return FakeReply::http(206, data.mid(from),
                           extraHeaders + "Content-Range: bytes " + QByteArray::number(from) + '-'
                               + QByteArray::number(data.size() - 1) + '/' + QByteArray::number(data.size()) + "\r\n",
                           "application/octet-stream");
}

// Headers promising the whole file, then half of it, then the connection closes.
FakeReply droppedHalfway(const QByteArray& data)
{
    FakeReply reply = FakeReply::http(200, data, {}, "application/octet-stream");
    reply.pieces[0].chop(data.size() / 2);
    return reply;
}

struct Outcome {
    bool finished = false;
    QString path;
    std::optional<ModelDownload::Failure> failure;
    QString message;
    QStringList notices;
    qint64 lastDone = -1, lastTotal = -1;
};

Outcome runDownload(ModelDownload& download, const QString& source, const QString& folder, const QString& sha = {},
                    const std::function<void(qint64)>& onProgress = {})
{
    Outcome outcome;
    QObject::connect(&download, &ModelDownload::finished, [&](const QString& path) {
        outcome.finished = true;
        outcome.path = path;
    });
    QObject::connect(&download, &ModelDownload::failed, [&](ModelDownload::Failure kind, const QString& message) {
        outcome.failure = kind;
        outcome.message = message;
    });
    QObject::connect(&download, &ModelDownload::notice, [&](const QString& n) { outcome.notices << n; });
    QObject::connect(&download, &ModelDownload::progress, [&](qint64 done, qint64 total, double, double) {
        outcome.lastDone = done;
        outcome.lastTotal = total;
        if (onProgress)
            onProgress(done);
    });
    download.start(source, folder, sha);
    EXPECT_TRUE(test::waitUntil([&] { return outcome.finished || outcome.failure.has_value(); }));
    return outcome;
}

QByteArray readAll(const QString& path)
{
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

TEST(DownloadSource, ReadsUrlsAndHuggingFaceReferences)
{
    QString error;
    qputenv("FOLIO_HF_ENDPOINT", "http://127.0.0.1:9/hf/");
    const auto hf = parseDownloadSource(QStringLiteral("Qwen/Qwen3-4B-GGUF:sub/Qwen3-4B-Q4_K_M.gguf"), &error);
    qunsetenv("FOLIO_HF_ENDPOINT");
    ASSERT_TRUE(hf) << error.toStdString();
    EXPECT_EQ(hf->url.toString(), QStringLiteral("http://127.0.0.1:9/hf/Qwen/Qwen3-4B-GGUF/resolve/main/sub/Qwen3-4B-Q4_K_M.gguf"));
    EXPECT_EQ(hf->fileName, QStringLiteral("Qwen3-4B-Q4_K_M.gguf"));
    EXPECT_TRUE(hf->huggingFace);
    EXPECT_EQ(huggingFaceEndpoint().toString(), QStringLiteral("https://huggingface.co"));

    const auto url = parseDownloadSource(QStringLiteral("https://example.org/m/a.gguf?token=x"), &error);
    ASSERT_TRUE(url);
    EXPECT_EQ(url->fileName, QStringLiteral("a.gguf"));
    EXPECT_FALSE(url->huggingFace);
    EXPECT_EQ(printableUrl(QUrl(QStringLiteral("https://u:p@cdn.example/x/a.gguf?X-Amz-Signature=s#f"))),
              QStringLiteral("https://cdn.example/x/a.gguf"));

    EXPECT_FALSE(parseDownloadSource(QStringLiteral("just-a-name.gguf"), &error));
    EXPECT_TRUE(error.contains(QLatin1String("OWNER/REPO:FILE")));
    EXPECT_FALSE(parseDownloadSource(QStringLiteral("a/b:../../etc/passwd"), &error));
    EXPECT_FALSE(parseDownloadSource(QStringLiteral("https://example.org/"), &error));
}

TEST(ModelDownload, AWholeFileCheckedAgainstTheSuppliedHashLandsUnderItsName)
{
    const QByteArray data = ggufBytes();
    FakeHttpServer server([&](const FakeRequest& r) { return fileReply(r, data); });
    QTemporaryDir dir;
    ModelDownload download;
    const Outcome out = runDownload(download, server.url(QStringLiteral("/files/model.gguf")), dir.path(), sha256(data).toUpper());
    ASSERT_TRUE(out.finished) << out.message.toStdString();
    EXPECT_EQ(out.path, dir.filePath(QStringLiteral("model.gguf")));
    EXPECT_EQ(readAll(out.path), data);
    EXPECT_FALSE(QFile::exists(out.path + QStringLiteral(".part")));
    EXPECT_EQ(out.lastDone, data.size());
    EXPECT_EQ(out.lastTotal, data.size());
    ASSERT_EQ(server.requests().size(), 1);
    EXPECT_FALSE(server.requests()[0].headers.contains("range"));
}

// Hugging Face: resolve/main answers 302 with the LFS file's SHA-256 in X-Linked-Etag;
// the CDN's signed URL has its own ETag, and its query is never printed.
TEST(ModelDownload, AHuggingFaceReferenceIsCheckedAgainstTheLinkedEtagOfTheFirstHop)
{
    const QByteArray data = ggufBytes();
    FakeHttpServer server([&](const FakeRequest& r) {
        if (r.path == "/Owner/Repo-GGUF/resolve/main/model-Q4_K_M.gguf")
            return FakeReply::http(302, {}, "Location: /cdn/blob?X-Amz-Signature=secret\r\nX-Linked-Etag: \"" + sha256(data).toLatin1()
                                                 + "\"\r\nX-Linked-Size: " + QByteArray::number(data.size()) + "\r\n");
        if (r.path.startsWith("/cdn/blob"))
            return fileReply(r, data, "ETag: \"not-the-sha\"\r\n");
        return FakeReply::http(404, "no");
    });
    qputenv("FOLIO_HF_ENDPOINT", server.url().toUtf8());
    QTemporaryDir dir;
    ModelDownload download;
    const Outcome out = runDownload(download, QStringLiteral("Owner/Repo-GGUF:model-Q4_K_M.gguf"), dir.path());
    qunsetenv("FOLIO_HF_ENDPOINT");
    ASSERT_TRUE(out.finished) << out.message.toStdString();
    EXPECT_EQ(readAll(dir.filePath(QStringLiteral("model-Q4_K_M.gguf"))), data);
    EXPECT_TRUE(out.notices.isEmpty()) << out.notices.join(QLatin1Char('\n')).toStdString();
    EXPECT_EQ(server.requests().size(), 2);
}

// A gated repository needs the user's token; the CDN it redirects to never sees it.
TEST(ModelDownload, TheHuggingFaceTokenGoesToHuggingFaceOnly)
{
    const QByteArray data = ggufBytes(10000);
    FakeHttpServer cdn([&](const FakeRequest& r) { return fileReply(r, data); });
    FakeHttpServer hub([&](const FakeRequest& r) {
        if (r.headers.value("authorization") != "Bearer hf_test_token")
            return FakeReply::http(401, "gated");
        return FakeReply::http(302, {}, "Location: " + cdn.url(QStringLiteral("/blob")).toUtf8() + "\r\n");
    });
    qputenv("FOLIO_HF_ENDPOINT", hub.url().toUtf8());
    qputenv("HF_TOKEN", "hf_test_token");
    QTemporaryDir dir;
    ModelDownload download;
    const Outcome out = runDownload(download, QStringLiteral("meta/gated:m.gguf"), dir.path(), sha256(data));
    qunsetenv("HF_TOKEN");
    {
        ModelDownload without;
        const Outcome refused = runDownload(without, QStringLiteral("meta/gated:m2.gguf"), dir.path());
        ASSERT_EQ(refused.failure, ModelDownload::Failure::Http);
        EXPECT_TRUE(refused.message.contains(QLatin1String("HF_TOKEN"))) << refused.message.toStdString();
    }
    qunsetenv("FOLIO_HF_ENDPOINT");
    ASSERT_TRUE(out.finished) << out.message.toStdString();
    ASSERT_EQ(cdn.requests().size(), 1);
    EXPECT_FALSE(cdn.requests()[0].headers.contains("authorization"));
}

TEST(ModelDownload, AWrongLinkedHashDeletesThePartAndSaysExpectedAndGot)
{
    const QByteArray data = ggufBytes();
    const QByteArray wrong = QByteArray(64, 'a');
    FakeHttpServer server([&](const FakeRequest& r) {
        return fileReply(r, data, "X-Linked-Etag: \"" + wrong + "\"\r\n");
    });
    QTemporaryDir dir;
    ModelDownload download;
    const Outcome out = runDownload(download, server.url(QStringLiteral("/model.gguf")), dir.path());
    ASSERT_EQ(out.failure, ModelDownload::Failure::HashMismatch) << out.message.toStdString();
    EXPECT_TRUE(out.message.contains(QLatin1String("expected ") + QLatin1String(wrong)));
    EXPECT_TRUE(out.message.contains(QLatin1String("got ") + sha256(data)));
    EXPECT_FALSE(QFile::exists(dir.filePath(QStringLiteral("model.gguf.part"))));
    EXPECT_FALSE(QFile::exists(dir.filePath(QStringLiteral("model.gguf"))));
}

TEST(ModelDownload, AConnectionDroppedHalfwayResumesWithARangeOnTheNextRun)
{
    const QByteArray data = ggufBytes();
    int calls = 0;
    FakeHttpServer server([&](const FakeRequest& r) { return ++calls == 1 ? droppedHalfway(data) : fileReply(r, data); });
    QTemporaryDir dir;
    const QString part = dir.filePath(QStringLiteral("model.gguf.part"));
    {
        ModelDownload first;
        const Outcome out = runDownload(first, server.url(QStringLiteral("/model.gguf?sig=hidden")), dir.path(), sha256(data));
        ASSERT_EQ(out.failure, ModelDownload::Failure::Network) << out.message.toStdString();
        EXPECT_TRUE(out.message.contains(QLatin1String("resume"))) << out.message.toStdString();
        EXPECT_FALSE(out.message.contains(QLatin1String("hidden"))) << out.message.toStdString();
    }
    const qint64 kept = QFileInfo(part).size();
    ASSERT_GT(kept, 0);
    ASSERT_LT(kept, data.size());
    EXPECT_EQ(readAll(part), data.left(kept));

    ModelDownload second;  // as after a restart of the app
    const Outcome out = runDownload(second, server.url(QStringLiteral("/model.gguf")), dir.path(), sha256(data));
    ASSERT_TRUE(out.finished) << out.message.toStdString();
    ASSERT_EQ(server.requests().size(), 2);
    EXPECT_EQ(server.requests()[1].headers.value("range"), "bytes=" + QByteArray::number(kept) + '-');
    EXPECT_EQ(readAll(dir.filePath(QStringLiteral("model.gguf"))), data);
    EXPECT_FALSE(QFile::exists(part));
}

TEST(ModelDownload, APartInProgressIsNeverListedAsAModel)
{
    const QByteArray data = ggufBytes();
    FakeHttpServer server([&](const FakeRequest&) { return droppedHalfway(data); });
    QTemporaryDir dir;
    ModelDownload download;
    const Outcome out = runDownload(download, server.url(QStringLiteral("/model.gguf")), dir.path(), sha256(data));
    ASSERT_EQ(out.failure, ModelDownload::Failure::Network);
    ASSERT_TRUE(QFileInfo::exists(dir.filePath(QStringLiteral("model.gguf.part"))));
    EXPECT_TRUE(scanModels({userModelFolder(dir.path())}).models.isEmpty());
}

TEST(ModelDownload, ARangeOtherThanTheOneAskedForStartsOver)
{
    const QByteArray data = ggufBytes();
    FakeHttpServer server([&](const FakeRequest& r) {
        if (!r.headers.contains("range"))
            return fileReply(r, data);
        return FakeReply::http(206, data.mid(10), "Content-Range: bytes 10-" + QByteArray::number(data.size() - 1) + '/'
                                                     + QByteArray::number(data.size()) + "\r\n", "application/octet-stream");
    });
    QTemporaryDir dir;
    QFile part(dir.filePath(QStringLiteral("model.gguf.part")));
    ASSERT_TRUE(part.open(QIODevice::WriteOnly));
    part.write(data.left(5000));
    part.close();
    ModelDownload download;
    const Outcome out = runDownload(download, server.url(QStringLiteral("/model.gguf")), dir.path(), sha256(data));
    ASSERT_TRUE(out.finished) << out.message.toStdString();
    ASSERT_EQ(server.requests().size(), 2);
    EXPECT_FALSE(server.requests()[1].headers.contains("range"));
    EXPECT_EQ(readAll(out.path), data);
}

TEST(ModelDownload, AServerThatIgnoresTheRangeStartsOver)
{
    const QByteArray data = ggufBytes();
    FakeHttpServer server([&](const FakeRequest&) { return FakeReply::http(200, data, {}, "application/octet-stream"); });
    QTemporaryDir dir;
    QFile part(dir.filePath(QStringLiteral("model.gguf.part")));
    ASSERT_TRUE(part.open(QIODevice::WriteOnly));
    part.write(QByteArray(1000, 'x'));  // not even the file's bytes: must not survive
    part.close();
    ModelDownload download;
    const Outcome out = runDownload(download, server.url(QStringLiteral("/model.gguf")), dir.path(), sha256(data));
    ASSERT_TRUE(out.finished) << out.message.toStdString();
    EXPECT_EQ(server.requests()[0].headers.value("range"), "bytes=1000-");
    EXPECT_EQ(readAll(out.path), data);
    EXPECT_TRUE(out.notices.join(QLatin1Char(' ')).contains(QLatin1String("starting model.gguf over")));
}

TEST(ModelDownload, APartAlreadyWholeIsCheckedWhenTheServerAnswers416)
{
    const QByteArray data = ggufBytes();
    FakeHttpServer server([&](const FakeRequest& r) { return fileReply(r, data); });
    QTemporaryDir dir;
    QFile part(dir.filePath(QStringLiteral("model.gguf.part")));
    ASSERT_TRUE(part.open(QIODevice::WriteOnly));
    part.write(data);
    part.close();
    ModelDownload download;
    const Outcome out = runDownload(download, server.url(QStringLiteral("/model.gguf")), dir.path(), sha256(data));
    ASSERT_TRUE(out.finished) << out.message.toStdString();
    EXPECT_EQ(readAll(out.path), data);
}

TEST(ModelDownload, AWrongSuppliedHashDeletesThePart)
{
    const QByteArray data = ggufBytes();
    FakeHttpServer server([&](const FakeRequest& r) { return fileReply(r, data); });
    QTemporaryDir dir;
    const QString wrong = QString(64, QLatin1Char('0'));
    ModelDownload download;
    const Outcome out = runDownload(download, server.url(QStringLiteral("/model.gguf")), dir.path(), wrong);
    ASSERT_EQ(out.failure, ModelDownload::Failure::HashMismatch);
    EXPECT_TRUE(out.message.contains(wrong) && out.message.contains(sha256(data))) << out.message.toStdString();
    EXPECT_TRUE(QDir(dir.path()).isEmpty());
}

TEST(ModelDownload, FollowsARedirectChainAndRefusesOneTooLong)
{
    const QByteArray data = ggufBytes(4096);
    FakeHttpServer server([&](const FakeRequest& r) {
        static const QRegularExpression hop(QStringLiteral("^/hop/(\\d+)$"));
        const QRegularExpressionMatch m = hop.match(QString::fromLatin1(r.path));
        if (m.hasMatch() && m.captured(1).toInt() > 0)
            return FakeReply::http(302, {}, "Location: /hop/" + QByteArray::number(m.captured(1).toInt() - 1) + "\r\n");
        return fileReply(r, data);
    });
    QTemporaryDir dir;
    DownloadOptions options;
    options.maxRedirects = 3;
    {
        ModelDownload download(options);
        const Outcome out = runDownload(download, server.url(QStringLiteral("/hop/3")), dir.path(), sha256(data));
        ASSERT_TRUE(out.finished) << out.message.toStdString();
        EXPECT_EQ(out.path, dir.filePath(QStringLiteral("3")));  // the name of the URL asked for
        EXPECT_EQ(readAll(out.path), data);
    }
    ModelDownload download(options);
    const Outcome out = runDownload(download, server.url(QStringLiteral("/hop/9")), dir.path(), sha256(data));
    ASSERT_EQ(out.failure, ModelDownload::Failure::TooManyRedirects) << out.message.toStdString();
    EXPECT_TRUE(out.message.contains(QLatin1String("more than 3 redirects")));
}

TEST(ModelDownload, NotEnoughDiskSpaceFailsBeforeWritingAByte)
{
    const QByteArray data = ggufBytes();
    FakeHttpServer server([&](const FakeRequest& r) { return fileReply(r, data); });
    QTemporaryDir dir;
    DownloadOptions options;
    QString askedFor;
    options.freeSpace = [&](const QString& folder) {
        askedFor = folder;
        return qint64{data.size()};  // the file, but not the margin
    };
    ModelDownload download(options);
    const Outcome out = runDownload(download, server.url(QStringLiteral("/model.gguf")), dir.path(), sha256(data));
    ASSERT_EQ(out.failure, ModelDownload::Failure::DiskSpace) << out.message.toStdString();
    EXPECT_TRUE(out.message.contains(QLatin1String("not enough disk space")));
    EXPECT_EQ(askedFor, dir.path());
    EXPECT_EQ(QFileInfo(dir.filePath(QStringLiteral("model.gguf.part"))).size(), 0);
}

// Half the file, then silence: Cancel (or the stall timer) ends it, and the part stays.
FakeReply halfThenSilence(const QByteArray& data)
{
    FakeReply reply = droppedHalfway(data);
    reply.pieces.append(QByteArray("never sent"));
    reply.pieceDelayMs = 60000;
    return reply;
}

TEST(ModelDownload, CancelKeepsThePartForLater)
{
    const QByteArray data = ggufBytes();
    FakeHttpServer server([&](const FakeRequest&) { return halfThenSilence(data); });
    QTemporaryDir dir;
    ModelDownload download;
    const Outcome out = runDownload(download, server.url(QStringLiteral("/model.gguf")), dir.path(), sha256(data),
                                    [&](qint64 done) {
                                        if (done > 0)
                                            download.cancel();
                                    });
    ASSERT_EQ(out.failure, ModelDownload::Failure::Cancelled) << out.message.toStdString();
    EXPECT_TRUE(out.message.contains(QLatin1String("resume"))) << out.message.toStdString();
    const QByteArray kept = readAll(dir.filePath(QStringLiteral("model.gguf.part")));
    EXPECT_GT(kept.size(), 0);
    EXPECT_EQ(kept, data.left(kept.size()));
}

TEST(ModelDownload, AStallFailsClearlyAndKeepsThePart)
{
    const QByteArray data = ggufBytes();
    FakeHttpServer server([&](const FakeRequest&) { return halfThenSilence(data); });
    QTemporaryDir dir;
    DownloadOptions options;
    options.stallTimeoutMs = 300;
    ModelDownload download(options);
    const Outcome out = runDownload(download, server.url(QStringLiteral("/model.gguf")), dir.path());
    ASSERT_EQ(out.failure, ModelDownload::Failure::Stalled) << out.message.toStdString();
    EXPECT_TRUE(out.message.contains(QLatin1String("no data for 0.3 s"))) << out.message.toStdString();
    EXPECT_GT(QFileInfo(dir.filePath(QStringLiteral("model.gguf.part"))).size(), 0);
}

TEST(ModelDownload, AnIdenticalFileAlreadyThereIsDoneAndADifferentOneIsNeverOverwritten)
{
    const QByteArray data = ggufBytes(5000);
    FakeHttpServer server([&](const FakeRequest& r) { return fileReply(r, data); });
    QTemporaryDir dir;
    QFile existing(dir.filePath(QStringLiteral("model.gguf")));
    ASSERT_TRUE(existing.open(QIODevice::WriteOnly));
    existing.write(data);
    existing.close();
    {
        ModelDownload download;
        const Outcome out = runDownload(download, server.url(QStringLiteral("/model.gguf")), dir.path(), sha256(data));
        ASSERT_TRUE(out.finished) << out.message.toStdString();
    }
    ModelDownload download;
    const Outcome out = runDownload(download, server.url(QStringLiteral("/model.gguf")), dir.path(), QString(64, QLatin1Char('1')));
    ASSERT_EQ(out.failure, ModelDownload::Failure::TargetExists);
    EXPECT_TRUE(server.requests().isEmpty());
    EXPECT_EQ(readAll(dir.filePath(QStringLiteral("model.gguf"))), data);
}

TEST(ModelDownload, TwoDownloadsOfOnePartNeverWriteItTogether)
{
    const QByteArray data = ggufBytes();
    FakeHttpServer server([&](const FakeRequest&) { return halfThenSilence(data); });
    QTemporaryDir dir;
    ModelDownload first;
    bool firstFailed = false;
    QObject::connect(&first, &ModelDownload::failed, [&] { firstFailed = true; });
    first.start(server.url(QStringLiteral("/model.gguf")), dir.path());
    ASSERT_TRUE(test::waitUntil([&] { return !server.requests().isEmpty(); }));
    ModelDownload second;
    const Outcome out = runDownload(second, server.url(QStringLiteral("/model.gguf")), dir.path());
    ASSERT_EQ(out.failure, ModelDownload::Failure::Busy) << out.message.toStdString();
    EXPECT_EQ(server.requests().size(), 1);
    first.cancel();
    ASSERT_TRUE(test::waitUntil([&] { return firstFailed; }));
    EXPECT_FALSE(QFileInfo::exists(dir.filePath(QStringLiteral("model.gguf.part.lock"))));
}

TEST(ModelDownload, NoServerIsANetworkFailure)
{
    QString url;
    {
        FakeHttpServer gone([](const FakeRequest&) { return FakeReply::http(200, "x"); });
        url = gone.url(QStringLiteral("/model.gguf"));
    }
    QTemporaryDir dir;
    ModelDownload download;
    const Outcome out = runDownload(download, url, dir.path());
    ASSERT_EQ(out.failure, ModelDownload::Failure::Network) << out.message.toStdString();
    EXPECT_TRUE(out.message.startsWith(url)) << out.message.toStdString();
}

TEST(ModelDownload, AnHttpErrorIsNotWrittenToThePart)
{
    FakeHttpServer server([](const FakeRequest&) { return FakeReply::http(404, "Entry not found"); });
    QTemporaryDir dir;
    ModelDownload download;
    const Outcome out = runDownload(download, server.url(QStringLiteral("/model.gguf?token=hidden")), dir.path());
    ASSERT_EQ(out.failure, ModelDownload::Failure::Http);
    EXPECT_TRUE(out.message.contains(QLatin1String("HTTP 404"))) << out.message.toStdString();
    EXPECT_FALSE(out.message.contains(QLatin1String("hidden")));
    EXPECT_EQ(QFileInfo(dir.filePath(QStringLiteral("model.gguf.part"))).size(), 0);
}

} // namespace
} // namespace folio
