// EPUB: chapters in spine order with their titles, XHTML to text, and damaged books.
#include "app/documents/document_loader.h"
#include "app/documents/xhtml_text.h"

#include "epub_fixtures.h"
#include "pdf_fixtures.h"

#include <QFile>
#include <QTemporaryDir>

#include <gtest/gtest.h>

using namespace folio;

namespace {

test::EpubBook threeChapters()
{
    test::EpubBook book;
    book.title = QStringLiteral("The Harbour Book");
    book.author = QStringLiteral("Ishmael Tester");
    book.chapters = {
        {QStringLiteral("text/cover.xhtml"), {}, QStringLiteral("<div><img src=\"cover.jpg\" alt=\"\"/></div>")},
        {QStringLiteral("text/chapter one.xhtml"), QStringLiteral("I. Loomings"),
         QStringLiteral("<h1 id=\"start\">Chapter I<br/>Loomings</h1><p>Call me Tester.</p><p>Some years ago.</p>")},
        {QStringLiteral("text/ch2.xhtml"), QStringLiteral("II. The Carpet-Bag"),
         QStringLiteral("<h2>The Carpet-Bag</h2><p>I stuffed a shirt or two.</p>")},
        {QStringLiteral("ch3.xhtml"), {}, QStringLiteral("<section><h2>The Spouter-Inn</h2><p>Entering that gable-ended inn.</p></section>")},
    };
    return book;
}

class EpubTest : public ::testing::Test {
protected:
    QString write(const QList<test::ZipEntry>& entries, const QString& name = QStringLiteral("book.epub"))
    {
        const QString path = dir.filePath(name);
        test::writeZip(path, entries);
        return path;
    }
    std::string loadError(const QString& path, const LoadOptions& options = {})
    {
        try {
            DocumentLoader::load(path, options);
        } catch (const DocumentError& e) {
            EXPECT_TRUE(e.message().startsWith(path)) << "the message must name the file: " << e.what();
            return e.problem().toStdString();
        }
        return "<loaded without error>";
    }
    QTemporaryDir dir;
};

bool contains(const std::string& text, const char* part) { return text.find(part) != std::string::npos; }

} // namespace

TEST_F(EpubTest, ChaptersInSpineOrderTitledFromTheNav)
{
    const Document doc = DocumentLoader::load(write(test::epubEntries(threeChapters())));
    EXPECT_EQ(doc.kind, DocumentKind::Epub);
    EXPECT_EQ(doc.unit, PageUnit::Chapter);
    EXPECT_EQ(doc.pageUnit, QStringLiteral("chapter"));
    EXPECT_EQ(doc.title, QStringLiteral("The Harbour Book"));
    EXPECT_EQ(doc.author, QStringLiteral("Ishmael Tester"));   // the illustrator is not an author
    ASSERT_EQ(doc.pageCount(), 3);                              // the image-only cover is no chapter
    EXPECT_EQ(doc.pages.page(0).label, QStringLiteral("I. Loomings"));
    EXPECT_EQ(doc.pages.page(1).label, QStringLiteral("II. The Carpet-Bag"));
    EXPECT_EQ(doc.pages.page(2).label, QStringLiteral("The Spouter-Inn"));   // not in the toc: its heading
    EXPECT_EQ(doc.pageText(0), QStringLiteral("Chapter I\nLoomings\n\nCall me Tester.\n\nSome years ago."));
    EXPECT_EQ(doc.pageText(1), QStringLiteral("The Carpet-Bag\n\nI stuffed a shirt or two."));
    EXPECT_EQ(doc.pageText(2), QStringLiteral("The Spouter-Inn\n\nEntering that gable-ended inn."));
    EXPECT_EQ(doc.pageName(1), QStringLiteral("Chapter 2: II. The Carpet-Bag"));
    EXPECT_EQ(pageUnitName(doc.unit, doc.pageCount()), QStringLiteral("3 chapters"));
    EXPECT_EQ(doc.pages.pageAt(doc.text.indexOf(QStringLiteral("shirt"))), 1);
    EXPECT_FALSE(doc.text.contains(QStringLiteral("ignored head title")));
    EXPECT_FALSE(doc.text.contains(QStringLiteral("margin")));
    EXPECT_EQ(doc.contentHash.size(), 64);
    EXPECT_TRUE(doc.warnings.isEmpty()) << doc.warnings.join(QStringLiteral("; ")).toStdString();
}

