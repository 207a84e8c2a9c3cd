// Finding the files Folio ships beside its binary (resources/: the demo model, sample
// documents, review venues): installed under share/folio, or in the source tree when
// run from a build directory.
#pragma once

#include <QString>

namespace folio {

// The first existing `resources/<relative>` among: <bin>/../share/folio, <bin>/resources,
// and the parents of <bin> (a build directory inside the checkout). Empty if none.
QString findResource(const QString& relative);

// resources/models/folio-demo.gguf when it exists, else empty.
QString bundledDemoModel();

} // namespace folio
