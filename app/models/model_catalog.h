// The catalog of models Folio offers for download (resources/catalog/models.json,
// bundled as ":/catalog/models.json"): which GGUF file, how big, trained on what
// context, under what licence, and — for a document of a given length — the memory
// and the extension method the context planner would choose.
#pragma once

#include "engine/attention/kv_cache.h"
#include "engine/session/context_planner.h"

#include <QList>
#include <QString>

#include <cstddef>

namespace folio {

struct CatalogEntry {
    QString id, name;
    QString huggingFace;   // OWNER/REPO:FILE, as ModelDownload takes it
    QString architecture;  // general.architecture
    QString parameters, quant, licence, note;
    qint64 sizeBytes = 0;
    bool sizeApproximate = false;
    int trainedContext = 0;
    int layers = 0, kvHeads = 0, headDim = 0;  // what the KV cache's size depends on
    bool runs = false;     // Folio's engine runs this architecture
};

struct Catalog {
    QList<CatalogEntry> models;
    QString error;  // empty when every entry was read
};

// A catalog file; an entry missing a field is an error naming it, not a silent zero.
Catalog loadCatalog(const QString& path = QStringLiteral(":/catalog/models.json"));

struct CatalogPlan {
    ExtensionMethod method = ExtensionMethod::None;
    KvType kvType = KvType::F16;
    std::size_t weightBytes = 0;  // the file, mapped
    std::size_t kvBytes = 0;
    std::size_t total() const { return weightBytes + kvBytes; }
};

// What reading `tokens` tokens with this model takes, before it is downloaded. The
// planner (planContext) needs a loaded Model, so this mirrors its rule on the
// catalog's shape instead: no extension while the text fits the trained context,
// Dual Chunk Attention beyond (DCA keeps one cache entry per token, so its memory is
// the plain cache's); KV = 2 · layers · KV heads · tokens · bytes per head row, plus
// the weights. It leaves out the micro-batch scratch (tens of MB).
CatalogPlan planForCatalogEntry(const CatalogEntry& entry, int tokens, KvType kvType = KvType::F16);

} // namespace folio
