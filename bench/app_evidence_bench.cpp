// folio-bench evidence: which layers' attention finds the page an answer comes from.
// Builds plain-text documents from a filler text with one planted fact on a random
// page (the demo model's fact tasks), reads each once through ReadingSession (the
// app's prompt, planner and snapshots), asks the fact's question once per layer set
// (the default set, all layers, each layer alone, the upper half), and counts how often the
// planted page is the first evidence page, among the first three, and the mean share
// of the attention it gets, against the share of a uniform spread (1 / pages).
// Built only with app/ (Qt Core): see bench/CMakeLists.txt.
#include "app/reading/evidence_collector.h"
#include "app/reading/reading_session.h"
#include "app/store/database.h"
#include "tests/engine/passkey_task.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QFile>
#include <QTemporaryDir>
#include <QTextStream>

#include <algorithm>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

namespace folio::bench {

namespace {

struct LayerSet {
    QString name;
    std::vector<int> layers;  // as ReadingOptions::evidenceLayers: empty is the default set
};

struct Tally {
    int asked = 0, correct = 0, top1 = 0, top3 = 0;
    double share = 0, uniform = 0;
};

std::vector<std::string> paragraphsOf(const std::string& text)
{
    std::vector<std::string> out;
    std::size_t at = 0;
    while (at < text.size()) {
        std::size_t end = text.find("\n\n", at);
        if (end == std::string::npos)
            end = text.size();
        std::string p = text.substr(at, end - at);
        while (!p.empty() && (p.front() == '\n' || p.front() == ' '))
            p.erase(p.begin());
        if (p.size() > 40)  // skip headings and blank runs
            out.push_back(p);
        at = end + 2;
    }
    return out;
}

int run(const QStringList& arguments)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Evidence pages per layer set on documents with a planted fact."));
    parser.addHelpOption();
    parser.addPositionalArgument(QStringLiteral("evidence"), QStringLiteral("The command."));
    parser.addOption({QStringLiteral("model"), QStringLiteral("A GGUF model (the demo model knows the fact tasks)."),
                      QStringLiteral("MODEL")});
    parser.addOption({QStringLiteral("filler"), QStringLiteral("Plain text the documents are cut from."),
                      QStringLiteral("FILE"), QStringLiteral("resources/samples/moby-dick-chapters-1-12.txt")});
    parser.addOption({QStringLiteral("docs"), QStringLiteral("Documents (default 24: 4 per fact kind)."),
                      QStringLiteral("N"), QStringLiteral("24")});
    parser.addOption({QStringLiteral("chars"), QStringLiteral("Characters per document (default 8000)."),
                      QStringLiteral("N"), QStringLiteral("8000")});
    parser.addOption({QStringLiteral("page-chars"), QStringLiteral("Characters per section (default 1000)."),
                      QStringLiteral("N"), QStringLiteral("1000")});
    parser.addOption({QStringLiteral("layer-sets"),
                      QStringLiteral("Layer sets to compare, e.g. default;all;0;1;1,3 (default: default, all, each layer, the upper half)."),
                      QStringLiteral("LIST")});
    parser.addOption({QStringLiteral("seed"), QStringLiteral("Random seed."), QStringLiteral("S"), QStringLiteral("7")});
    parser.addOption({QStringLiteral("threads"), QStringLiteral("Threads (default: all)."), QStringLiteral("N"),
                      QStringLiteral("0")});
    if (!parser.parse(arguments)) {
        QTextStream(stderr) << "evidence: " << parser.errorText() << Qt::endl;
        return 2;
    }
    if (parser.isSet(QStringLiteral("help"))) {
        QTextStream(stdout) << parser.helpText();
        return 0;
    }
    const QString modelPath = parser.value(QStringLiteral("model"));
    if (modelPath.isEmpty()) {
        QTextStream(stderr) << "evidence: --model is required" << Qt::endl;
        return 2;
    }
    QFile fillerFile(parser.value(QStringLiteral("filler")));
    if (!fillerFile.open(QIODevice::ReadOnly)) {
        QTextStream(stderr) << "evidence: cannot read the filler " << fillerFile.fileName() << Qt::endl;
        return 1;
    }
    const std::vector<std::string> paragraphs = paragraphsOf(fillerFile.readAll().toStdString());
    const int docs = std::max(1, parser.value(QStringLiteral("docs")).toInt());
    const std::size_t chars = std::max(2000, parser.value(QStringLiteral("chars")).toInt());
    std::mt19937 rng(parser.value(QStringLiteral("seed")).toUInt());

    QTemporaryDir dir;
    auto db = std::make_shared<Database>(dir.filePath(QStringLiteral("evidence.sqlite")));
    ReadingOptions base;
    base.threads = parser.value(QStringLiteral("threads")).toInt();
    base.maxAnswerTokens = 24;
    base.evidencePages = 1000;  // every page, ranked
    base.documents.textPageChars = std::max(200, parser.value(QStringLiteral("page-chars")).toInt());

