// A loaded document: its full text, what it is, and where its pages lie in the text.
#pragma once

#include "app/documents/page_map.h"

#include <QString>
#include <QStringList>

namespace folio {

enum class DocumentKind { Pdf, PlainText, Markdown, Epub };

QString documentKindName(DocumentKind kind);   // "PDF", "Plain text", "Markdown", "EPUB"

// What a document's "pages" are, so that the UI and citations can name them.
enum class PageUnit { Page, Chapter, Section };

QString pageUnitKey(PageUnit unit);                 // "page", "chapter", "section" (stable, for files)
QString pageUnitName(PageUnit unit, int count);     // "1 page", "12 chapters" (translated)

struct Document {
    QString path;            // as opened
    DocumentKind kind = DocumentKind::PlainText;
    QString title;
    QString author;          // empty when unknown
    QString contentHash;     // SHA-256 of the file's bytes, lowercase hex: identifies the content
    PageUnit unit = PageUnit::Section;
    QString pageUnit;        // pageUnitKey(unit): "page" (PDF), "chapter" (EPUB), "section" (text)
    QString text;            // the whole text; pages are ranges of it
    PageMap pages;
    // EPUB: each page (chapter) as safe HTML for the reader to show (xhtmlToText), in
    // page order; empty for other kinds. Display only: `text` is what the model reads.
    QStringList html;
    qsizetype wordCount = 0;
    QStringList warnings;    // loaded, but the user should know (e.g. pages without text)

    int pageCount() const { return pages.count(); }
    QString pageText(int index) const;
    QString pageHtml(int index) const { return html.value(index); }   // empty when none
    // How the reader names page `index`: "Page 12", "Chapter 3: Loomings", "Section 4".
    QString pageName(int index) const;
};

qsizetype countWords(QStringView text);

} // namespace folio
