// Ollama's model store: manifests/REGISTRY/NAMESPACE/MODEL/TAG are JSON manifests
// whose layer of mediaType application/vnd.ollama.image.model names the weights by
// digest; the weights are blobs/sha256-HEX, a GGUF file without an extension.
#pragma once

#include <QList>
#include <QString>

namespace folio {

struct OllamaModel {
    QString name;      // "llama3.2:latest"; "NAMESPACE/MODEL:TAG" outside library/; other registries in front
    QString blobPath;  // blobs/sha256-HEX under the store (it may be missing)
};

// The tagged models of the store at `root` (the folder holding manifests/ and blobs/),
// in the order of their manifest paths. Manifests that are not JSON or name no model
// layer are not models and are left out.
QList<OllamaModel> readOllamaStore(const QString& root);

} // namespace folio
