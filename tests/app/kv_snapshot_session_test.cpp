// The engine's session state through the store: saved with Session::saveState into a
// KvSnapshotWriter, the database closed and reopened, restored with loadState from a
// KvSnapshotReader, and the next logits are the same bits.
#include "app/store/kv_snapshot_store.h"
#include "app/store/library_store.h"
#include "engine/model/model.h"
#include "engine/session/session.h"

#include "store_fixtures.h"
#include "tests/engine/test_models.h"

#include <QTemporaryDir>

#include <cstring>
#include <filesystem>

#include <gtest/gtest.h>

using namespace folio;

TEST(KvSnapshotSession, RestoredFromTheStoreContinuesBitForBit)
{
    test::TinyModelSpec spec;
    spec.type = GgmlType::Q8_0;
    spec.vocab = 80;
    spec.embd = 128;
    spec.feedForward = 256;
    const std::string modelPath = test::writeTinyModel(spec, test::tempModelPath("store-session"));
    const std::shared_ptr<const Model> model = Model::load(modelPath);
    SessionOptions options;
    options.contextLength = 128;
    options.threads = 2;
    options.batchSize = 16;

    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("folio.sqlite"));
    Session original(model, options);
    std::vector<int32_t> prompt;
    for (int i = 0; i < 60; ++i)
        prompt.push_back((i * 13 + 7) % 80);
    original.prefill(prompt);
    original.decode(5);

    qint64 id = 0;
    {
        Database db(path);
        const qint64 doc = LibraryStore(db).rememberDocument(test::storeDocument(QStringLiteral("moby")));
        KvSnapshotStore store(db);
        KvSnapshotWriteOptions small;
        small.chunkBytes = 8 * 1024;   // several chunks even for a tiny model
        small.transactionBytes = 32 * 1024;
        KvSnapshotSpec snapshot = test::documentSpec(doc, QString::fromStdString(model->fingerprint()));
        snapshot.tokenCount = original.position();
        std::unique_ptr<KvSnapshotWriter> writer = store.beginSnapshot(snapshot, small);
        original.saveState(*writer);
        id = writer->commit();
        EXPECT_GT(store.snapshot(id).chunkCount, 2);
    }

    Database db(path);
    KvSnapshotStore store(db);
    Session restored(model, options);
    std::unique_ptr<KvSnapshotReader> reader = store.openReader(id);
    restored.loadState(*reader);
    ASSERT_EQ(restored.position(), original.position());
    ASSERT_EQ(restored.logits().size(), original.logits().size());
    EXPECT_EQ(std::memcmp(restored.logits().data(), original.logits().data(), original.logits().size() * sizeof(float)), 0);
    original.decode(9);
    restored.decode(9);
    EXPECT_EQ(std::memcmp(restored.logits().data(), original.logits().data(), original.logits().size() * sizeof(float)), 0);
    std::filesystem::remove(modelPath);
}
