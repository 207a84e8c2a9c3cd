#include "app/models/ollama_store.h"

#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>

#include <algorithm>

namespace folio {

namespace {

constexpr qint64 kMaxManifestBytes = 1 << 20;  // real ones are under 2 KB
const QString kDefaultRegistry = QStringLiteral("registry.ollama.ai");

// "sha256:HEX" -> "sha256-HEX"; empty for anything else, so that a digest can never
// name a path outside blobs/.
QString blobName(const QString& digest)
{
    static const QRegularExpression pattern(QStringLiteral("^sha256:([0-9a-f]{64})$"));
    const QRegularExpressionMatch m = pattern.match(digest);
    return m.hasMatch() ? QStringLiteral("sha256-") + m.captured(1) : QString();
}

QString modelDigest(const QString& manifestPath)
{
    QFile file(manifestPath);
    if (file.size() > kMaxManifestBytes || !file.open(QIODevice::ReadOnly))
        return {};
    const QJsonArray layers = QJsonDocument::fromJson(file.readAll()).object().value(QLatin1String("layers")).toArray();
    for (const QJsonValue& layer : layers) {
        const QJsonObject o = layer.toObject();
        if (o.value(QLatin1String("mediaType")).toString() == QLatin1String("application/vnd.ollama.image.model"))
            return o.value(QLatin1String("digest")).toString();
    }
    return {};
}

// REGISTRY/NAMESPACE/MODEL/TAG -> the name `ollama list` shows.
QString displayName(const QStringList& parts)
{
    const QString tag = parts.at(parts.size() - 1);
    const QString model = parts.at(parts.size() - 2);
    const QString nameSpace = parts.at(parts.size() - 3);
    const QString registry = parts.mid(0, parts.size() - 3).join(u'/');
    QString name = model + u':' + tag;
    if (registry != kDefaultRegistry || nameSpace != QLatin1String("library"))
        name = nameSpace + u'/' + name;
    if (registry != kDefaultRegistry)
        name = registry + u'/' + name;
    return name;
}

} // namespace

QList<OllamaModel> readOllamaStore(const QString& root)
{
    const QDir manifests(root + QStringLiteral("/manifests"));
    QStringList paths;
    QDirIterator it(manifests.path(), QDir::Files, QDirIterator::Subdirectories);
    while (it.hasNext())
        paths.append(it.next());
    std::sort(paths.begin(), paths.end());

    QList<OllamaModel> models;
    for (const QString& path : paths) {
        const QStringList parts = manifests.relativeFilePath(path).split(u'/');
        if (parts.size() < 4)
            continue;
        const QString blob = blobName(modelDigest(path));
        if (!blob.isEmpty())
            models.append({displayName(parts), root + QStringLiteral("/blobs/") + blob});
    }
    return models;
}

} // namespace folio
