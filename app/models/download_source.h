// Where a model download comes from: a plain http(s) URL, or a Hugging Face reference
// OWNER/REPO:FILE, which resolves to ENDPOINT/OWNER/REPO/resolve/main/FILE. The
// endpoint is https://huggingface.co unless FOLIO_HF_ENDPOINT names another (a mirror,
// or a test server on 127.0.0.1).
#pragma once

#include <QString>
#include <QUrl>

#include <optional>

namespace folio {

struct DownloadSource {
    QUrl url;          // the first hop
    QString fileName;  // the name the file gets on disk (the URL's last segment)
    bool huggingFace = false;
};

// nullopt, with *error saying why, for text that is neither.
std::optional<DownloadSource> parseDownloadSource(const QString& text, QString* error);

QUrl huggingFaceEndpoint();

// scheme://host[:port]/path: what may be printed or logged. Signed CDN URLs carry
// their credentials in the query, and a URL may carry user:password.
QString printableUrl(const QUrl& url);

} // namespace folio
