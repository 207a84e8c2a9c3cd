// Downloads one model file into a folder so that a broken connection, a cancel or a
// restart of the app costs only the bytes not yet received:
//
//   - the bytes go to TARGET.part beside the target (the scanner never lists *.part);
//     a part already there is resumed with "Range: bytes=N-" (a 200 instead of 206
//     starts over; a 416 means the part may be whole, and it is checked);
//   - redirects are followed by hand, up to a limit, so that the hash Hugging Face
//     gives on the first hop (X-Linked-Etag, the file's SHA-256) is kept;
//   - the free space is checked against the bytes still to come plus a margin;
//   - the SHA-256 is computed as the bytes arrive (a resumed part is hashed first)
//     and compared with the user's or the server's before the part is flushed to disk
//     and renamed to the target in one step. A wrong hash deletes the part;
//   - no bytes for a while fails as a stall, keeping the part.
//
// One object per download, on one thread (its signals are emitted from it).
#pragma once

#include "app/models/download_source.h"

#include <QCryptographicHash>
#include <QElapsedTimer>
#include <QFile>
#include <QFuture>
#include <QList>
#include <QLockFile>
#include <QObject>
#include <QPointer>
#include <QTimer>

#include <atomic>
#include <functional>
#include <memory>

class QNetworkAccessManager;
class QNetworkReply;

namespace folio {

struct DownloadOptions {
    int maxRedirects = 8;  // Hugging Face takes one or two (resolve → CDN)
    int stallTimeoutMs = 60000;
    qint64 spaceMargin = qint64{256} << 20;  // room left for everything else on the disk
    int progressIntervalMs = 250;
    // Without a hash from the user or the server the file cannot be verified: when set,
    // it is kept as a part rather than put in place, for a run that gives the hash.
    bool requireHash = false;
    // Free bytes on the volume holding a folder; QStorageInfo unless a test says otherwise.
    std::function<qint64(const QString& folder)> freeSpace;
};

class ModelDownload : public QObject {
    Q_OBJECT
public:
    enum class Failure {
        BadSource,     // not a URL or OWNER/REPO:FILE, or no file name
        Network,       // refused, reset, dropped mid-file: run again to resume
        Http,          // the server answered an error status
        TooManyRedirects,
        DiskSpace,     // not enough room for what is still to come
        HashMismatch,  // the part was deleted
        NoHash,        // requireHash, and none was known: the part is kept
        Stalled,       // no bytes for stallTimeoutMs: the part is kept
        TargetExists,  // a different file already has the target's name
        FileError,     // the folder or the part cannot be written
        Busy,          // another download (this app or folio-cli) is writing the same part
        Cancelled,     // the part is kept
    };
    Q_ENUM(Failure)

    explicit ModelDownload(DownloadOptions options = {}, QObject* parent = nullptr);
    ~ModelDownload() override;

    // expectedSha256: 64 hex digits, or empty to rely on the server's linked ETag.
    void start(const QString& source, const QString& targetFolder, const QString& expectedSha256 = {});
    void cancel();
    bool isRunning() const { return running_; }

    QString targetPath() const { return target_; }
    QString partPath() const { return target_.isEmpty() ? QString() : target_ + QStringLiteral(".part"); }

signals:
    // bytesTotal is -1 while unknown; secondsLeft is -1 while it cannot be told.
    void progress(qint64 bytesDone, qint64 bytesTotal, double bytesPerSecond, double secondsLeft);
    void notice(const QString& message);  // resuming, starting over, no hash to check
    void finished(const QString& path);
    void failed(folio::ModelDownload::Failure kind, const QString& message);

private:
    void begin(const QString& source, const QString& folder);
    void hashFile(const QString& path, std::function<void(bool ok)> then);  // into hash_
    void request();
    void onHeaders();
    void onReadyRead();
    void onFinished();
    void acceptBody(int status);
    void complete();
    void fail(Failure kind, const QString& message);
    void reportProgress(bool force);
    void startOver();  // an empty part, a fresh hash

    DownloadOptions options_;
    QNetworkAccessManager* network_;
    QPointer<QNetworkReply> reply_;
    DownloadSource source_;
    QString folder_;
    QString target_;
    QString expected_;    // the user's, lower-case
    QString linkedHash_;  // the server's X-Linked-Etag, from the first hop that gave one
    QUrl url_;            // the current hop
    int redirects_ = 0;
    QFile part_;
    std::unique_ptr<QLockFile> lock_;  // one writer per part: the GUI and folio-cli may both resume it
    std::unique_ptr<QCryptographicHash> hash_;
    qint64 offset_ = 0;   // bytes of the part when this request was sent
    qint64 done_ = 0;
    qint64 total_ = -1;
    bool headersSeen_ = false;
    bool writing_ = false;  // this reply's body is the file's bytes
    bool running_ = false;
    bool stalled_ = false;
    bool cancelled_ = false;
    bool restarting_ = false;
    std::shared_ptr<std::atomic<bool>> stopHashing_;
    QFuture<bool> hashing_;
    QTimer stallTimer_;
    QElapsedTimer clock_;
    qint64 lastProgressMs_ = -1;
    QList<QPair<qint64, qint64>> samples_;  // (ms, bytes done): the speed over the last seconds
};

} // namespace folio
