// EPUB: a zip holding META-INF/container.xml, which names the package document (OPF);
// the OPF lists the files (manifest) and their reading order (spine). Each spine item
// with text becomes one chapter, titled from the table of contents (EPUB 3 nav or
// EPUB 2 NCX) or else from its first heading.
#include "app/documents/document_loader.h"
#include "app/documents/xhtml_text.h"
#include "app/documents/zip_archive.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QHash>
#include <QSet>
#include <QUrl>
#include <QXmlStreamReader>

namespace folio {

namespace {

QString tr(const char* text) { return QCoreApplication::translate("EpubLoader", text); }

const QLatin1String kDublinCore("http://purl.org/dc/elements/1.1/");

struct ManifestItem {
    QString path;        // entry name in the zip
    QString mediaType;
    QString properties;  // EPUB 3: "nav", "cover-image", ...
};

struct Package {
    QString title;
    QStringList authors;
    QHash<QString, ManifestItem> manifest;   // by id
    QStringList spine;                        // manifest ids in reading order
    QString ncxId;                            // EPUB 2 table of contents
};

// Where an href written in a file in `baseDir` points inside the zip.
QString resolveHref(const QString& baseDir, const QString& href)
{
    const QString file = QUrl::fromPercentEncoding(href.section(QChar(u'#'), 0, 0).toUtf8());
    if (file.startsWith(QChar(u'/')))
        return QDir::cleanPath(file.mid(1));
    return QDir::cleanPath(baseDir.isEmpty() ? file : baseDir + QChar(u'/') + file);
}

QString directoryOf(const QString& entry)
{
    const qsizetype slash = entry.lastIndexOf(QChar(u'/'));
    return slash < 0 ? QString() : entry.left(slash);
}

// An attribute by its local name, whatever prefix the file gives it ("opf:role", "epub:type").
QStringView attribute(const QXmlStreamAttributes& attributes, QLatin1String localName)
{
    for (const QXmlStreamAttribute& a : attributes) {
        if (a.name() == localName)
            return a.value();
    }
    return {};
}

QString xmlProblem(const QXmlStreamReader& xml)
{
    return QStringLiteral("line %1: %2").arg(xml.lineNumber()).arg(xml.errorString());
}

class EpubReader {
public:
    EpubReader(const QString& path, const QByteArray& bytes, qint64 maxUnpackedBytes)
        : m_path(path), m_zip(open(path, bytes, maxUnpackedBytes))
    {
    }

    Document load();

private:
    static std::unique_ptr<ZipArchive> open(const QString& path, const QByteArray& bytes, qint64 budget)
    {
        try {
            return std::make_unique<ZipArchive>(bytes, budget);
        } catch (const ZipError& e) {
            throw DocumentError(path, tr("not a readable EPUB: %1").arg(e.problem()));
        }
    }
    QByteArray read(const QString& entry)
    {
        try {
            return m_zip->read(entry);
        } catch (const ZipError& e) {
            throw DocumentError(m_path, tr("the EPUB is damaged: %1").arg(e.problem()));
        }
    }
    QString packagePath();
    Package readPackage(const QString& opfPath);
    QSet<QString> encryptedEntries();
    QHash<QString, QString> tableOfContents(const Package& package);
    void readNav(const QString& navPath, QHash<QString, QString>& titles);
    void readNcx(const QString& ncxPath, QHash<QString, QString>& titles);

