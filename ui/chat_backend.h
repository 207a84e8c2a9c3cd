// What the chat pane needs from whatever answers questions: the app's worker (the
// engine on its own thread) through an adapter, or a scripted stand-in in tests and
// screenshots. Everything arrives as queued signals, so the GUI thread never waits.
#pragma once

#include "app/documents/document.h"
#include "app/store/library_store.h"

#include <QObject>

#include <memory>

namespace folio {

struct ChatRequest {
    std::shared_ptr<const Document> document;
    qint64 documentId = 0;
    qint64 conversationId = 0;
    QVector<MessageRecord> history;   // the conversation so far (the question not included)
    QString question;
    // Regenerate: the conversation's last question (this one) answered again, from the
    // state before its earlier answer, which the store keeps beside the new one.
    bool again = false;
};

class ChatBackend : public QObject {
    Q_OBJECT
public:
    using QObject::QObject;

    // Reads the document if needed (readingProgress ... readingFinished), then streams
    // the answer (token ... answered). One request at a time.
    virtual void ask(const ChatRequest& request) = 0;
    virtual void stop() = 0;            // ends the answer early: answered() with what was written
    virtual void cancelReading() = 0;   // readingFinished(false); what was read is kept for next time
    virtual bool isBusy() const = 0;
    // True when the backend saves the question and answer in the store itself (the app's
    // worker does); the chat pane then reloads them instead of writing them.
    virtual bool storesMessages() const { return false; }

signals:
    void readingProgress(qint64 doneTokens, qint64 totalTokens);
    void readingFinished(bool completed);
    void token(const QString& piece);
    void answered(const QString& text, const QVector<folio::EvidencePage>& evidence);
    void contextUsed(qint64 usedTokens, qint64 contextTokens);
    // A backend that stores messages says which conversation holds the answer (it
    // creates one when asked with conversationId 0); sent before answered().
    void conversationSaved(qint64 conversationId);
    // Ended without an answer (stopped or cancelled); nothing was saved for it.
    void cancelled();
    // How the session holds the document: "DCA, trained 2K → 64K", "F16", context size.
    void sessionDescribed(const QString& extension, const QString& kvType, qint64 contextTokens);
    void failed(const QString& message);
};

} // namespace folio
