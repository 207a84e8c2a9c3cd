// "Models on this computer": the scan over a fake home laid out like each app's
// store (model_home_fixture.h), every field of what it lists, and the functions the
// list needs (sort, search, recognising a remembered choice).
#include "model_home_fixture.h"

#include "app/models/model_discovery.h"
#include "app/models/model_list.h"
#include "engine/gguf/gguf.h"
#include "engine/gguf/gguf_writer.h"
#include "engine/model/family.h"
#include "tests/engine/test_models.h"

#include <QCryptographicHash>
#include <QDirIterator>
#include <QFileInfo>
#include <QMap>
#include <QTemporaryDir>

#include <gtest/gtest.h>

namespace {

using folio::LocalModel;
using folio::ModelPlace;
using folio::PlaceLayout;

class ModelDiscovery : public ::testing::Test {
protected:
    ModelDiscovery() : home(dir.path())
    {
        places = folio::defaultModelPlaces(home.environment());
        places.append(folio::userModelFolder(home.userFolder));
    }

    const LocalModel* find(const QString& path) const
    {
        for (const LocalModel& m : scan.models)
            if (m.path == path)
                return &m;
        return nullptr;
    }
    const LocalModel& get(const QString& path) const
    {
        const LocalModel* m = find(path);
        if (!m)
            throw std::runtime_error("not listed: " + path.toStdString());
        return *m;
    }

    QTemporaryDir dir;
    folio::test::FakeModelHome home;
    QList<ModelPlace> places;
    folio::ModelScan scan;
};

qint64 fileSize(const QString& path) { return QFileInfo(path).size(); }

QStringList pathsOf(const QList<LocalModel>& models)
{
    QStringList paths;
    for (const LocalModel& m : models)
        paths.append(m.path);
    return paths;
}

} // namespace

TEST(ModelPlaces, DefaultsFollowHome)
{
    QProcessEnvironment env;
    env.insert(QStringLiteral("HOME"), QStringLiteral("/h"));
    const QList<ModelPlace> expected{
        {QStringLiteral("LM Studio"), QStringLiteral("/h/.lmstudio/models"), PlaceLayout::Files, 3},
        {QStringLiteral("LM Studio"), QStringLiteral("/h/.cache/lm-studio/models"), PlaceLayout::Files, 3},
        {QStringLiteral("GPT4All"), QStringLiteral("/h/.local/share/nomic.ai/GPT4All"), PlaceLayout::Files, 1},
        {QStringLiteral("Jan"), QStringLiteral("/h/jan/models"), PlaceLayout::Files, 4},
        {QStringLiteral("Jan"), QStringLiteral("/h/jan/llamacpp/models"), PlaceLayout::Files, 4},
        {QStringLiteral("Jan"), QStringLiteral("/h/.local/share/Jan/data/models"), PlaceLayout::Files, 4},
        {QStringLiteral("Jan"), QStringLiteral("/h/.local/share/Jan/data/llamacpp/models"), PlaceLayout::Files, 4},
        {QStringLiteral("Ollama"), QStringLiteral("/h/.ollama/models"), PlaceLayout::Ollama, 0},
        {QStringLiteral("Ollama"), QStringLiteral("/usr/share/ollama/.ollama/models"), PlaceLayout::Ollama, 0},
        {QStringLiteral("Hugging Face"), QStringLiteral("/h/.cache/huggingface/hub"), PlaceLayout::HuggingFace, 0},
        {QStringLiteral("llama.cpp"), QStringLiteral("/h/.cache/llama.cpp"), PlaceLayout::Files, 4},
    };
    EXPECT_EQ(folio::defaultModelPlaces(env), expected);
}

