// The chat pane: the document's conversations (list, new, rename, delete, kept in the
// store), the messages as rich text with page citations such as "[p. 12]" turned into
// links, the answer streamed token by token, Stop, Copy and Regenerate, and the reading
// progress while the document is being read. Answers come from a ChatBackend.
#pragma once

#include "app/store/library_store.h"
#include "ui/chat_backend.h"

#include <QPointer>
#include <QWidget>

class QComboBox;
class QPlainTextEdit;
class QPushButton;
class QTextBrowser;
class QTimer;
class QToolButton;

namespace folio {

class ReadingProgress;

class ChatView : public QWidget {
    Q_OBJECT
public:
    explicit ChatView(QWidget* parent = nullptr);

    void setStore(LibraryStore* store) { m_store = store; }
    void setBackend(ChatBackend* backend);
    ChatBackend* backend() const { return m_backend; }
    void setModelFingerprint(const QString& fingerprint) { m_modelFingerprint = fingerprint; }
    // Shows the document's conversations (the most recent selected).
    void setDocument(std::shared_ptr<const Document> document, qint64 documentId);

    qint64 conversationId() const { return m_conversationId; }
    int conversationCount() const;
    qint64 newConversation(const QString& title = QString());
    void renameConversation(const QString& title);
    void deleteConversation();
    void selectConversation(qint64 id);

    bool ask(const QString& question);   // false when it cannot (no backend, busy, no document)
    void stop();
    void regenerate();
    void copyLastAnswer();
    bool isAnswering() const { return m_answering; }

    const QVector<MessageRecord>& messages() const { return m_messages; }
    QString streamingText() const { return m_streaming; }
    QTextBrowser* transcript() const { return m_transcript; }
    ReadingProgress* readingProgress() const { return m_progress; }
    // Selects an answer (index into messages()) and sends out its evidence pages.
    void selectAnswer(int messageIndex);
    int selectedAnswer() const { return m_selectedAnswer; }

    // "[p. 12]" and "[pp. 3-4]" become links "folio-page:12" (Markdown).
    static QString linkCitations(const QString& markdown);

signals:
    void pageLinkActivated(const QString& label);
    void evidenceSelected(const QVector<folio::EvidencePage>& evidence);
    void failed(const QString& message);
    void answerFinished();

private:
    void reloadConversations(qint64 select);
    void loadMessages();
    void render();
    void scheduleRender();
    void startAnswer(const QString& question, bool appendQuestion);
    void onToken(const QString& piece);
    void onAnswered(const QString& text, const QVector<EvidencePage>& evidence);
    void onFailed(const QString& message);
    void adoptConversation(qint64 id);
    void endWithoutAnswer();
    void updateButtons();
    void report(const QString& message);

    LibraryStore* m_store = nullptr;
    QPointer<ChatBackend> m_backend;
    QString m_modelFingerprint;
    std::shared_ptr<const Document> m_document;
    qint64 m_documentId = 0;
    qint64 m_conversationId = 0;
    QVector<MessageRecord> m_messages;
    QString m_streaming;
    bool m_answering = false;
    int m_selectedAnswer = -1;

    QComboBox* m_conversations;
    QToolButton* m_new;
    QToolButton* m_rename;
    QToolButton* m_delete;
    QTextBrowser* m_transcript;
    ReadingProgress* m_progress;
    QPlainTextEdit* m_question;
    QPushButton* m_ask;
    QPushButton* m_stop;
    QToolButton* m_copy;
    QToolButton* m_regenerate;
    QTimer* m_renderTimer;
};

} // namespace folio
