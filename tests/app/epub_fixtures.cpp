#include "epub_fixtures.h"

#include <zip.h>

#include <gtest/gtest.h>

namespace folio::test {

void writeZip(const QString& path, const QList<ZipEntry>& entries)
{
    int error = 0;
    zip_t* zip = zip_open(path.toUtf8().constData(), ZIP_CREATE | ZIP_TRUNCATE, &error);
    ASSERT_NE(zip, nullptr) << "libzip error " << error;
    for (const ZipEntry& entry : entries) {
        // The buffers stay alive in `entries` until zip_close writes them.
        zip_source_t* source = zip_source_buffer(zip, entry.data.constData(), zip_uint64_t(entry.data.size()), 0);
        ASSERT_NE(source, nullptr);
        const zip_int64_t index = zip_file_add(zip, entry.name.toUtf8().constData(), source, ZIP_FL_ENC_UTF_8);
        ASSERT_GE(index, 0) << zip_strerror(zip);
        if (entry.name == QLatin1String("mimetype"))
            zip_set_file_compression(zip, zip_uint64_t(index), ZIP_CM_STORE, 0);
    }
    ASSERT_EQ(zip_close(zip), 0) << zip_strerror(zip);
}

QByteArray xhtmlPage(const QString& body)
{
    return QStringLiteral("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                          "<html xmlns=\"http://www.w3.org/1999/xhtml\" xmlns:epub=\"http://www.idpf.org/2007/ops\">\n"
                          "<head><title>ignored head title</title><style>p { margin: 0 }</style></head>\n"
                          "<body>%1</body>\n</html>\n")
        .arg(body)
        .toUtf8();
}

namespace {

QString escape(const QString& s) { return s.toHtmlEscaped(); }

QByteArray navDocument(const EpubBook& book)
{
    QString items;
    for (const EpubChapter& c : book.chapters) {
        if (!c.tocTitle.isEmpty())   // the nav lives in OEBPS/, like the OPF
            items += QStringLiteral("<li><a href=\"%1#start\">%2</a></li>\n").arg(c.file, escape(c.tocTitle));
    }
    return xhtmlPage(QStringLiteral("<nav epub:type=\"landmarks\"><ol><li><a href=\"%1\">Begin reading</a></li></ol></nav>\n"
                                    "<nav epub:type=\"toc\"><h1>Contents</h1><ol>\n%2</ol></nav>")
                         .arg(book.chapters.isEmpty() ? QString() : book.chapters.first().file, items));
}

QByteArray ncxDocument(const EpubBook& book)
{
    QString points;
    int order = 1;
    for (const EpubChapter& c : book.chapters) {
        if (c.tocTitle.isEmpty())
            continue;
        points += QStringLiteral("<navPoint id=\"p%1\" playOrder=\"%1\"><navLabel><text>%2</text></navLabel>"
                                 "<content src=\"%3\"/></navPoint>\n")
                      .arg(order++)
                      .arg(escape(c.tocTitle), c.file);
    }
    return QStringLiteral("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                          "<ncx xmlns=\"http://www.daisy.org/z3986/2005/ncx/\" version=\"2005-1\">\n"
                          "<head/><docTitle><text>%1</text></docTitle>\n<navMap>\n%2</navMap>\n</ncx>\n")
        .arg(escape(book.title), points)
        .toUtf8();
}

} // namespace

QList<ZipEntry> epubEntries(const EpubBook& book)
{
    QList<ZipEntry> entries;
    entries.append({QStringLiteral("mimetype"), "application/epub+zip"});
    entries.append({QStringLiteral("META-INF/container.xml"),
                    "<?xml version=\"1.0\"?>\n"
                    "<container version=\"1.0\" xmlns=\"urn:oasis:names:tc:opendocument:xmlns:container\">\n"
                    "<rootfiles><rootfile full-path=\"OEBPS/content.opf\" "
                    "media-type=\"application/oebps-package+xml\"/></rootfiles>\n</container>\n"});
    QString manifest;
    QString spine;
    for (qsizetype i = book.chapters.size() - 1; i >= 0; --i)
        manifest += QStringLiteral("<item id=\"c%1\" href=\"%2\" media-type=\"application/xhtml+xml\"/>\n")
                        .arg(i)
                        .arg(QString::fromUtf8(book.chapters[i].file.toUtf8().toPercentEncoding("/")));
    for (qsizetype i = 0; i < book.chapters.size(); ++i)
        spine += QStringLiteral("<itemref idref=\"c%1\"/>\n").arg(i);
    if (book.toc == EpubToc::Nav)
        manifest += QStringLiteral("<item id=\"nav\" href=\"nav.xhtml\" media-type=\"application/xhtml+xml\" properties=\"nav\"/>\n");
    if (book.toc == EpubToc::Ncx)
        manifest += QStringLiteral("<item id=\"ncx\" href=\"toc.ncx\" media-type=\"application/x-dtbncx+xml\"/>\n");
    const QString creator = book.author.isEmpty() ? QString()
                                                  : QStringLiteral("<dc:creator opf:role=\"aut\">%1</dc:creator>\n"
                                                                   "<dc:creator opf:role=\"ill\">An Illustrator</dc:creator>\n")
                                                        .arg(escape(book.author));
    const QString opf =
        QStringLiteral("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                       "<package xmlns=\"http://www.idpf.org/2007/opf\" xmlns:opf=\"http://www.idpf.org/2007/opf\" "
                       "version=\"3.0\" unique-identifier=\"id\">\n"
                       "<metadata xmlns:dc=\"http://purl.org/dc/elements/1.1/\">\n"
                       "<dc:identifier id=\"id\">urn:uuid:0</dc:identifier>\n<dc:title>%1</dc:title>\n%2"
                       "<dc:language>en</dc:language>\n</metadata>\n"
                       "<manifest>\n%3</manifest>\n<spine%4>\n%5</spine>\n</package>\n")
            .arg(escape(book.title), creator, manifest,
                 book.toc == EpubToc::Ncx ? QStringLiteral(" toc=\"ncx\"") : QString(), spine);
    entries.append({QStringLiteral("OEBPS/content.opf"), opf.toUtf8()});
    if (book.toc == EpubToc::Nav)
        entries.append({QStringLiteral("OEBPS/nav.xhtml"), navDocument(book)});
    if (book.toc == EpubToc::Ncx)
        entries.append({QStringLiteral("OEBPS/toc.ncx"), ncxDocument(book)});
    for (const EpubChapter& c : book.chapters)
        entries.append({QStringLiteral("OEBPS/") + c.file, xhtmlPage(c.body)});
    return entries;
}

void removeEntry(QList<ZipEntry>& entries, const QString& name)
{
    entries.removeIf([&](const ZipEntry& e) { return e.name == name; });
}

ZipEntry* findEntry(QList<ZipEntry>& entries, const QString& name)
{
    for (ZipEntry& e : entries) {
        if (e.name == name)
            return &e;
    }
    return nullptr;
}

} // namespace folio::test