TEST_F(EpubTest, Epub2TitlesFromTheNcx)
{
    test::EpubBook book = threeChapters();
    book.toc = test::EpubToc::Ncx;
    const Document doc = DocumentLoader::load(write(test::epubEntries(book)));
    ASSERT_EQ(doc.pageCount(), 3);
    EXPECT_EQ(doc.pages.page(0).label, QStringLiteral("I. Loomings"));
    EXPECT_EQ(doc.pages.page(1).label, QStringLiteral("II. The Carpet-Bag"));
}

TEST_F(EpubTest, WithoutATableOfContentsTitlesComeFromHeadings)
{
    test::EpubBook book = threeChapters();
    book.toc = test::EpubToc::None;
    book.title.clear();
    book.chapters.append({QStringLiteral("notes.xhtml"), {}, QStringLiteral("<p>No heading here.</p>")});
    const Document doc = DocumentLoader::load(write(test::epubEntries(book), QStringLiteral("untitled.epub")));
    ASSERT_EQ(doc.pageCount(), 4);
    EXPECT_EQ(doc.pages.page(0).label, QStringLiteral("Chapter I Loomings"));
    EXPECT_EQ(doc.pages.page(3).label, QStringLiteral("4"));
    EXPECT_EQ(doc.pageName(3), QStringLiteral("Chapter 4"));
    EXPECT_EQ(doc.title, QStringLiteral("Chapter I Loomings"));   // no dc:title: the first heading
}

TEST_F(EpubTest, ContentHashIsTheSha256OfTheFile)
{
    const QString path = dir.filePath(QStringLiteral("hello.txt"));
    test::writeBytes(path, "hello\n");
    EXPECT_EQ(DocumentLoader::load(path).contentHash,
              QStringLiteral("5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"));
    const QString epub = write(test::epubEntries(threeChapters()));
    EXPECT_EQ(DocumentLoader::load(epub).contentHash, DocumentLoader::load(epub).contentHash);
    test::EpubBook changed = threeChapters();
    changed.chapters[2].body += QStringLiteral("<p>One more line.</p>");
    EXPECT_NE(DocumentLoader::load(write(test::epubEntries(changed), QStringLiteral("b.epub"))).contentHash,
              DocumentLoader::load(epub).contentHash);
}

TEST(XhtmlText, ParagraphsBreaksListsTablesEntities)
{
    const XhtmlText t = xhtmlToText(test::xhtmlPage(QStringLiteral(
        "<p>First   paragraph\n spans   lines.</p>"
        "<p>Roses are red,<br/>violets are blue.</p>"
        "<ul><li>apples</li><li>pears <em>and</em> plums</li></ul>"
        "<ol start=\"3\"><li>third</li><li><p>fourth</p></li></ol>"
        "<table><tr><th>Year</th><th>Ships</th></tr><tr><td><p>1851</p></td><td>12</td></tr></table>"
        "<script>var hidden = 1;</script>"
        "<p>Caf&eacute;&nbsp;au&#160;lait &mdash; &#x263A; &lt;ok&gt; &amp; &unknownentity;</p>"
        "<p>a<span epub:type=\"pagebreak\" title=\"12\">12</span>b<sup>2</sup> sh&#xad;y</p>"
        "<pre>line 1\n  indented</pre>")));
    EXPECT_TRUE(t.error.isEmpty()) << t.error.toStdString();
    EXPECT_EQ(t.text, QStringLiteral("First paragraph spans lines.\n\n"
                                     "Roses are red,\nviolets are blue.\n\n"
                                     "• apples\n• pears and plums\n\n"
                                     "3. third\n\n4. fourth\n\n"
                                     "Year | Ships\n1851 | 12\n\n"
                                     "Caf\u00e9\u00a0au\u00a0lait \u2014 \u263a <ok> & \ufffd\n\n"
                                     "ab2 shy\n\n"
                                     "line 1\n  indented"));
}

