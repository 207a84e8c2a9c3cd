// ReadingController: the engine runs on its own thread, its signals arrive on the
// GUI thread in order, the event loop keeps turning during a prefill, and cancel
// stops a prefill promptly.
#include "app/worker/reading_worker.h"

#include "app/store/database.h"
#include "app/store/kv_snapshot_store.h"
#include "app/store/library_store.h"
#include "engine/session/session_state.h"

#include "reading_fixtures.h"
#include "store_fixtures.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QSemaphore>
#include <QThread>
#include <QTimer>

#include <gtest/gtest.h>

#include <functional>
#include <optional>

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
    QObject::connect(&controller, &ReadingController::failed, [&](AnswerErrorKind, const QString& m) { failure = m; });
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

// Defect: the worker reset one shared cancel flag after every job, so a Stop pressed
// while the model loaded was forgotten when the load ended and the question queued
// behind it ran anyway. Each request now has a token of its own.
TEST(ReadingWorker, StopDuringAModelLoadCancelsTheQueuedQuestion)
{
    test::ReadingFixture fx;
    const QString doc = fx.writeDocument(QStringLiteral("book.txt"), 4);
    ReadingController controller(fx.database, fx.options());
    int loaded = 0, cancelled = 0, ready = 0, answered = 0;
    QString failure;
    QObject::connect(&controller, &ReadingController::modelLoaded, [&](const QString&) { ++loaded; });
    QObject::connect(&controller, &ReadingController::cancelled, [&] { ++cancelled; });
    QObject::connect(&controller, &ReadingController::documentReady, [&](const DocumentStatus&) { ++ready; });
    QObject::connect(&controller, &ReadingController::finished, [&](const AnswerResult&) { ++answered; });
    QObject::connect(&controller, &ReadingController::failed, [&](AnswerErrorKind, const QString& m) { failure = m; });
    controller.loadModel(fx.model);
    controller.openDocument(doc);
    controller.ask(QStringLiteral("what happens"));
    controller.cancel();   // the load is queued or under way: it cannot end before this
    ASSERT_TRUE(waitIdle(controller));
    EXPECT_TRUE(failure.isEmpty()) << failure.toStdString();
    EXPECT_EQ(loaded, 1);      // a load runs to its end
    EXPECT_EQ(cancelled, 2);   // the reading and the question
    EXPECT_EQ(ready, 0);
    EXPECT_EQ(answered, 0);
    Database db(fx.database);
    EXPECT_TRUE(LibraryStore(db).conversations().isEmpty());

    // A Stop ends only what was queued before it: the next question runs.
    controller.ask(QStringLiteral("what happens"), 0, doc);
    ASSERT_TRUE(waitIdle(controller));
    EXPECT_TRUE(failure.isEmpty()) << failure.toStdString();
    EXPECT_EQ(answered, 1);
}

namespace {

// Holds the worker at its first streamed token until the GUI thread has acted on it
// (through the controller's relayed token): the test's Stop then lands mid-answer
// however fast the tiny model writes.
struct FirstTokenGate {
    QSemaphore open;
    bool workerFirst = true, guiFirst = true;
    FirstTokenGate(ReadingController& controller, const std::function<void()>& atFirstToken)
    {
        QObject::connect(controller.worker(), &ReadingWorker::token, controller.worker(), [this](const QString&) {
            if (std::exchange(workerFirst, false))
                open.tryAcquire(1, 30000);
        }, Qt::DirectConnection);
        QObject::connect(&controller, &ReadingController::token, [this, atFirstToken](const QString&) {
            if (std::exchange(guiFirst, false)) {
                atFirstToken();
                open.release();
            }
        });
    }
};

} // namespace

