#include "app/cli/model_commands.h"

#include "app/cli/context_cli.h"

#include "engine/session/chat_template.h"
#include "engine/session/context_planner.h"
#include "engine/gguf/gguf.h"
#include "engine/model/model.h"
#include "engine/session/sampler.h"
#include "engine/session/session.h"
#include "engine/tokenizer/tokenizer.h"

#include <QCommandLineParser>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTextStream>

#include <cmath>
#include <cstdio>
#include <map>

namespace folio::cli {

namespace {

// Thrown for wrong usage (exit 2); engine errors are std::exceptions (exit 1).
struct UsageError {
    QString message;
};

struct Options {
    QCommandLineParser parser;
    QString command;

    Options(const QString& name, const QString& description) : command(name)
    {
        parser.setApplicationDescription(description);
        parser.addHelpOption();
        parser.addPositionalArgument(name, QStringLiteral("The command."));
    }
    void add(const QString& name, const QString& help, const QString& valueName = {}, const QString& defaultValue = {})
    {
        parser.addOption(QCommandLineOption(name.split(QChar(u',')), help, valueName, defaultValue));
    }
    // Parses; returns false when help was printed.
    bool parse(const QStringList& arguments)
    {
        if (!parser.parse(arguments))
            throw UsageError{parser.errorText()};
        if (parser.isSet(QStringLiteral("help"))) {
            QTextStream(stdout) << parser.helpText();
            return false;
        }
        return true;
    }
    QString required(const QString& name) const
    {
        const QString value = parser.value(name);
        if (value.isEmpty())
            throw UsageError{QStringLiteral("--%1 is required").arg(name)};
        return value;
    }
    int integer(const QString& name, int minimum) const
    {
        bool ok = false;
        const int value = parser.value(name).toInt(&ok);
        if (!ok || value < minimum)
            throw UsageError{QStringLiteral("--%1 needs a whole number of at least %2").arg(name).arg(minimum)};
        return value;
    }
    double number(const QString& name) const
    {
        bool ok = false;
        const double value = parser.value(name).toDouble(&ok);
        if (!ok)
            throw UsageError{QStringLiteral("--%1 needs a number").arg(name)};
        return value;
    }
};

// Runs a command body, turning errors into one line on stderr and an exit code.
template <typename Body>
int guarded(const QString& command, Body body)
{
    try {
        return body();
    } catch (const UsageError& e) {
        QTextStream(stderr) << "folio-cli " << command << ": " << e.message << Qt::endl;
        return 2;
    } catch (const std::invalid_argument& e) {  // a bad option value, named by the engine
        QTextStream(stderr) << "folio-cli " << command << ": " << QString::fromUtf8(e.what()) << Qt::endl;
        return 2;
    } catch (const std::exception& e) {
        QTextStream(stderr) << "error: " << QString::fromUtf8(e.what()) << Qt::endl;
        return 1;
    }
}

std::string readTextFile(const QString& path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        throw std::runtime_error(path.toStdString() + ": cannot be read (" + file.errorString().toStdString() + ")");
    return file.readAll().toStdString();
}

std::shared_ptr<const Model> loadModel(const QString& path) { return Model::load(path.toStdString()); }

std::vector<int32_t> tokenizeDocument(const Tokenizer& tokenizer, const std::string& text)
{
    return tokenizer.encode(text, tokenizer.addBosByDefault(), false);
}

int64_t parameterCount(const GgufFile& file)
{
    int64_t total = 0;
    for (const GgufTensor& t : file.tensors())
        total += t.elements();
    return total;
}

} // namespace

int runModelInfo(const QStringList& arguments)
{
    return guarded(QStringLiteral("model-info"), [&] {
        Options o(QStringLiteral("model-info"), QStringLiteral("Describe a GGUF model."));
        o.parser.addPositionalArgument(QStringLiteral("MODEL"), QStringLiteral("A GGUF file."));
        o.add(QStringLiteral("json"), QStringLiteral("Print JSON."));
        if (!o.parse(arguments))
            return 0;
        const QStringList positional = o.parser.positionalArguments();
        if (positional.size() != 2)
            throw UsageError{QStringLiteral("expected exactly one MODEL")};
        const auto model = loadModel(positional.at(1));
        const ModelHyperParams& p = model->params();
        const Tokenizer& tok = model->tokenizer();
        const GgufFile& file = model->file();
        const ChatTemplate chat = ChatTemplate::detect(file.getString("tokenizer.chat_template").value_or(""),
                                                       p.architecture,
                                                       [&](std::string_view piece) { return tok.findToken(piece).has_value(); });
        std::map<std::string, int> typeMix;
        for (const GgufTensor& t : file.tensors())
            ++typeMix[std::string(traitsOf(t.type).name)];

        QJsonObject types;
        for (const auto& [name, count] : typeMix)
            types[QString::fromStdString(name)] = count;
        QJsonObject rope{{QStringLiteral("freqBase"), p.ropeFreqBase},
                         {QStringLiteral("dimensions"), p.ropeDims},
                         {QStringLiteral("layout"), p.ropeNeox ? QStringLiteral("neox") : QStringLiteral("normal")},
                         {QStringLiteral("frequencyFactors"), !model->ropeFreqFactors().empty()}};
        const std::string arch = p.architecture;
        if (auto scaling = file.getString(arch + ".rope.scaling.type"))
            rope[QStringLiteral("scalingType")] = QString::fromStdString(*scaling);
        if (auto factor = file.getFloat(arch + ".rope.scaling.factor"))
            rope[QStringLiteral("scalingFactor")] = *factor;
        QJsonObject info{
            {QStringLiteral("path"), QString::fromStdString(model->path())},
            {QStringLiteral("name"), QString::fromStdString(file.getString("general.name").value_or(""))},
            {QStringLiteral("architecture"), QString::fromStdString(arch)},
            {QStringLiteral("family"), QString::fromStdString(model->family().displayName)},
            {QStringLiteral("parameters"), double(parameterCount(file))},
            {QStringLiteral("activeParameters"), double(model->activeParameters())},
            {QStringLiteral("layerPattern"), QString::fromStdString(model->layerPattern())},
            {QStringLiteral("fileBytes"), double(file.fileSize())},
            {QStringLiteral("tensorTypes"), types},
            {QStringLiteral("contextLength"), p.contextLength},
            {QStringLiteral("embeddingLength"), p.embeddingLength},
            {QStringLiteral("layers"), p.blockCount},
            {QStringLiteral("heads"), p.headCount},
            {QStringLiteral("kvHeads"), p.headCountKv},
            {QStringLiteral("feedForwardLength"), p.feedForwardLength},
            {QStringLiteral("tiedOutput"), model->tiedOutput()},
            {QStringLiteral("rope"), rope},
            {QStringLiteral("vocabulary"),
             QJsonObject{{QStringLiteral("type"), tok.kind() == TokenizerKind::SentencePiece ? QStringLiteral("spm")
                                                                                             : QStringLiteral("bpe")},
                         {QStringLiteral("preTokenizer"), QString::fromStdString(tok.preTokenizer())},
                         {QStringLiteral("size"), tok.vocabSize()}}},
            {QStringLiteral("chatTemplate"), QString::fromStdString(chat.name())},
            {QStringLiteral("chatTemplateDescription"), QString::fromStdString(chat.description())},
        };
        QTextStream out(stdout);
        if (o.parser.isSet(QStringLiteral("json"))) {
            out << QJsonDocument(info).toJson(QJsonDocument::Indented);
            return 0;
        }
        out << QString::fromStdString(model->describe()) << '\n';
        QStringList mix;
        for (const auto& [name, count] : typeMix)
            mix << QStringLiteral("%1 × %2").arg(count).arg(QString::fromStdString(name));
        out << "Parameters:     " << parameterCount(file) << '\n'
            << "Tensor types:   " << mix.join(QStringLiteral(", ")) << '\n'
            << "Trained context: " << p.contextLength << " tokens\n"
            << "RoPE:           base " << p.ropeFreqBase << ", " << p.ropeDims << " dims, "
            << (p.ropeNeox ? "neox" : "normal") << " layout"
            << (model->ropeFreqFactors().empty() ? "" : ", frequency factors") << '\n'
            << "Vocabulary:     " << (tok.kind() == TokenizerKind::SentencePiece ? "SentencePiece" : "byte-level BPE")
            << " (" << QString::fromStdString(tok.preTokenizer()) << "), " << tok.vocabSize() << " tokens\n"
            << "Chat template:  " << QString::fromStdString(chat.description()) << '\n';
        return 0;
    });
}

int runTokenize(const QStringList& arguments)
{
    return guarded(QStringLiteral("tokenize"), [&] {
        Options o(QStringLiteral("tokenize"), QStringLiteral("Print the token ids of a text, space-separated."));
        o.add(QStringLiteral("model"), QStringLiteral("A GGUF file (a vocabulary-only file is enough)."), QStringLiteral("MODEL"));
        o.add(QStringLiteral("file"), QStringLiteral("The text to tokenize."), QStringLiteral("TEXT"));
        o.add(QStringLiteral("add-bos"), QStringLiteral("Put the beginning-of-sequence token first."));
        if (!o.parse(arguments))
            return 0;
        // The tokenizer alone: no weights needed.
        const GgufFile file = GgufFile::open(o.required(QStringLiteral("model")).toStdString());
        const Tokenizer tokenizer = Tokenizer::fromGguf(file);
        const std::string text = readTextFile(o.required(QStringLiteral("file")));
        const std::vector<int32_t> ids = tokenizer.encode(text, o.parser.isSet(QStringLiteral("add-bos")), false);
        std::string line;
        for (std::size_t i = 0; i < ids.size(); ++i) {
            if (i)
                line += ' ';
            line += std::to_string(ids[i]);
        }
        line += '\n';
        std::fwrite(line.data(), 1, line.size(), stdout);
        return 0;
    });
}

int runLogits(const QStringList& arguments)
{
    return guarded(QStringLiteral("logits"), [&] {
        Options o(QStringLiteral("logits"), QStringLiteral("Run one forward pass over a text and write its logits."));
        o.add(QStringLiteral("model"), QStringLiteral("A GGUF model."), QStringLiteral("MODEL"));
        o.add(QStringLiteral("file"), QStringLiteral("The text."), QStringLiteral("TEXT"));
        o.add(QStringLiteral("out"), QStringLiteral("Where to write the logits."), QStringLiteral("OUT.bin"));
        o.add(QStringLiteral("last"), QStringLiteral("Only the last N positions (default: all)."), QStringLiteral("N"), QStringLiteral("0"));
        o.add(QStringLiteral("threads"), QStringLiteral("Threads (default: all cores)."), QStringLiteral("N"), QStringLiteral("0"));
        addContextOptions(o.parser);
        if (!o.parse(arguments))
            return 0;
        const QString outPath = o.required(QStringLiteral("out"));
        const int last = o.integer(QStringLiteral("last"), 0);
        const auto model = loadModel(o.required(QStringLiteral("model")));
        const std::vector<int32_t> tokens = tokenizeDocument(model->tokenizer(), readTextFile(o.required(QStringLiteral("file"))));
        if (tokens.empty())
            throw std::runtime_error("the text gives no tokens");
        SessionOptions options;
        options.contextLength = static_cast<int>(tokens.size());
        options.threads = o.integer(QStringLiteral("threads"), 0);
        applyContextOptions(o.parser, options);
        if (!o.parser.isSet(QStringLiteral("ubatch")))
            options.batchSize = defaultBatchSize(*model);  // larger for a mixture of experts
        Session session(model, options);
        const std::vector<float> logits = session.prefillWithLogits(tokens, last);
        const int32_t header[3] = {static_cast<int32_t>(tokens.size()), model->params().vocabSize,
                                   static_cast<int32_t>(logits.size() / model->params().vocabSize)};
        QFile out(outPath);
        if (!out.open(QIODevice::WriteOnly | QIODevice::Truncate))
            throw std::runtime_error(outPath.toStdString() + ": cannot be written (" + out.errorString().toStdString() + ")");
        static_assert(std::endian::native == std::endian::little, "the logits file is little-endian");
        const bool ok = out.write(reinterpret_cast<const char*>(header), sizeof header) == sizeof header
                        && out.write(reinterpret_cast<const char*>(tokens.data()), qint64(tokens.size() * 4)) == qint64(tokens.size() * 4)
                        && out.write(reinterpret_cast<const char*>(logits.data()), qint64(logits.size() * 4)) == qint64(logits.size() * 4);
        if (!ok || !out.flush())
            throw std::runtime_error(outPath.toStdString() + ": write failed (" + out.errorString().toStdString() + ")");
        return 0;
    });
}

int runPerplexity(const QStringList& arguments)
{
    return guarded(QStringLiteral("perplexity"), [&] {
        Options o(QStringLiteral("perplexity"),
                  QStringLiteral("Perplexity of a model on a text, over windows of N tokens. Each window after the first "
                                 "starts S tokens after the previous one and scores only its last S tokens."));
        o.add(QStringLiteral("model"), QStringLiteral("A GGUF model."), QStringLiteral("MODEL"));
        o.add(QStringLiteral("file"), QStringLiteral("The text."), QStringLiteral("TEXT"));
        o.add(QStringLiteral("ctx"), QStringLiteral("Window length in tokens."), QStringLiteral("N"));
        o.add(QStringLiteral("stride"), QStringLiteral("Step between windows (default: N, no overlap)."), QStringLiteral("S"), QStringLiteral("0"));
        o.add(QStringLiteral("threads"), QStringLiteral("Threads (default: all cores)."), QStringLiteral("N"), QStringLiteral("0"));
        addContextOptions(o.parser, false);
        if (!o.parse(arguments))
            return 0;
        const int ctx = o.integer(QStringLiteral("ctx"), 2);
        int stride = o.integer(QStringLiteral("stride"), 0);
        if (stride == 0 || stride > ctx)
            stride = ctx;
        const auto model = loadModel(o.required(QStringLiteral("model")));
        const Tokenizer& tok = model->tokenizer();
        const std::vector<int32_t> tokens = tok.encode(readTextFile(o.required(QStringLiteral("file"))), false, false);
        const bool bos = tok.addBosByDefault() && tok.bos() >= 0;
        const int window = bos ? ctx - 1 : ctx;   // text tokens per window
        if (static_cast<int>(tokens.size()) < window + 1)
            throw std::runtime_error("the text has " + std::to_string(tokens.size()) + " tokens, fewer than one window of "
                                     + std::to_string(ctx));
        SessionOptions options;
        options.contextLength = ctx;
        options.threads = o.integer(QStringLiteral("threads"), 0);
        applyContextOptions(o.parser, options, false);
        if (!o.parser.isSet(QStringLiteral("ubatch")))
            options.batchSize = defaultBatchSize(*model);  // larger for a mixture of experts
        Session session(model, options);
        QTextStream(stderr) << "context: " << ctx << " tokens, " << QString::fromStdString(session.extensionDescription())
                            << ", KV " << QString::fromLatin1(kvTypeName(options.kvType).data()) << Qt::endl;
        const int vocab = model->params().vocabSize;
        double nll = 0;
        int64_t scored = 0;
        int windows = 0;
        for (int64_t start = 0; start + window <= static_cast<int64_t>(tokens.size()); start += stride) {
            std::vector<int32_t> input;
            if (bos)
                input.push_back(tok.bos());
            input.insert(input.end(), tokens.begin() + start, tokens.begin() + start + window);
            session.truncate(0);
            const std::vector<float> logits = session.prefillWithLogits(input, 0);
            // Row r predicts input[r + 1]; the first window scores all, later ones their new part.
            const int firstTarget = windows == 0 ? 1 : static_cast<int>(input.size()) - stride;
            for (int target = std::max(1, firstTarget); target < static_cast<int>(input.size()); ++target) {
                const float* row = logits.data() + static_cast<std::size_t>(target - 1) * vocab;
                float maxLogit = row[0];
                for (int v = 1; v < vocab; ++v)
                    maxLogit = std::max(maxLogit, row[v]);
                double sum = 0;
                for (int v = 0; v < vocab; ++v)
                    sum += std::exp(double(row[v]) - maxLogit);
                nll += std::log(sum) + maxLogit - row[input[target]];
                ++scored;
            }
            ++windows;
        }
        QTextStream(stdout) << "perplexity: " << QString::number(std::exp(nll / scored), 'f', 4) << '\n'
                            << "windows: " << windows << '\n'
                            << "tokens scored: " << scored << '\n'
                            << "text tokens: " << tokens.size() << Qt::endl;
        return 0;
    });
}

int runGenerate(const QStringList& arguments)
{
    return guarded(QStringLiteral("generate"), [&] {
        Options o(QStringLiteral("generate"), QStringLiteral("Continue a prompt (or answer it, with --chat), streaming to stdout."));
        o.add(QStringLiteral("model"), QStringLiteral("A GGUF model."), QStringLiteral("MODEL"));
        o.add(QStringLiteral("prompt"), QStringLiteral("The prompt text."), QStringLiteral("TEXT"));
        o.add(QStringLiteral("chat"), QStringLiteral("Wrap the prompt as a user message in the model's chat template."));
        o.add(QStringLiteral("n"), QStringLiteral("Most tokens to generate (default 128)."), QStringLiteral("N"), QStringLiteral("128"));
        o.add(QStringLiteral("temp"), QStringLiteral("Temperature; 0 is greedy (default 0.7)."), QStringLiteral("T"), QStringLiteral("0.7"));
        o.add(QStringLiteral("seed"), QStringLiteral("Random seed (default 0)."), QStringLiteral("S"), QStringLiteral("0"));
        o.add(QStringLiteral("threads"), QStringLiteral("Threads (default: all cores)."), QStringLiteral("N"), QStringLiteral("0"));
        addContextOptions(o.parser);
        if (!o.parse(arguments))
            return 0;
        const QString prompt = o.required(QStringLiteral("prompt"));
        const int maxTokens = o.integer(QStringLiteral("n"), 0);
        SamplerParams params;
        params.temperature = static_cast<float>(o.number(QStringLiteral("temp")));
        params.seed = static_cast<uint64_t>(o.integer(QStringLiteral("seed"), 0));
        const auto model = loadModel(o.required(QStringLiteral("model")));
        const Tokenizer& tok = model->tokenizer();

        std::vector<std::string> stops;
        std::vector<int32_t> tokens;
        if (o.parser.isSet(QStringLiteral("chat"))) {
            const ChatTemplate chat = ChatTemplate::detect(
                model->file().getString("tokenizer.chat_template").value_or(""), model->params().architecture,
                [&](std::string_view piece) { return tok.findToken(piece).has_value(); });
            QTextStream(stderr) << "chat template: " << QString::fromStdString(chat.description()) << Qt::endl;
            tokens = tok.encode(chat.format({{"user", prompt.toStdString()}}, true), tok.addBosByDefault(), true);
            stops = chat.stopStrings();
        } else {
            tokens = tok.encode(prompt.toStdString(), tok.addBosByDefault(), false);
        }
        SessionOptions options;
        options.contextLength = static_cast<int>(tokens.size()) + std::max(1, maxTokens);
        options.threads = o.integer(QStringLiteral("threads"), 0);
        applyContextOptions(o.parser, options);
        if (options.contextLength > model->params().contextLength && !extensionRequested(o.parser))
            QTextStream(stderr) << "warning: " << options.contextLength << " tokens exceed the "
                                << model->params().contextLength
                                << " the model was trained on; add --dca (or a RoPE scaling) to read them reliably"
                                << Qt::endl;
        if (!o.parser.isSet(QStringLiteral("ubatch")))
            options.batchSize = defaultBatchSize(*model);  // larger for a mixture of experts
        Session session(model, options);
        session.prefill(tokens);
        Sampler sampler(params);
        TokenStreamDecoder decoder(tok);
        StopStringMatcher matcher(stops);
        auto show = [](const std::string& text) {
            std::fwrite(text.data(), 1, text.size(), stdout);
            std::fflush(stdout);
        };
        session.generate(sampler, maxTokens, [&](int32_t token) {
            const StopStringMatcher::Result r = matcher.push(decoder.push(token));
            show(r.text);
            return !r.stopped;
        });
        if (!matcher.stopped())
            show(matcher.push(decoder.flush()).text + matcher.flush());
        show("\n");
        return 0;
    });
}

int runPlan(const QStringList& arguments)
{
    return guarded(QStringLiteral("plan"), [&] {
        Options o(QStringLiteral("plan"),
                  QStringLiteral("How the model would hold N tokens: extension method, KV cache type and memory."));
        o.add(QStringLiteral("model"), QStringLiteral("A GGUF model."), QStringLiteral("MODEL"));
        o.add(QStringLiteral("tokens"), QStringLiteral("Tokens the context must hold."), QStringLiteral("N"));
        o.add(QStringLiteral("method"), QStringLiteral("auto (default), none, pi, ntk, yarn or dca."), QStringLiteral("M"),
              QStringLiteral("auto"));
        o.add(QStringLiteral("kv-type"), QStringLiteral("Force a KV cache type (f16, q8_0, q4_0)."), QStringLiteral("TYPE"));
        o.add(QStringLiteral("available-mib"),
              QStringLiteral("Plan against this much memory instead of the machine's available memory."),
              QStringLiteral("MiB"), QStringLiteral("0"));
        o.add(QStringLiteral("json"), QStringLiteral("Machine-readable output."));
        if (!o.parse(arguments))
            return 0;
        PlanRequest request;
        request.tokens = o.integer(QStringLiteral("tokens"), 1);
        request.method = parseExtensionMethod(o.parser.value(QStringLiteral("method")).toStdString());
        if (o.parser.isSet(QStringLiteral("kv-type")))
            request.kvType = parseKvType(o.parser.value(QStringLiteral("kv-type")).toStdString());
        request.availableBytes = static_cast<std::size_t>(o.integer(QStringLiteral("available-mib"), 0)) << 20;
        const auto model = loadModel(o.required(QStringLiteral("model")));
        const ContextPlan plan = planContext(*model, request);
        QTextStream out(stdout);
        if (o.parser.isSet(QStringLiteral("json"))) {
            QJsonArray suggestions;
            for (const std::string& s : plan.suggestions)
                suggestions.append(QString::fromStdString(s));
            const QJsonObject json{
                {QStringLiteral("tokens"), plan.options.contextLength},
                {QStringLiteral("trainedContext"), model->params().contextLength},
                {QStringLiteral("method"), QString::fromLatin1(extensionMethodName(plan.method).data())},
                {QStringLiteral("extension"), QString::fromStdString(plan.extension)},
                {QStringLiteral("kvType"), QString::fromLatin1(kvTypeName(plan.options.kvType).data())},
                {QStringLiteral("weightBytes"), double(plan.memory.weightBytes)},
                {QStringLiteral("kvBytes"), double(plan.memory.kvBytes)},
                {QStringLiteral("scratchBytes"), double(plan.memory.scratchBytes)},
                {QStringLiteral("totalBytes"), double(plan.memory.total())},
                {QStringLiteral("availableBytes"), double(plan.availableBytes)},
                {QStringLiteral("fits"), plan.fits},
                {QStringLiteral("suggestions"), suggestions},
            };
            out << QJsonDocument(json).toJson(QJsonDocument::Indented);
        } else {
            out << "model:      " << QString::fromStdString(model->path()) << " (trained on "
                << model->params().contextLength << " tokens)\n"
                << QString::fromStdString(plan.report());
        }
        return plan.fits ? 0 : 1;
    });
}

} // namespace folio::cli