TEST(ModelPlaces, EnvironmentOverrides)
{
    QProcessEnvironment env;
    env.insert(QStringLiteral("HOME"), QStringLiteral("/h"));
    env.insert(QStringLiteral("XDG_DATA_HOME"), QStringLiteral("/data"));
    env.insert(QStringLiteral("XDG_CACHE_HOME"), QStringLiteral("/cache"));
    env.insert(QStringLiteral("OLLAMA_MODELS"), QStringLiteral("/ollama/"));
    env.insert(QStringLiteral("HF_HOME"), QStringLiteral("/hf"));
    const auto pathsFor = [](const QProcessEnvironment& e, const QString& source) {
        QStringList paths;
        for (const ModelPlace& p : folio::defaultModelPlaces(e))
            if (p.source == source)
                paths.append(p.path);
        return paths;
    };
    EXPECT_EQ(pathsFor(env, QStringLiteral("GPT4All")), QStringList{QStringLiteral("/data/nomic.ai/GPT4All")});
    EXPECT_EQ(pathsFor(env, QStringLiteral("Jan")).last(), QStringLiteral("/data/Jan/data/llamacpp/models"));
    EXPECT_EQ(pathsFor(env, QStringLiteral("Ollama")), QStringList{QStringLiteral("/ollama")});  // the system store too is replaced
    EXPECT_EQ(pathsFor(env, QStringLiteral("Hugging Face")), QStringList{QStringLiteral("/hf/hub")});
    EXPECT_EQ(pathsFor(env, QStringLiteral("llama.cpp")), QStringList{QStringLiteral("/cache/llama.cpp")});
    env.insert(QStringLiteral("HF_HUB_CACHE"), QStringLiteral("/hub"));
    env.insert(QStringLiteral("LLAMA_CACHE"), QStringLiteral("/llama"));
    EXPECT_EQ(pathsFor(env, QStringLiteral("Hugging Face")), QStringList{QStringLiteral("/hub")});
    EXPECT_EQ(pathsFor(env, QStringLiteral("llama.cpp")), QStringList{QStringLiteral("/llama")});
    env.remove(QStringLiteral("HF_HUB_CACHE"));
    env.remove(QStringLiteral("HF_HOME"));
    EXPECT_EQ(pathsFor(env, QStringLiteral("Hugging Face")), QStringList{QStringLiteral("/cache/huggingface/hub")});
}

TEST_F(ModelDiscovery, ListsEachModelOnceUnderItsApp)
{
    scan = folio::scanModels(places);
    const QMap<QString, QString> expected{
        {home.lmStudio, QStringLiteral("LM Studio")}, {home.mmproj, QStringLiteral("LM Studio")},
        {home.gpt4all, QStringLiteral("GPT4All")},
        {home.jan, QStringLiteral("Jan")},            {home.ollamaBlob, QStringLiteral("Ollama")},
        {home.ollamaOther, QStringLiteral("Ollama")}, {home.ollamaMissing, QStringLiteral("Ollama")},
        {home.hfSnapshot, QStringLiteral("Hugging Face")}, {home.llamaCpp, QStringLiteral("llama.cpp")},
        {home.splitFirst, QStringLiteral("Folder")},  {home.brokenFirst, QStringLiteral("Folder")},
        {home.unsupported, QStringLiteral("Folder")}, {home.truncated, QStringLiteral("Folder")},
    };
    QMap<QString, QString> listed;
    for (const LocalModel& m : scan.models)
        listed.insert(m.path, m.source);
    EXPECT_EQ(listed, expected) << pathsOf(scan.models).join(u'\n').toStdString();
    EXPECT_EQ(scan.models.size(), expected.size());  // no path twice (symlink loop, HF revisions, Ollama tags)
    // The places that exist; the Jan data folder under XDG and the others are absent.
    QStringList searched;
    for (const ModelPlace& p : scan.searched)
        searched.append(p.source);
    EXPECT_EQ(searched, (QStringList{QStringLiteral("LM Studio"), QStringLiteral("GPT4All"), QStringLiteral("Jan"),
                                     QStringLiteral("Ollama"), QStringLiteral("Hugging Face"), QStringLiteral("llama.cpp"),
                                     QStringLiteral("Folder")}));
}

