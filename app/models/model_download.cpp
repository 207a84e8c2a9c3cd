#include "app/models/model_download.h"

#include <QDir>
#include <QFileInfo>
#include <QFutureWatcher>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QRegularExpression>
#include <QStorageInfo>
#include <QtConcurrent/QtConcurrentRun>

#include <unistd.h>

namespace folio {

namespace {

bool isSha256Hex(const QString& text)
{
    static const QRegularExpression hex(QStringLiteral("^[0-9a-f]{64}$"));
    return hex.match(text).hasMatch();
}

// X-Linked-Etag: "<sha256>" (quoted, sometimes weak). Only a 64-digit hex value is a
// SHA-256; a git blob id (40 digits, for files outside LFS) is not.
QString linkedSha256(const QByteArray& header)
{
    QString value = QString::fromLatin1(header).trimmed();
    if (value.startsWith(QLatin1String("W/")))
        value = value.mid(2);
    value.remove(QLatin1Char('"'));
    value = value.toLower();
    return isSha256Hex(value) ? value : QString();
}

// Content-Range: bytes START-END/TOTAL, or bytes */TOTAL on a 416. -1 where absent.
void parseContentRange(const QByteArray& header, qint64* start, qint64* total)
{
    static const QRegularExpression range(QStringLiteral(R"(^bytes\s+(?:(\d+)-\d+|\*)/(\d+|\*)$)"));
    const QRegularExpressionMatch m = range.match(QString::fromLatin1(header).trimmed());
    *start = m.hasMatch() && !m.captured(1).isEmpty() ? m.captured(1).toLongLong() : -1;
    *total = m.hasMatch() && m.captured(2) != QLatin1String("*") ? m.captured(2).toLongLong() : -1;
}

QString bytesText(qint64 bytes)
{
    return QLocale::system().formattedDataSize(bytes, 1, QLocale::DataSizeIecFormat);
}

// Reads a file into a hash off this thread: a resumed part of gigabytes takes seconds.
QFuture<bool> hashInBackground(const QString& path, QCryptographicHash* into, std::shared_ptr<std::atomic<bool>> stop)
{
    return QtConcurrent::run([path, into, stop] {
        QFile file(path);
        if (!file.open(QIODevice::ReadOnly))
            return false;
        QByteArray buffer(4 << 20, Qt::Uninitialized);
        while (!stop->load()) {
            const qint64 n = file.read(buffer.data(), buffer.size());
            if (n < 0)
                return false;
            if (n == 0)
                return true;
            into->addData(QByteArrayView(buffer.constData(), n));
        }
        return false;
    });
}

} // namespace

ModelDownload::ModelDownload(DownloadOptions options, QObject* parent)
    : QObject(parent), options_(std::move(options)), network_(new QNetworkAccessManager(this)),
      stopHashing_(std::make_shared<std::atomic<bool>>(false))
{
    if (!options_.freeSpace)
        options_.freeSpace = [](const QString& folder) { return QStorageInfo(folder).bytesAvailable(); };
    stallTimer_.setSingleShot(true);
    connect(&stallTimer_, &QTimer::timeout, this, [this] {
        stalled_ = true;
        if (reply_)
            reply_->abort();  // finished() follows and reports the stall
    });
}

ModelDownload::~ModelDownload()
{
    stopHashing_->store(true);
    hashing_.waitForFinished();  // the worker writes into hash_
    if (reply_) {
        reply_->disconnect(this);
        reply_->abort();
    }
}

void ModelDownload::start(const QString& source, const QString& targetFolder, const QString& expectedSha256)
{
    if (running_)
        return;
    running_ = true;
    cancelled_ = stalled_ = restarting_ = false;
    stopHashing_->store(false);
    redirects_ = 0;
    done_ = offset_ = 0;
    total_ = -1;
    linkedHash_.clear();
    expected_ = expectedSha256.trimmed().toLower();
    // Failures too arrive from the event loop, never from inside start().
    QTimer::singleShot(0, this, [this, source, targetFolder] { begin(source, targetFolder); });
}

void ModelDownload::begin(const QString& sourceText, const QString& folder)
{
    QString error;
    const std::optional<DownloadSource> source = parseDownloadSource(sourceText, &error);
    if (!source)
        return fail(Failure::BadSource, error);
    if (!expected_.isEmpty() && !isSha256Hex(expected_))
        return fail(Failure::BadSource, tr("a SHA-256 is 64 hexadecimal digits, not '%1'").arg(expected_));
    source_ = *source;
    url_ = source_.url;
    if (!QDir().mkpath(folder))
        return fail(Failure::FileError, tr("cannot create the folder %1").arg(folder));
    folder_ = QDir(folder).absolutePath();
    target_ = QDir(folder_).absoluteFilePath(source_.fileName);
    hash_ = std::make_unique<QCryptographicHash>(QCryptographicHash::Sha256);

    if (QFileInfo::exists(target_)) {
        if (expected_.isEmpty())
            return fail(Failure::TargetExists, tr("%1 already exists; give its SHA-256 to check it, or move it away")
                                                   .arg(target_));
        // The same file already there is a download done; another one is never overwritten.
        return hashFile(target_, [this](bool ok) {
            const QString got = QString::fromLatin1(hash_->result().toHex());
            if (!ok)
                return fail(Failure::FileError, tr("cannot read %1").arg(target_));
            if (got != expected_)
                return fail(Failure::TargetExists, tr("%1 already exists and is a different file (SHA-256 %2, "
                                                      "expected %3); move it away first")
                                                       .arg(target_, got, expected_));
            running_ = false;
            emit finished(target_);
        });
    }

    // A lock whose process died is stale and taken over (QLockFile checks the pid).
    lock_ = std::make_unique<QLockFile>(partPath() + QStringLiteral(".lock"));
    if (!lock_->tryLock(0)) {
        lock_.reset();
        return fail(Failure::Busy, tr("%1 is already being downloaded into %2").arg(source_.fileName, folder_));
    }
    part_.setFileName(partPath());
    if (!part_.open(QIODevice::WriteOnly | QIODevice::Append))
        return fail(Failure::FileError, tr("cannot write %1: %2").arg(partPath(), part_.errorString()));
    done_ = part_.size();
    if (done_ == 0)
        return request();
    emit notice(tr("resuming %1 at %2").arg(source_.fileName, bytesText(done_)));
    hashFile(partPath(), [this](bool ok) {
        if (!ok)
            return fail(Failure::FileError, tr("cannot read %1").arg(partPath()));
        request();
    });
}

void ModelDownload::hashFile(const QString& path, std::function<void(bool ok)> then)
{
    auto* watcher = new QFutureWatcher<bool>(this);
    connect(watcher, &QFutureWatcher<bool>::finished, this, [this, watcher, then = std::move(then)] {
        watcher->deleteLater();
        if (cancelled_)
            return fail(Failure::Cancelled, tr("cancelled"));
        then(watcher->result());
    });
    hashing_ = hashInBackground(path, hash_.get(), stopHashing_);
    watcher->setFuture(hashing_);
}

void ModelDownload::cancel()
{
    if (!running_ || cancelled_)
        return;
    cancelled_ = true;
    stopHashing_->store(true);  // a part of gigabytes being hashed stops at its next block
    if (reply_)
        reply_->abort();  // finished() follows and reports the cancel
    else if (!hashing_.isRunning())
        fail(Failure::Cancelled, tr("cancelled"));
    // else: the hashing's end reports it
}

void ModelDownload::request()
{
    QNetworkRequest request(url_);
    // By hand, to keep the first hop's linked hash and to count the hops ourselves.
    request.setAttribute(QNetworkRequest::RedirectPolicyAttribute, QNetworkRequest::ManualRedirectPolicy);
    request.setHeader(QNetworkRequest::UserAgentHeader, QByteArrayLiteral("Folio"));
    // Byte offsets must be those of the file, never of a compressed stream.
    request.setRawHeader("Accept-Encoding", "identity");
    if (done_ > 0)
        request.setRawHeader("Range", "bytes=" + QByteArray::number(done_) + '-');
    // A gated repository (Llama, Gemma) wants the user's token, and only Hugging Face
    // gets it: not the CDN it redirects to.
    const QByteArray token = qgetenv("HF_TOKEN");
    const QUrl endpoint = huggingFaceEndpoint();
    if (source_.huggingFace && !token.isEmpty() && url_.scheme() == endpoint.scheme() && url_.host() == endpoint.host()
        && url_.port(-1) == endpoint.port(-1))
        request.setRawHeader("Authorization", "Bearer " + token);

    offset_ = done_;
    headersSeen_ = writing_ = false;
    if (!clock_.isValid())
        clock_.start();
    samples_ = {{clock_.elapsed(), done_}};
    QNetworkReply* reply = network_->get(request);
    reply_ = reply;
    connect(reply, &QNetworkReply::metaDataChanged, this, &ModelDownload::onHeaders);
    connect(reply, &QNetworkReply::readyRead, this, &ModelDownload::onReadyRead);
    connect(reply, &QNetworkReply::finished, this, &ModelDownload::onFinished);
    stallTimer_.start(options_.stallTimeoutMs);
}

void ModelDownload::onHeaders()
{
    if (!reply_ || headersSeen_)
        return;
    headersSeen_ = true;
    stallTimer_.start(options_.stallTimeoutMs);
    if (linkedHash_.isEmpty())
        linkedHash_ = linkedSha256(reply_->rawHeader("X-Linked-Etag"));
    if (total_ < 0 && reply_->hasRawHeader("X-Linked-Size"))
        total_ = reply_->rawHeader("X-Linked-Size").toLongLong();
    const int status = reply_->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    if (status == 200 || status == 206)
        acceptBody(status);
}

void ModelDownload::acceptBody(int status)
{
    if (status == 206) {
        qint64 start = -1, total = -1;
        parseContentRange(reply_->rawHeader("Content-Range"), &start, &total);
        if (start != offset_) {  // not the bytes asked for: trust nothing, start over
            emit notice(tr("the server sent another range than asked; starting %1 over").arg(source_.fileName));
            restarting_ = true;
            reply_->abort();
            return;
        }
        if (total >= 0)
            total_ = total;
    } else {
        if (offset_ > 0) {
            emit notice(tr("the server does not resume downloads; starting %1 over").arg(source_.fileName));
            startOver();
            offset_ = 0;
        }
        const QVariant length = reply_->header(QNetworkRequest::ContentLengthHeader);
        if (length.isValid())
            total_ = length.toLongLong();
    }
    if (total_ >= 0) {
        const qint64 needed = total_ - done_ + options_.spaceMargin;
        const qint64 free = options_.freeSpace(folder_);
        if (free >= 0 && free < needed)
            return fail(Failure::DiskSpace, tr("not enough disk space in %1: %2 needs %3 more (with %4 to spare), "
                                               "%5 free")
                                                .arg(folder_, source_.fileName, bytesText(total_ - done_),
                                                     bytesText(options_.spaceMargin), bytesText(free)));
    }
    writing_ = true;
}

void ModelDownload::onReadyRead()
{
    if (!reply_)
        return;
    if (!headersSeen_)
        onHeaders();
    if (!reply_ || !reply_->isOpen())
        return;
    stallTimer_.start(options_.stallTimeoutMs);
    const QByteArray bytes = reply_->readAll();
    if (!writing_ || bytes.isEmpty())
        return;  // a redirect's or an error's body
    if (part_.write(bytes) != bytes.size())
        return fail(Failure::FileError, tr("cannot write %1: %2").arg(partPath(), part_.errorString()));
    hash_->addData(bytes);
    done_ += bytes.size();
    reportProgress(false);
}

void ModelDownload::onFinished()
{
    QNetworkReply* reply = reply_;
    if (!reply)
        return;
    onReadyRead();  // whatever is left
    if (!reply_)
        return;  // that failed the download
    stallTimer_.stop();
    reply->disconnect(this);
    reply->deleteLater();
    reply_ = nullptr;
    const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    const QString where = printableUrl(url_);
    const QString kept = tr("%1 is kept (%2 of %3): start the same download again to resume")
                             .arg(partPath(), bytesText(done_), total_ >= 0 ? bytesText(total_) : tr("unknown size"));

    if (cancelled_)
        return fail(Failure::Cancelled, tr("cancelled; %1").arg(kept));
    if (stalled_)
        return fail(Failure::Stalled, tr("%1 sent no data for %2 s; %3").arg(where).arg(options_.stallTimeoutMs / 1000.0)
                                          .arg(kept));
    if (restarting_) {
        restarting_ = false;
        startOver();
        return request();
    }
    if (status >= 300 && status < 400 && reply->hasRawHeader("Location")) {
        if (++redirects_ > options_.maxRedirects)
            return fail(Failure::TooManyRedirects,
                        tr("more than %1 redirects (the last from %2)").arg(options_.maxRedirects).arg(where));
        url_ = url_.resolved(QUrl::fromEncoded(reply->rawHeader("Location")));
        return request();
    }
    if (status == 416) {
        // Nothing after our offset: the part may already be the whole file.
        qint64 start = -1, total = -1;
        parseContentRange(reply->rawHeader("Content-Range"), &start, &total);
        if (total >= 0 && total != done_) {
            emit notice(tr("the part does not match the file on the server; starting %1 over").arg(source_.fileName));
            startOver();
            return request();
        }
        total_ = done_;
        return complete();
    }
    if (status >= 400) {
        QString hint;
        if ((status == 401 || status == 403) && source_.huggingFace)
            hint = tr(" (a gated repository? accept its licence on Hugging Face and set HF_TOKEN)");
        else if (status == 404)
            hint = tr(" (no such file)");
        return fail(Failure::Http, tr("%1: HTTP %2%3").arg(where).arg(status).arg(hint));
    }
    if (status == 0 || reply->error() != QNetworkReply::NoError) {
        // Qt's message may quote the whole URL, signature and all.
        QString text = reply->errorString();
        text.replace(url_.toString(), where).replace(QString::fromLatin1(url_.toEncoded()), where);
        return fail(Failure::Network, tr("%1: %2; %3").arg(where, text, kept));
    }
    if (status != 200 && status != 206)
        return fail(Failure::Http, tr("%1: unexpected HTTP %2").arg(where).arg(status));
    if (total_ >= 0 && done_ != total_)
        return fail(Failure::Network, tr("%1: the connection ended early; %2").arg(where, kept));
    total_ = done_;
    complete();
}

void ModelDownload::complete()
{
    reportProgress(true);
    const QString got = QString::fromLatin1(hash_->result().toHex());
    QString want = expected_.isEmpty() ? linkedHash_ : expected_;
    if (!expected_.isEmpty() && !linkedHash_.isEmpty() && linkedHash_ != expected_)
        emit notice(tr("the server's SHA-256 (%1) differs from the one given; checking against the one given")
                        .arg(linkedHash_));
    if (want.isEmpty() && options_.requireHash) {
        part_.close();
        return fail(Failure::NoHash, tr("no SHA-256 to check %1 against (the server gave none); %2 is kept: give its "
                                        "SHA-256 to check it and put it in place")
                                         .arg(source_.fileName, partPath()));
    }
    if (want.isEmpty()) {
        emit notice(tr("no SHA-256 to check %1 against (the server gave none); its SHA-256 is %2")
                        .arg(source_.fileName, got));
    } else if (got != want) {
        part_.close();
        QFile::remove(partPath());
        return fail(Failure::HashMismatch, tr("SHA-256 mismatch for %1: expected %2, got %3; the partial download "
                                              "was deleted")
                                               .arg(source_.fileName, want, got));
    }
    // On disk before the rename, so that a crash never leaves a target with holes.
    if (!part_.flush() || ::fsync(part_.handle()) != 0)
        return fail(Failure::FileError, tr("cannot write %1: %2").arg(partPath(), part_.errorString()));
    part_.close();
    if (QFileInfo::exists(target_))
        return fail(Failure::TargetExists, tr("%1 appeared during the download; %2 is kept").arg(target_, partPath()));
    if (!QFile::rename(partPath(), target_))  // rename(2): atomic within the folder
        return fail(Failure::FileError, tr("cannot rename %1 to %2").arg(partPath(), target_));
    running_ = false;
    lock_.reset();
    emit finished(target_);
}

void ModelDownload::startOver()
{
    part_.resize(0);
    hash_->reset();
    done_ = 0;
    samples_ = {{clock_.elapsed(), 0}};
}

void ModelDownload::fail(Failure kind, const QString& message)
{
    if (!running_)
        return;
    running_ = false;
    stallTimer_.stop();
    if (reply_) {
        reply_->disconnect(this);
        reply_->abort();
        reply_->deleteLater();
        reply_ = nullptr;
    }
    if (part_.isOpen()) {
        part_.flush();
        part_.close();
    }
    lock_.reset();
    emit failed(kind, message);
}

void ModelDownload::reportProgress(bool force)
{
    const qint64 now = clock_.elapsed();
    if (!force && lastProgressMs_ >= 0 && now - lastProgressMs_ < options_.progressIntervalMs)
        return;
    lastProgressMs_ = now;
    // The speed of the last five seconds: what the connection does now, not on average.
    samples_.append({now, done_});
    while (samples_.size() > 2 && now - samples_.front().first > 5000)
        samples_.removeFirst();
    const qint64 ms = now - samples_.front().first;
    const double speed = ms > 0 ? (done_ - samples_.front().second) * 1000.0 / ms : 0.0;
    const double left = total_ >= 0 && speed > 0 ? (total_ - done_) / speed : -1.0;
    emit progress(done_, total_, speed, left);
}

} // namespace folio
