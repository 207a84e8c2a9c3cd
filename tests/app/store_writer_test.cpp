// The GUI's writes on their own thread: in order, results back on the poster's thread,
// a busy database waited out (never dropped), failures reported, the queue run before
// the writer stops.
#include "app/store/store_writer.h"

#include "store_fixtures.h"

#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QTemporaryDir>
#include <QThread>

#include <gtest/gtest.h>

#include <atomic>

using namespace folio;

namespace {

class StoreWriterTest : public ::testing::Test {
protected:
    QString path() const { return dir.filePath(QStringLiteral("folio.sqlite")); }
    // Runs the event loop until `done` holds (results arrive as queued calls).
    static bool waitFor(const std::function<bool()>& done, int ms = 20000)
    {
        QElapsedTimer timer;
        timer.start();
        while (!done() && timer.elapsed() < ms)
            QCoreApplication::processEvents(QEventLoop::AllEvents, 20);
        return done();
    }
    QTemporaryDir dir;
};

} // namespace

TEST_F(StoreWriterTest, JobsRunInOrderOffTheCallersThreadAndAnswerOnIt)
{
    Database db(path());
    LibraryStore library(db);
    const qint64 documentId = library.rememberDocument(test::storeDocument(QStringLiteral("moby")));
    QObject context;
    StoreWriter writer(path());
    std::vector<qint64> ids;
    std::atomic<bool> offThread{false};
    const QThread* caller = QThread::currentThread();
    bool answeredOnCaller = true;
    qint64 conversation = 0;
    writer.post(&context, [&](LibraryStore& s) {
        offThread = QThread::currentThread() != caller;
        return s.createConversation(documentId, QStringLiteral("model-a"), QStringLiteral("First"));
    }, [&](qint64 id) { conversation = id; answeredOnCaller &= QThread::currentThread() == caller; });
    for (int i = 0; i < 5; ++i) {
        writer.post(&context, [&, i](LibraryStore& s) {
            MessageRecord m;
            m.text = QString::number(i);
            // The conversation made by the job before: jobs run one after another.
            return s.appendMessage(s.conversations(documentId).front().id, m);
        }, [&](qint64 id) { ids.push_back(id); answeredOnCaller &= QThread::currentThread() == caller; });
    }
    ASSERT_TRUE(waitFor([&] { return ids.size() == 5; }));
    EXPECT_TRUE(offThread);
    EXPECT_TRUE(answeredOnCaller);
    EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));
    const QVector<MessageRecord> saved = library.messages(conversation);
    ASSERT_EQ(saved.size(), 5);
    for (int i = 0; i < 5; ++i)
        EXPECT_EQ(saved[i].text, QString::number(i));
}

TEST_F(StoreWriterTest, ABusyDatabaseIsWaitedOutNotDropped)
{
    Database db(path());
    LibraryStore library(db);
    const qint64 documentId = library.rememberDocument(test::storeDocument(QStringLiteral("moby")));
    StoreWriterOptions options;
    options.database.busyTimeoutMs = 50;   // each try gives up quickly; the writer tries again
    options.retryPauseMs = 20;
    StoreWriter writer(path(), options);
    QObject context;
    // Another connection (the worker's snapshot commit) holds the write lock for a while.
    db.execute("BEGIN IMMEDIATE");
    qint64 conversation = 0;
    QString failure;
    writer.post(&context, [&](LibraryStore& s) {
        return s.createConversation(documentId, QStringLiteral("model-a"), QStringLiteral("Held"));
    }, [&](qint64 id) { conversation = id; }, [&](const StoreError& e) { failure = e.message(); });
    // Longer than several busy timeouts: the job is still waiting, and this thread is not.
    QElapsedTimer held;
    held.start();
    waitFor([] { return false; }, 600);
    EXPECT_EQ(conversation, 0);
    EXPECT_FALSE(writer.isIdle());
    db.execute("COMMIT");
    ASSERT_TRUE(waitFor([&] { return conversation != 0; })) << failure.toStdString();
    EXPECT_TRUE(failure.isEmpty());
    EXPECT_EQ(library.conversation(conversation).title, QStringLiteral("Held"));
}

TEST_F(StoreWriterTest, AFailedJobSaysWhyAndTheNextOneStillRuns)
{
    Database db(path());
    LibraryStore library(db);
    const qint64 documentId = library.rememberDocument(test::storeDocument(QStringLiteral("moby")));
    StoreWriter writer(path());
    QObject context;
    std::optional<StoreError::Kind> kind;
    QString message;
    writer.post(&context, [](LibraryStore& s) { s.renameConversation(424242, QStringLiteral("x")); }, [] {},
                [&](const StoreError& e) { kind = e.kind(); message = e.message(); });
    qint64 after = 0;
    writer.post(&context, [&](LibraryStore& s) {
        return s.createConversation(documentId, QStringLiteral("m"), QStringLiteral("After"));
    }, [&](qint64 id) { after = id; });
    ASSERT_TRUE(waitFor([&] { return after != 0; }));
    ASSERT_TRUE(kind.has_value());
    EXPECT_EQ(*kind, StoreError::Kind::NotFound);
    EXPECT_FALSE(message.isEmpty());
}

TEST_F(StoreWriterTest, AnUnopenableDatabaseFailsEachJobWithTheReason)
{
    // A folder where the file should be: SQLite cannot open it.
    ASSERT_TRUE(QDir(dir.path()).mkpath(QStringLiteral("folio.sqlite")));
    StoreWriterOptions options;
    options.retryForMs = 0;
    StoreWriter writer(path(), options);
    QObject context;
    QString message;
    writer.post(&context, [](LibraryStore& s) { return s.documents().size(); }, [](qsizetype) {},
                [&](const StoreError& e) { message = e.message(); });
    ASSERT_TRUE(waitFor([&] { return !message.isEmpty(); }));
    EXPECT_TRUE(message.contains(QStringLiteral("folio.sqlite"))) << message.toStdString();
}

TEST_F(StoreWriterTest, WhatIsQueuedIsWrittenBeforeTheWriterStopsEvenWithNoOneToTell)
{
    qint64 documentId = 0;
    {
        Database db(path());
        LibraryStore library(db);
        documentId = library.rememberDocument(test::storeDocument(QStringLiteral("moby")));
    }
    {
        StoreWriter writer(path());
        auto context = std::make_unique<QObject>();
        for (int i = 0; i < 20; ++i)
            writer.post(context.get(), [documentId, i](LibraryStore& s) {
                return s.createConversation(documentId, QStringLiteral("m"), QString::number(i));
            }, [](qint64) {});
        context.reset();   // the window is gone: the results go nowhere, the writes still happen
    }
    Database db(path());
    LibraryStore library(db);
    EXPECT_EQ(library.conversations(documentId).size(), 20);
    QCoreApplication::processEvents();   // no call to the deleted context may arrive
}
