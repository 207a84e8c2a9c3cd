#include "app/documents/document_loader.h"

#include "pdf_fixtures.h"
#include "support/shared_data.h"

#include <QTemporaryDir>

#include <gtest/gtest.h>

using namespace folio;

namespace {

// Every page is a contiguous piece of the text, in order, covering all of it.
void expectPagesTileText(const Document& doc)
{
    ASSERT_GT(doc.pageCount(), 0);
    EXPECT_EQ(doc.pages.page(0).begin, 0);
    for (int i = 1; i < doc.pageCount(); ++i)
        EXPECT_EQ(doc.pages.page(i).begin, doc.pages.page(i - 1).end) << "page " << i;
    EXPECT_EQ(doc.pages.page(doc.pageCount() - 1).end, doc.text.size());
}

} // namespace

TEST(TextLoader, SplitsLongTextIntoSectionsAtParagraphs)
{
    QTemporaryDir dir;
    QString text = QStringLiteral("Title: The Lighthouse Keeper\nAuthor: A. N. Writer\n\n");
    for (int p = 0; p < 40; ++p)
        text += QStringLiteral("Paragraph %1 tells of the sea and of the light that turns all night.\n\n").arg(p);
    const QString path = dir.filePath(QStringLiteral("keeper.txt"));
    test::writeBytes(path, text.toUtf8());

    LoadOptions options;
    options.textPageChars = 500;
    const Document doc = DocumentLoader::load(path, options);
    EXPECT_EQ(doc.kind, DocumentKind::PlainText);
    EXPECT_EQ(doc.title, QStringLiteral("The Lighthouse Keeper"));
    EXPECT_EQ(doc.author, QStringLiteral("A. N. Writer"));
    EXPECT_EQ(doc.text, text);
    EXPECT_GT(doc.pageCount(), 4);
    expectPagesTileText(doc);
    for (int i = 0; i + 1 < doc.pageCount(); ++i) {
        EXPECT_LE(doc.pages.page(i).length(), 500);
        EXPECT_TRUE(doc.pageText(i).endsWith(QStringLiteral("\n\n"))) << "section " << i << " ends mid-paragraph";
    }
    EXPECT_EQ(doc.wordCount, countWords(text));
    EXPECT_EQ(countWords(u"  one two\tthree\nfour  "), 4);
}

TEST(TextLoader, MarkdownTakesItsTitleFromTheFirstHeadingAndBreaksBeforeHeadings)
{
    QTemporaryDir dir;
    QString text = QStringLiteral("# Annual Report 2025\n\nIntro text.\n");
    for (int s = 0; s < 10; ++s) {
        text += QStringLiteral("\n## Section %1\n").arg(s);
        for (int l = 0; l < 6; ++l)
            text += QStringLiteral("Revenue grew in region %1 by a modest amount this year.\n").arg(l);
    }
    const QString path = dir.filePath(QStringLiteral("report.md"));
    test::writeBytes(path, text.toUtf8());
    LoadOptions options;
    options.textPageChars = 600;
    const Document doc = DocumentLoader::load(path, options);
    EXPECT_EQ(doc.kind, DocumentKind::Markdown);
    EXPECT_EQ(doc.title, QStringLiteral("Annual Report 2025"));
    expectPagesTileText(doc);
    for (int i = 1; i < doc.pageCount(); ++i)
        EXPECT_TRUE(doc.pageText(i).startsWith(QStringLiteral("## "))) << doc.pageText(i).left(40).toStdString();
}

TEST(TextLoader, DecodesUtf8WithBomLatin1AndCrLf)
{
    QTemporaryDir dir;
    const QString utf8Path = dir.filePath(QStringLiteral("bom.txt"));
    test::writeBytes(utf8Path, QByteArray("\xef\xbb\xbf") + QStringLiteral("Café — naïve\r\nsecond line").toUtf8());
    const Document utf8 = DocumentLoader::load(utf8Path);
    EXPECT_EQ(utf8.text, QStringLiteral("Café — naïve\nsecond line"));
    EXPECT_TRUE(utf8.warnings.isEmpty());

    const QString latinPath = dir.filePath(QStringLiteral("latin.txt"));
    test::writeBytes(latinPath, QByteArray("Caf\xe9 au lait"));
    const Document latin = DocumentLoader::load(latinPath);
    EXPECT_EQ(latin.text, QStringLiteral("Café au lait"));
    ASSERT_EQ(latin.warnings.size(), 1);
    EXPECT_TRUE(latin.warnings.first().contains(QStringLiteral("Latin-1")));
}

TEST(TextLoader, ReadsTheBundledSample)
{
    const QString path = QString::fromStdString(
        (test::sourceDir() / "resources/samples/moby-dick-chapters-1-12.txt").string());
    const Document doc = DocumentLoader::load(path);
    EXPECT_EQ(doc.title, QStringLiteral("Moby-Dick; or, The Whale (Chapters 1–12)"));
    EXPECT_EQ(doc.author, QStringLiteral("Herman Melville"));
    EXPECT_GT(doc.wordCount, 20000);
    EXPECT_GT(doc.pageCount(), 30);
    expectPagesTileText(doc);
}

TEST(TextLoader, ReadsTheWholeCorpusNovel)
{
    FOLIO_REQUIRE_SHARED("corpus/moby-dick.txt");
    const Document doc = DocumentLoader::load(
        QString::fromStdString((test::sharedDir() / "corpus/moby-dick.txt").string()));
    EXPECT_GT(doc.wordCount, 200000);
    EXPECT_GT(doc.pageCount(), 300);
    expectPagesTileText(doc);
    EXPECT_TRUE(doc.pageText(0).startsWith(QStringLiteral("CHAPTER 1. Loomings.")));
}
