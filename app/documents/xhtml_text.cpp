#include "app/documents/xhtml_text.h"

#include <QHash>
#include <QSet>
#include <QUrl>
#include <QXmlStreamReader>

namespace folio {

namespace {

// The HTML 4 entity names for U+00A0..U+00FF, in code point order.
constexpr const char* kLatin1Entities =
    "nbsp iexcl cent pound curren yen brvbar sect uml copy ordf laquo not shy reg macr "
    "deg plusmn sup2 sup3 acute micro para middot cedil sup1 ordm raquo frac14 frac12 frac34 iquest "
    "Agrave Aacute Acirc Atilde Auml Aring AElig Ccedil Egrave Eacute Ecirc Euml Igrave Iacute Icirc Iuml "
    "ETH Ntilde Ograve Oacute Ocirc Otilde Ouml times Oslash Ugrave Uacute Ucirc Uuml Yacute THORN szlig "
    "agrave aacute acirc atilde auml aring aelig ccedil egrave eacute ecirc euml igrave iacute icirc iuml "
    "eth ntilde ograve oacute ocirc otilde ouml divide oslash ugrave uacute ucirc uuml yacute thorn yuml";

struct NamedCharacter {
    const char* name;
    char32_t code;
};

// The others that books use: typographic punctuation, spaces, a few symbols.
constexpr NamedCharacter kOtherEntities[] = {
    {"OElig", 0x152}, {"oelig", 0x153}, {"Scaron", 0x160}, {"scaron", 0x161}, {"Yuml", 0x178},
    {"fnof", 0x192}, {"circ", 0x2c6}, {"tilde", 0x2dc}, {"ensp", 0x2002}, {"emsp", 0x2003},
    {"thinsp", 0x2009}, {"zwnj", 0x200c}, {"zwj", 0x200d}, {"lrm", 0x200e}, {"rlm", 0x200f},
    {"ndash", 0x2013}, {"mdash", 0x2014}, {"lsquo", 0x2018}, {"rsquo", 0x2019}, {"sbquo", 0x201a},
    {"ldquo", 0x201c}, {"rdquo", 0x201d}, {"bdquo", 0x201e}, {"dagger", 0x2020}, {"Dagger", 0x2021},
    {"bull", 0x2022}, {"hellip", 0x2026}, {"permil", 0x2030}, {"prime", 0x2032}, {"Prime", 0x2033},
    {"lsaquo", 0x2039}, {"rsaquo", 0x203a}, {"oline", 0x203e}, {"frasl", 0x2044}, {"euro", 0x20ac},
    {"trade", 0x2122}, {"larr", 0x2190}, {"uarr", 0x2191}, {"rarr", 0x2192}, {"darr", 0x2193},
    {"minus", 0x2212}, {"infin", 0x221e}, {"ne", 0x2260}, {"le", 0x2264}, {"ge", 0x2265},
    {"apos", 0x27}, {"quot", 0x22}, {"amp", 0x26}, {"lt", 0x3c}, {"gt", 0x3e},
};

const QHash<QString, QString>& entityTable()
{
    static const QHash<QString, QString> table = [] {
        QHash<QString, QString> t;
        char32_t code = 0xa0;
        for (const QString& name : QString::fromLatin1(kLatin1Entities).split(QChar(u' ')))
            t.insert(name, QString(QChar(char16_t(code++))));
        for (const NamedCharacter& e : kOtherEntities)
            t.insert(QString::fromLatin1(e.name), QString::fromUcs4(&e.code, 1));
        return t;
    }();
    return table;
}

enum class Break { None, Space, Line, Paragraph };

// HTML's white space; a no-break space (U+00A0) is text, not a gap to collapse.
bool isHtmlSpace(QChar c)
{
    return c == QChar(u' ') || c == QChar(u'\t') || c == QChar(u'\n') || c == QChar(u'\r') || c == QChar(u'\f');
}

// Collects text the way a browser lays it out: runs of white space become one space,
// block elements start new paragraphs, and breaks are only written before more text (so
// none trail or pile up).
class TextBuilder {
public:
    void requestBreak(Break b)
    {
        if (m_cellDepth > 0 && b > Break::Space)
            b = Break::Space;   // inside a table cell: keep the row on one line
        m_pending = std::max(m_pending, b);
    }
    void lineBreak() { requestBreak(m_pending >= Break::Line ? Break::Paragraph : Break::Line); }
    void setPrefix(const QString& prefix) { m_prefix = prefix; }   // written before the next text
    void setCellSeparator() { m_cellSeparator = true; }
    void enterCell() { ++m_cellDepth; }
    void leaveCell() { --m_cellDepth; }

