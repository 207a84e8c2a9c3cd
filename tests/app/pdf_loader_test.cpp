#include "app/documents/document_loader.h"

#include "pdf_fixtures.h"
#include "support/shared_data.h"

#include <QProcess>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QTemporaryDir>

#include <gtest/gtest.h>

using namespace folio;

TEST(PdfLoader, ReadsKnownTextOnKnownPages)
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("three.pdf"));
    test::writeTextPdf(path,
                       {QStringLiteral("Alpha page speaks of harbours."), QStringLiteral("Beta page counts lighthouses."),
                        QStringLiteral("Gamma page ends the voyage.")},
                       QStringLiteral("A Test of Pages"), QStringLiteral("Folio Tester"));
    const Document doc = DocumentLoader::load(path);
    EXPECT_EQ(doc.kind, DocumentKind::Pdf);
    EXPECT_EQ(doc.title, QStringLiteral("A Test of Pages"));
    EXPECT_EQ(doc.author, QStringLiteral("Folio Tester"));
    ASSERT_EQ(doc.pageCount(), 3);
    EXPECT_EQ(doc.pageText(0).simplified(), QStringLiteral("Alpha page speaks of harbours."));
    EXPECT_EQ(doc.pageText(1).simplified(), QStringLiteral("Beta page counts lighthouses."));
    EXPECT_EQ(doc.pageText(2).simplified(), QStringLiteral("Gamma page ends the voyage."));
    EXPECT_EQ(doc.pages.page(2).label, QStringLiteral("3"));
    EXPECT_EQ(doc.wordCount, 14);
    EXPECT_EQ(doc.pages.pageAt(doc.text.indexOf(QStringLiteral("lighthouses"))), 1);
    EXPECT_TRUE(doc.warnings.isEmpty());
}

TEST(PdfLoader, KeepsTableRowsOnOneLine)
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("table.pdf"));
    test::writeTablePdf(path, {{QStringLiteral("Segment"), QStringLiteral("2024"), QStringLiteral("2025")},
                               {QStringLiteral("Shipping"), QStringLiteral("1,204"), QStringLiteral("1,377")},
                               {QStringLiteral("Whaling"), QStringLiteral("88"), QStringLiteral("61")}});
    const Document doc = DocumentLoader::load(path);
    QStringList lines;
    for (const QString& line : doc.pageText(0).split(QChar(u'\n'), Qt::SkipEmptyParts))
        lines << line.simplified();   // Poppler keeps column gaps as runs of spaces
    EXPECT_TRUE(lines.contains(QStringLiteral("Shipping 1,204 1,377"))) << doc.pageText(0).toStdString();
    EXPECT_TRUE(lines.contains(QStringLiteral("Whaling 88 61"))) << doc.pageText(0).toStdString();
}

TEST(PdfLoader, FinancialTableRowsStayOnOneLineBetweenParagraphs)
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("report.pdf"));
    const QList<QStringList> rows = {
        {QStringLiteral("(in millions)"), QStringLiteral("2023"), QStringLiteral("2024"), QStringLiteral("Change")},
        {QStringLiteral("Revenue"), QStringLiteral("12,480"), QStringLiteral("13,902"), QStringLiteral("11.4%")},
        {QStringLiteral("Cost of sales"), QStringLiteral("(7,215)"), QStringLiteral("(7,801)"), QStringLiteral("8.1%")},
        {QStringLiteral("Operating income"), QStringLiteral("1,066"), QStringLiteral("987"), QStringLiteral("(7.4%)")},
        {QStringLiteral("Net income"), QStringLiteral("804"), QStringLiteral("1,120"), QStringLiteral("39.3%")},
    };
    test::writeReportPdf(path, QStringLiteral("Results of operations for the fiscal year."), rows,
                         QStringLiteral("Figures are audited."));
    const Document doc = DocumentLoader::load(path);
    QStringList lines;
    for (const QString& line : doc.pageText(0).split(QChar(u'\n'), Qt::SkipEmptyParts))
        lines << line.simplified();
    for (const QStringList& row : rows)
        EXPECT_TRUE(lines.contains(row.join(QChar(u' ')))) << row.join(QChar(u' ')).toStdString() << " in\n"
                                                             << doc.pageText(0).toStdString();
    EXPECT_TRUE(lines.contains(QStringLiteral("Results of operations for the fiscal year.")));
    EXPECT_TRUE(lines.contains(QStringLiteral("Figures are audited.")));
    // The rows keep their order.
    EXPECT_LT(doc.text.indexOf(QStringLiteral("Revenue")), doc.text.indexOf(QStringLiteral("Net income")));
}

