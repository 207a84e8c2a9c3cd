// The chat pane: the document's conversations (list, new, rename, delete, kept in the
// store), the messages as rich text with page citations such as "[p. 12]" turned into
// links, the answer streamed token by token, Stop, Copy and Regenerate, and the reading
// progress while the document is being read. Answers come from a AnswerSource.
// Regenerate keeps the earlier answers: a question shows one of its answers with
// "‹ 2/3 ›" links to the others; a stopped answer to the last question offers "Answer
// again" beside its "(stopped)" mark. The transcript is rendered a turn at a time: a finished
// turn once, the answer being written alone (at most ~30 times a second), so streaming
// costs the same after two turns as after two hundred (folio-bench chat-render).
#pragma once

#include "app/store/library_store.h"
#include "app/answers/answer_source.h"

#include <QHash>
#include <atomic>
#include <QSet>
#include <QPointer>
#include <QWidget>

#include <memory>
#include <optional>

class QComboBox;
class QPlainTextEdit;
class QPushButton;
class QTextBrowser;
class QTimer;
class QToolButton;

namespace folio {

class ReadingProgress;
class StoreWriter;
class TranscriptDocument;

// One question and its answers. An answer asked for again (Regenerate) is kept beside
// the earlier ones; one of them is shown: the newest, until another is chosen.
struct ChatTurn {
    int question = -1;      // index into the messages; -1 when an answer comes first
    QVector<int> answers;   // indexes of its answers, oldest first
};

class ChatView : public QWidget {
    Q_OBJECT
public:
    explicit ChatView(QWidget* parent = nullptr);
    ~ChatView() override;

    // Reads go to `store` (the GUI's connection); writes go to `writer`, off this thread.
    void setStore(LibraryStore* store, StoreWriter* writer)
    {
        m_store = store;
        m_writer = writer;
    }
    void setBackend(AnswerSource* backend);
    AnswerSource* backend() const { return m_backend; }
    void setModelFingerprint(const QString& fingerprint) { m_modelFingerprint = fingerprint; }
    // Shows the document's conversations (the most recent selected).
    void setDocument(std::shared_ptr<const Document> document, qint64 documentId);

    // 0 for a new conversation that is not in the store yet (it is saved with its first
    // turn, so an empty one never is).
    qint64 conversationId() const { return m_conversationId; }
    int conversationCount() const;
    // Starts a new conversation (in the list at once, in the store with its first turn);
    // a title given here is kept, otherwise the first question names it.
    void newConversation(const QString& title = QString());
    void renameConversation(const QString& title);
    void deleteConversation();
    void selectConversation(qint64 id);

    bool ask(const QString& question);   // false when it cannot (no backend, busy, no document)
    void stop();
    void regenerate();
    // Writes on the last answer, stopped, from where it stopped (when the source can).
    void continueAnswer();
    void copyLastAnswer();
    bool isAnswering() const { return m_answering; }

    const QVector<MessageRecord>& messages() const { return m_messages; }
    QString streamingText() const { return m_streaming; }
    QTextBrowser* transcript() const { return m_transcript; }
    // What the transcript shows, as Markdown: its turns' parts joined (the answer being
    // written included). Rendered at once, it reads the same as the transcript.
    QString transcriptMarkdown() const;
    ReadingProgress* readingProgress() const { return m_progress; }
    // Selects an answer (index into messages()) and sends out its evidence pages.
    void selectAnswer(int messageIndex);
    int selectedAnswer() const { return m_selectedAnswer; }

    // "[p. 12]" and "[pp. 3-4]" become links "folio-page:12" (Markdown).
    static QString linkCitations(const QString& markdown);