TEST_F(ModelDiscovery, EveryFieldComesFromTheHeader)
{
    scan = folio::scanModels(places);
    const LocalModel& m = get(home.lmStudio);
    EXPECT_EQ(m.name, QStringLiteral("Tiny Llama"));
    EXPECT_EQ(m.source, QStringLiteral("LM Studio"));
    EXPECT_EQ(m.family, QStringLiteral("llama"));
    EXPECT_EQ(m.type, QStringLiteral("Q4_K_M"));  // general.file_type 15
    EXPECT_EQ(m.sizeBytes, fileSize(home.lmStudio));
    EXPECT_EQ(m.contextLength, 8192);
    EXPECT_EQ(m.parameters, folio::test::tensorElements(home.lmStudio));
    EXPECT_TRUE(m.supported) << m.reason.toStdString();
    EXPECT_TRUE(m.reason.isEmpty());
    EXPECT_TRUE(m.incomplete.isEmpty());
    EXPECT_EQ(m.parts, QStringList{home.lmStudio});
    EXPECT_EQ(m.canonicalPath, QFileInfo(home.lmStudio).canonicalFilePath());
    const folio::GgufFile file = folio::GgufFile::open(home.lmStudio.toStdString());
    EXPECT_EQ(m.fingerprint, (folio::ModelFingerprint{QStringLiteral("llama"), QStringLiteral("Tiny Llama"),
                                                      qint64(file.tensors().size())}));

    // Without general.file_type: the type most bytes have.
    EXPECT_EQ(get(home.gpt4all).type, QStringLiteral("Q8_0"));
    EXPECT_EQ(get(home.gpt4all).family, QStringLiteral("qwen2"));
    EXPECT_EQ(get(home.jan).type, QStringLiteral("F32"));
    EXPECT_EQ(get(home.jan).name, QStringLiteral("Qwen3 Tiny"));
    EXPECT_EQ(get(home.jan).contextLength, 256);
    EXPECT_EQ(get(home.llamaCpp).type, QStringLiteral("Q8_0"));
    EXPECT_EQ(get(home.llamaCpp).name, QStringLiteral("Tiny Q8"));
    for (const QString& path : {home.gpt4all, home.jan, home.llamaCpp, home.ollamaBlob, home.ollamaOther, home.hfSnapshot})
        EXPECT_TRUE(get(path).supported) << path.toStdString() << ": " << get(path).reason.toStdString();
}

TEST_F(ModelDiscovery, OllamaTagsNameTheirBlobs)
{
    scan = folio::scanModels(places);
    // Two tags share one blob: listed once, under the first tag by manifest path.
    const LocalModel& tiny = get(home.ollamaBlob);
    EXPECT_EQ(tiny.name, QStringLiteral("tinyllama:1.1b"));
    EXPECT_EQ(tiny.family, QStringLiteral("llama"));
    EXPECT_EQ(tiny.sizeBytes, fileSize(home.ollamaBlob));
    EXPECT_EQ(tiny.fingerprint.name, QStringLiteral("TinyLlama"));
    const LocalModel& phi = get(home.ollamaOther);
    EXPECT_EQ(phi.name, QStringLiteral("someone/phi-tiny:q8"));  // namespace kept outside library/
    EXPECT_EQ(phi.family, QStringLiteral("phi3"));
    // A manifest whose blob is gone; one whose digest is not a sha256 is no model.
    const LocalModel& ghost = get(home.ollamaMissing);
    EXPECT_EQ(ghost.name, QStringLiteral("ghost:latest"));
    EXPECT_FALSE(ghost.supported);
    EXPECT_EQ(ghost.incomplete, QStringLiteral("the weights file sha256-%1 is missing").arg(QString(64, u'e')));
    EXPECT_EQ(ghost.reason, ghost.incomplete);
    EXPECT_EQ(ghost.sizeBytes, 0);
    for (const LocalModel& m : scan.models)
        EXPECT_FALSE(m.name.contains(QLatin1String("evil")));
}

TEST_F(ModelDiscovery, HuggingFaceSnapshotsAreOneModel)
{
    scan = folio::scanModels(places);
    const LocalModel& m = get(home.hfSnapshot);  // rev1's link; rev2's reaches the same blob
    EXPECT_EQ(m.name, QStringLiteral("TheOwner/Tiny-GGUF"));
    EXPECT_EQ(m.canonicalPath, QFileInfo(home.hfBlob).canonicalFilePath());
    EXPECT_EQ(m.type, QStringLiteral("F16"));
    EXPECT_EQ(m.sizeBytes, fileSize(home.hfBlob));
    EXPECT_EQ(m.fingerprint.name, QStringLiteral("tiny"));
}

