// folio-cli catalog: the bundled catalog as a table or JSON, with the method and memory
// for a length given in tokens or as a document.
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>

#include <gtest/gtest.h>

namespace {

struct CatalogRun {
    int exitCode = -1;
    QString out, err;
};

CatalogRun runCatalog(const QStringList& args)
{
    QProcess p;
    p.start(QStringLiteral(FOLIO_CLI_PATH), QStringList{QStringLiteral("catalog")} + args);
    if (!p.waitForFinished(60000)) {
        p.kill();
        ADD_FAILURE() << "folio-cli did not finish";
        return {};
    }
    return {p.exitCode(), QString::fromUtf8(p.readAllStandardOutput()), QString::fromUtf8(p.readAllStandardError())};
}

QJsonObject entry(const QJsonArray& models, const QString& id)
{
    for (const QJsonValue& m : models)
        if (m.toObject().value(QLatin1String("id")).toString() == id)
            return m.toObject();
    return {};
}

TEST(CliCatalog, JsonForABookNamesTheMethodAndTheMemoryOfEachModel)
{
    const CatalogRun run = runCatalog({QStringLiteral("--json"), QStringLiteral("--tokens"), QStringLiteral("100000")});
    ASSERT_EQ(run.exitCode, 0) << run.err.toStdString();
    const QJsonArray models = QJsonDocument::fromJson(run.out.toUtf8()).array();
    ASSERT_GE(models.size(), 8);
    const QJsonObject qwen = entry(models, QStringLiteral("qwen2.5-7b-instruct"));
    EXPECT_EQ(qwen.value(QLatin1String("method")).toString(), QStringLiteral("dca"));
    EXPECT_EQ(qwen.value(QLatin1String("kv_bytes")).toDouble(), 2.0 * 28 * 4 * 100000 * 128 * 2);
    EXPECT_EQ(qwen.value(QLatin1String("source")).toString(),
              QStringLiteral("bartowski/Qwen2.5-7B-Instruct-GGUF:Qwen2.5-7B-Instruct-Q4_K_M.gguf"));
    EXPECT_EQ(entry(models, QStringLiteral("qwen2.5-7b-instruct-1m")).value(QLatin1String("method")).toString(),
              QStringLiteral("none"));
}

TEST(CliCatalog, ATableWithADocumentsEstimatedLength)
{
    const CatalogRun run = runCatalog({QStringLiteral("--doc"),
                                       QStringLiteral(FOLIO_SOURCE_DIR "/resources/samples/moby-dick-chapters-1-12.txt")});
    ASSERT_EQ(run.exitCode, 0) << run.err.toStdString();
    EXPECT_TRUE(run.out.contains(QLatin1String("(estimated)"))) << run.out.toStdString();
    EXPECT_TRUE(run.out.contains(QLatin1String("METHOD")));
    EXPECT_TRUE(run.out.contains(QLatin1String("Phi-4 mini instruct")));

    const CatalogRun missing = runCatalog({QStringLiteral("--doc"), QStringLiteral("/nonexistent/book.pdf")});
    EXPECT_EQ(missing.exitCode, 1);
    EXPECT_TRUE(missing.err.startsWith(QLatin1String("error: "))) << missing.err.toStdString();
}

} // namespace
