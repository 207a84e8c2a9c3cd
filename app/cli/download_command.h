#pragma once

#include <QStringList>

namespace folio::cli {

// download SOURCE --to DIR [--sha256 HEX]: SOURCE is a URL or OWNER/REPO:FILE. Progress
// on stderr; exit 0 once the file is verified and in place, 1 with one "error:" line
// otherwise, 2 for wrong usage.
int runDownload(const QStringList& arguments);

} // namespace folio::cli
