#include "app/models/model_places.h"

#include <QDir>

namespace folio {

namespace {

QString envOr(const QProcessEnvironment& env, const QString& name, const QString& fallback)
{
    const QString value = env.value(name);
    return value.isEmpty() ? fallback : value;
}

QString under(const QString& folder, const QString& relative) { return QDir::cleanPath(folder + u'/' + relative); }

} // namespace

QList<ModelPlace> defaultModelPlaces(const QProcessEnvironment& env)
{
    const QString home = envOr(env, QStringLiteral("HOME"), QDir::homePath());
    const QString dataHome = envOr(env, QStringLiteral("XDG_DATA_HOME"), under(home, QStringLiteral(".local/share")));
    const QString cacheHome = envOr(env, QStringLiteral("XDG_CACHE_HOME"), under(home, QStringLiteral(".cache")));
    const auto files = PlaceLayout::Files;

    QList<ModelPlace> places;
    // LM Studio: models/PUBLISHER/REPO/*.gguf; before 0.3 under ~/.cache/lm-studio.
    const QString lmStudio = QStringLiteral("LM Studio");
    places.append({lmStudio, under(home, QStringLiteral(".lmstudio/models")), files, 3});
    places.append({lmStudio, under(home, QStringLiteral(".cache/lm-studio/models")), files, 3});
    places.append({QStringLiteral("GPT4All"), under(dataHome, QStringLiteral("nomic.ai/GPT4All")), files, 1});
    // Jan: its data folder holds models/ (older releases) and llamacpp/models/MODEL/.
    const QString jan = QStringLiteral("Jan");
    for (const QString& data : {under(home, QStringLiteral("jan")), under(dataHome, QStringLiteral("Jan/data"))}) {
        places.append({jan, under(data, QStringLiteral("models")), files, 4});
        places.append({jan, under(data, QStringLiteral("llamacpp/models")), files, 4});
    }
    // Ollama: the user's own store, or the system service's when OLLAMA_MODELS is unset.
    const QString ollama = QStringLiteral("Ollama");
    if (const QString custom = env.value(QStringLiteral("OLLAMA_MODELS")); !custom.isEmpty()) {
        places.append({ollama, QDir::cleanPath(custom), PlaceLayout::Ollama, 0});
    } else {
        places.append({ollama, under(home, QStringLiteral(".ollama/models")), PlaceLayout::Ollama, 0});
        places.append({ollama, QStringLiteral("/usr/share/ollama/.ollama/models"), PlaceLayout::Ollama, 0});
    }
    QString hub = env.value(QStringLiteral("HF_HUB_CACHE"));
    if (hub.isEmpty() && !env.value(QStringLiteral("HF_HOME")).isEmpty())
        hub = under(env.value(QStringLiteral("HF_HOME")), QStringLiteral("hub"));
    if (hub.isEmpty())
        hub = under(cacheHome, QStringLiteral("huggingface/hub"));
    places.append({QStringLiteral("Hugging Face"), QDir::cleanPath(hub), PlaceLayout::HuggingFace, 0});
    // llama.cpp's -hf downloads: flat OWNER_REPO_FILE.gguf files (newer builds nest them).
    places.append({QStringLiteral("llama.cpp"),
                   QDir::cleanPath(envOr(env, QStringLiteral("LLAMA_CACHE"), under(cacheHome, QStringLiteral("llama.cpp")))),
                   files, 4});
    return places;
}

ModelPlace userModelFolder(const QString& path)
{
    return {QStringLiteral("Folder"), QDir::cleanPath(path), PlaceLayout::Files, 8};
}

} // namespace folio
