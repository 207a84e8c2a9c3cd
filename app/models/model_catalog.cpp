#include "app/models/model_catalog.h"

#include "engine/model/family.h"

#include <QCoreApplication>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <algorithm>

namespace folio {

namespace {

QString tr(const char* text) { return QCoreApplication::translate("ModelCatalog", text); }

bool readEntry(const QJsonObject& o, CatalogEntry* e, QString* missing)
{
    const auto text = [&](const char* key, QString* into) {
        *into = o.value(QLatin1String(key)).toString();
        if (into->isEmpty() && missing->isEmpty())
            *missing = QLatin1String(key);
    };
    const auto number = [&](const char* key) {
        const double value = o.value(QLatin1String(key)).toDouble();
        if (value <= 0 && missing->isEmpty())
            *missing = QLatin1String(key);
        return value;
    };
    text("id", &e->id);
    text("name", &e->name);
    text("hf", &e->huggingFace);
    text("architecture", &e->architecture);
    text("parameters", &e->parameters);
    text("quant", &e->quant);
    text("licence", &e->licence);
    e->note = o.value(QLatin1String("note")).toString();
    e->sizeBytes = static_cast<qint64>(number("size_bytes"));
    e->sizeApproximate = o.value(QLatin1String("size_approximate")).toBool();
    e->trainedContext = static_cast<int>(number("trained_context"));
    e->layers = static_cast<int>(number("layers"));
    e->kvHeads = static_cast<int>(number("kv_heads"));
    e->headDim = static_cast<int>(number("head_dim"));
    const std::vector<std::string>& supported = supportedArchitectures();
    e->runs = std::find(supported.begin(), supported.end(), e->architecture.toStdString()) != supported.end();
    return missing->isEmpty();
}

} // namespace

Catalog loadCatalog(const QString& path)
{
    Catalog catalog;
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        catalog.error = tr("cannot read the model catalog %1").arg(path);
        return catalog;
    }
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(file.readAll(), &parseError);
    if (!doc.isObject()) {
        catalog.error = tr("the model catalog %1 is not JSON: %2").arg(path, parseError.errorString());
        return catalog;
    }
    const QJsonArray models = doc.object().value(QLatin1String("models")).toArray();
    for (qsizetype i = 0; i < models.size(); ++i) {
        CatalogEntry entry;
        QString missing;
        if (!readEntry(models[i].toObject(), &entry, &missing)) {
            catalog.error = tr("the model catalog %1: entry %2 (%3) has no %4")
                                .arg(path)
                                .arg(i + 1)
                                .arg(entry.id.isEmpty() ? tr("no id") : entry.id, missing);
            continue;
        }
        catalog.models.append(entry);
    }
    return catalog;
}

CatalogPlan planForCatalogEntry(const CatalogEntry& entry, int tokens, KvType kvType)
{
    CatalogPlan plan;
    plan.method = tokens <= entry.trainedContext ? ExtensionMethod::None : ExtensionMethod::Dca;  // planContext's Auto
    plan.kvType = kvType;
    plan.weightBytes = static_cast<std::size_t>(entry.sizeBytes);
    plan.kvBytes = 2 * static_cast<std::size_t>(entry.layers) * entry.kvHeads * static_cast<std::size_t>(std::max(tokens, 0))
                   * kvRowBytes(kvType, entry.headDim);
    return plan;
}

} // namespace folio
