// XHTML (an EPUB chapter) to plain text a reader and a model can follow: paragraphs
// separated by blank lines, <br> as a line break, list items on lines of their own, a
// table row on one line, no scripts or styles. The same pass keeps the chapter's
// structure as a small, safe subset of HTML for the reader to show.
#pragma once

#include <QByteArray>
#include <QString>
#include <QXmlStreamEntityResolver>

namespace folio {

struct XhtmlText {
    QString text;
    // Headings, paragraphs, emphasis, lists, tables, quotes, preformatted text and
    // external links, in HTML that QTextDocument shows. Every attribute but a few
    // harmless ones is dropped; no scripts, styles, images or links into the book.
    QString html;
    QString firstHeading;   // text of the first <h1>..<h6>, simplified; empty when none
    QString error;          // empty when well-formed; else where parsing stopped (text holds what came before)
};

XhtmlText xhtmlToText(const QByteArray& xhtml);

// HTML's named character references (&nbsp;, &mdash;, &eacute;, ...), which XHTML files
// use without declaring them; XML itself knows only five.
QString htmlEntity(QStringView name);   // empty when unknown

class HtmlEntityResolver : public QXmlStreamEntityResolver {
public:
    QString resolveUndeclaredEntity(const QString& name) override;
};

} // namespace folio