// Defect: Stop mid-answer threw the question and the partial answer away (the session
// rolled back and the store held neither). Now both are saved, the answer marked.
TEST(ReadingWorker, StopMidAnswerKeepsTheQuestionAndThePartialAnswer)
{
    test::ReadingFixture fx;
    const QString doc = fx.writeDocument(QStringLiteral("book.txt"), 4);
    ReadingOptions options = fx.options();
    options.maxAnswerTokens = 64;
    ReadingController controller(fx.database, options);
    FirstTokenGate gate(controller, [&] { controller.cancel(); });
    QString streamed, failure;
    int cancelled = 0;
    std::optional<AnswerResult> result;
    QObject::connect(&controller, &ReadingController::token, [&](const QString& t) { streamed += t; });
    QObject::connect(&controller, &ReadingController::finished, [&](const AnswerResult& r) { result = r; });
    QObject::connect(&controller, &ReadingController::cancelled, [&] { ++cancelled; });
    QObject::connect(&controller, &ReadingController::failed, [&](AnswerErrorKind, const QString& m) { failure = m; });
    controller.loadModel(fx.model);
    controller.ask(QStringLiteral("what happens"), 0, doc);
    ASSERT_TRUE(waitIdle(controller));
    ASSERT_TRUE(failure.isEmpty()) << failure.toStdString();
    EXPECT_EQ(cancelled, 0);
    ASSERT_TRUE(result.has_value());
    EXPECT_TRUE(result->interrupted);
    EXPECT_FALSE(result->answer.isEmpty());
    EXPECT_EQ(result->answer, streamed.trimmed());

    Database db(fx.database);
    const QVector<MessageRecord> messages = LibraryStore(db).messages(result->conversationId);
    ASSERT_EQ(messages.size(), 2);
    EXPECT_EQ(messages[0].id, result->questionId);
    EXPECT_EQ(messages[0].text, QStringLiteral("what happens"));
    EXPECT_EQ(messages[1].id, result->messageId);
    EXPECT_EQ(messages[1].text, result->answer);
    EXPECT_TRUE(messages[1].interrupted);
    EXPECT_FALSE(messages[0].interrupted);
}

// Continue on the worker: the stopped answer is written on from where it stopped and
// saved in place (one answer row, its mark gone), as the chat pane's Continue asks.
TEST(ReadingWorker, ContinueWritesOnTheStoppedAnswerInPlace)
{
    test::ReadingFixture fx;
    const QString doc = fx.writeDocument(QStringLiteral("book.txt"), 4);
    ReadingOptions options = fx.options();
    options.maxAnswerTokens = 64;
    ReadingController controller(fx.database, options);
    FirstTokenGate gate(controller, [&] { controller.cancel(); });
    QString failure;
    std::vector<AnswerResult> results;
    QObject::connect(&controller, &ReadingController::finished, [&](const AnswerResult& r) { results.push_back(r); });
    QObject::connect(&controller, &ReadingController::failed, [&](AnswerErrorKind, const QString& m) { failure = m; });
    controller.loadModel(fx.model);
    controller.ask(QStringLiteral("what happens"), 0, doc);
    ASSERT_TRUE(waitIdle(controller));
    ASSERT_TRUE(failure.isEmpty()) << failure.toStdString();
    ASSERT_EQ(results.size(), 1u);
    const AnswerResult stopped = results[0];
    ASSERT_TRUE(stopped.interrupted);

    controller.continueAnswer(stopped.conversationId, doc);
    ASSERT_TRUE(waitIdle(controller));
    ASSERT_TRUE(failure.isEmpty()) << failure.toStdString();
    ASSERT_EQ(results.size(), 2u);
    const AnswerResult continued = results[1];
    EXPECT_TRUE(continued.continued);
    EXPECT_EQ(continued.messageId, stopped.messageId);
    EXPECT_TRUE(continued.answer.startsWith(stopped.answer));
    EXPECT_GT(continued.answer.size(), stopped.answer.size());

    Database db(fx.database);
    const QVector<MessageRecord> messages = LibraryStore(db).messages(stopped.conversationId);
    ASSERT_EQ(messages.size(), 2);
    EXPECT_EQ(messages[1].id, stopped.messageId);
    EXPECT_EQ(messages[1].text, continued.answer);
    EXPECT_EQ(messages[1].interrupted, continued.interrupted);
}

