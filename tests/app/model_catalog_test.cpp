// The bundled model catalog: every entry complete and downloadable as written, and its
// memory/method figure the planner's own for the same shape.
#include "app/models/download_source.h"
#include "app/models/model_catalog.h"
#include "engine/model/model.h"
#include "../engine/test_models.h"

#include <QFile>
#include <QFileInfo>
#include <QTemporaryDir>

#include <gtest/gtest.h>

#include <filesystem>

namespace folio {
namespace {

const CatalogEntry* find(const Catalog& catalog, const QString& id)
{
    for (const CatalogEntry& e : catalog.models)
        if (e.id == id)
            return &e;
    return nullptr;
}

TEST(ModelCatalog, EveryBundledEntryIsCompleteAndADownloadSource)
{
    const Catalog catalog = loadCatalog();
    ASSERT_TRUE(catalog.error.isEmpty()) << catalog.error.toStdString();
    ASSERT_GE(catalog.models.size(), 8);
    for (const CatalogEntry& e : catalog.models) {
        SCOPED_TRACE(e.id.toStdString());
        QString error;
        const auto source = parseDownloadSource(e.huggingFace, &error);
        ASSERT_TRUE(source) << error.toStdString();
        EXPECT_TRUE(source->huggingFace);
        EXPECT_TRUE(source->fileName.endsWith(QLatin1String(".gguf")));
        EXPECT_GT(e.sizeBytes, qint64{1} << 30);  // every one is a few GB at Q4_K_M
        EXPECT_GE(e.trainedContext, 32768);
        EXPECT_FALSE(e.licence.isEmpty());
    }
    ASSERT_NE(find(catalog, QStringLiteral("qwen2.5-7b-instruct-1m")), nullptr);
    EXPECT_TRUE(find(catalog, QStringLiteral("qwen3-8b"))->runs);
    EXPECT_TRUE(find(catalog, QStringLiteral("gemma-3-4b-it"))->runs);  // from the engine's own list
    EXPECT_TRUE(find(catalog, QStringLiteral("qwen3-30b-a3b"))->runs);
}

TEST(ModelCatalog, ABookPastTheTrainedContextIsReadWithDcaAndItsCacheCounted)
{
    const Catalog catalog = loadCatalog();
    const CatalogEntry& qwen = *find(catalog, QStringLiteral("qwen2.5-7b-instruct"));
    const CatalogPlan book = planForCatalogEntry(qwen, 100000);
    EXPECT_EQ(book.method, ExtensionMethod::Dca);
    EXPECT_EQ(book.kvBytes, std::size_t{2} * 28 * 4 * 100000 * 128 * 2);  // K and V, 28 layers, 4 heads, F16
    EXPECT_EQ(book.total(), book.kvBytes + std::size_t(qwen.sizeBytes));
    EXPECT_EQ(planForCatalogEntry(qwen, 20000).method, ExtensionMethod::None);
    const CatalogEntry& million = *find(catalog, QStringLiteral("qwen2.5-7b-instruct-1m"));
    EXPECT_EQ(planForCatalogEntry(million, 100000).method, ExtensionMethod::None);
    EXPECT_LT(planForCatalogEntry(qwen, 100000, KvType::Q8_0).kvBytes, book.kvBytes);
}

// The catalog cannot load a model it has not downloaded, so it mirrors the planner's
// rule: for a real (tiny) model of the same shape, the two must agree.
TEST(ModelCatalog, ItsFigureIsThePlannersForTheSameShape)
{
    test::TinyModelSpec spec;
    spec.architecture = "qwen2";
    spec.layers = 3;
    spec.kvHeads = 2;
    spec.contextLength = 256;
    const std::string path = test::writeTinyModel(spec, test::tempModelPath("catalog-shape"));
    const std::shared_ptr<const Model> model = Model::load(path);
    CatalogEntry entry;
    entry.sizeBytes = static_cast<qint64>(model->memoryEstimate(1, KvType::F16).weightBytes);
    entry.trainedContext = model->params().contextLength;
    entry.layers = model->params().blockCount;
    entry.kvHeads = model->params().headCountKv;
    entry.headDim = model->params().headDim;
    for (int tokens : {100, 256, 1000}) {  // inside, at, and past the trained context
        PlanRequest request;
        request.tokens = tokens;
        request.kvType = KvType::F16;  // the tiny head dim (16) takes no quantized blocks
        request.availableBytes = std::size_t{1} << 40;
        const ContextPlan planned = planContext(*model, request);
        const CatalogPlan mirrored = planForCatalogEntry(entry, tokens, KvType::F16);
        EXPECT_EQ(mirrored.method, planned.method) << tokens;
        EXPECT_EQ(mirrored.kvBytes, planned.memory.kvBytes) << tokens;
        EXPECT_EQ(mirrored.weightBytes, planned.memory.weightBytes) << tokens;
    }
    std::filesystem::remove(path);
}

TEST(ModelCatalog, AnEntryMissingAFieldIsAnErrorNamingIt)
{
    QTemporaryDir dir;
    QFile file(dir.filePath(QStringLiteral("models.json")));
    ASSERT_TRUE(file.open(QIODevice::WriteOnly));
    file.write(R"({"models":[{"id":"x","name":"X","hf":"a/b:c.gguf","architecture":"llama","parameters":"1B",
        "quant":"Q4_0","licence":"MIT","size_bytes":10,"trained_context":4096,"layers":2,"kv_heads":2}]})");
    file.close();
    const Catalog catalog = loadCatalog(file.fileName());
    EXPECT_TRUE(catalog.models.isEmpty());
    EXPECT_TRUE(catalog.error.contains(QLatin1String("has no head_dim"))) << catalog.error.toStdString();
}

} // namespace
} // namespace folio