TEST(XhtmlText, SafeHtmlKeepsStructureAndDropsWhatIsNotText)
{
    const XhtmlText t = xhtmlToText(test::xhtmlPage(QStringLiteral(
        "<h1 id=\"top\" class=\"title\" style=\"color:red\">Chapter I<br/>Loomings</h1>"
        "<p onclick=\"steal()\">Call me <em>Ishmael</em>, <strong>said</strong> he &amp; <b>I</b>.</p>"
        "<section><p>In a section.</p></section>"
        "<ul><li>apples</li><li>pears</li></ul><ol start=\"3\" type=\"i\"><li>third</li></ol>"
        "<table><tr><td colspan=\"2\" bgcolor=\"red\">wide</td></tr></table>"
        "<script>alert(1)</script><style>p { display: none }</style>"
        "<p><img src=\"whale.png\" alt=\"A whale\"/><img src=\"x.png\"/></p>"
        "<p><a href=\"https://example.org/a?b=1&amp;c=2\">out</a> and <a href=\"ch2.xhtml#x\">in</a>"
        " <a href=\"javascript:alert(1)\">bad</a><span epub:type=\"pagebreak\">12</span></p>"
        "<blockquote><p>quoted &lt;tag&gt;</p></blockquote><pre>line 1\n  indented</pre>"
        "<custom-tag>kept text</custom-tag>")));
    EXPECT_TRUE(t.error.isEmpty()) << t.error.toStdString();
    const QString& h = t.html;
    EXPECT_TRUE(h.contains(QStringLiteral("<h1>Chapter I<br/>Loomings</h1>"))) << h.toStdString();
    EXPECT_TRUE(h.contains(QStringLiteral("<p>Call me <em>Ishmael</em>, <strong>said</strong> he &amp; <b>I</b>.</p>")));
    EXPECT_TRUE(h.contains(QStringLiteral("<div><p>In a section.</p></div>")));
    EXPECT_TRUE(h.contains(QStringLiteral("<ul><li>apples</li><li>pears</li></ul><ol start=\"3\"><li>third</li></ol>")));
    EXPECT_TRUE(h.contains(QStringLiteral("<td colspan=\"2\">wide</td>")));
    EXPECT_TRUE(h.contains(QStringLiteral("<i>[A whale]</i>")));
    EXPECT_TRUE(h.contains(QStringLiteral("<a href=\"https://example.org/a?b=1&amp;c=2\">out</a> and in bad")));
    EXPECT_TRUE(h.contains(QStringLiteral("<blockquote><p>quoted &lt;tag&gt;</p></blockquote>")));
    EXPECT_TRUE(h.contains(QStringLiteral("<pre>line 1\n  indented</pre>")));
    EXPECT_TRUE(h.contains(QStringLiteral("kept text")));
    // Nothing that runs, styles, loads or points into the book survives.
    for (const char* gone : {"script", "alert", "style", "display", "img", "whale.png", "onclick", "class=",
                             "id=", "ch2.xhtml", "javascript", "bgcolor", "type=", "custom-tag", ">12<"})
        EXPECT_FALSE(h.contains(QLatin1String(gone))) << gone << " in " << h.toStdString();
}

TEST(XhtmlText, SafeHtmlOfADamagedFileIsClosed)
{
    const XhtmlText t = xhtmlToText("<html xmlns=\"http://www.w3.org/1999/xhtml\"><body><p>Kept <em>text.<p>unclosed</body></html>");
    EXPECT_FALSE(t.error.isEmpty());
    EXPECT_TRUE(t.html.startsWith(QStringLiteral("<p>Kept <em>text."))) << t.html.toStdString();
    EXPECT_TRUE(t.html.endsWith(QStringLiteral("</em></p>"))) << t.html.toStdString();
}