TEST_F(ModelDiscovery, SplitSetsAreOneModel)
{
    scan = folio::scanModels(places);
    const LocalModel& big = get(home.splitFirst);
    ASSERT_EQ(big.parts.size(), 3);
    qint64 size = 0;
    for (const QString& part : big.parts)
        size += fileSize(part);
    EXPECT_EQ(big.parts.last(), home.userFolder + QStringLiteral("/big-00003-of-00003.gguf"));
    EXPECT_EQ(big.sizeBytes, size);
    EXPECT_EQ(big.name, QStringLiteral("big split"));
    EXPECT_EQ(big.family, QStringLiteral("llama"));
    EXPECT_EQ(big.type, QStringLiteral("F32"));
    EXPECT_EQ(big.contextLength, 4096);
    EXPECT_EQ(big.parameters, home.splitParameters);
    EXPECT_EQ(big.fingerprint.tensorCount, home.splitTensorCount);
    EXPECT_TRUE(big.incomplete.isEmpty());
    // The engine maps one file; the reason says so rather than failing at load.
    EXPECT_FALSE(big.supported);
    EXPECT_TRUE(big.reason.contains(QLatin1String("split into 3 files"))) << big.reason.toStdString();

    const LocalModel& broken = get(home.brokenFirst);
    EXPECT_EQ(broken.incomplete, QStringLiteral("part 2 of 3 is missing (broken-00002-of-00003.gguf)"));
    EXPECT_EQ(broken.reason, broken.incomplete);
    EXPECT_FALSE(broken.supported);
    EXPECT_EQ(broken.parts.size(), 2);
    EXPECT_EQ(broken.sizeBytes, fileSize(broken.parts[0]) + fileSize(broken.parts[1]));
    EXPECT_EQ(broken.parameters, 0);  // unknown with a part missing
}

TEST_F(ModelDiscovery, UnsupportedAndDamagedFilesSayWhy)
{
    scan = folio::scanModels(places);
    const LocalModel& mamba = get(home.unsupported);
    EXPECT_EQ(mamba.family, QStringLiteral("mamba"));
    EXPECT_EQ(mamba.name, QStringLiteral("Mamba Tiny"));
    EXPECT_FALSE(mamba.supported);
    EXPECT_EQ(mamba.reason, QStringLiteral("unsupported architecture 'mamba' (supported: %1)")
                                .arg(QString::fromStdString(folio::supportedArchitectureList())));

    const LocalModel& projector = get(home.mmproj);
    EXPECT_EQ(projector.family, QStringLiteral("clip"));
    EXPECT_FALSE(projector.supported);
    EXPECT_TRUE(projector.reason.contains(QLatin1String("image encoder (mmproj)"))) << projector.reason.toStdString();

    const LocalModel& cut = get(home.truncated);
    EXPECT_FALSE(cut.supported);
    EXPECT_EQ(cut.name, QStringLiteral("truncated"));  // the header never got as far as general.name
    EXPECT_TRUE(cut.family.isEmpty());
    EXPECT_EQ(cut.sizeBytes, 300);
    std::string message;
    try {
        folio::GgufFile::open(home.truncated.toStdString());
    } catch (const folio::GgufError& e) {
        message = e.what();
    }
    ASSERT_FALSE(message.empty());
    EXPECT_EQ(home.truncated + QStringLiteral(": ") + cut.reason, QString::fromStdString(message));
}

TEST_F(ModelDiscovery, DownloadsInProgressAreNotListed)
{
    scan = folio::scanModels(places);
    for (const LocalModel& m : scan.models) {
        EXPECT_FALSE(m.path.endsWith(QLatin1String(".part"))) << m.path.toStdString();
        EXPECT_FALSE(QFileInfo(m.path).fileName().startsWith(QLatin1String("incomplete-"))) << m.path.toStdString();
    }
}

TEST_F(ModelDiscovery, TheFirstPlaceToReachAFileNamesItsApp)
{
    // The LM Studio tree and the whole home again as the user's folders: nothing twice.
    places.append(folio::userModelFolder(home.root + QStringLiteral("/.lmstudio")));
    places.append(folio::userModelFolder(home.root));
    scan = folio::scanModels(places);
    EXPECT_EQ(get(home.lmStudio).source, QStringLiteral("LM Studio"));
    QStringList canonical;
    for (const LocalModel& m : scan.models)
        if (!m.canonicalPath.isEmpty())
            canonical.append(m.canonicalPath);
    EXPECT_EQ(canonical.size(), QSet<QString>(canonical.begin(), canonical.end()).size());
    EXPECT_EQ(scan.models.size(), 13);  // hidden folders (.cache, .ollama) are not walked from the home
}