    std::vector<LayerSet> sets;
    std::vector<Tally> tallies;
    const std::vector<std::string>& kinds = test::PasskeyTask::kinds();
    int totalPages = 0, totalTokens = 0;
    for (int d = 0; d < docs; ++d) {
        // A run of whole paragraphs, the fact as the first sentence of a random one.
        const std::size_t first = std::uniform_int_distribution<std::size_t>(0, paragraphs.size() / 2)(rng);
        std::vector<std::string> chosen;
        std::size_t size = 0;
        for (std::size_t i = first; i < paragraphs.size() && size < chars; ++i) {
            chosen.push_back(paragraphs[i]);
            size += paragraphs[i].size() + 2;
        }
        const test::PlantedFact fact = test::makePlantedFact(kinds[d % kinds.size()], rng);
        const std::size_t at = std::uniform_int_distribution<std::size_t>(0, chosen.size() - 1)(rng);
        chosen[at] = fact.needle + " " + chosen[at];
        std::string text;
        for (const std::string& p : chosen)
            text += p + "\n\n";
        const QString path = dir.filePath(QStringLiteral("document-%1.txt").arg(d));
        QFile out(path);
        if (!out.open(QIODevice::WriteOnly) || out.write(text.data(), qint64(text.size())) != qint64(text.size()))
            throw std::runtime_error("cannot write " + path.toStdString());
        out.close();

        ReadingSession reading(db, base);
        reading.loadModel(modelPath);
        const DocumentStatus status = reading.openDocument(path);
        if (sets.empty() && parser.isSet(QStringLiteral("layer-sets"))) {
            for (const QString& item : parser.value(QStringLiteral("layer-sets")).split(QLatin1Char(';'))) {
                LayerSet set{item.trimmed(), {}};
                if (set.name == QLatin1String("all"))
                    set.layers = {kEveryLayer};
                else if (set.name != QLatin1String("default"))
                    for (const QString& layer : set.name.split(QLatin1Char(',')))
                        set.layers.push_back(layer.toInt());
                sets.push_back(set);
            }
            tallies.resize(sets.size());
        }
        if (sets.empty()) {
            sets.push_back({QStringLiteral("default"), {}});
            sets.push_back({QStringLiteral("all"), {kEveryLayer}});
            const int layers = reading.model()->params().blockCount;
            for (int l = 0; l < layers; ++l)
                sets.push_back({QStringLiteral("%1").arg(l), {l}});
            std::vector<int> upper;
            for (int l = layers / 2; l < layers; ++l)
                upper.push_back(l);
            if (layers >= 2)
                sets.push_back({QStringLiteral("%1-%2").arg(layers / 2).arg(layers - 1), upper});
            tallies.resize(sets.size());
        }
        const qsizetype needleAt = reading.document()->text.indexOf(QString::fromStdString(fact.needle));
        if (needleAt < 0)
            throw std::runtime_error("the planted fact is not in the loaded text");
        const int factPage = reading.document()->pages.pageAt(needleAt);
        const int pages = status.pages;
        totalPages += pages;
        totalTokens += status.promptTokens;
        for (std::size_t s = 0; s < sets.size(); ++s) {
            ReadingOptions options = base;
            options.evidenceLayers = sets[s].layers;
            reading.setOptions(options);
            const AnswerResult answer = reading.ask(QString::fromStdString(fact.question));
            Tally& t = tallies[s];
            ++t.asked;
            t.correct += answer.answer.trimmed().startsWith(QString::fromStdString(fact.answer)) ? 1 : 0;
            t.uniform += 1.0 / pages;
            for (int r = 0; r < answer.evidence.size(); ++r)
                if (answer.evidence[r].page == factPage) {
                    t.top1 += r == 0 ? 1 : 0;
                    t.top3 += r < 3 ? 1 : 0;
                    t.share += answer.evidence[r].weight;
                }
        }
        std::fprintf(stderr, "document %d/%d: %d tokens, %d sections, fact in section %d\n", d + 1, docs,
                     status.promptTokens, pages, factPage + 1);
    }
    std::printf("%d documents, %.0f tokens and %.1f sections on average; the answer was right in %d of %d\n", docs,
                double(totalTokens) / docs, double(totalPages) / docs, tallies.front().correct, docs);
    std::printf("%-8s %8s %8s %12s %12s\n", "layers", "top-1", "top-3", "mean share", "uniform");
    for (std::size_t s = 0; s < sets.size(); ++s) {
        const Tally& t = tallies[s];
        std::printf("%-8s %7.0f%% %7.0f%% %11.1f%% %11.1f%%\n", sets[s].name.toUtf8().constData(), 100.0 * t.top1 / t.asked,
                    100.0 * t.top3 / t.asked, 100.0 * t.share / t.asked, 100.0 * t.uniform / t.asked);
    }
    return 0;
}

} // namespace

int runEvidenceBenchMain(int argc, char** argv)
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("Folio"));
    QCoreApplication::setOrganizationName(QStringLiteral("Folio"));
    try {
        return run(app.arguments());
    } catch (const std::exception& e) {
        std::fprintf(stderr, "folio-bench evidence: %s\n", e.what());
    }
    return 1;
}

} // namespace folio::bench
