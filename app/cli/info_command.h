#pragma once

#include <QStringList>

namespace folio::cli {

// `folio-cli info FILE [--json]`: what a document is. Returns the process exit code.
int runInfo(const QStringList& arguments);

} // namespace folio::cli
