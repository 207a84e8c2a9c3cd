#include "app/documents/document.h"

#include <QCoreApplication>

namespace folio {

QString documentKindName(DocumentKind kind)
{
    switch (kind) {
    case DocumentKind::Pdf: return QCoreApplication::translate("Document", "PDF");
    case DocumentKind::PlainText: return QCoreApplication::translate("Document", "Plain text");
    case DocumentKind::Markdown: return QCoreApplication::translate("Document", "Markdown");
    case DocumentKind::Epub: return QCoreApplication::translate("Document", "EPUB");
    }
    return {};
}

QString pageUnitKey(PageUnit unit)
{
    switch (unit) {
    case PageUnit::Page: return QStringLiteral("page");
    case PageUnit::Chapter: return QStringLiteral("chapter");
    case PageUnit::Section: return QStringLiteral("section");
    }
    return {};
}

QString pageUnitName(PageUnit unit, int count)
{
    // Spelled out for one and many so no installed plural translation is needed.
    const bool one = count == 1;
    switch (unit) {
    case PageUnit::Page:
        return one ? QCoreApplication::translate("Document", "1 page")
                   : QCoreApplication::translate("Document", "%1 pages").arg(count);
    case PageUnit::Chapter:
        return one ? QCoreApplication::translate("Document", "1 chapter")
                   : QCoreApplication::translate("Document", "%1 chapters").arg(count);
    case PageUnit::Section:
        return one ? QCoreApplication::translate("Document", "1 section")
                   : QCoreApplication::translate("Document", "%1 sections").arg(count);
    }
    return {};
}

QString Document::pageText(int index) const
{
    const PageRange& range = pages.page(index);
    return text.mid(range.begin, range.length());
}

QString Document::pageName(int index) const
{
    const QString& label = pages.page(index).label;
    const QString number = QString::number(index + 1);
    switch (unit) {
    case PageUnit::Page: return QCoreApplication::translate("Document", "Page %1").arg(label);
    case PageUnit::Chapter:
        // EPUB chapters carry their titles as labels; the number says where they are.
        return label.isEmpty() || label == number
                   ? QCoreApplication::translate("Document", "Chapter %1").arg(number)
                   : QCoreApplication::translate("Document", "Chapter %1: %2").arg(number, label);
    case PageUnit::Section: return QCoreApplication::translate("Document", "Section %1").arg(number);
    }
    return {};
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
