// Every kind of bad input gives a clear error naming the file and the problem.
#include "app/documents/document_loader.h"

#include "pdf_fixtures.h"
#include "support/shared_data.h"

#include <QFile>
#include <QRandomGenerator>
#include <QTemporaryDir>

#include <gtest/gtest.h>

using namespace folio;

namespace {

// The error message of loading `path`, or a note that it loaded.
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

QByteArray randomBytes(int size, quint32 seed)
{
    QRandomGenerator rng(seed);
    QByteArray bytes(size, Qt::Uninitialized);
    for (char& b : bytes)
        b = char(rng.bounded(256));
    return bytes;
}

class DamagedInput : public ::testing::Test {
protected:
    QString file(const QString& name) const { return dir.filePath(name); }
    QTemporaryDir dir;
};

} // namespace

TEST_F(DamagedInput, MissingFile)
{
    EXPECT_EQ(loadError(file(QStringLiteral("nowhere.pdf"))), "file not found");
}

TEST_F(DamagedInput, Folder)
{
    EXPECT_EQ(loadError(dir.path()), "is a folder, not a document");
}

TEST_F(DamagedInput, EmptyFile)
{
    test::writeBytes(file(QStringLiteral("empty.txt")), {});
    EXPECT_EQ(loadError(file(QStringLiteral("empty.txt"))), "the file is empty");
    test::writeBytes(file(QStringLiteral("empty.pdf")), {});
    EXPECT_EQ(loadError(file(QStringLiteral("empty.pdf"))), "the file is empty");
}

TEST_F(DamagedInput, OnlyWhiteSpace)
{
    test::writeBytes(file(QStringLiteral("blank.md")), "  \n\n\t \n");
    EXPECT_EQ(loadError(file(QStringLiteral("blank.md"))), "the file holds no text (only white space)");
}

TEST_F(DamagedInput, FileOverTheSizeLimit)
{
    test::writeBytes(file(QStringLiteral("big.txt")), QByteArray(5000, 'a'));
    LoadOptions options;
    options.maxFileBytes = 4096;
    const std::string error = loadError(file(QStringLiteral("big.txt")), options);
    EXPECT_NE(error.find("too large"), std::string::npos) << error;
    EXPECT_NE(error.find("4"), std::string::npos) << "the message should state the limit: " << error;
}

TEST_F(DamagedInput, RandomBytesNamedPdf)
{
    test::writeBytes(file(QStringLiteral("junk.pdf")), randomBytes(20000, 7));
    EXPECT_NE(loadError(file(QStringLiteral("junk.pdf"))).find("not a PDF file"), std::string::npos);
}

TEST_F(DamagedInput, RandomBytesNamedText)
{
    for (quint32 seed = 1; seed <= 5; ++seed) {
        test::writeBytes(file(QStringLiteral("junk.txt")), randomBytes(4096, seed));
        EXPECT_EQ(loadError(file(QStringLiteral("junk.txt"))), "the file holds binary data, not text");
    }
}

TEST_F(DamagedInput, UnsupportedType)
{
    test::writeBytes(file(QStringLiteral("slides.pptx")), randomBytes(100, 3));
    EXPECT_NE(loadError(file(QStringLiteral("slides.pptx"))).find("unsupported file type \"pptx\""), std::string::npos);
}

TEST_F(DamagedInput, PdfHeaderFollowedByJunk)
{
    test::writeBytes(file(QStringLiteral("header-only.pdf")), "%PDF-1.7\n" + randomBytes(30000, 11));
    const std::string error = loadError(file(QStringLiteral("header-only.pdf")));
    EXPECT_NE(error.find("damaged"), std::string::npos) << error;
}

TEST_F(DamagedInput, TruncatedPdfs)
{
    const QString whole = file(QStringLiteral("whole.pdf"));
    QStringList pages;
    for (int i = 0; i < 6; ++i)
        pages << QStringLiteral("Page %1 of a report that will be cut short.").arg(i + 1);
    test::writeTextPdf(whole, pages);
    const QByteArray bytes = test::readBytes(whole);
    ASSERT_GT(bytes.size(), 1000);
    // Cut at many places: each load either fails with a message about damage, or (when
    // Poppler can rebuild the file) yields the pages it could read — never a crash.
    for (int percent : {3, 10, 25, 50, 75, 90, 98}) {
        const QString cut = file(QStringLiteral("cut%1.pdf").arg(percent));
        test::writeBytes(cut, bytes.left(bytes.size() * percent / 100));
        try {
            const Document doc = DocumentLoader::load(cut);
            EXPECT_LE(doc.pageCount(), 6) << percent << "%";
        } catch (const DocumentError& e) {
            EXPECT_TRUE(e.problem().contains(QStringLiteral("damaged"))) << percent << "%: " << e.what();
        }
    }
    // Cut before any page object survives: an error, with the reason.
    const QString early = file(QStringLiteral("early.pdf"));
    test::writeBytes(early, bytes.left(40));
    EXPECT_NE(loadError(early).find("damaged"), std::string::npos);
}

TEST_F(DamagedInput, TruncatedRealPaper)
{
    FOLIO_REQUIRE_SHARED("papers/longlora.pdf");
    const QByteArray bytes = test::readBytes(QString::fromStdString((test::sharedDir() / "papers/longlora.pdf").string()));
    const QString cut = file(QStringLiteral("longlora-half.pdf"));
    test::writeBytes(cut, bytes.left(bytes.size() / 2));
    try {
        const Document doc = DocumentLoader::load(cut);
        EXPECT_LT(doc.wordCount, 100000);
    } catch (const DocumentError& e) {
        EXPECT_TRUE(e.problem().contains(QStringLiteral("damaged"))) << e.what();
    }
}

TEST_F(DamagedInput, EncryptedPdfWithoutPassword)
{
    test::writeBytes(file(QStringLiteral("secret.pdf")), test::encryptedPdfBytes());
    EXPECT_EQ(loadError(file(QStringLiteral("secret.pdf"))), "the PDF is encrypted and needs a password");
}

TEST_F(DamagedInput, UnreadableFile)
{
    if (geteuid() == 0)
        GTEST_SKIP() << "skipped: root can read any file, so permissions cannot be tested";
    const QString path = file(QStringLiteral("locked.txt"));
    test::writeBytes(path, "text");
    QFile::setPermissions(path, QFileDevice::WriteOwner);
    EXPECT_NE(loadError(path).find("cannot be read"), std::string::npos);
}
