#include "model_home_fixture.h"

#include "engine/gguf/gguf.h"
#include "engine/gguf/gguf_writer.h"
#include "tests/engine/test_models.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QFileInfo>

#include <filesystem>
#include <stdexcept>
#include <vector>

namespace folio::test {

namespace {

QString made(const QString& path)
{
    if (!QDir().mkpath(QFileInfo(path).path()))
        throw std::runtime_error("cannot make the folder of " + path.toStdString());
    return path;
}

QString writeModel(TinyModelSpec spec, const QString& path, const QString& name)
{
    spec.stringKeys.emplace_back("general.name", name.toStdString());
    writeTinyModel(spec, made(path).toStdString());
    return path;
}

QByteArray readAll(const QString& path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        throw std::runtime_error("cannot read " + path.toStdString());
    return f.readAll();
}

void writeText(const QString& path, const QByteArray& text)
{
    QFile f(made(path));
    if (!f.open(QIODevice::WriteOnly) || f.write(text) != text.size())
        throw std::runtime_error("cannot write " + path.toStdString());
}

void symlink(const QString& target, const QString& link)
{
    std::filesystem::create_symlink(target.toStdString(), made(link).toStdString());
}

QByteArray manifest(const QString& digest)
{
    return QStringLiteral(R"({"schemaVersion":2,"config":{"mediaType":"application/vnd.docker.container.image.v1+json",)"
                          R"("digest":"sha256:%1"},"layers":[)"
                          R"({"mediaType":"application/vnd.ollama.image.template","digest":"sha256:%1","size":10},)"
                          R"({"mediaType":"application/vnd.ollama.image.model","digest":"%2","size":100}]})")
        .arg(QString(64, u'0'), digest)
        .toUtf8();
}

// An Ollama blob named by the SHA-256 of its bytes, as Ollama names them.
QString storeInOllama(const QString& store, const QString& scratch)
{
    const QString digest = QString::fromLatin1(QCryptographicHash::hash(readAll(scratch), QCryptographicHash::Sha256).toHex());
    const QString blob = made(store + QStringLiteral("/blobs/sha256-") + digest);
    QFile::rename(scratch, blob);
    return blob;
}

// gguf-split's layout: every part holds some tensors; part 1 also the metadata.
void writeSplitSet(const QString& folder, const QString& prefix, int count, int skipPart, qint64* elements,
                   qint64* tensorCount)
{
    const int tensorsPerPart = 2;
    for (int part = 1; part <= count; ++part) {
        GgufWriter w;
        if (part == 1) {
            w.setString("general.architecture", "llama");
            w.setString("general.name", prefix.toStdString() + " split");
            w.setU32("llama.context_length", 4096);
            w.setU32("general.file_type", 0);
        }
        w.setU16("split.no", static_cast<uint16_t>(part - 1));
        w.setU16("split.count", static_cast<uint16_t>(count));
        w.setI32("split.tensors.count", count * tensorsPerPart);
        for (int t = 0; t < tensorsPerPart; ++t) {
            const int64_t cols = 32, rows = 4 + part;
            std::vector<float> data(static_cast<std::size_t>(cols * rows), 0.5f);
            w.addTensor("blk." + std::to_string(part) + "." + std::to_string(t) + ".weight", GgmlType::F32,
                        {cols, rows}, data.data(), data.size() * sizeof(float));
            if (elements)
                *elements += cols * rows;
        }
        if (tensorCount)
            *tensorCount += tensorsPerPart;
        const QString path = QStringLiteral("%1/%2-%3-of-%4.gguf").arg(folder, prefix)
                                 .arg(part, 5, 10, QLatin1Char('0')).arg(count, 5, 10, QLatin1Char('0'));
        if (part != skipPart)
            w.write(made(path).toStdString());
    }
}

} // namespace

FakeModelHome::FakeModelHome(const QString& home) : root(home), userFolder(home + QStringLiteral("/my-models"))
{
    TinyModelSpec llama;
    TinyModelSpec q4km = kQuantSpec("llama", GgmlType::Q4_K);
    q4km.tensorTypes = {{"output.weight", GgmlType::Q6_K}};
    q4km.intKeys = {{"general.file_type", 15}};
    q4km.contextLength = 8192;
    lmStudio = writeModel(q4km, root + QStringLiteral("/.lmstudio/models/lmstudio-community/Tiny-Llama-GGUF/tiny-llama-Q4_K_M.gguf"),
                          QStringLiteral("Tiny Llama"));
    TinyModelSpec clip;
    clip.architecture = "clip";
    mmproj = writeModel(clip, QFileInfo(lmStudio).path() + QStringLiteral("/mmproj-tiny-f16.gguf"), QStringLiteral("Tiny Vision"));

    TinyModelSpec qwen2;
    qwen2.architecture = "qwen2";
    qwen2.type = GgmlType::Q8_0;
    const QString gpt4allDir = root + QStringLiteral("/.local/share/nomic.ai/GPT4All/");
    gpt4all = writeModel(qwen2, gpt4allDir + QStringLiteral("qwen2-tiny.Q8_0.gguf"), QStringLiteral("Qwen2 Tiny"));
    writeModel(qwen2, gpt4allDir + QStringLiteral("incomplete-qwen2-next.gguf"), QStringLiteral("Qwen2 Next"));

    TinyModelSpec qwen3;
    qwen3.architecture = "qwen3";
    jan = writeModel(qwen3, root + QStringLiteral("/jan/llamacpp/models/qwen3-tiny/model.gguf"), QStringLiteral("Qwen3 Tiny"));
    writeText(root + QStringLiteral("/jan/llamacpp/models/qwen3-tiny/model.yml"), "id: qwen3-tiny\n");

    const QString ollama = root + QStringLiteral("/.ollama/models");
    const QString manifests = ollama + QStringLiteral("/manifests/registry.ollama.ai/");
    ollamaBlob = storeInOllama(ollama, writeModel(llama, root + QStringLiteral("/scratch-1"), QStringLiteral("TinyLlama")));
    const QString digest = QStringLiteral("sha256:") + QFileInfo(ollamaBlob).fileName().mid(7);
    writeText(manifests + QStringLiteral("library/tinyllama/latest"), manifest(digest));
    writeText(manifests + QStringLiteral("library/tinyllama/1.1b"), manifest(digest));
    TinyModelSpec phi3;
    phi3.architecture = "phi3";
    ollamaOther = storeInOllama(ollama, writeModel(phi3, root + QStringLiteral("/scratch-2"), QStringLiteral("Phi Tiny")));
    writeText(manifests + QStringLiteral("someone/phi-tiny/q8"),
              manifest(QStringLiteral("sha256:") + QFileInfo(ollamaOther).fileName().mid(7)));
    ollamaMissing = ollama + QStringLiteral("/blobs/sha256-") + QString(64, u'e');
    writeText(manifests + QStringLiteral("library/ghost/latest"), manifest(QStringLiteral("sha256:") + QString(64, u'e')));
    writeText(manifests + QStringLiteral("library/evil/latest"), manifest(QStringLiteral("sha256:../../../etc/passwd")));

    const QString repo = root + QStringLiteral("/.cache/huggingface/hub/models--TheOwner--Tiny-GGUF");
    TinyModelSpec f16;
    f16.type = GgmlType::F16;
    hfBlob = writeModel(f16, repo + QStringLiteral("/blobs/") + QString(40, u'a'), QStringLiteral("tiny"));
    hfSnapshot = repo + QStringLiteral("/snapshots/rev1/tiny-f16.gguf");
    symlink(QStringLiteral("../../blobs/") + QString(40, u'a'), hfSnapshot);
    symlink(QStringLiteral("../../blobs/") + QString(40, u'a'), repo + QStringLiteral("/snapshots/rev2/tiny-f16.gguf"));

    const QString llamaCache = root + QStringLiteral("/.cache/llama.cpp/");
    TinyModelSpec q8 = llama;
    q8.type = GgmlType::Q8_0;
    llamaCpp = writeModel(q8, llamaCache + QStringLiteral("owner_repo_tiny-Q8_0.gguf"), QStringLiteral("Tiny Q8"));
    writeText(llamaCache + QStringLiteral("owner_repo_tiny-Q8_0.gguf.json"), "{}");

    writeSplitSet(userFolder, QStringLiteral("big"), 3, 0, &splitParameters, &splitTensorCount);
    splitFirst = userFolder + QStringLiteral("/big-00001-of-00003.gguf");
    writeSplitSet(userFolder, QStringLiteral("broken"), 3, 2, nullptr, nullptr);
    brokenFirst = userFolder + QStringLiteral("/broken-00001-of-00003.gguf");
    writeModel(llama, userFolder + QStringLiteral("/big.gguf.part"), QStringLiteral("downloading"));
    TinyModelSpec mamba;
    mamba.architecture = "mamba";
    unsupported = writeModel(mamba, userFolder + QStringLiteral("/nested/mamba-tiny.gguf"), QStringLiteral("Mamba Tiny"));
    truncated = writeModel(llama, userFolder + QStringLiteral("/nested/deeper/truncated.gguf"), QStringLiteral("Cut"));
    QFile::resize(truncated, 300);  // inside the metadata
    symlink(QStringLiteral("."), userFolder + QStringLiteral("/loop"));
    symlink(QStringLiteral(".."), userFolder + QStringLiteral("/nested/deeper/up"));
}

QProcessEnvironment FakeModelHome::environment() const
{
    QProcessEnvironment env;
    env.insert(QStringLiteral("HOME"), root);
    env.insert(QStringLiteral("OLLAMA_MODELS"), root + QStringLiteral("/.ollama/models"));
    return env;
}

QProcessEnvironment FakeModelHome::processEnvironment() const
{
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    for (const char* name : {"XDG_DATA_HOME", "XDG_CACHE_HOME", "HF_HOME", "HF_HUB_CACHE", "LLAMA_CACHE"})
        env.remove(QString::fromLatin1(name));
    const QProcessEnvironment own = environment();
    for (const QString& key : own.keys())
        env.insert(key, own.value(key));
    return env;
}

qint64 tensorElements(const QString& path)
{
    qint64 total = 0;
    const GgufFile file = GgufFile::open(path.toStdString());
    for (const GgufTensor& t : file.tensors())
        total += t.elements();
    return total;
}

} // namespace folio::test