    // The messages as questions with their answers. Answers that follow one another
    // belong to one question (how the chat pane stores a regenerated answer), and so
    // does the answer to a question asked again right after its answer (how the app's
    // worker stores one).
    static QVector<ChatTurn> turns(const QVector<MessageRecord>& messages);
    int turnCount() const { return int(m_turns.size()); }
    // Which of a turn's answers is shown (index into its answers), and choosing another
    // (it is selected too, so the reader shows its evidence).
    int shownAnswer(int turn) const;
    void showAnswer(int turn, int alternative);

signals:
    void pageLinkActivated(const QString& label);
    void evidenceSelected(const QVector<folio::EvidencePage>& evidence);
    void failed(const QString& message);
    void answerFinished();

private:
    void reloadConversations(qint64 select);
    void loadMessages();
    // The messages as the store has them: the turns that changed are rendered again.
    void setMessages(QVector<MessageRecord> messages);
    void addMessage(const MessageRecord& message);
    void render(int fromTurn);   // the turns from fromTurn on, again
    void renderTurn(int turn);   // one turn again (another of its answers shown)
    QString turnMarkdown(int turn) const;
    bool showsStoppedAnswer(int turn) const;   // the last turn, its answer stopped: Answer again
    bool offersContinue(int turn) const;       // ... and the newest answer, from a source that can: Continue
    int partCount() const;       // the turns, and the answer being written before there is one
    void scheduleRender();
    void startAnswer(const QString& question, bool appendQuestion);
    void onToken(const QString& piece);
    void onReasoning(const QString& piece);
    void onAnswered(quint64 request, const AnswerOutcome& outcome);
    // For a source that stores nothing: the turn (or, answered again, the answer) saved
    // in one transaction off this thread, also when the view has moved on.
    struct UnsavedTurn {
        std::shared_ptr<std::atomic<qint64>> conversation;   // 0 until the store has it
        qint64 documentId = 0;
        QString modelFingerprint;
        QString title;
        std::optional<MessageRecord> question;   // none: an answer asked for again
        bool continuing = false;                 // the stopped answer written on: saved in place
        qint64 replaces = 0;                     // its id (0: the conversation's last answer)
    };
    void saveTurn(const UnsavedTurn& turn, const AnswerOutcome& outcome);
    void turnSaved(const std::shared_ptr<std::atomic<qint64>>& conversation, const TurnRecord& saved);
    void showConversation(qint64 id);   // selected (or 0: a new one), with a slot of its own
    void onFailed(const QString& message);
    void adoptConversation(qint64 id);
    void endWithoutAnswer();
    void giveQuestionBack();
    void dropUnansweredQuestion();
    bool restoreContinued();
    bool isOurs(quint64 request) const { return m_answering && request == m_request; }
    void updateButtons();
    void report(const QString& message);
    QVector<MessageRecord> shownHistory(int turnCount) const;
    QString answerSwitcher(int turn, int shown, int count, bool links) const;

    LibraryStore* m_store = nullptr;
    StoreWriter* m_writer = nullptr;
    QPointer<AnswerSource> m_backend;
    QString m_modelFingerprint;
    std::shared_ptr<const Document> m_document;
    qint64 m_documentId = 0;
    qint64 m_conversationId = 0;
    // The conversation shown, as the writer's jobs see it: a new one's id is filled in by
    // the job that creates it, and the jobs queued after it read it there.
    std::shared_ptr<std::atomic<qint64>> m_conversationSlot = std::make_shared<std::atomic<qint64>>(0);
    bool m_pendingConversation = false;   // a new conversation, shown, not in the store yet
    QString m_pendingTitle;
    bool m_pendingTitleChosen = false;    // given by the user (kept), not a placeholder
    QSet<qint64> m_deleting;              // conversations being deleted: no longer listed
    QHash<quint64, UnsavedTurn> m_unsaved;   // requests whose turn the view saves
    QVector<MessageRecord> m_messages;   // the transcript: the view keeps no other copy
    QVector<ChatTurn> m_turns;           // turns(m_messages), regrouped when it changes
    int m_livePart = -1;                 // the part rendered with the answer being written
    QString m_streaming;
    QString m_streamingReasoning;   // a reasoning model's thinking, before m_streaming
    QSet<int> m_openThinking;       // messages whose thinking is shown unfolded
    QString m_asked;   // the question being answered
    std::optional<MessageRecord> m_continued;   // the stopped answer being written on (Continue)
    quint64 m_request = 0;   // its request to the backend
    bool m_answering = false;
    int m_selectedAnswer = -1;
    QHash<int, int> m_shownAnswers;    // turn → the answer chosen instead of the newest
    qint64 m_shownAnswersOf = 0;       // the conversation m_shownAnswers is about

    QComboBox* m_conversations;
    QToolButton* m_new;
    QToolButton* m_rename;
    QToolButton* m_delete;
    QTextBrowser* m_transcript;
    std::unique_ptr<TranscriptDocument> m_rendered;   // m_transcript's document, part by part
    ReadingProgress* m_progress;
    QPlainTextEdit* m_question;
    QPushButton* m_ask;
    QPushButton* m_stop;
    QToolButton* m_copy;
    QToolButton* m_regenerate;
    QTimer* m_renderTimer;
};

} // namespace folio
