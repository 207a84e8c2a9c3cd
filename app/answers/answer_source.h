// Where answers come from, behind one interface (no widgets): the embedded engine on
// its own thread (EmbeddedAnswerSource), an OpenAI-compatible server later, or a
// scripted stand-in for tests and screenshots. The chat pane and the review dialog
// know only this. Requests are asked for, stopped and cancelled by id; what happens
// to them arrives as signals carrying that id, so the GUI thread never waits.
#pragma once

#include "app/answers/answer_error.h"
#include "app/documents/document.h"
#include "app/store/library_store.h"

#include <QObject>

#include <memory>

namespace folio {

struct AnswerRequest {
    std::shared_ptr<const Document> document;
    qint64 documentId = 0;
    qint64 conversationId = 0;
    QVector<MessageRecord> history;   // the conversation so far (the question not included)
    QString question;
    // Regenerate: the conversation's last question (this one) answered again, from the
    // state before its earlier answer, which the store keeps beside the new one.
    bool again = false;
    // Continue: the conversation's last answer, which was stopped, written on from where
    // it stopped; answered() then carries the whole answer. Not every source can.
    bool continuing = false;
};

// A finished answer: its text and evidence pages, and where the source stored it (ids
// 0 from a source that stores nothing, as the scripted stand-in).
struct AnswerOutcome {
    QString text;
    QVector<EvidencePage> evidence;
    qint64 conversationId = 0;
    qint64 questionId = 0;
    qint64 answerId = 0;
    bool interrupted = false;   // stopped before its end: what was written
    QString reasoning;          // the thinking before it, when the model thought first
};

// Every request has an id, which ask() returns and every signal about it carries: the
// chat pane and a review dialog share one backend and each follows only its own.
class AnswerSource : public QObject {
    Q_OBJECT
public:
    using QObject::QObject;

    // Reads the document if needed (readingProgress ... readingFinished), then streams
    // the answer (token ... answered). One request at a time: one asked while another
    // runs ends with failed(its id), after ask() has returned.
    virtual quint64 ask(const AnswerRequest& request) = 0;
    virtual void stop(quint64 request) = 0;            // ends the answer early: answered() with what was written
    virtual void cancelReading(quint64 request) = 0;   // readingFinished(false); what was read is kept for next time
    virtual bool isBusy() const = 0;
    // True when the backend saves the question and answer in the store itself (the app's
    // worker does); the chat pane then reloads them instead of writing them.
    virtual bool storesMessages() const { return false; }
    // True when a stopped answer can be written on (AnswerRequest::continuing); the chat
    // pane offers Continue only then.
    virtual bool canContinue() const { return false; }

signals:
    // The rate and the time left as the source measured them (< 0: not known).
    void readingProgress(quint64 request, qint64 doneTokens, qint64 totalTokens, double tokensPerSecond,
                         double etaSeconds);
    void readingFinished(quint64 request, bool completed);
    void token(quint64 request, const QString& piece);
    // A reasoning model's thinking before its answer (shown folded, stored apart).
    void reasoning(quint64 request, const QString& piece);
    void answered(quint64 request, const folio::AnswerOutcome& outcome);
    // A backend that stores messages says which conversation holds the answer (it
    // creates one when asked with conversationId 0); sent before answered().
    void conversationSaved(quint64 request, qint64 conversationId);
    // Ended without an answer (stopped or cancelled); nothing was saved for it.
    void cancelled(quint64 request);
    void failed(quint64 request, folio::AnswerErrorKind kind, const QString& message);
    // The session, not a request: how full the context is, and how it holds the
    // document ("DCA, trained 2K → 64K", "F16", context size).
    void contextUsed(qint64 usedTokens, qint64 contextTokens);
    void sessionDescribed(const QString& extension, const QString& kvType, qint64 contextTokens);

protected:
    quint64 nextRequest() { return ++m_lastRequest; }
    // Ends a request that cannot be taken now, once the caller knows its id.
    void refuse(quint64 request, AnswerErrorKind kind, const QString& message)
    {
        QMetaObject::invokeMethod(this, [this, request, kind, message] { emit failed(request, kind, message); },
                                  Qt::QueuedConnection);
    }

private:
    quint64 m_lastRequest = 0;
};

} // namespace folio

Q_DECLARE_METATYPE(folio::AnswerOutcome)
