#include "app/documents/document_opener.h"

#include "pdf_fixtures.h"

#include <QSignalSpy>
#include <QTemporaryDir>
#include <QThread>

#include <gtest/gtest.h>

using namespace folio;

TEST(DocumentOpener, LoadsOffTheCallingThreadAndReportsBack)
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("note.txt"));
    test::writeBytes(path, "A short note.\n");
    DocumentOpener opener;
    QSignalSpy opened(&opener, &DocumentOpener::opened);
    QSignalSpy failed(&opener, &DocumentOpener::failed);
    opener.open(path);
    ASSERT_TRUE(opened.wait(10000));
    EXPECT_EQ(failed.count(), 0);
    const auto doc = opened.first().first().value<std::shared_ptr<const Document>>();
    ASSERT_TRUE(doc);
    EXPECT_EQ(doc->title, QStringLiteral("A short note."));
}

TEST(DocumentOpener, ReportsFailuresWithTheMessage)
{
    DocumentOpener opener;
    QSignalSpy failed(&opener, &DocumentOpener::failed);
    opener.open(QStringLiteral("/nonexistent/folio/file.pdf"));
    ASSERT_TRUE(failed.wait(10000));
    EXPECT_EQ(failed.first().at(1).toString(), QStringLiteral("/nonexistent/folio/file.pdf: file not found"));
}

TEST(DocumentOpener, ALaterRequestSupersedesAnEarlierOne)
{
    QTemporaryDir dir;
    const QString first = dir.filePath(QStringLiteral("first.txt"));
    const QString second = dir.filePath(QStringLiteral("second.txt"));
    test::writeBytes(first, "First\n");
    test::writeBytes(second, "Second\n");
    DocumentOpener opener;
    QSignalSpy opened(&opener, &DocumentOpener::opened);
    opener.open(first);
    opener.open(second);
    ASSERT_TRUE(opened.wait(10000));
    QThread::msleep(200);
    QCoreApplication::processEvents();
    ASSERT_EQ(opened.count(), 1);
    EXPECT_EQ(opened.first().first().value<std::shared_ptr<const Document>>()->title, QStringLiteral("Second"));
}
