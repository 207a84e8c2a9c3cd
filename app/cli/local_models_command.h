#pragma once

#include <QStringList>

namespace folio::cli {

// models --local [--dir DIR]... [--search TEXT] [--sort KEY] [--json]: the GGUF
// models other apps (and DIRs) hold, with whether Folio runs each. Exit 0, or 2 for
// wrong usage.
int runLocalModels(const QStringList& arguments);

} // namespace folio::cli