// Defect: the question and its answer were saved in separate transactions, so a
// failure (or a kill) between the two rows left a question without its answer. Here
// the answer's row cannot be written: neither is kept, nor the conversation, and the
// session does not hold the lost turn either.
TEST(ReadingWorker, AQuestionIsNeverSavedWithoutItsAnswer)
{
    test::ReadingFixture fx;
    const QString doc = fx.writeDocument(QStringLiteral("book.txt"), 4);
    ReadingController controller(fx.database, fx.options());
    Database db(fx.database);
    db.execute("CREATE TRIGGER refuse_answers BEFORE INSERT ON messages WHEN NEW.role = 'assistant' "
               "BEGIN SELECT RAISE(ABORT, 'the answer cannot be written'); END");
    QString failure;
    std::optional<AnswerErrorKind> kind;
    std::optional<AnswerResult> result;
    QObject::connect(&controller, &ReadingController::finished, [&](const AnswerResult& r) { result = r; });
    QObject::connect(&controller, &ReadingController::failed, [&](AnswerErrorKind k, const QString& m) {
        kind = k;
        failure = m;
    });
    controller.loadModel(fx.model);
    controller.ask(QStringLiteral("what happens"), 0, doc);
    ASSERT_TRUE(waitIdle(controller));
    EXPECT_FALSE(failure.isEmpty());
    EXPECT_EQ(kind, AnswerErrorKind::Store);
    EXPECT_FALSE(result.has_value());
    EXPECT_EQ(test::queryInteger(db, "SELECT COUNT(*) FROM messages"), 0);
    EXPECT_EQ(test::queryInteger(db, "SELECT COUNT(*) FROM conversations"), 0);

    db.execute("DROP TRIGGER refuse_answers");
    failure.clear();
    controller.ask(QStringLiteral("what happens"), 0, doc);
    ASSERT_TRUE(waitIdle(controller));
    ASSERT_TRUE(failure.isEmpty()) << failure.toStdString();
    ASSERT_TRUE(result.has_value());
    const QVector<MessageRecord> messages = LibraryStore(db).messages(result->conversationId);
    ASSERT_EQ(messages.size(), 2);
    EXPECT_EQ(messages[1].role, MessageRole::Assistant);
}

// Defect: a busy database (another connection writing a large snapshot) made the
// answer fail unsaved. The worker now waits and tries again, off the GUI thread.
TEST(ReadingWorker, ABusyDatabaseIsRetriedNotDropped)
{
    test::ReadingFixture fx;
    const QString doc = fx.writeDocument(QStringLiteral("book.txt"), 4);
    ReadingController controller(fx.database, fx.options());
    Database other(fx.database);
    std::optional<Transaction> lock;
    // Taken while the answer is being written, so only its save meets it.
    FirstTokenGate gate(controller, [&] { lock.emplace(other); });
    int notices = 0;
    QString failure;
    std::optional<AnswerResult> result;
    QObject::connect(&controller, &ReadingController::notice, [&](const QString&) {
        ++notices;
        lock.reset();   // the other writer is done
    });
    QObject::connect(&controller, &ReadingController::finished, [&](const AnswerResult& r) { result = r; });
    QObject::connect(&controller, &ReadingController::failed, [&](AnswerErrorKind, const QString& m) { failure = m; });
    controller.loadModel(fx.model);
    controller.ask(QStringLiteral("what happens"), 0, doc);
    ASSERT_TRUE(waitIdle(controller, 60000));
    ASSERT_TRUE(failure.isEmpty()) << failure.toStdString();
    EXPECT_GE(notices, 1);
    ASSERT_TRUE(result.has_value());
    EXPECT_EQ(LibraryStore(other).messages(result->conversationId).size(), 2);
}

// Defect: a new conversation opened the document, then asked with its path, and the
// document was parsed and tokenized a second time before the first token.
TEST(ReadingWorker, ANewConversationReadsTheDocumentOnce)
{
    test::ReadingFixture fx;
    const QString doc = fx.writeDocument(QStringLiteral("book.txt"), 4);
    ReadingController controller(fx.database, fx.options());
    QString failure;
    bool answered = false;
    QObject::connect(&controller, &ReadingController::finished, [&](const AnswerResult&) { answered = true; });
    QObject::connect(&controller, &ReadingController::failed, [&](AnswerErrorKind, const QString& m) { failure = m; });
    const int before = ReadingSession::documentReads();
    controller.loadModel(fx.model);
    controller.openDocument(doc);
    controller.ask(QStringLiteral("what happens"), 0, doc);
    ASSERT_TRUE(waitIdle(controller));
    ASSERT_TRUE(failure.isEmpty()) << failure.toStdString();
    EXPECT_TRUE(answered);
    EXPECT_EQ(ReadingSession::documentReads() - before, 1);
}

namespace {

// A saved state loaded into a session of its own: what a later run would start from.
std::unique_ptr<Session> loadSnapshot(Database& db, qint64 id, const std::shared_ptr<const Model>& model,
                                      const SessionOptions& options)
{
    auto session = std::make_unique<Session>(model, options);
    std::unique_ptr<KvSnapshotReader> reader = KvSnapshotStore(db).openReader(id);
    session->loadState(*reader);
    return session;
}

} // namespace