TEST_F(EpubTest, ChaptersCarryTheirHtmlBesideTheUnchangedText)
{
    const Document doc = DocumentLoader::load(write(test::epubEntries(threeChapters())));
    ASSERT_EQ(doc.pageCount(), 3);
    ASSERT_EQ(doc.html.size(), 3);
    EXPECT_EQ(doc.pageText(0), QStringLiteral("Chapter I\nLoomings\n\nCall me Tester.\n\nSome years ago."));
    EXPECT_EQ(doc.pageHtml(0), QStringLiteral("<h1>Chapter I<br/>Loomings</h1><p>Call me Tester.</p><p>Some years ago.</p>"));
    EXPECT_EQ(doc.pageHtml(2), QStringLiteral("<div><h2>The Spouter-Inn</h2><p>Entering that gable-ended inn.</p></div>"));
    EXPECT_TRUE(doc.pageHtml(3).isEmpty());
    // Text and Markdown documents carry none: the reader formats their text itself.
    const QString txt = dir.filePath(QStringLiteral("plain.txt"));
    QFile file(txt);
    ASSERT_TRUE(file.open(QIODevice::WriteOnly));
    file.write("Some plain text.\n");
    file.close();
    EXPECT_TRUE(DocumentLoader::load(txt).html.isEmpty());
}

TEST(XhtmlText, EntitiesWithAnExternalDoctype)
{
    const QByteArray xhtml = "<?xml version=\"1.0\"?>\n<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.1//EN\" "
                             "\"http://www.w3.org/TR/xhtml11/DTD/xhtml11.dtd\">\n"
                             "<html xmlns=\"http://www.w3.org/1999/xhtml\"><body><h3>Na&iuml;ve</h3>"
                             "<p>&ldquo;Yes&rdquo;&hellip;</p></body></html>";
    const XhtmlText t = xhtmlToText(xhtml);
    EXPECT_EQ(t.text, QStringLiteral("Na\u00efve\n\n\u201cYes\u201d\u2026"));
    EXPECT_EQ(t.firstHeading, QStringLiteral("Na\u00efve"));
}

TEST_F(EpubTest, MalformedChapterLoadsWithAWarning)
{
    QList<test::ZipEntry> entries = test::epubEntries(threeChapters());
    test::findEntry(entries, QStringLiteral("OEBPS/text/ch2.xhtml"))->data =
        "<html xmlns=\"http://www.w3.org/1999/xhtml\"><body><p>Kept text.<p>unclosed</body></html>";
    const Document doc = DocumentLoader::load(write(entries));
    ASSERT_EQ(doc.pageCount(), 3);
    EXPECT_TRUE(doc.pageText(1).startsWith(QStringLiteral("Kept text.")));
    ASSERT_EQ(doc.warnings.size(), 1);
    EXPECT_TRUE(doc.warnings.first().contains(QStringLiteral("text/ch2.xhtml"))) << doc.warnings.first().toStdString();
}

TEST_F(EpubTest, NotAZip)
{
    test::writeBytes(dir.filePath(QStringLiteral("junk.epub")), QByteArray(5000, 'x'));
    EXPECT_TRUE(contains(loadError(dir.filePath(QStringLiteral("junk.epub"))), "not a zip archive"));
}

TEST_F(EpubTest, TruncatedZip)
{
    const QByteArray bytes = test::readBytes(write(test::epubEntries(threeChapters())));
    // The zip's directory sits at its end: any cut loses it.
    for (int percent : {10, 50, 90, 99}) {
        const QString cut = dir.filePath(QStringLiteral("cut%1.epub").arg(percent));
        test::writeBytes(cut, bytes.left(bytes.size() * percent / 100));
        const std::string error = loadError(cut);
        EXPECT_TRUE(contains(error, "not a readable EPUB")) << percent << "%: " << error;
    }
}

