#pragma once

#include <QStringList>

namespace folio::cli {

// review --model M --doc PAPER --venue iclr|neurips|icml|cvpr|acl [--db P] [--out FILE.md]:
// a structured review along the venue's form, written as the authors' check before
// submission. Streams the answer; --out writes it as Markdown (sections and scores read
// back from the answer, problems such as off-scale scores listed). Exit codes as `ask`.
int runReview(const QStringList& arguments);

} // namespace folio::cli
