#include "app/models/model_discovery.h"

#include "app/models/model_header.h"
#include "app/models/ollama_store.h"
#include "app/models/split_name.h"

#include <QDir>
#include <QFileInfo>
#include <QMap>
#include <QSet>

#include <algorithm>

namespace folio {

namespace {

// A folder the user adds may be their whole home: stop after this many entries.
constexpr int kMaxEntriesPerPlace = 200000;

struct Found {
    QString path;
    QString appName;  // the app's name for it (Ollama tag, Hugging Face repo); empty: read general.name
};

bool isModelFileName(const QString& name)
{
    // GPT4All downloads to incomplete-NAME.gguf and renames when done; others use
    // NAME.gguf.part or similar, which the suffix test already leaves out.
    return name.endsWith(QLatin1String(".gguf"), Qt::CaseInsensitive) && !name.startsWith(QLatin1String("incomplete-"));
}

// Collects model files up to `depth` levels down. Folders are entered once by their
// canonical path, so a symlink loop (or two links to one folder) ends the descent.
class FolderWalk {
public:
    explicit FolderWalk(QList<Found>& out) : out_(out) {}

    void walk(const QString& folder, int depth, const QString& appName = {})
    {
        const QString canonical = QFileInfo(folder).canonicalFilePath();
        if (depth <= 0 || canonical.isEmpty() || seen_.contains(canonical))
            return;
        seen_.insert(canonical);
        const QFileInfoList entries = QDir(folder).entryInfoList(QDir::Files | QDir::Dirs | QDir::NoDotAndDotDot,
                                                                 QDir::Name);
        for (const QFileInfo& entry : entries) {
            if (++visited_ > kMaxEntriesPerPlace)
                return;
            if (entry.isDir())
                walk(entry.filePath(), depth - 1, appName);
            else if (entry.isFile() && isModelFileName(entry.fileName()))
                out_.append({entry.filePath(), appName});
        }
    }

private:
    QList<Found>& out_;
    QSet<QString> seen_;
    int visited_ = 0;
};

// hub/models--OWNER--NAME/snapshots/REV/**.gguf, shown as OWNER/NAME.
void collectHuggingFace(const QString& hub, QList<Found>& out)
{
    FolderWalk walk(out);
    const QString prefix = QStringLiteral("models--");
    const QStringList repos = QDir(hub).entryList({prefix + u'*'}, QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name);
    for (const QString& repo : repos) {
        QString name = repo.mid(prefix.size());
        if (const qsizetype owner = name.indexOf(QLatin1String("--")); owner > 0)  // "models--gpt2" has no owner
            name.replace(owner, 2, QStringLiteral("/"));
        walk.walk(hub + u'/' + repo + QStringLiteral("/snapshots"), 5, name);
    }
}

QList<Found> collect(const ModelPlace& place)
{
    QList<Found> found;
    switch (place.layout) {
    case PlaceLayout::Files: FolderWalk(found).walk(place.path, place.depth); break;
    case PlaceLayout::HuggingFace: collectHuggingFace(place.path, found); break;
    case PlaceLayout::Ollama:
        for (const OllamaModel& m : readOllamaStore(place.path))
            found.append({m.blobPath, m.name});
        break;
    }
    return found;
}

QString missingText(const SplitName& split, const QList<int>& missing)
{
    if (missing.size() == 1)
        return QStringLiteral("part %1 of %2 is missing (%3)").arg(missing.front()).arg(split.count)
            .arg(splitPartName(split, missing.front()));
    QStringList numbers;
    for (int n : missing)
        numbers.append(QString::number(n));
    return QStringLiteral("parts %1 of %2 are missing").arg(numbers.join(QStringLiteral(", "))).arg(split.count);
}

// One found file, or the parts of a split set that share a folder and a name.
struct Group {
    Found first;
    std::optional<SplitName> split;
    QMap<int, QString> parts;  // index -> path
};

QList<Group> groupSplitSets(const QList<Found>& found)
{
    QList<Group> groups;
    QMap<QString, qsizetype> setIndex;  // folder/prefix/count -> its group
    for (const Found& f : found) {
        const QFileInfo info(f.path);
        const std::optional<SplitName> split = parseSplitName(info.fileName());
        if (!split) {
            groups.append({f, std::nullopt, {{1, f.path}}});
            continue;
        }
        const QString key = info.path() + u'/' + split->prefix + u'/' + QString::number(split->count);
        if (!setIndex.contains(key)) {
            setIndex.insert(key, groups.size());
            groups.append({f, split, {}});
        }
        groups[setIndex.value(key)].parts.insert(split->index, f.path);
    }
    return groups;
}

LocalModel describe(const Group& g, const QString& source)
{
    LocalModel m;
    m.source = source;
    m.name = g.first.appName;
    const int count = g.split ? g.split->count : 1;
    QList<int> missing;
    for (int i = 1; i <= count; ++i) {
        const QString path = g.parts.value(i);
        if (!path.isEmpty() && QFileInfo::exists(path)) {
            m.parts.append(path);
            m.sizeBytes += QFileInfo(path).size();
        } else {
            missing.append(i);
        }
    }
    if (g.split && !missing.isEmpty())
        m.incomplete = missingText(*g.split, missing);
    if (m.parts.isEmpty()) {  // an Ollama tag whose blob is gone
        m.path = g.first.path;
        m.incomplete = QStringLiteral("the weights file %1 is missing").arg(QFileInfo(g.first.path).fileName());
        m.reason = m.incomplete;
        return m;
    }
    m.path = m.parts.front();
    m.canonicalPath = QFileInfo(m.path).canonicalFilePath();
    readModelHeaders(m, count);
    return m;
}

} // namespace

ModelScan scanModels(const QList<ModelPlace>& places)
{
    ModelScan scan;
    QSet<QString> listed;  // canonical paths
    for (const ModelPlace& place : places) {
        if (!QFileInfo(place.path).isDir())
            continue;
        scan.searched.append(place);
        for (const Group& group : groupSplitSets(collect(place))) {
            const QString key = QFileInfo(group.parts.isEmpty() ? group.first.path : group.parts.first())
                                    .canonicalFilePath();
            if (!key.isEmpty() && listed.contains(key))
                continue;
            listed.insert(key);
            scan.models.append(describe(group, place.source));
        }
    }
    return scan;
}

} // namespace folio
