// A model file found on this computer (model_discovery.h), described from its GGUF
// header alone: enough to list it, search it and say whether Folio runs it, without
// reading a byte of its weights.
#pragma once

#include <QString>
#include <QStringList>

namespace folio {

// What identifies the weights well enough to notice that a remembered file was
// replaced by another model under the same path, from the header alone.
struct ModelFingerprint {
    QString architecture;  // general.architecture
    QString name;          // general.name
    qint64 tensorCount = 0;  // all parts of a split set together
    bool operator==(const ModelFingerprint&) const = default;
};

struct LocalModel {
    QString path;            // the file as found (the first part of a split set)
    QString canonicalPath;   // symlinks resolved: two paths to one file are one model
    QString name;            // general.name, the app's own name (Ollama, Hugging Face), or the file's
    QString source;          // the app whose folder holds it: "LM Studio", "Ollama", ... or "Folder"
    QString family;          // general.architecture ("llama", "qwen2", ...); empty if unreadable
    QString type;            // general.file_type by name ("Q4_K_M"), else the type most bytes have
    qint64 sizeBytes = 0;    // on disk, all present parts together
    int contextLength = 0;   // {arch}.context_length, 0 when the file does not say
    qint64 parameters = 0;   // elements of every tensor; 0 when unknown (a part is missing)
    bool supported = false;  // whether Folio runs it
    QString reason;          // why not, when it does not
    QString incomplete;      // "part 2 of 3 is missing (NAME-00002-of-00003.gguf)"; empty when whole
    QStringList parts;       // every part of a split set, as found; just `path` otherwise
    ModelFingerprint fingerprint;
};

} // namespace folio
