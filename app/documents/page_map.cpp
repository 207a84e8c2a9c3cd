#include "app/documents/page_map.h"

#include <algorithm>

namespace folio {

void PageMap::append(qsizetype begin, qsizetype end, const QString& label)
{
    Q_ASSERT(begin <= end);
    Q_ASSERT(m_pages.isEmpty() || m_pages.back().end <= begin);
    m_pages.append(PageRange{begin, end, label});
}

int PageMap::pageAt(qsizetype position) const
{
    // First page whose end lies beyond the position; it holds it unless the position
    // falls in the gap before that page's start.
    auto it = std::upper_bound(m_pages.cbegin(), m_pages.cend(), position,
                               [](qsizetype pos, const PageRange& p) { return pos < p.end; });
    if (it == m_pages.cend() || position < it->begin)
        return -1;
    return int(it - m_pages.cbegin());
}

} // namespace folio