    QString m_path;
    std::unique_ptr<ZipArchive> m_zip;
    QStringList m_warnings;
};

QString EpubReader::packagePath()
{
    const QString container = QStringLiteral("META-INF/container.xml");
    if (!m_zip->contains(container))
        throw DocumentError(m_path, tr("not an EPUB: META-INF/container.xml is missing"));
    QXmlStreamReader xml(read(container));
    while (!xml.atEnd()) {
        if (xml.readNext() == QXmlStreamReader::StartElement && xml.name() == QLatin1String("rootfile")) {
            const QString fullPath = xml.attributes().value(QLatin1String("full-path")).toString();
            if (!fullPath.isEmpty())
                return QDir::cleanPath(fullPath);
        }
    }
    if (xml.hasError())
        throw DocumentError(m_path, tr("the EPUB's META-INF/container.xml is damaged (%1)").arg(xmlProblem(xml)));
    throw DocumentError(m_path, tr("the EPUB's META-INF/container.xml names no package document (OPF)"));
}

Package EpubReader::readPackage(const QString& opfPath)
{
    if (!m_zip->contains(opfPath))
        throw DocumentError(m_path, tr("the EPUB's package document \"%1\" is missing").arg(opfPath));
    const QString base = directoryOf(opfPath);
    Package package;
    QXmlStreamReader xml(read(opfPath));
    while (!xml.atEnd()) {
        if (xml.readNext() != QXmlStreamReader::StartElement)
            continue;
        const QStringView name = xml.name();
        const QXmlStreamAttributes attrs = xml.attributes();
        if (xml.namespaceUri() == kDublinCore && name == QLatin1String("title")) {
            const QString title = xml.readElementText(QXmlStreamReader::IncludeChildElements).simplified();
            if (package.title.isEmpty())
                package.title = title;   // later ones are subtitles or other languages
        } else if (xml.namespaceUri() == kDublinCore && name == QLatin1String("creator")) {
            // EPUB 2 marks illustrators, editors, ... with opf:role; authors have "aut" or none.
            const QStringView role = attribute(attrs, QLatin1String("role"));
            const QString creator = xml.readElementText(QXmlStreamReader::IncludeChildElements).simplified();
            if (!creator.isEmpty() && (role.isEmpty() || role == QLatin1String("aut")))
                package.authors << creator;
        } else if (name == QLatin1String("item")) {
            ManifestItem item;
            item.path = resolveHref(base, attrs.value(QLatin1String("href")).toString());
            item.mediaType = attrs.value(QLatin1String("media-type")).toString();
            item.properties = attrs.value(QLatin1String("properties")).toString();
            package.manifest.insert(attrs.value(QLatin1String("id")).toString(), item);
        } else if (name == QLatin1String("spine")) {
            package.ncxId = attrs.value(QLatin1String("toc")).toString();
        } else if (name == QLatin1String("itemref")) {
            package.spine << attrs.value(QLatin1String("idref")).toString();
        }
    }
    if (xml.hasError())
        throw DocumentError(m_path, tr("the EPUB's package document \"%1\" is damaged (%2)").arg(opfPath, xmlProblem(xml)));
    if (package.spine.isEmpty())
        throw DocumentError(m_path, tr("the EPUB's package document lists no chapters (empty spine)"));
    return package;
}

// Files listed in META-INF/encryption.xml, except fonts obfuscated as the EPUB standard
// allows (that protects the font, not the text).
QSet<QString> EpubReader::encryptedEntries()
{
    QSet<QString> entries;
    const QString manifest = QStringLiteral("META-INF/encryption.xml");
    if (!m_zip->contains(manifest))
        return entries;
    QXmlStreamReader xml(read(manifest));
    QString algorithm;
    while (!xml.atEnd()) {
        if (xml.readNext() != QXmlStreamReader::StartElement)
            continue;
        if (xml.name() == QLatin1String("EncryptionMethod"))
            algorithm = xml.attributes().value(QLatin1String("Algorithm")).toString();
        else if (xml.name() == QLatin1String("CipherReference")) {
            const bool fontObfuscation = algorithm == QLatin1String("http://www.idpf.org/2008/embedding") ||
                                         algorithm == QLatin1String("http://ns.adobe.com/pdf/enc#RC");
            if (!fontObfuscation)
                entries.insert(resolveHref({}, xml.attributes().value(QLatin1String("URI")).toString()));
            algorithm.clear();
        }
    }
    return entries;
}

void EpubReader::readNav(const QString& navPath, QHash<QString, QString>& titles)
{
    const QString base = directoryOf(navPath);
    HtmlEntityResolver resolver;
    QXmlStreamReader xml(read(navPath));
    xml.setEntityResolver(&resolver);
    // Links of each <nav>; the one marked epub:type="toc" wins, else the first.
    QVector<QVector<std::pair<QString, QString>>> navs;
    int tocIndex = -1;
    int navDepth = 0;
    while (!xml.atEnd()) {
        const auto token = xml.readNext();
        if (token == QXmlStreamReader::EndElement && xml.name() == QLatin1String("nav"))
            --navDepth;
        if (token != QXmlStreamReader::StartElement)
            continue;
        if (xml.name() == QLatin1String("nav")) {
            if (navDepth++ == 0) {
                navs.append(QVector<std::pair<QString, QString>>());
                if (tocIndex < 0 && attribute(xml.attributes(), QLatin1String("type")).contains(QLatin1String("toc")))
                    tocIndex = int(navs.size()) - 1;
            }
        } else if (xml.name() == QLatin1String("a") && navDepth > 0) {
            const QString href = xml.attributes().value(QLatin1String("href")).toString();
            const QString text = xml.readElementText(QXmlStreamReader::IncludeChildElements).simplified();
            if (!href.isEmpty() && !text.isEmpty())
                navs.last().append({resolveHref(base, href), text});
        }
    }
    if (xml.hasError())
        m_warnings << tr("the table of contents is damaged (%1); some chapter titles come from headings")
                          .arg(xmlProblem(xml));
    if (navs.isEmpty())
        return;
    for (const auto& [file, title] : navs.at(tocIndex >= 0 ? tocIndex : 0))
        titles.insert(file, titles.value(file, title));   // a file's first entry names it
}

void EpubReader::readNcx(const QString& ncxPath, QHash<QString, QString>& titles)
{
    const QString base = directoryOf(ncxPath);
    QXmlStreamReader xml(read(ncxPath));
    QString label;
    while (!xml.atEnd()) {
        if (xml.readNext() != QXmlStreamReader::StartElement)
            continue;
        if (xml.name() == QLatin1String("text")) {
            label = xml.readElementText(QXmlStreamReader::IncludeChildElements).simplified();
        } else if (xml.name() == QLatin1String("content")) {
            const QString src = xml.attributes().value(QLatin1String("src")).toString();
            if (!src.isEmpty() && !label.isEmpty()) {
                const QString file = resolveHref(base, src);
                titles.insert(file, titles.value(file, label));
            }
            label.clear();
        }
    }
    if (xml.hasError())
        m_warnings << tr("the table of contents is damaged (%1); some chapter titles come from headings")
                          .arg(xmlProblem(xml));
}

QHash<QString, QString> EpubReader::tableOfContents(const Package& package)
{
    QHash<QString, QString> titles;
    for (const ManifestItem& item : package.manifest) {
        if (item.properties.split(QChar(u' ')).contains(QLatin1String("nav")) && m_zip->contains(item.path)) {
            readNav(item.path, titles);
            return titles;
        }
    }
    const auto ncx = package.manifest.constFind(package.ncxId);
    if (ncx != package.manifest.cend() && m_zip->contains(ncx->path))
        readNcx(ncx->path, titles);
    return titles;
}

Document EpubReader::load()
{
    const Package package = readPackage(packagePath());
    const QSet<QString> encrypted = encryptedEntries();
    for (const QString& id : package.spine) {
        const auto item = package.manifest.constFind(id);
        if (item == package.manifest.cend())
            throw DocumentError(m_path, tr("the EPUB's spine names item \"%1\", which its manifest does not list").arg(id));
        if (!m_zip->contains(item->path))
            throw DocumentError(m_path, tr("the EPUB is incomplete: chapter file \"%1\" is missing").arg(item->path));
        if (encrypted.contains(item->path))
            throw DocumentError(m_path, tr("the EPUB is protected by DRM (its chapters are encrypted); "
                                           "Folio can read only DRM-free books"));
    }
    const QHash<QString, QString> titles = tableOfContents(package);

    Document doc;
    doc.path = m_path;
    doc.kind = DocumentKind::Epub;
    doc.unit = PageUnit::Chapter;
    doc.pageUnit = pageUnitKey(doc.unit);
    QString firstHeading;
    for (const QString& id : package.spine) {
        const ManifestItem item = package.manifest.value(id);
        if (item.mediaType.startsWith(QLatin1String("image/")))
            continue;   // a picture in the reading order (a cover) holds no text
        const XhtmlText chapter = xhtmlToText(read(item.path));
        if (!chapter.error.isEmpty())
            m_warnings << tr("\"%1\" is not well-formed XHTML (%2); its text may be incomplete").arg(item.path, chapter.error);
        const QString text = chapter.text.trimmed();
        if (text.isEmpty())
            continue;   // cover pages, image-only pages
        if (firstHeading.isEmpty())
            firstHeading = chapter.firstHeading;
        if (!doc.text.isEmpty())
            doc.text += QStringLiteral("\n\n");
        const qsizetype begin = doc.text.size();
        doc.text += text;
        QString title = titles.value(item.path, chapter.firstHeading);
        if (title.isEmpty())
            title = QString::number(doc.pages.count() + 1);
        doc.pages.append(begin, doc.text.size(), title);
        doc.html.append(chapter.html);
    }
    if (doc.pages.isEmpty())
        throw DocumentError(m_path, tr("the EPUB holds no text (its chapters are empty or only images)"));
    doc.title = !package.title.isEmpty() ? package.title
                : !firstHeading.isEmpty() ? firstHeading
                                          : QFileInfo(m_path).completeBaseName();
    doc.author = package.authors.join(QStringLiteral(", "));
    doc.warnings = m_warnings;
    doc.wordCount = countWords(doc.text);
    return doc;
}

} // namespace

Document loadEpub(const QString& path, const QByteArray& bytes, qint64 maxUnpackedBytes)
{
    return EpubReader(path, bytes, maxUnpackedBytes).load();
}

} // namespace folio
