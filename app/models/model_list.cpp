#include "app/models/model_list.h"

#include "app/models/model_header.h"
#include "app/models/split_name.h"

#include "engine/gguf/gguf.h"

#include <QDir>
#include <QFileInfo>

#include <algorithm>

namespace folio {

std::optional<ModelSortKey> modelSortKeyFromName(const QString& name)
{
    const QString n = name.toLower();
    if (n == QLatin1String("name")) return ModelSortKey::Name;
    if (n == QLatin1String("app") || n == QLatin1String("source")) return ModelSortKey::Source;
    if (n == QLatin1String("family")) return ModelSortKey::Family;
    if (n == QLatin1String("type")) return ModelSortKey::Type;
    if (n == QLatin1String("size")) return ModelSortKey::Size;
    if (n == QLatin1String("context")) return ModelSortKey::Context;
    if (n == QLatin1String("parameters")) return ModelSortKey::Parameters;
    return std::nullopt;
}

namespace {

// Negative, zero or positive as a sorts before, with or after b on `key` alone.
int compareOn(const LocalModel& a, const LocalModel& b, ModelSortKey key)
{
    const auto text = [](const QString& x, const QString& y) { return x.compare(y, Qt::CaseInsensitive); };
    const auto number = [](qint64 x, qint64 y) { return x < y ? -1 : x > y ? 1 : 0; };
    switch (key) {
    case ModelSortKey::Name: return text(a.name, b.name);
    case ModelSortKey::Source: return text(a.source, b.source);
    case ModelSortKey::Family: return text(a.family, b.family);
    case ModelSortKey::Type: return text(a.type, b.type);
    case ModelSortKey::Size: return number(a.sizeBytes, b.sizeBytes);
    case ModelSortKey::Context: return number(a.contextLength, b.contextLength);
    case ModelSortKey::Parameters: return number(a.parameters, b.parameters);
    }
    return 0;
}

} // namespace

void sortModels(QList<LocalModel>& models, ModelSortKey key, Qt::SortOrder order)
{
    std::stable_sort(models.begin(), models.end(), [&](const LocalModel& a, const LocalModel& b) {
        int c = compareOn(a, b, key);
        if (c == 0)
            c = compareOn(a, b, ModelSortKey::Name);
        if (c == 0)
            c = a.path.compare(b.path);
        return order == Qt::AscendingOrder ? c < 0 : c > 0;
    });
}

QList<LocalModel> filterModels(const QList<LocalModel>& models, const QString& text)
{
    const QString needle = text.trimmed();
    QList<LocalModel> out;
    for (const LocalModel& m : models)
        if (needle.isEmpty() || m.name.contains(needle, Qt::CaseInsensitive) ||
            m.family.contains(needle, Qt::CaseInsensitive) || m.source.contains(needle, Qt::CaseInsensitive))
            out.append(m);
    return out;
}

RememberedModel rememberModel(const LocalModel& model)
{
    return {model.path, model.sizeBytes, model.fingerprint};
}

QVariantMap rememberedModelToVariant(const RememberedModel& r)
{
    return {{QStringLiteral("path"), r.path},
            {QStringLiteral("size"), r.sizeBytes},
            {QStringLiteral("architecture"), r.fingerprint.architecture},
            {QStringLiteral("name"), r.fingerprint.name},
            {QStringLiteral("tensors"), r.fingerprint.tensorCount}};
}

std::optional<RememberedModel> rememberedModelFromVariant(const QVariantMap& map)
{
    for (const char* key : {"path", "size", "architecture", "name", "tensors"})
        if (!map.contains(QLatin1String(key)))
            return std::nullopt;
    return RememberedModel{map.value(QStringLiteral("path")).toString(),
                           map.value(QStringLiteral("size")).toLongLong(),
                           {map.value(QStringLiteral("architecture")).toString(), map.value(QStringLiteral("name")).toString(),
                            map.value(QStringLiteral("tensors")).toLongLong()}};
}

namespace {

// The parts of a split set beside `path`, all of them, as the scan lists them.
QStringList partsOf(const QString& path)
{
    const QFileInfo info(path);
    const std::optional<SplitName> split = parseSplitName(info.fileName());
    if (!split)
        return {path};
    QStringList parts;
    for (int i = 1; i <= split->count; ++i)
        parts.append(info.dir().filePath(splitPartName(*split, i)));
    return parts;
}

} // namespace

RememberedCheck checkRememberedModel(const RememberedModel& remembered)
{
    const QStringList parts = partsOf(remembered.path);
    qint64 size = 0;
    for (const QString& part : parts) {
        if (!QFileInfo(part).isFile())
            return {false, QStringLiteral("%1 is gone").arg(part)};
        size += QFileInfo(part).size();
    }
    if (size != remembered.sizeBytes)
        return {false, QStringLiteral("its size changed (%1 bytes, was %2)").arg(size).arg(remembered.sizeBytes)};
    try {
        if (readFingerprint(parts) != remembered.fingerprint)
            return {false, QStringLiteral("another model is in its place (its header differs)")};
    } catch (const GgufError& e) {
        return {false, QString::fromStdString(e.what())};
    }
    return {true, {}};
}

} // namespace folio
