#include "app/documents/document.h"

#include <QCoreApplication>

namespace folio {

QString documentKindName(DocumentKind kind)
{
    switch (kind) {
    case DocumentKind::Pdf: return QCoreApplication::translate("Document", "PDF");
    case DocumentKind::PlainText: return QCoreApplication::translate("Document", "Plain text");
    case DocumentKind::Markdown: return QCoreApplication::translate("Document", "Markdown");
    }
    return {};
}

QString Document::pageText(int index) const
{
    const PageRange& range = pages.page(index);
    return text.mid(range.begin, range.length());
}

qsizetype countWords(QStringView text)
{
    qsizetype words = 0;
    bool inWord = false;
    for (QChar c : text) {
        const bool space = c.isSpace();
        if (!space && !inWord)
            ++words;
        inWord = !space;
    }
    return words;
}

} // namespace folio
