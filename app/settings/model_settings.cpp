#include "app/settings/model_settings.h"

#include "app/settings/resource_paths.h"

#include <QSettings>

namespace folio {

namespace {
const QString kGroup = QStringLiteral("model");
}

ModelSettings ModelSettings::load()
{
    ModelSettings s;
    QSettings settings;
    settings.beginGroup(kGroup);
    s.backend = settings.value(QStringLiteral("backend"), s.backend).toString();
    s.server = settings.value(QStringLiteral("server"), s.server).toString();
    s.modelPath = settings.value(QStringLiteral("path"), s.modelPath).toString();
    s.threads = settings.value(QStringLiteral("threads"), s.threads).toInt();
    s.kvType = settings.value(QStringLiteral("kvType"), s.kvType).toString();
    s.method = settings.value(QStringLiteral("method"), s.method).toString();
    s.ropeScale = settings.value(QStringLiteral("ropeScale"), s.ropeScale).toDouble();
    s.yarnOriginalContext = settings.value(QStringLiteral("yarnOriginalContext"), s.yarnOriginalContext).toInt();
    s.dcaChunkSize = settings.value(QStringLiteral("dcaChunkSize"), s.dcaChunkSize).toInt();
    s.dcaLocalWindow = settings.value(QStringLiteral("dcaLocalWindow"), s.dcaLocalWindow).toInt();
    s.temperature = settings.value(QStringLiteral("temperature"), s.temperature).toDouble();
    s.topP = settings.value(QStringLiteral("topP"), s.topP).toDouble();
    s.topK = settings.value(QStringLiteral("topK"), s.topK).toInt();
    s.minP = settings.value(QStringLiteral("minP"), s.minP).toDouble();
    s.repeatPenalty = settings.value(QStringLiteral("repeatPenalty"), s.repeatPenalty).toDouble();
    s.maxTokens = settings.value(QStringLiteral("maxTokens"), s.maxTokens).toInt();
    s.thinking = settings.value(QStringLiteral("thinking"), s.thinking).toBool();
    return s;
}

void ModelSettings::save() const
{
    QSettings settings;
    settings.beginGroup(kGroup);
    settings.setValue(QStringLiteral("backend"), backend);
    settings.setValue(QStringLiteral("server"), server);
    settings.setValue(QStringLiteral("path"), modelPath);
    settings.setValue(QStringLiteral("threads"), threads);
    settings.setValue(QStringLiteral("kvType"), kvType);
    settings.setValue(QStringLiteral("method"), method);
    settings.setValue(QStringLiteral("ropeScale"), ropeScale);
    settings.setValue(QStringLiteral("yarnOriginalContext"), yarnOriginalContext);
    settings.setValue(QStringLiteral("dcaChunkSize"), dcaChunkSize);
    settings.setValue(QStringLiteral("dcaLocalWindow"), dcaLocalWindow);
    settings.setValue(QStringLiteral("temperature"), temperature);
    settings.setValue(QStringLiteral("topP"), topP);
    settings.setValue(QStringLiteral("topK"), topK);
    settings.setValue(QStringLiteral("minP"), minP);
    settings.setValue(QStringLiteral("repeatPenalty"), repeatPenalty);
    settings.setValue(QStringLiteral("maxTokens"), maxTokens);
    settings.setValue(QStringLiteral("thinking"), thinking);
}

QString ModelSettings::effectiveModelPath() const { return modelPath.isEmpty() ? bundledDemoModel() : modelPath; }

PlanRequest ModelSettings::planRequest(int tokens) const
{
    PlanRequest request;
    request.tokens = tokens;
    request.method = parseExtensionMethod(method.toStdString());
    if (kvType != QLatin1String("auto"))
        request.kvType = parseKvType(kvType.toStdString());
    request.threads = threads;
    return request;
}

SamplerParams ModelSettings::samplerParams() const
{
    SamplerParams p;
    p.temperature = float(temperature);
    p.topP = float(topP);
    p.topK = topK;
    p.minP = float(minP);
    p.repeatPenalty = float(repeatPenalty);
    return p;
}

void ModelSettings::applyOverrides(SessionOptions& options) const
{
    if (ropeScale > 0 && (method == QLatin1String("pi") || method == QLatin1String("ntk") || method == QLatin1String("yarn")))
        options.rope.scale = float(ropeScale);
    if (yarnOriginalContext > 0 && method == QLatin1String("yarn"))
        options.rope.yarnOriginalContext = yarnOriginalContext;
    if (options.dca.enabled) {
        if (dcaChunkSize > 0)
            options.dca.chunkSize = dcaChunkSize;
        if (dcaLocalWindow >= 0)
            options.dca.localWindow = dcaLocalWindow;
    }
}

} // namespace folio
