#include "app/store/store_error.h"

namespace folio {

StoreError::StoreError(Kind kind, const QString& message) : m_kind(kind), m_message(message), m_utf8(message.toUtf8())
{
}

} // namespace folio
