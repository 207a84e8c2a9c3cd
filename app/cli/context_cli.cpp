#include "app/cli/context_cli.h"

#include <stdexcept>

namespace folio::cli {

namespace {

const char* const kExtensionOptions[] = {"rope-scaling", "rope-scale", "rope-base", "yarn-orig-ctx",
                                         "yarn-ext-factor", "yarn-attn-factor", "yarn-beta-fast", "yarn-beta-slow",
                                         "dca", "dca-chunk", "dca-window", "dca-temperature"};

void add(QCommandLineParser& parser, const char* name, const char* help, const char* value = nullptr)
{
    parser.addOption(QCommandLineOption(QString::fromLatin1(name), QString::fromUtf8(help),
                                        value ? QString::fromLatin1(value) : QString()));
}

double number(const QCommandLineParser& parser, const char* name)
{
    bool ok = false;
    const double value = parser.value(QString::fromLatin1(name)).toDouble(&ok);
    if (!ok)
        throw std::invalid_argument(std::string("--") + name + " needs a number");
    return value;
}

int whole(const QCommandLineParser& parser, const char* name, int minimum)
{
    bool ok = false;
    const int value = parser.value(QString::fromLatin1(name)).toInt(&ok);
    if (!ok || value < minimum)
        throw std::invalid_argument(std::string("--") + name + " needs a whole number of at least "
                                    + std::to_string(minimum));
    return value;
}

bool given(const QCommandLineParser& parser, const char* name)
{
    return parser.isSet(QString::fromLatin1(name));
}

} // namespace

void addContextOptions(QCommandLineParser& parser, bool withCtx)
{
    if (withCtx)
        add(parser, "ctx", "Context length in tokens (default: what the text needs).", "N");
    add(parser, "rope-scaling", "RoPE scaling: none, linear (PI), ntk or yarn (default: the model's own).", "TYPE");
    add(parser, "rope-scale", "Scaling factor s: linear/YaRN frequency scale 1/s; NTK base x s^(d/(d-2)).", "F");
    add(parser, "rope-base", "RoPE frequency base (default: the model's).", "F");
    add(parser, "yarn-orig-ctx", "YaRN: the original context length (default: the model's).", "N");
    add(parser, "yarn-ext-factor", "YaRN: extrapolation mix (default 1 with yarn, else 0).", "F");
    add(parser, "yarn-attn-factor", "YaRN: attention magnitude factor (default 1).", "F");
    add(parser, "yarn-beta-fast", "YaRN: low correction dim (default 32).", "F");
    add(parser, "yarn-beta-slow", "YaRN: high correction dim (default 1).", "F");
    add(parser, "dca", "Dual Chunk Attention (training-free long context).");
    add(parser, "dca-chunk", "DCA chunk size C (default 3/4 of the trained length).", "C");
    add(parser, "dca-window", "DCA local window W (default 1/8 of the trained length).", "W");
    add(parser, "dca-temperature", "DCA attention temperature k (default: the model's dca.temperature, else 0: none).",
        "K");
    add(parser, "kv-type", "KV cache type: f16 (default), q8_0, q4_0 or f32.", "TYPE");
    add(parser, "ubatch", "Prefill micro-batch in tokens (default 512; for a mixture of experts, enough for 128 tokens per expert, up to 2048).", "N");
}

void applyContextOptions(const QCommandLineParser& parser, SessionOptions& options, bool withCtx)
{
    if (withCtx && given(parser, "ctx"))
        options.contextLength = whole(parser, "ctx", 1);
    RopeOverrides& rope = options.rope;
    if (given(parser, "rope-scaling"))
        rope.scaling = parseRopeScaling(parser.value(QStringLiteral("rope-scaling")).toStdString());
    if (given(parser, "rope-scale"))
        rope.scale = static_cast<float>(number(parser, "rope-scale"));
    if (given(parser, "rope-base"))
        rope.freqBase = static_cast<float>(number(parser, "rope-base"));
    if (given(parser, "yarn-orig-ctx"))
        rope.yarnOriginalContext = whole(parser, "yarn-orig-ctx", 1);
    if (given(parser, "yarn-ext-factor"))
        rope.yarnExtFactor = static_cast<float>(number(parser, "yarn-ext-factor"));
    if (given(parser, "yarn-attn-factor"))
        rope.yarnAttnFactor = static_cast<float>(number(parser, "yarn-attn-factor"));
    if (given(parser, "yarn-beta-fast"))
        rope.yarnBetaFast = static_cast<float>(number(parser, "yarn-beta-fast"));
    if (given(parser, "yarn-beta-slow"))
        rope.yarnBetaSlow = static_cast<float>(number(parser, "yarn-beta-slow"));
    const bool dcaDetail = given(parser, "dca-chunk") || given(parser, "dca-window") || given(parser, "dca-temperature");
    options.dca.enabled = options.dca.enabled || given(parser, "dca") || dcaDetail;
    if (given(parser, "dca-chunk"))
        options.dca.chunkSize = whole(parser, "dca-chunk", 2);
    if (given(parser, "dca-window"))
        options.dca.localWindow = whole(parser, "dca-window", 0);
    if (given(parser, "dca-temperature"))
        options.dca.temperature = static_cast<float>(number(parser, "dca-temperature"));
    if (given(parser, "kv-type"))
        options.kvType = parseKvType(parser.value(QStringLiteral("kv-type")).toStdString());
    if (given(parser, "ubatch"))
        options.batchSize = whole(parser, "ubatch", 1);
}

bool extensionRequested(const QCommandLineParser& parser)
{
    for (const char* name : kExtensionOptions)
        if (given(parser, name))
            return true;
    return false;
}

} // namespace folio::cli
