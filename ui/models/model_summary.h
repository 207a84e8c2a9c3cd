// What the model manager and the status bar show about a GGUF model: read from the
// engine's Model (its metadata; display only, no inference) into plain strings.
#pragma once

#include "engine/session/context_planner.h"

#include <QString>
#include <QStringList>

#include <memory>

namespace folio {

class Model;

struct ModelSummary {
    QString path;
    QString name;            // general.name, else the file name
    QString architecture;
    qint64 parameters = 0;
    qint64 activeParameters = 0;  // per token: fewer than parameters for a mixture of experts
    qint64 fileBytes = 0;
    QString tensorTypes;     // "Q4_0 × 154, F32 × 45"
    int trainedContext = 0;
    QString rope;            // "normal, base 10000, 64 dims"
    QString ropeScaling;     // "none", "linear × 4", "yarn × 8 (from 8192)"
    QString shape;           // "22 layers, embedding 2048, 32 heads (4 KV)"
    QString tokenizer;       // "SentencePiece, 32000 tokens"
    QString chatTemplate;    // "Llama 3 (detected from tokenizer.chat_template)"
    QString fingerprint;

    static ModelSummary of(const Model& model);
    static QString parameterText(qint64 parameters);   // "1.1 B", "15.2 M"
};

// A plan in the words of the status bar: "DCA, trained 2K → 64K".
QString extensionSummary(const ContextPlan& plan, int trainedContext);

} // namespace folio