    void append(QStringView text, bool preformatted)
    {
        for (QChar c : text) {
            if (preformatted && c == QChar(u'\n')) {
                lineBreak();
                continue;
            }
            if (isHtmlSpace(c) && !preformatted) {
                requestBreak(Break::Space);
                continue;
            }
            if (c == QChar(0xad))
                continue;   // soft hyphen: only a hint where a word may break
            flush();
            m_out += c;
        }
    }
    QString take() { return std::move(m_out); }

private:
    void flush()
    {
        if (!m_out.isEmpty()) {
            if (m_cellSeparator && m_pending <= Break::Space)
                m_out += QStringLiteral(" | ");
            else if (m_pending == Break::Space)
                m_out += QChar(u' ');
            else if (m_pending == Break::Line)
                m_out += QChar(u'\n');
            else if (m_pending == Break::Paragraph)
                m_out += QStringLiteral("\n\n");
        }
        m_out += m_prefix;
        m_prefix.clear();
        m_pending = Break::None;
        m_cellSeparator = false;
    }

    QString m_out;
    Break m_pending = Break::None;
    QString m_prefix;
    bool m_cellSeparator = false;
    int m_cellDepth = 0;
};

bool isBlock(QStringView name)
{
    static const QStringList blocks = {
        QStringLiteral("address"), QStringLiteral("article"), QStringLiteral("aside"), QStringLiteral("blockquote"),
        QStringLiteral("body"), QStringLiteral("caption"), QStringLiteral("dd"), QStringLiteral("details"),
        QStringLiteral("div"), QStringLiteral("dl"), QStringLiteral("dt"), QStringLiteral("figcaption"),
        QStringLiteral("figure"), QStringLiteral("footer"), QStringLiteral("header"), QStringLiteral("hgroup"),
        QStringLiteral("hr"), QStringLiteral("main"), QStringLiteral("nav"), QStringLiteral("ol"),
        QStringLiteral("p"), QStringLiteral("pre"), QStringLiteral("section"), QStringLiteral("summary"),
        QStringLiteral("table"), QStringLiteral("ul"),
    };
    return blocks.contains(name);
}

bool isHeading(QStringView name)
{
    return name.size() == 2 && name[0] == QChar(u'h') && name[1] >= QChar(u'1') && name[1] <= QChar(u'6');
}

// Elements whose content is not part of the reading text.
bool isSkipped(const QXmlStreamReader& xml)
{
    static const QStringList skipped = {
        QStringLiteral("head"), QStringLiteral("script"), QStringLiteral("style"), QStringLiteral("svg"),
        QStringLiteral("math"), QStringLiteral("rt"), QStringLiteral("rp"), QStringLiteral("template"),
    };
    if (skipped.contains(xml.name()))
        return true;
    // Printed-page markers (<span epub:type="pagebreak" title="12">12</span>) would put
    // stray numbers into sentences.
    for (const QXmlStreamAttribute& a : xml.attributes()) {
        if (a.name() == QLatin1String("type") && a.value().contains(QLatin1String("pagebreak")))
            return true;
    }
    return false;
}

// What the reader shows of a chapter: the elements QTextDocument understands that say
// something about the text's structure. Others are unwrapped (their text kept).
QString safeTag(QStringView name)
{
    static const QSet<QString> kept = {
        QStringLiteral("p"), QStringLiteral("h1"), QStringLiteral("h2"), QStringLiteral("h3"), QStringLiteral("h4"),
        QStringLiteral("h5"), QStringLiteral("h6"), QStringLiteral("blockquote"), QStringLiteral("ul"),
        QStringLiteral("ol"), QStringLiteral("li"), QStringLiteral("pre"), QStringLiteral("table"),
        QStringLiteral("thead"), QStringLiteral("tbody"), QStringLiteral("tfoot"), QStringLiteral("tr"),
        QStringLiteral("td"), QStringLiteral("th"), QStringLiteral("caption"), QStringLiteral("dl"),
        QStringLiteral("dt"), QStringLiteral("dd"), QStringLiteral("em"), QStringLiteral("i"),
        QStringLiteral("strong"), QStringLiteral("b"), QStringLiteral("u"), QStringLiteral("s"),
        QStringLiteral("strike"), QStringLiteral("del"), QStringLiteral("ins"), QStringLiteral("sub"),
        QStringLiteral("sup"), QStringLiteral("code"), QStringLiteral("kbd"), QStringLiteral("samp"),
        QStringLiteral("var"), QStringLiteral("tt"), QStringLiteral("small"), QStringLiteral("big"),
        QStringLiteral("cite"), QStringLiteral("dfn"), QStringLiteral("abbr"), QStringLiteral("span"),
    };
    static const QSet<QString> blocks = {
        QStringLiteral("div"), QStringLiteral("section"), QStringLiteral("article"), QStringLiteral("aside"),
        QStringLiteral("header"), QStringLiteral("footer"), QStringLiteral("main"), QStringLiteral("nav"),
        QStringLiteral("figure"), QStringLiteral("figcaption"), QStringLiteral("address"),
        QStringLiteral("details"), QStringLiteral("summary"), QStringLiteral("hgroup"),
    };
    const QString tag = name.toString().toLower();
    if (kept.contains(tag))
        return tag;
    return blocks.contains(tag) ? QStringLiteral("div") : QString();
}

// A small whole number from an attribute ("3" for <ol start="3">), or empty.
QString numberAttribute(const QXmlStreamAttributes& attributes, QLatin1String name)
{
    bool ok = false;
    const int value = attributes.value(name).trimmed().toInt(&ok);
    return ok && value >= 0 && value <= 100000 ? QString::number(value) : QString();
}

// Writes the safe HTML as the XHTML is walked: each start tag remembers what it wrote
// (nothing, for unwrapped elements) so that end tags match even in a damaged file.
class SafeHtmlWriter {
public:
    void start(const QXmlStreamReader& xml)
    {
        const QStringView name = xml.name();
        const QXmlStreamAttributes attributes = xml.attributes();
        if (name == QLatin1String("br") || name == QLatin1String("hr")) {
            m_out += QStringLiteral("<%1/>").arg(name);
            m_open.append(QString());
            return;
        }
        if (name == QLatin1String("img") || name == QLatin1String("image")) {
            // The picture is not shown; what it shows, when the book says, is.
            const QString alt = attributes.value(QLatin1String("alt")).toString().simplified();
            if (!alt.isEmpty())
                m_out += QStringLiteral("<i>[%1]</i>").arg(alt.toHtmlEscaped());
            m_open.append(QString());
            return;
        }
        QString tag = safeTag(name);
        QString extra;
        if (name == QLatin1String("a")) {
            // Only links out of the book; the reader has no place for links into it.
            const QString href = attributes.value(QLatin1String("href")).toString().trimmed();
            const QString scheme = QUrl(href).scheme().toLower();
            if (scheme == QLatin1String("http") || scheme == QLatin1String("https") || scheme == QLatin1String("mailto")) {
                tag = QStringLiteral("a");
                extra = QStringLiteral(" href=\"%1\"").arg(href.toHtmlEscaped());
            }
        } else if (tag == QLatin1String("ol")) {
            if (const QString start = numberAttribute(attributes, QLatin1String("start")); !start.isEmpty())
                extra = QStringLiteral(" start=\"%1\"").arg(start);
        } else if (tag == QLatin1String("td") || tag == QLatin1String("th")) {
            for (const QLatin1String span : {QLatin1String("colspan"), QLatin1String("rowspan")})
                if (const QString n = numberAttribute(attributes, span); !n.isEmpty())
                    extra += QStringLiteral(" %1=\"%2\"").arg(span, n);
        }
        if (!tag.isEmpty())
            m_out += QStringLiteral("<%1%2>").arg(tag, extra);
        m_open.append(tag);
    }
    void end()
    {
        if (m_open.isEmpty())
            return;
        const QString tag = m_open.takeLast();
        if (!tag.isEmpty())
            m_out += QStringLiteral("</%1>").arg(tag);
    }
    void text(QStringView text)
    {
        QString plain = text.toString();
        plain.remove(QChar(0xad));   // as in the text: the find bar searches what is shown
        m_out += plain.toHtmlEscaped();
    }
    QString take()
    {
        while (!m_open.isEmpty())
            end();   // a damaged file stopped early: close what it left open
        return std::move(m_out);
    }

private:
    QString m_out;
    QStringList m_open;
};

struct ListState {
    bool ordered = false;
    int next = 1;
};

} // namespace

QString htmlEntity(QStringView name)
{
    return entityTable().value(name.toString());
}

QString HtmlEntityResolver::resolveUndeclaredEntity(const QString& name)
{
    const QString value = htmlEntity(name);
    // An unknown name must not stop the chapter: it becomes a replacement character.
    return value.isEmpty() ? QString(QChar(QChar::ReplacementCharacter)) : value;
}

XhtmlText xhtmlToText(const QByteArray& xhtml)
{
    XhtmlText result;
    HtmlEntityResolver resolver;
    QXmlStreamReader xml(xhtml);
    xml.setEntityResolver(&resolver);
    TextBuilder out;
    SafeHtmlWriter html;
    QVector<ListState> lists;
    int preDepth = 0;
    int headingDepth = 0;
    QString heading;

    while (!xml.atEnd()) {
        switch (xml.readNext()) {
        case QXmlStreamReader::StartElement: {
            if (isSkipped(xml)) {
                xml.skipCurrentElement();
                break;
            }
            html.start(xml);
            const QStringView name = xml.name();
            if (name == QLatin1String("br")) {
                out.lineBreak();
                if (headingDepth > 0)
                    heading += QChar(u' ');
            } else if (name == QLatin1String("li")) {
                out.requestBreak(Break::Line);
                if (lists.isEmpty() || !lists.last().ordered)
                    out.setPrefix(QStringLiteral("• "));
                else
                    out.setPrefix(QStringLiteral("%1. ").arg(lists.last().next++));
            } else if (name == QLatin1String("tr")) {
                out.requestBreak(Break::Line);
            } else if (name == QLatin1String("td") || name == QLatin1String("th")) {
                out.setCellSeparator();
                out.enterCell();
            } else if (isHeading(name)) {
                out.requestBreak(Break::Paragraph);
                ++headingDepth;
            } else if (isBlock(name)) {
                out.requestBreak(Break::Paragraph);
            }
            if (name == QLatin1String("ul") || name == QLatin1String("ol")) {
                ListState list;
                list.ordered = name == QLatin1String("ol");
                if (const QStringView start = xml.attributes().value(QLatin1String("start")); !start.isEmpty())
                    list.next = start.toInt();
                lists.append(list);
            }
            if (name == QLatin1String("pre"))
                ++preDepth;
            break;
        }
        case QXmlStreamReader::EndElement: {
            html.end();
            const QStringView name = xml.name();
            if ((name == QLatin1String("ul") || name == QLatin1String("ol")) && !lists.isEmpty())
                lists.removeLast();
            if (name == QLatin1String("pre"))
                --preDepth;
            if (name == QLatin1String("td") || name == QLatin1String("th")) {
                out.leaveCell();
            } else if (name == QLatin1String("tr") || name == QLatin1String("li")) {
                out.requestBreak(Break::Line);
            } else if (isHeading(name)) {
                if (--headingDepth == 0 && result.firstHeading.isEmpty())
                    result.firstHeading = heading.simplified();
                heading.clear();
                out.requestBreak(Break::Paragraph);
            } else if (isBlock(name)) {
                out.requestBreak(Break::Paragraph);
            }
            break;
        }
        case QXmlStreamReader::Characters:
        case QXmlStreamReader::EntityReference: {
            // An entity the reader could not resolve (the file names an external DTD).
            const QString text = xml.isCharacters() ? xml.text().toString() : htmlEntity(xml.name());
            out.append(text, preDepth > 0);
            html.text(text);
            if (headingDepth > 0)
                heading += text;
            break;
        }
        default:
            break;
        }
    }
    if (xml.hasError())
        result.error = QStringLiteral("line %1: %2").arg(xml.lineNumber()).arg(xml.errorString());
    result.text = out.take();
    result.html = html.take().trimmed();   // the white space around <body>
    return result;
}

} // namespace folio
