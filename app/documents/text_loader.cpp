// Plain text and Markdown: decode, then cut into fixed-size "pages" at natural breaks
// so that answers can cite a place in the text.
#include "app/documents/document_loader.h"

#include <QCoreApplication>
#include <QFileInfo>
#include <QRegularExpression>
#include <QStringDecoder>

namespace folio {

namespace {

QString tr(const char* text) { return QCoreApplication::translate("TextLoader", text); }

bool isControlByte(unsigned char c)
{
    return (c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f') || c == 0x7f;
}

// Returns the text, or throws when the bytes are not text at all.
QString decodeText(const QString& path, const QByteArray& bytes, QStringList& warnings)
{
    if (bytes.startsWith("\xff\xfe") || bytes.startsWith("\xfe\xff")) {
        QStringDecoder utf16(bytes.startsWith("\xff\xfe") ? QStringDecoder::Utf16LE : QStringDecoder::Utf16BE,
                             QStringDecoder::Flag::Stateless);
        QString text = utf16.decode(bytes.mid(2));
        if (!utf16.hasError())
            return text;
        throw DocumentError(path, tr("the file claims to be UTF-16 text but is damaged"));
    }
    if (bytes.contains('\0'))
        throw DocumentError(path, tr("the file holds binary data, not text"));

    qsizetype controls = 0;
    for (char c : bytes)
        controls += isControlByte(static_cast<unsigned char>(c)) ? 1 : 0;
    if (controls * 100 > bytes.size())
        throw DocumentError(path, tr("the file holds binary data, not text"));

    QStringDecoder utf8(QStringDecoder::Utf8, QStringDecoder::Flag::Stateless);
    QString text = utf8.decode(bytes.startsWith("\xef\xbb\xbf") ? bytes.mid(3) : bytes);
    if (!utf8.hasError())
        return text;
    // Older texts are often Latin-1; reading them so beats refusing them.
    warnings << tr("the text is not valid UTF-8 and was read as Latin-1");
    return QString::fromLatin1(bytes);
}

// Where to end a page that starts at `begin` and may hold up to `size` characters.
qsizetype pageEnd(const QString& text, qsizetype begin, int size, bool markdown)
{
    const qsizetype limit = begin + size;
    if (limit >= text.size())
        return text.size();
    // Prefer the latest natural break in the last part of the window; a heading may
    // end a page earlier than a paragraph would, since sections are what readers cite.
    auto lastBefore = [&](QStringView needle, int minPercent = 60) -> qsizetype {
        const qsizetype at = QStringView(text).left(limit).lastIndexOf(needle);
        return at >= begin + qsizetype(size) * minPercent / 100 ? at : -1;
    };
    if (markdown) {
        if (qsizetype heading = lastBefore(u"\n#", 30); heading >= 0)
            return heading + 1;
    }
    if (qsizetype paragraph = lastBefore(u"\n\n"); paragraph >= 0)
        return paragraph + 2;
    if (qsizetype line = lastBefore(u"\n"); line >= 0)
        return line + 1;
    if (qsizetype space = lastBefore(u" "); space >= 0)
        return space + 1;
    qsizetype end = limit;
    if (text.at(end).isLowSurrogate())
        --end;   // never split a character
    return end;
}

void findTitleAndAuthor(Document& doc)
{
    static const QRegularExpression heading(QStringLiteral("^#\\s+(.+?)\\s*#*\\s*$"),
                                            QRegularExpression::MultilineOption);
    static const QRegularExpression titleLine(QStringLiteral("^Title:\\s*(.+?)\\s*$"),
                                              QRegularExpression::MultilineOption);
    static const QRegularExpression authorLine(QStringLiteral("^Author:\\s*(.+?)\\s*$"),
                                               QRegularExpression::MultilineOption);
    const QString head = doc.text.left(8000);
    if (doc.kind == DocumentKind::Markdown) {
        if (auto m = heading.match(head); m.hasMatch())
            doc.title = m.captured(1);
    }
    if (doc.title.isEmpty()) {
        if (auto m = titleLine.match(head); m.hasMatch())
            doc.title = m.captured(1);
    }
    if (auto m = authorLine.match(head); m.hasMatch())
        doc.author = m.captured(1);
    if (doc.title.isEmpty()) {
        const QString first = head.trimmed().section(QChar(u'\n'), 0, 0).trimmed();
        if (!first.isEmpty() && first.size() <= 80)
            doc.title = first;
    }
    if (doc.title.isEmpty())
        doc.title = QFileInfo(doc.path).completeBaseName();
}

} // namespace

Document loadText(const QString& path, const QByteArray& bytes, DocumentKind kind, int pageChars)
{
    Document doc;
    doc.path = path;
    doc.kind = kind;
    doc.unit = PageUnit::Section;
    doc.pageUnit = pageUnitKey(doc.unit);
    doc.text = decodeText(path, bytes, doc.warnings);
    doc.text.replace(QStringLiteral("\r\n"), QStringLiteral("\n"));
    doc.text.replace(QChar(u'\r'), QChar(u'\n'));
    if (doc.text.trimmed().isEmpty())
        throw DocumentError(path, tr("the file holds no text (only white space)"));

    const int size = qMax(200, pageChars);
    for (qsizetype begin = 0; begin < doc.text.size();) {
        const qsizetype end = pageEnd(doc.text, begin, size, kind == DocumentKind::Markdown);
        doc.pages.append(begin, end, QString::number(doc.pages.count() + 1));
        begin = end;
    }
    findTitleAndAuthor(doc);
    doc.wordCount = countWords(doc.text);
    return doc;
}

} // namespace folio
