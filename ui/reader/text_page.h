// How the reader shows a page of a document that is not drawn as a PDF page: an EPUB
// chapter as its safe HTML (kept by the loader), Markdown as Markdown, and plain text
// as paragraphs. The find bar searches the same formatted text, so that what it counts
// is what the page shows.
#pragma once

#include "app/documents/document.h"

#include <QString>

class QTextDocument;
class QTextEdit;

namespace folio {

struct TextPage {
    enum class Format { Html, Markdown };
    Format format = Format::Html;
    QString source;
};

TextPage textPage(const Document& document, int index);
void showTextPage(QTextEdit* view, const TextPage& page);
void setTextPage(QTextDocument* target, const TextPage& page);
// The page's text as it is shown (paragraphs on lines of their own): what find searches.
QString shownText(const Document& document, int index);

// Plain text as HTML paragraphs: blank lines part paragraphs, hard-wrapped lines are
// joined, short lines (verse, addresses) and indented blocks keep their line breaks,
// a short line in capitals is a heading.
QString plainTextToHtml(QStringView text);

} // namespace folio
