// The folders where other apps keep the GGUF models they downloaded, and how each
// lays them out. The default list is read from the environment (HOME, XDG_DATA_HOME,
// XDG_CACHE_HOME, HF_HUB_CACHE, HF_HOME, OLLAMA_MODELS, LLAMA_CACHE), so that tests
// point it at a fake home; callers edit the list and add folders of their own.
#pragma once

#include <QList>
#include <QProcessEnvironment>
#include <QString>

namespace folio {

enum class PlaceLayout {
    Files,        // *.gguf files, in subfolders up to `depth` deep
    Ollama,       // manifests/REGISTRY/NAMESPACE/MODEL/TAG naming blobs/sha256-HEX
    HuggingFace,  // models--OWNER--NAME/snapshots/REV/*.gguf, symlinks into blobs/
};

struct ModelPlace {
    QString source;  // the app, as the list shows it: "LM Studio", "GPT4All", ...
    QString path;
    PlaceLayout layout = PlaceLayout::Files;
    int depth = 1;   // Files: 1 = the folder's own files only
    bool operator==(const ModelPlace&) const = default;
};

// LM Studio, GPT4All, Jan, Ollama, the Hugging Face cache and llama.cpp's cache,
// in that order (the first place that reaches a file names its app).
QList<ModelPlace> defaultModelPlaces(const QProcessEnvironment& env = QProcessEnvironment::systemEnvironment());

// A folder the user adds: searched to a depth that covers any app's tree.
ModelPlace userModelFolder(const QString& path);

} // namespace folio