TEST_F(EpubTest, MissingContainerOrPackage)
{
    QList<test::ZipEntry> entries = test::epubEntries(threeChapters());
    test::removeEntry(entries, QStringLiteral("META-INF/container.xml"));
    EXPECT_EQ(loadError(write(entries)), "not an EPUB: META-INF/container.xml is missing");

    entries = test::epubEntries(threeChapters());
    test::removeEntry(entries, QStringLiteral("OEBPS/content.opf"));
    EXPECT_EQ(loadError(write(entries)), "the EPUB's package document \"OEBPS/content.opf\" is missing");

    entries = test::epubEntries(threeChapters());
    test::findEntry(entries, QStringLiteral("OEBPS/content.opf"))->data.chop(30);
    EXPECT_TRUE(contains(loadError(write(entries)), "package document \"OEBPS/content.opf\" is damaged"));
}

TEST_F(EpubTest, MissingSpineItem)
{
    QList<test::ZipEntry> entries = test::epubEntries(threeChapters());
    test::removeEntry(entries, QStringLiteral("OEBPS/text/ch2.xhtml"));
    EXPECT_EQ(loadError(write(entries)), "the EPUB is incomplete: chapter file \"OEBPS/text/ch2.xhtml\" is missing");

    entries = test::epubEntries(threeChapters());
    test::ZipEntry* opf = test::findEntry(entries, QStringLiteral("OEBPS/content.opf"));
    opf->data.replace("<itemref idref=\"c2\"/>", "<itemref idref=\"nowhere\"/>");
    EXPECT_EQ(loadError(write(entries)), "the EPUB's spine names item \"nowhere\", which its manifest does not list");
}

TEST_F(EpubTest, EncryptedChaptersAreDrm)
{
    const QByteArray encryption =
        "<encryption xmlns=\"urn:oasis:names:tc:opendocument:xmlns:container\" "
        "xmlns:enc=\"http://www.w3.org/2001/04/xmlenc#\">\n"
        "<enc:EncryptedData><enc:EncryptionMethod Algorithm=\"http://www.w3.org/2001/04/xmlenc#aes128-cbc\"/>"
        "<enc:CipherData><enc:CipherReference URI=\"OEBPS/text/ch2.xhtml\"/></enc:CipherData></enc:EncryptedData>\n"
        "</encryption>\n";
    QList<test::ZipEntry> entries = test::epubEntries(threeChapters());
    entries.insert(2, {QStringLiteral("META-INF/encryption.xml"), encryption});
    EXPECT_TRUE(contains(loadError(write(entries)), "protected by DRM"));

    // Obfuscated fonts are allowed by the standard and do not hide the text.
    QByteArray fonts = encryption;
    fonts.replace("http://www.w3.org/2001/04/xmlenc#aes128-cbc", "http://www.idpf.org/2008/embedding");
    fonts.replace("OEBPS/text/ch2.xhtml", "OEBPS/fonts/serif.otf");
    entries = test::epubEntries(threeChapters());
    entries.insert(2, {QStringLiteral("META-INF/encryption.xml"), fonts});
    EXPECT_EQ(DocumentLoader::load(write(entries)).pageCount(), 3);
}

TEST_F(EpubTest, ZipBombIsRefused)
{
    test::EpubBook book = threeChapters();
    // 3 MB of text compresses to a few kilobytes.
    book.chapters[1].body = QStringLiteral("<p>%1</p>").arg(QString(3 * 1024 * 1024, QChar(u'a')));
    const QString path = write(test::epubEntries(book));
    LoadOptions options;
    options.maxFileBytes = 1024 * 1024;
    ASSERT_LT(QFileInfo(path).size(), options.maxFileBytes);
    const std::string error = loadError(path, options);
    EXPECT_TRUE(contains(error, "unpacks to more than")) << error;
    EXPECT_EQ(DocumentLoader::load(path).pageCount(), 3);   // under the default limit it loads
}

TEST_F(EpubTest, NoTextAtAll)
{
    test::EpubBook book = threeChapters();
    book.chapters = {book.chapters.first()};   // only the cover
    EXPECT_EQ(loadError(write(test::epubEntries(book))), "the EPUB holds no text (its chapters are empty or only images)");
}