TEST(PdfLoader, WithoutATitleUsesTheFirstLineThenTheFileName)
{
    QTemporaryDir dir;
    const QString paper = dir.filePath(QStringLiteral("2306.15595.pdf"));
    test::writeTextPdf(paper, {QStringLiteral("E XTENDING C ONTEXT W INDOW\n\n\nA. Author\n\n\nA BSTRACT\nWe extend.")});
    EXPECT_EQ(DocumentLoader::load(paper).title, QStringLiteral("EXTENDING CONTEXT WINDOW"));
    const QString blank = dir.filePath(QStringLiteral("untitled-notes.pdf"));
    test::writeTextPdf(blank, {QString()});
    EXPECT_EQ(DocumentLoader::load(blank).title, QStringLiteral("untitled-notes"));
}

TEST(PdfLoader, WarnsWhenPagesHaveNoText)
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("blank.pdf"));
    test::writeTextPdf(path, {QString(), QString()});
    const Document doc = DocumentLoader::load(path);
    EXPECT_EQ(doc.pageCount(), 2);
    EXPECT_EQ(doc.wordCount, 0);
    ASSERT_FALSE(doc.warnings.isEmpty());
    EXPECT_TRUE(doc.warnings.first().contains(QStringLiteral("no text layer")));
}

namespace {

int pdfinfoPages(const QString& path)
{
    if (QStandardPaths::findExecutable(QStringLiteral("pdfinfo")).isEmpty())
        return -1;
    QProcess p;
    p.start(QStringLiteral("pdfinfo"), {path});
    if (!p.waitForFinished(30000))
        return -1;
    const auto m = QRegularExpression(QStringLiteral("^Pages:\\s+(\\d+)"), QRegularExpression::MultilineOption)
                       .match(QString::fromUtf8(p.readAllStandardOutput()));
    return m.hasMatch() ? m.captured(1).toInt() : -1;
}

} // namespace

class RealPapers : public ::testing::TestWithParam<const char*> {};

TEST_P(RealPapers, LoadWithEveryPageAndItsText)
{
    const std::string relative = std::string("papers/") + GetParam();
    FOLIO_REQUIRE_SHARED(relative);
    const QString path = QString::fromStdString((test::sharedDir() / relative).string());
    const Document doc = DocumentLoader::load(path);
    EXPECT_GE(doc.pageCount(), 10);
    const int expected = pdfinfoPages(path);
    if (expected > 0) {
        EXPECT_EQ(doc.pageCount(), expected) << "pdfinfo disagrees on the page count";
    }
    EXPECT_GT(doc.title.size(), 20) << "a paper's title, not its file name: " << doc.title.toStdString();
    EXPECT_GT(doc.wordCount, 5000);
    for (int i = 0; i < doc.pageCount(); ++i)
        EXPECT_FALSE(doc.pageText(i).trimmed().isEmpty()) << "page " << i + 1 << " has no text";
    // Reading order: the abstract comes before the introduction.
    // (Small capitals may come out as "A BSTRACT".)
    const qsizetype abstract = doc.text.indexOf(QStringLiteral("BSTRACT"), 0, Qt::CaseInsensitive);
    const qsizetype intro = doc.text.indexOf(QStringLiteral("NTRODUCTION"), 0, Qt::CaseInsensitive);
    ASSERT_GE(abstract, 0);
    ASSERT_GE(intro, 0);
    EXPECT_LT(abstract, intro);
    EXPECT_EQ(doc.pages.pageAt(abstract), 0);
}

INSTANTIATE_TEST_SUITE_P(SharedPapers, RealPapers, ::testing::Values("longlora.pdf", "PI.pdf", "chunkllama.pdf"));