TEST_F(ModelDiscovery, ScanningChangesNothing)
{
    const auto snapshot = [&] {
        QMap<QString, QByteArray> state;
        QDirIterator it(home.root, QDir::AllEntries | QDir::Hidden | QDir::System | QDir::NoDotAndDotDot,
                        QDirIterator::Subdirectories);
        while (it.hasNext()) {
            const QFileInfo info(it.next());
            QByteArray entry = info.lastModified().toString(Qt::ISODateWithMs).toUtf8() + ' ' +
                               QByteArray::number(info.size()) + ' ' + info.symLinkTarget().toUtf8();
            if (info.isFile() && !info.isSymLink()) {
                QFile f(info.filePath());
                if (f.open(QIODevice::ReadOnly))
                    entry += ' ' + QCryptographicHash::hash(f.readAll(), QCryptographicHash::Sha256).toHex();
            }
            state.insert(info.filePath(), entry);
        }
        return state;
    };
    const auto before = snapshot();
    scan = folio::scanModels(places);
    EXPECT_FALSE(scan.models.isEmpty());
    EXPECT_EQ(snapshot(), before);
}

TEST_F(ModelDiscovery, SortAndSearch)
{
    scan = folio::scanModels(places);
    const auto names = [](const QList<LocalModel>& models) {
        QStringList out;
        for (const LocalModel& m : models)
            out.append(m.name);
        return out;
    };
    QList<LocalModel> qwen = folio::filterModels(scan.models, QStringLiteral("QWEN"));  // family and name
    folio::sortModels(qwen, folio::ModelSortKey::Name);
    EXPECT_EQ(names(qwen), (QStringList{QStringLiteral("Qwen2 Tiny"), QStringLiteral("Qwen3 Tiny")}));
    EXPECT_EQ(folio::filterModels(scan.models, QStringLiteral("ollama")).size(), 3);  // the app
    EXPECT_EQ(names(folio::filterModels(scan.models, QStringLiteral("phi3"))), QStringList{QStringLiteral("someone/phi-tiny:q8")});
    EXPECT_EQ(folio::filterModels(scan.models, QStringLiteral("  ")).size(), scan.models.size());
    EXPECT_TRUE(folio::filterModels(scan.models, QStringLiteral("no such model")).isEmpty());

    QList<LocalModel> sorted = scan.models;
    folio::sortModels(sorted, folio::ModelSortKey::Size, Qt::DescendingOrder);
    for (qsizetype i = 1; i < sorted.size(); ++i)
        EXPECT_GE(sorted[i - 1].sizeBytes, sorted[i].sizeBytes);
    folio::sortModels(sorted, folio::ModelSortKey::Name);
    for (qsizetype i = 1; i < sorted.size(); ++i)
        EXPECT_LE(sorted[i - 1].name.compare(sorted[i].name, Qt::CaseInsensitive), 0);
    folio::sortModels(sorted, *folio::modelSortKeyFromName(QStringLiteral("context")));
    EXPECT_EQ(sorted.last().path, home.lmStudio);  // 8192, the longest
    EXPECT_FALSE(folio::modelSortKeyFromName(QStringLiteral("colour")));
}

