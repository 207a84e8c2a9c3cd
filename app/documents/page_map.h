// Which characters of a document's text belong to which page (or section).
#pragma once

#include <QString>
#include <QVector>

namespace folio {

struct PageRange {
    qsizetype begin = 0;   // first character in Document::text
    qsizetype end = 0;     // one past the last character
    QString label;         // what the reader calls it: "12", "iv", "Chapter 3"
    qsizetype length() const { return end - begin; }
};

class PageMap {
public:
    void append(qsizetype begin, qsizetype end, const QString& label);
    int count() const { return int(m_pages.size()); }
    bool isEmpty() const { return m_pages.isEmpty(); }
    const PageRange& page(int index) const { return m_pages.at(index); }
    // The page holding character `position`, or -1 when it lies between or outside pages.
    int pageAt(qsizetype position) const;

private:
    QVector<PageRange> m_pages;   // ordered, non-overlapping
};

} // namespace folio
