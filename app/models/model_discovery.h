// "Models on this computer": finds the GGUF files other apps (LM Studio, GPT4All,
// Jan, Ollama, the Hugging Face cache, llama.cpp) and the user's own folders hold,
// and describes each from its header (model_header.h). Read-only: nothing is
// copied, moved or changed, and no weights are read.
//
// Split sets (NAME-00001-of-00003.gguf ...) are one model; a set with a part missing
// is listed as incomplete. Downloads in progress (*.part, GPT4All's incomplete-*)
// are not listed. A file reached by two paths (Hugging Face snapshot symlinks, two
// Ollama tags, a folder inside another) is listed once, under the first place.
#pragma once

#include "app/models/local_model.h"
#include "app/models/model_places.h"

#include <QList>

namespace folio {

struct ModelScan {
    QList<LocalModel> models;     // in the order of the places, then of the paths
    QList<ModelPlace> searched;   // the places that exist
};

// A few milliseconds per file with a warm page cache, but a cold disk seeks for
// every header: the GUI runs it off its thread (QtConcurrent::run).
ModelScan scanModels(const QList<ModelPlace>& places);

} // namespace folio