TEST_F(ModelDiscovery, ARememberedChoiceIsRecognised)
{
    scan = folio::scanModels(places);
    // Kept in the settings and read back, as the app does between runs.
    const auto kept = folio::rememberedModelFromVariant(folio::rememberedModelToVariant(folio::rememberModel(get(home.lmStudio))));
    ASSERT_TRUE(kept);
    const folio::RememberedModel remembered = *kept;
    EXPECT_EQ(remembered.path, home.lmStudio);
    EXPECT_EQ(remembered.fingerprint, get(home.lmStudio).fingerprint);
    EXPECT_TRUE(folio::checkRememberedModel(remembered).same);
    EXPECT_FALSE(folio::rememberedModelFromVariant({{QStringLiteral("path"), home.lmStudio}}));
    EXPECT_TRUE(folio::checkRememberedModel(folio::rememberModel(get(home.splitFirst))).same);

    // Another model of the same size in its place: general.name of the same length.
    folio::test::TinyModelSpec spec = folio::test::kQuantSpec("llama", folio::GgmlType::Q4_K);
    spec.tensorTypes = {{"output.weight", folio::GgmlType::Q6_K}};
    spec.intKeys = {{"general.file_type", 15}};
    spec.contextLength = 8192;
    spec.stringKeys = {{"general.name", "Tiny Lemur"}};
    folio::test::writeTinyModel(spec, home.lmStudio.toStdString());
    ASSERT_EQ(fileSize(home.lmStudio), remembered.sizeBytes);
    folio::RememberedCheck check = folio::checkRememberedModel(remembered);
    EXPECT_FALSE(check.same);
    EXPECT_TRUE(check.reason.contains(QLatin1String("header differs"))) << check.reason.toStdString();

    QFile::resize(home.lmStudio, remembered.sizeBytes + 1);
    check = folio::checkRememberedModel(remembered);
    EXPECT_FALSE(check.same);
    EXPECT_TRUE(check.reason.contains(QLatin1String("size changed"))) << check.reason.toStdString();

    QFile::remove(home.lmStudio);
    check = folio::checkRememberedModel(remembered);
    EXPECT_FALSE(check.same);
    EXPECT_TRUE(check.reason.contains(QLatin1String("is gone"))) << check.reason.toStdString();
}

// Reasons the fake home does not cover, each in a folder of its own.
TEST(ModelHeaders, WhatTheEngineCannotComputeIsNamed)
{
    QTemporaryDir folder;
    // A tensor type the engine has no kernel for (bytes of zeros: the header is what counts).
    folio::GgufWriter q2k;
    q2k.setString("general.architecture", "llama");
    q2k.setString("general.name", "two bits");
    const std::vector<uint8_t> block(84, 0);  // one Q2_K block of 256 elements
    q2k.addTensor("token_embd.weight", folio::GgmlType::Q2_K, {256, 1}, block.data(), block.size());
    q2k.write(folder.filePath(QStringLiteral("q2k.gguf")).toStdString());
    // A vocabulary without weights, such as llama.cpp's ggml-vocab-*.gguf.
    folio::GgufWriter vocab;
    vocab.setString("general.architecture", "llama");
    vocab.setStringArray("tokenizer.ggml.tokens", {"a", "b"});
    vocab.write(folder.filePath(QStringLiteral("vocab.gguf")).toStdString());

    const folio::ModelScan scan = folio::scanModels({folio::userModelFolder(folder.path())});
    ASSERT_EQ(scan.models.size(), 2);
    EXPECT_EQ(scan.models[0].name, QStringLiteral("two bits"));
    EXPECT_EQ(scan.models[0].type, QStringLiteral("Q2_K"));
    EXPECT_EQ(scan.models[0].reason, QStringLiteral("tensor type q2_K is not supported (tensor 'token_embd.weight')"));
    EXPECT_EQ(scan.models[1].name, QStringLiteral("vocab"));
    EXPECT_FALSE(scan.models[1].supported);
    EXPECT_TRUE(scan.models[1].reason.contains(QLatin1String("no weights"))) << scan.models[1].reason.toStdString();
}

TEST(ModelHeaders, AHuggingFaceRepoWithoutOwnerKeepsItsName)
{
    QTemporaryDir hub;
    const QString snapshot = hub.filePath(QStringLiteral("models--gpt2/snapshots/abc"));
    ASSERT_TRUE(QDir().mkpath(snapshot));
    folio::test::writeTinyModel({}, (snapshot + QStringLiteral("/gpt2.gguf")).toStdString());
    const folio::ModelScan scan =
        folio::scanModels({{QStringLiteral("Hugging Face"), hub.path(), PlaceLayout::HuggingFace, 0}});
    ASSERT_EQ(scan.models.size(), 1);
    EXPECT_EQ(scan.models[0].name, QStringLiteral("gpt2"));
}
