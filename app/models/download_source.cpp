#include "app/models/download_source.h"

#include <QCoreApplication>
#include <QRegularExpression>

namespace folio {

QUrl huggingFaceEndpoint()
{
    const QString configured = qEnvironmentVariable("FOLIO_HF_ENDPOINT");
    QUrl url(configured.isEmpty() ? QStringLiteral("https://huggingface.co") : configured);
    url.setPath(url.path().endsWith(QLatin1Char('/')) ? url.path().chopped(1) : url.path());
    return url;
}

QString printableUrl(const QUrl& url)
{
    return url.adjusted(QUrl::RemoveQuery | QUrl::RemoveFragment | QUrl::RemoveUserInfo).toString();
}

std::optional<DownloadSource> parseDownloadSource(const QString& text, QString* error)
{
    const QString trimmed = text.trimmed();
    DownloadSource source;
    if (trimmed.startsWith(QLatin1String("http://")) || trimmed.startsWith(QLatin1String("https://"))) {
        source.url = QUrl(trimmed, QUrl::StrictMode);
        source.fileName = source.url.fileName();
        if (!source.url.isValid() || source.url.host().isEmpty() || source.fileName.isEmpty()) {
            *error = QCoreApplication::translate("DownloadSource", "%1: not a URL of a file").arg(printableUrl(source.url));
            return std::nullopt;
        }
        return source;
    }
    // Hugging Face names: letters, digits, '-', '_' and '.'; the file may sit in a folder.
    static const QRegularExpression reference(QStringLiteral(R"(^([\w.-]+)/([\w.-]+):([\w.+-][\w./+-]*)$)"));
    const QRegularExpressionMatch match = reference.match(trimmed);
    if (!match.hasMatch() || match.captured(3).contains(QLatin1String(".."))) {
        *error = QCoreApplication::translate("DownloadSource",
                                             "'%1' is neither an http(s) URL nor a Hugging Face reference OWNER/REPO:FILE")
                     .arg(trimmed);
        return std::nullopt;
    }
    QUrl url = huggingFaceEndpoint();
    QString path = url.path() + QLatin1Char('/') + match.captured(1) + QLatin1Char('/') + match.captured(2)
                   + QLatin1String("/resolve/main/") + match.captured(3);
    url.setPath(path);
    source.url = url;
    source.fileName = match.captured(3).section(QLatin1Char('/'), -1);
    source.huggingFace = true;
    return source;
}

} // namespace folio
