#include "ui/models/model_summary.h"

#include "engine/session/chat_template.h"
#include "engine/model/model.h"
#include "engine/gguf/tensor_types.h"
#include "ui/shell/status_widgets.h"

#include <QFileInfo>

#include <map>

namespace folio {

ModelSummary ModelSummary::of(const Model& model)
{
    ModelSummary s;
    const GgufFile& file = model.file();
    const ModelHyperParams& p = model.params();
    s.path = QString::fromStdString(model.path());
    s.name = QString::fromStdString(file.getString("general.name").value_or(""));
    if (s.name.isEmpty())
        s.name = QFileInfo(s.path).completeBaseName();
    s.architecture = QString::fromStdString(p.architecture);
    s.fileBytes = qint64(file.fileSize());
    std::map<std::string, int> types;
    for (const GgufTensor& t : file.tensors()) {
        ++types[std::string(traitsOf(t.type).name)];
        s.parameters += t.elements();
    }
    QStringList typeList;
    for (const auto& [name, count] : types)
        typeList << QStringLiteral("%1 × %2").arg(QString::fromStdString(name).toUpper()).arg(count);
    s.tensorTypes = typeList.join(QStringLiteral(", "));
    s.activeParameters = qint64(model.activeParameters());
    s.trainedContext = p.contextLength;
    s.rope = QStringLiteral("%1, base %2, %3 dims%4")
                 .arg(p.ropeNeox ? QStringLiteral("NeoX") : QStringLiteral("normal"))
                 .arg(double(p.ropeFreqBase))
                 .arg(p.ropeDims)
                 .arg(model.ropeFreqFactors().empty() ? QString() : QStringLiteral(", frequency factors"));
    s.ropeScaling = p.ropeScalingType == "none"
                        ? QStringLiteral("none")
                        : QStringLiteral("%1 × %2").arg(QString::fromStdString(p.ropeScalingType)).arg(double(p.ropeScalingFactor));
    s.shape = QStringLiteral("%1 layers, embedding %2, %3 heads (%4 KV), feed-forward %5")
                  .arg(p.blockCount)
                  .arg(p.embeddingLength)
                  .arg(p.headCount)
                  .arg(p.headCountKv)
                  .arg(p.feedForwardLength);
    const Tokenizer& tok = model.tokenizer();
    s.tokenizer = QStringLiteral("%1 (%2), %3 tokens")
                      .arg(tok.kind() == TokenizerKind::SentencePiece ? QStringLiteral("SentencePiece")
                                                                      : QStringLiteral("byte-pair encoding"))
                      .arg(QString::fromStdString(tok.preTokenizer()))
                      .arg(tok.vocabSize());
    const ChatTemplate chat = ChatTemplate::detect(file.getString("tokenizer.chat_template").value_or(""), p.architecture,
                                                   [&](std::string_view piece) { return tok.findToken(piece).has_value(); });
    s.chatTemplate = QString::fromStdString(chat.description());
    s.fingerprint = QString::fromStdString(model.fingerprint());
    return s;
}

QString ModelSummary::parameterText(qint64 parameters)
{
    if (parameters >= 1'000'000'000)
        return QStringLiteral("%1 B").arg(parameters / 1e9, 0, 'f', 1);
    if (parameters >= 1'000'000)
        return QStringLiteral("%1 M").arg(parameters / 1e6, 0, 'f', 1);
    if (parameters >= 1'000)
        return QStringLiteral("%1 K").arg(parameters / 1e3, 0, 'f', 1);
    return QString::number(parameters);
}

QString extensionSummary(const ContextPlan& plan, int trainedContext)
{
    QString method;
    switch (plan.method) {
    case ExtensionMethod::Dca: method = QStringLiteral("DCA"); break;
    case ExtensionMethod::Linear: method = QStringLiteral("PI"); break;
    case ExtensionMethod::Ntk: method = QStringLiteral("NTK"); break;
    case ExtensionMethod::Yarn: method = QStringLiteral("YaRN"); break;
    case ExtensionMethod::None:
    case ExtensionMethod::Auto:
        return QObject::tr("No extension, trained %1").arg(StatusWidgets::compactTokens(trainedContext));
    }
    return QObject::tr("%1, trained %2 → %3")
        .arg(method, StatusWidgets::compactTokens(trainedContext), StatusWidgets::compactTokens(plan.options.contextLength));
}

} // namespace folio
