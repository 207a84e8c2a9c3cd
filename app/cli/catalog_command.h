#pragma once

#include <QStringList>

namespace folio::cli {

// catalog [--json] [--tokens N | --doc FILE]: the models Folio offers for download; with
// a length, the extension method and the memory each would read it with.
int runCatalog(const QStringList& arguments);

} // namespace folio::cli
