#include "app/cli/download_command.h"

#include "app/models/model_download.h"

#include <QCommandLineParser>
#include <QEventLoop>
#include <QLocale>
#include <QTextStream>

#include <QTimer>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <unistd.h>

namespace folio::cli {

namespace {

std::atomic<bool> interrupted{false};
extern "C" void onInterrupt(int) { interrupted = true; }

QString sizeText(qint64 bytes)
{
    return QLocale::c().formattedDataSize(bytes, 1, QLocale::DataSizeIecFormat);
}

QString timeText(double seconds)
{
    if (seconds < 0)
        return QStringLiteral("?");
    const qint64 s = static_cast<qint64>(seconds + 0.5);
    return s >= 3600 ? QStringLiteral("%1h%2m").arg(s / 3600).arg((s % 3600) / 60, 2, 10, QLatin1Char('0'))
                     : QStringLiteral("%1m%2s").arg(s / 60).arg(s % 60, 2, 10, QLatin1Char('0'));
}

} // namespace

int runDownload(const QStringList& arguments)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Download a GGUF model from a URL or a Hugging Face reference OWNER/REPO:FILE (FOLIO_HF_ENDPOINT overrides "
        "https://huggingface.co; HF_TOKEN is sent to it for gated repositories). An interrupted download resumes "
        "from FILE.part when run again."));
    parser.addHelpOption();
    parser.addPositionalArgument(QStringLiteral("download"), QStringLiteral("the command"));
    parser.addPositionalArgument(QStringLiteral("SOURCE"), QStringLiteral("URL or OWNER/REPO:FILE"));
    parser.addOption({QStringLiteral("to"), QStringLiteral("The folder to put the file in."), QStringLiteral("DIR")});
    parser.addOption({QStringLiteral("sha256"), QStringLiteral("The file's SHA-256 (else the server's, if it gives one)."),
                      QStringLiteral("HEX")});
    // Without --sha256 and without a hash from the server, the file stays FILE.part.
    parser.process(arguments);
    QTextStream err(stderr);
    const QStringList positional = parser.positionalArguments();
    if (positional.size() != 2 || !parser.isSet(QStringLiteral("to"))) {
        err << "error: usage: folio-cli download SOURCE --to DIR [--sha256 HEX]\n";
        return 2;
    }

    DownloadOptions options;
    options.requireHash = true;  // exit 0 means verified
    ModelDownload download(options);
    // A terminal gets one line rewritten in place; a log gets a line every 10%.
    const bool terminal = isatty(STDERR_FILENO);
    int lastDecile = -1;
    QObject::connect(&download, &ModelDownload::progress, [&](qint64 done, qint64 total, double speed, double left) {
        const int decile = total > 0 ? static_cast<int>(done * 10 / total) : -1;
        if (!terminal && decile == lastDecile)
            return;
        lastDecile = decile;
        err << (terminal ? "\r" : "") << sizeText(done) << " of " << (total >= 0 ? sizeText(total) : QStringLiteral("?"))
            << "  " << sizeText(static_cast<qint64>(speed)) << "/s  " << timeText(left) << " left"
            << (terminal ? "   " : "\n");
        err.flush();
    });
    QObject::connect(&download, &ModelDownload::notice, [&](const QString& message) {
        err << (terminal && lastDecile >= 0 ? "\n" : "") << message << "\n";
        err.flush();
    });
    int exitCode = 1;
    QEventLoop loop;
    QObject::connect(&download, &ModelDownload::finished, [&](const QString& path) {
        err << (terminal ? "\n" : "") << "verified and saved: " << path << "\n";
        exitCode = 0;
        loop.quit();
    });
    QObject::connect(&download, &ModelDownload::failed, [&](ModelDownload::Failure, const QString& message) {
        err << (terminal ? "\n" : "") << "error: " << message << "\n";
        loop.quit();
    });
    // Ctrl+C (or a kill) cancels: the part is flushed and kept, and the line says so.
    std::signal(SIGINT, onInterrupt);
    std::signal(SIGTERM, onInterrupt);
    QTimer interruptCheck;
    QObject::connect(&interruptCheck, &QTimer::timeout, [&] {
        if (interrupted)
            download.cancel();
    });
    interruptCheck.start(100);
    download.start(positional.at(1), parser.value(QStringLiteral("to")), parser.value(QStringLiteral("sha256")));
    loop.exec();
    err.flush();
    return exitCode;
}

} // namespace folio::cli
