// A loaded document: its full text, what it is, and where its pages lie in the text.
#pragma once

#include "app/documents/page_map.h"

#include <QString>
#include <QStringList>

namespace folio {

enum class DocumentKind { Pdf, PlainText, Markdown };

QString documentKindName(DocumentKind kind);   // "PDF", "Plain text", "Markdown"

struct Document {
    QString path;            // as opened
    DocumentKind kind = DocumentKind::PlainText;
    QString title;
    QString author;          // empty when unknown
    QString pageUnit;        // what a page is called: "page" for PDF, "section" for text
    QString text;            // the whole text; pages are ranges of it
    PageMap pages;
    qsizetype wordCount = 0;
    QStringList warnings;    // loaded, but the user should know (e.g. pages without text)

    int pageCount() const { return pages.count(); }
    QString pageText(int index) const;
};

qsizetype countWords(QStringView text);

} // namespace folio
