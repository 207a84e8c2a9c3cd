// folio-bench scan-models: how long "Models on this computer" takes. Times the scan
// of a folder (--dir), or of N models it writes first with real-size vocabularies
// (32,000 tokens, the part of a header that costs), so the figure is the header
// reading, not the weights. The page cache is warm either way (written just before,
// or scanned once before the timed runs); a cold disk adds its seek time per file.
// Built only with app/ (Qt Core): see bench/CMakeLists.txt.
#include "app/models/model_discovery.h"
#include "tests/engine/test_models.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QTemporaryDir>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

namespace folio::bench {

namespace {

double scanMilliseconds(const QList<ModelPlace>& places, qsizetype* models)
{
    const auto start = std::chrono::steady_clock::now();
    *models = scanModels(places).models.size();
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

int run(const QStringList& arguments)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Time the scan for models on this computer."));
    parser.addHelpOption();
    parser.addPositionalArgument(QStringLiteral("scan-models"), QStringLiteral("The command."));
    parser.addOption({QStringLiteral("dir"), QStringLiteral("Scan this folder (default: N models written to a temp folder)."),
                      QStringLiteral("DIR")});
    parser.addOption({QStringLiteral("models"), QStringLiteral("Models to write (default 100)."), QStringLiteral("N"),
                      QStringLiteral("100")});
    parser.addOption({QStringLiteral("runs"), QStringLiteral("Timed scans (default 5)."), QStringLiteral("N"),
                      QStringLiteral("5")});
    parser.process(arguments);

    QTemporaryDir scratch;
    QString folder = parser.value(QStringLiteral("dir"));
    if (folder.isEmpty()) {
        const int count = parser.value(QStringLiteral("models")).toInt();
        test::TinyModelSpec spec;
        spec.vocab = 32000;
        spec.type = GgmlType::Q4_0;
        for (int i = 0; i < count; ++i) {
            spec.seed = static_cast<uint64_t>(i + 1);
            test::writeTinyModel(spec, scratch.filePath(QStringLiteral("model-%1.gguf").arg(i)).toStdString());
        }
        folder = scratch.path();
        std::printf("wrote %d llama models with 32000-token vocabularies to a temp folder\n", count);
    }
    const QList<ModelPlace> places{userModelFolder(folder)};
    qsizetype models = 0;
    const double first = scanMilliseconds(places, &models);
    std::vector<double> times;
    for (int i = 0; i < std::max(1, parser.value(QStringLiteral("runs")).toInt()); ++i)
        times.push_back(scanMilliseconds(places, &models));
    std::sort(times.begin(), times.end());
    const double median = times[times.size() / 2];
    std::printf("%lld models: first scan %.1f ms, median of %zu %.1f ms (%.2f ms per model)\n",
                static_cast<long long>(models), first, times.size(), median, models ? median / double(models) : 0.0);
    return 0;
}

} // namespace

int runScanModelsBenchMain(int argc, char** argv)
{
    QCoreApplication app(argc, argv);
    try {
        return run(app.arguments());
    } catch (const std::exception& e) {
        std::fprintf(stderr, "folio-bench scan-models: %s\n", e.what());
    }
    return 1;
}

} // namespace folio::bench
