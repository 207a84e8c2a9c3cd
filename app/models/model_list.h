// What a list of found models needs besides the scan: sorting, a search filter, and
// recognising a remembered choice again. Plain functions, for the CLI and the UI.
#pragma once

#include "app/models/local_model.h"

#include <QList>
#include <QString>
#include <QVariantMap>

#include <optional>

namespace folio {

enum class ModelSortKey { Name, Source, Family, Type, Size, Context, Parameters };

// "name", "app" (or "source"), "family", "type", "size", "context", "parameters".
std::optional<ModelSortKey> modelSortKeyFromName(const QString& name);

// Stable; text case-insensitively; ties by name, then path.
void sortModels(QList<LocalModel>& models, ModelSortKey key, Qt::SortOrder order = Qt::AscendingOrder);

// The models whose name, family or app contains `text` (case-insensitive); all of
// them for an empty text.
QList<LocalModel> filterModels(const QList<LocalModel>& models, const QString& text);

// A model the user chose, as the settings keep it.
struct RememberedModel {
    QString path;
    qint64 sizeBytes = 0;
    ModelFingerprint fingerprint;
};

RememberedModel rememberModel(const LocalModel& model);

// For QSettings: {path, size, architecture, name, tensors}; nullopt when a key is missing.
QVariantMap rememberedModelToVariant(const RememberedModel& remembered);
std::optional<RememberedModel> rememberedModelFromVariant(const QVariantMap& map);

struct RememberedCheck {
    bool same = false;
    QString reason;  // why not: "the file is gone", "its size changed", ...
};

// Whether the file at remembered.path is still the model that was chosen: it exists,
// has the same size and its header the same fingerprint. Reads the header only.
RememberedCheck checkRememberedModel(const RememberedModel& remembered);

} // namespace folio
