// folio-cli: the app core without widgets, for scripting and tests.
#include "app/cli/catalog_command.h"
#include "app/cli/download_command.h"
#include "app/cli/info_command.h"
#include "app/cli/local_models_command.h"
#include "app/cli/model_commands.h"
#include "app/cli/reading_commands.h"
#include "app/cli/remote_commands.h"
#include "app/cli/review_command.h"

#include <QCoreApplication>
#include <QTextStream>

#include <algorithm>

namespace {

const char* kUsage =
    "Usage: folio-cli COMMAND [OPTIONS]\n"
    "\n"
    "Commands:\n"
    "  info FILE [--json]              title, pages, words and characters of a document\n"
    "  model-info MODEL [--json]       architecture, size, tensor types, context, RoPE, vocabulary\n"
    "  tokenize --model MODEL --file TEXT [--add-bos]\n"
    "                                  token ids, space-separated\n"
    "  logits --model MODEL --file TEXT --out OUT.bin [--last N] [--threads N]\n"
    "                                  one forward pass; logits to a little-endian file\n"
    "  perplexity --model MODEL --file TEXT --ctx N [--stride S]\n"
    "  generate --model MODEL --prompt TEXT [--chat] [-n N] [--temp T] [--seed S]\n"
    "  plan --model MODEL --tokens N [--method auto|none|pi|ntk|yarn|dca] [--kv-type T] [--json]\n"
    "                                  extension method, KV type and memory for N tokens\n"
    "  ask --model MODEL --doc FILE \"QUESTION\" [--conversation ID] [--db PATH] [-n N] [--temp T]\n"
    "  ask --model MODEL --conversation ID --regenerate   answer its last question again\n"
    "  ask --model MODEL --conversation ID --continue     write on its stopped last answer\n"
    "                                  read the document (or restore its saved state) and answer;\n"
    "                                  prints the evidence pages and the conversation id\n"
    "  conversations [--db PATH]       saved conversations\n"
    "  show ID [--db PATH]             a conversation's messages and evidence pages\n"
    "  delete ID [--db PATH]           delete a conversation and its saved state\n"
    "  review --model MODEL --doc PAPER --venue iclr|neurips|icml|cvpr|acl [--db PATH] [--out FILE.md]\n"
    "                                  a structured pre-submission review along the venue's form\n"
    "  ask --endpoint URL [--remote-model ID] [--api-key-env VAR] --doc FILE \"QUESTION\" [--db PATH]\n"
    "      [--conversation ID] [-n N] [--temp T]\n"
    "                                  the same, answered by an OpenAI-compatible server (exit 3: the\n"
    "                                  server cannot be used; 4: the document does not fit its context)\n"
    "  models --endpoint URL [--api-key-env VAR] [--json]\n"
    "                                  the models of an OpenAI-compatible server, with their context\n"
    "  download SOURCE --to DIR [--sha256 HEX]\n"
    "                                  a GGUF from a URL or Hugging Face (OWNER/REPO:FILE), resumable,\n"
    "                                  its SHA-256 checked before it is put in place\n"
    "  catalog [--json] [--tokens N | --doc FILE]\n"
    "                                  models offered for download; with a length, the method and memory\n"
    "  bench-resume --model MODEL --doc FILE [--db PATH]\n"
    "                                  answer after reopening: restore vs read again, snapshot MB/s\n"
    "\n"
    "Context options (logits, perplexity, generate, ask, bench-resume): --ctx N, --rope-scaling none|linear|ntk|yarn,\n"
    "  --rope-scale F, --rope-base F, --yarn-orig-ctx N, --yarn-ext-factor F, --yarn-attn-factor F,\n"
    "  --yarn-beta-fast F, --yarn-beta-slow F, --dca [--dca-chunk C] [--dca-window W] [--dca-temperature K],\n"
    "  --kv-type f16|q8_0|q4_0, --ubatch N\n"
    "\n"
    "Run 'folio-cli COMMAND --help' for a command's options.\n";

} // namespace

int main(int argc, char* argv[])
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("Folio"));
    QCoreApplication::setOrganizationName(QStringLiteral("Folio"));
    QCoreApplication::setApplicationVersion(QStringLiteral(FOLIO_VERSION));

    const QStringList args = app.arguments();
    const QString command = args.size() > 1 ? args.at(1) : QString();
    if (command == QLatin1String("info"))
        return folio::cli::runInfo(args);
    if (command == QLatin1String("model-info"))
        return folio::cli::runModelInfo(args);
    if (command == QLatin1String("tokenize"))
        return folio::cli::runTokenize(args);
    if (command == QLatin1String("logits"))
        return folio::cli::runLogits(args);
    if (command == QLatin1String("perplexity"))
        return folio::cli::runPerplexity(args);
    if (command == QLatin1String("generate"))
        return folio::cli::runGenerate(args);
    if (command == QLatin1String("plan"))
        return folio::cli::runPlan(args);
    if (command == QLatin1String("ask")) {
        const bool remote = std::any_of(args.begin(), args.end(),
                                        [](const QString& a) { return a.startsWith(QLatin1String("--endpoint")); });
        return remote ? folio::cli::runRemoteAsk(args) : folio::cli::runAsk(args);
    }
    if (command == QLatin1String("conversations"))
        return folio::cli::runConversations(args);
    if (command == QLatin1String("show"))
        return folio::cli::runShow(args);
    if (command == QLatin1String("delete"))
        return folio::cli::runDelete(args);
    if (command == QLatin1String("review"))
        return folio::cli::runReview(args);
    if (command == QLatin1String("models"))
        return args.contains(QLatin1String("--local")) ? folio::cli::runLocalModels(args) : folio::cli::runModels(args);
    if (command == QLatin1String("catalog"))
        return folio::cli::runCatalog(args);
    if (command == QLatin1String("download"))
        return folio::cli::runDownload(args);
    if (command == QLatin1String("bench-resume"))
        return folio::cli::runBenchResume(args);
    if (command == QLatin1String("--version")) {
        QTextStream(stdout) << "folio-cli " << FOLIO_VERSION << Qt::endl;
        return 0;
    }
    if (command == QLatin1String("--help") || command == QLatin1String("-h") || command == QLatin1String("help")) {
        QTextStream(stdout) << kUsage;
        return 0;
    }
    QTextStream err(stderr);
    if (command.isEmpty())
        err << "folio-cli: no command given\n" << kUsage;
    else
        err << "folio-cli: unknown command '" << command << "'\n" << kUsage;
    err.flush();
    return 2;
}
