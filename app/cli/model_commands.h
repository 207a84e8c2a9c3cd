#pragma once

#include <QStringList>

namespace folio::cli {

// Commands that use a GGUF model through the engine. Each returns the exit code:
// 0 success, 1 bad input (model, file), 2 wrong usage.
int runModelInfo(const QStringList& arguments);   // model-info MODEL [--json]
int runTokenize(const QStringList& arguments);    // tokenize --model MODEL --file TEXT [--add-bos]
int runLogits(const QStringList& arguments);      // logits --model MODEL --file TEXT --out OUT.bin [--last N] [--threads N]
int runPerplexity(const QStringList& arguments);  // perplexity --model MODEL --file TEXT --ctx N [--stride S]
int runGenerate(const QStringList& arguments);
int runPlan(const QStringList& arguments);        // plan --model MODEL --tokens N [--method M] [--kv-type T] [--json]    // generate --model MODEL --prompt TEXT [--chat] [-n N] [--temp T] [--seed S]

} // namespace folio::cli
