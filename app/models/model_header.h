// Fills a LocalModel from the GGUF headers of its files: metadata and tensor
// descriptions only. GgufFile maps the file but reads only the header pages, so a
// 40 GB model costs what its vocabulary costs; no file is ever written.
#pragma once

#include "app/models/local_model.h"

#include <QString>

namespace folio {

// The llama.cpp name of a general.file_type value ("Q4_K_M"); empty for unknown ones.
QString fileTypeName(qint64 fileType);

// Reads model.parts (the parts that are present; part 1 first when it is) and sets
// family, type, context, parameters, fingerprint, supported and reason, and the name
// when model.name is still empty. A damaged header makes the model unsupported, with
// the reader's message as the reason; model.incomplete, when set, is a reason too.
void readModelHeaders(LocalModel& model, int totalParts);

// The fingerprint of the file(s) at `parts` now; throws GgufError when unreadable.
ModelFingerprint readFingerprint(const QStringList& parts);

} // namespace folio
