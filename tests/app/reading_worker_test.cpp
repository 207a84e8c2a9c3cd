// ReadingController: the engine runs on its own thread, its signals arrive on the
// GUI thread in order, the event loop keeps turning during a prefill, and cancel
// stops a prefill promptly.
#include "app/worker/reading_worker.h"

#include "reading_fixtures.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QThread>
#include <QTimer>

#include <gtest/gtest.h>

using namespace folio;

namespace {

// Runs the event loop until the controller is idle (or the timeout).
bool waitIdle(ReadingController& controller, int timeoutMs = 30000)
{
    if (!controller.isBusy())
        return true;
    QEventLoop loop;
    QObject::connect(&controller, &ReadingController::idle, &loop, &QEventLoop::quit);
    QTimer::singleShot(timeoutMs, &loop, &QEventLoop::quit);
    loop.exec();
    return !controller.isBusy();
}

} // namespace

TEST(ReadingWorker, SignalsArriveOnTheGuiThreadWhileTheLoopTurns)
{
    test::ReadingFixture fx;
    const QString doc = fx.writeDocument(QStringLiteral("book.txt"), 8);
    ReadingOptions options = fx.options();
    options.batchSize = 32;
    ReadingController controller(fx.database, options);
    QThread* gui = QThread::currentThread();
    int progressSignals = 0, tokens = 0, wrongThread = 0, ticks = 0;
    bool ready = false, answered = false;
    QString failure;
    QObject::connect(&controller, &ReadingController::progress, [&](int done, int total, double, double) {
        wrongThread += QThread::currentThread() != gui;
        EXPECT_LE(done, total);
        ++progressSignals;
    });
    QObject::connect(&controller, &ReadingController::token, [&](const QString&) {
        wrongThread += QThread::currentThread() != gui;
        ++tokens;
    });
    QObject::connect(&controller, &ReadingController::documentReady, [&](const DocumentStatus& s) {
        wrongThread += QThread::currentThread() != gui;
        EXPECT_EQ(s.pages, 8);
        ready = true;
    });
    QObject::connect(&controller, &ReadingController::finished, [&](const AnswerResult& r) {
        wrongThread += QThread::currentThread() != gui;
        EXPECT_GT(r.conversationId, 0);
        answered = true;
    });
    QObject::connect(&controller, &ReadingController::failed, [&](const QString& m) { failure = m; });
    QTimer ticker;
    QObject::connect(&ticker, &QTimer::timeout, [&] { ++ticks; });
    ticker.start(1);
    controller.loadModel(fx.model);
    controller.openDocument(doc);
    controller.ask(QStringLiteral("what happens"));
    EXPECT_TRUE(controller.isBusy());
    ASSERT_TRUE(waitIdle(controller));
    EXPECT_TRUE(failure.isEmpty()) << failure.toStdString();
    EXPECT_TRUE(ready);
    EXPECT_TRUE(answered);
    EXPECT_GT(progressSignals, 3);
    EXPECT_GT(ticks, 0);  // the GUI thread's loop ran while the worker read
    EXPECT_EQ(wrongThread, 0);
}

TEST(ReadingWorker, CancelStopsAPrefillQuicklyAndTheNextReadContinues)
{
    test::ReadingFixture fx;
    const QString doc = fx.writeDocument(QStringLiteral("long.txt"), 30);
    ReadingOptions options = fx.options();
    options.batchSize = 32;
    ReadingController controller(fx.database, options);
    QElapsedTimer sinceCancel;
    int firstDone = -1, resumedAt = -1;
    bool cancelled = false, ready = false;
    QObject::connect(&controller, &ReadingController::progress, [&](int done, int, double, double) {
        if (firstDone < 0 && done > 0) {
            firstDone = done;
            controller.cancel();
            sinceCancel.start();
        } else if (cancelled && resumedAt < 0) {
            resumedAt = done;
        }
    });
    QObject::connect(&controller, &ReadingController::cancelled, [&] {
        EXPECT_LT(sinceCancel.elapsed(), 1000);
        cancelled = true;
    });
    QObject::connect(&controller, &ReadingController::documentReady, [&](const DocumentStatus&) { ready = true; });
    controller.loadModel(fx.model);
    controller.openDocument(doc);
    ASSERT_TRUE(waitIdle(controller));
    ASSERT_TRUE(cancelled);
    controller.openDocument(doc);
    ASSERT_TRUE(waitIdle(controller));
    EXPECT_TRUE(ready);
    EXPECT_GE(resumedAt, firstDone);  // continued from what was read, not from 0
}