// Defect: a cancelled prefill left the logits of an earlier micro-batch (or none
// computed) in the session, and the partial reading saved them as if they were the
// last token's. Now a partial reading holds no logits, and reading on from it gives
// the logits of a reading in one go, bit for bit.
TEST(ReadingWorker, ACancelledReadingSavesNoStaleLogitsAndResumesToTheSameOnes)
{
    test::ReadingFixture fx;
    const QString doc = fx.writeDocument(QStringLiteral("long.txt"), 30);
    ReadingOptions options = fx.options();
    options.batchSize = 32;
    ReadingController controller(fx.database, options);
    bool cancelled = false, ready = false;
    QObject::connect(&controller, &ReadingController::progress, [&](int done, int, double, double) {
        if (done >= 96 && !cancelled)
            controller.cancel();
    });
    QObject::connect(&controller, &ReadingController::cancelled, [&] { cancelled = true; });
    QObject::connect(&controller, &ReadingController::documentReady, [&](const DocumentStatus&) { ready = true; });
    controller.loadModel(fx.model);
    controller.openDocument(doc);
    ASSERT_TRUE(waitIdle(controller));
    ASSERT_TRUE(cancelled);
    // The partial reading is written after the cancel is reported: a later request
    // (here one that fails at once) starts when it is saved.
    controller.ask(QString());
    ASSERT_TRUE(waitIdle(controller));

    // The session shape the worker planned, from a session of the same options.
    auto db = std::make_shared<Database>(fx.database);
    ReadingSession planned(db, options);
    planned.loadModel(fx.model);
    planned.prepareDocument(doc);
    const SessionOptions shape = planned.session()->options();
    const std::vector<int32_t>& prompt = planned.prompt().tokens;
    const std::shared_ptr<const Model> model = Model::load(fx.model.toStdString());

    const qint64 partialId = test::queryInteger(*db, "SELECT id FROM kv_snapshots WHERE complete = 1");
    const std::unique_ptr<Session> partial = loadSnapshot(*db, partialId, model, shape);
    ASSERT_GT(partial->position(), 0);
    ASSERT_LT(partial->position(), static_cast<int>(prompt.size()));
    Session straightPart(model, shape);
    straightPart.prefill(std::vector<int32_t>(prompt.begin(), prompt.begin() + partial->position()));
    EXPECT_TRUE(partial->logits().empty() || partial->logits() == straightPart.logits());

    controller.openDocument(doc);
    ASSERT_TRUE(waitIdle(controller));
    ASSERT_TRUE(ready);
    const qint64 fullId = test::queryInteger(
        *db, QStringLiteral("SELECT id FROM kv_snapshots WHERE complete = 1 AND token_count = %1")
                 .arg(prompt.size()).toUtf8().constData());
    const std::unique_ptr<Session> resumed = loadSnapshot(*db, fullId, model, shape);
    Session straight(model, shape);
    straight.prefill(prompt);
    EXPECT_EQ(resumed->tokens(), straight.tokens());
    ASSERT_FALSE(straight.logits().empty());
    EXPECT_EQ(resumed->logits(), straight.logits());
}

// Failures say what was at fault by their kind, not by words in the message.
TEST(ReadingWorker, FailuresAreTypedByWhatWasAtFault)
{
    test::ReadingFixture fx;
    ReadingController controller(fx.database, fx.options());
    std::vector<AnswerErrorKind> kinds;
    QObject::connect(&controller, &ReadingController::failed,
                     [&](AnswerErrorKind kind, const QString&) { kinds.push_back(kind); });
    controller.loadModel(fx.dir.filePath(QStringLiteral("moved.gguf")));
    ASSERT_TRUE(waitIdle(controller));
    controller.loadModel(fx.model);
    controller.openDocument(fx.dir.filePath(QStringLiteral("missing.txt")));
    controller.ask(QStringLiteral("   "), 0, fx.writeDocument(QStringLiteral("book.txt"), 2));
    ASSERT_TRUE(waitIdle(controller));
    EXPECT_EQ(kinds, (std::vector<AnswerErrorKind>{AnswerErrorKind::Model, AnswerErrorKind::Document,
                                                   AnswerErrorKind::Request}));
}
