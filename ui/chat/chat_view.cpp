#include "ui/chat/chat_view.h"

#include "app/store/store_error.h"
#include "app/store/store_writer.h"
#include "ui/chat/reading_progress.h"
#include "ui/chat/transcript_document.h"

#include <QApplication>
#include <QClipboard>
#include <QComboBox>
#include <QHBoxLayout>
#include <QInputDialog>
#include <QKeySequence>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QShortcut>
#include <QTextBrowser>
#include <QTimer>
#include <QToolButton>
#include <QVBoxLayout>

namespace folio {

ChatView::ChatView(QWidget* parent) : QWidget(parent)
{
    setObjectName(QStringLiteral("chatView"));
    m_conversations = new QComboBox;
    m_conversations->setObjectName(QStringLiteral("conversationBox"));
    m_conversations->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    m_conversations->setMinimumContentsLength(12);
    auto tool = [this](const char* name, const QString& icon, const QString& text) {
        auto* button = new QToolButton;
        button->setObjectName(QLatin1String(name));
        button->setIcon(QIcon::fromTheme(icon));
        button->setText(text);
        button->setToolTip(text);
        button->setAutoRaise(true);
        return button;
    };
    m_new = tool("newConversationButton", QStringLiteral("document-new"), tr("New conversation"));
    m_rename = tool("renameConversationButton", QStringLiteral("edit-rename"), tr("Rename conversation"));
    m_delete = tool("deleteConversationButton", QStringLiteral("edit-delete"), tr("Delete conversation"));
    auto* top = new QHBoxLayout;
    top->addWidget(m_conversations, 1);
    top->addWidget(m_new);
    top->addWidget(m_rename);
    top->addWidget(m_delete);

    m_transcript = new QTextBrowser;
    m_transcript->setObjectName(QStringLiteral("transcript"));
    m_transcript->setOpenLinks(false);
    m_transcript->setPlaceholderText(tr("Ask a question about the document. Answers cite pages like [p. 12]; "
                                        "click a citation to go there."));
    m_rendered = std::make_unique<TranscriptDocument>(m_transcript->document());
    connect(m_transcript, &QTextBrowser::anchorClicked, this, [this](const QUrl& url) {
        if (url.scheme() == QLatin1String("folio-page"))
            emit pageLinkActivated(url.path());
        else if (url.scheme() == QLatin1String("folio-evidence"))
            selectAnswer(url.path().toInt());
        else if (url.scheme() == QLatin1String("folio-again") && url.path().toInt() == turnCount() - 1)
            regenerate();
        else if (url.scheme() == QLatin1String("folio-continue") && url.path().toInt() == turnCount() - 1)
            continueAnswer();
        else if (url.scheme() == QLatin1String("folio-thinking")) {   // "turn.message": fold or unfold
            const int turn = url.path().section(QChar(u'.'), 0, 0).toInt();
            const int message = url.path().section(QChar(u'.'), 1, 1).toInt();
            if (!m_openThinking.remove(message))
                m_openThinking.insert(message);
            renderTurn(turn);
        } else if (url.scheme() == QLatin1String("folio-answer"))   // "turn.answer"
            showAnswer(url.path().section(QChar(u'.'), 0, 0).toInt(), url.path().section(QChar(u'.'), 1, 1).toInt());
    });

    m_progress = new ReadingProgress;
    connect(m_progress, &ReadingProgress::cancelRequested, this, [this] {
        if (m_backend && m_answering)
            m_backend->cancelReading(m_request);
    });

    m_question = new QPlainTextEdit;
    m_question->setObjectName(QStringLiteral("questionEdit"));
    m_question->setPlaceholderText(tr("Ask about the document (Ctrl+Enter)"));
    m_question->setMaximumHeight(90);
    m_ask = new QPushButton(QIcon::fromTheme(QStringLiteral("mail-send")), tr("Ask"));
    m_ask->setObjectName(QStringLiteral("askButton"));
    m_stop = new QPushButton(QIcon::fromTheme(QStringLiteral("process-stop")), tr("Stop"));
    m_stop->setObjectName(QStringLiteral("stopButton"));
    m_copy = tool("copyButton", QStringLiteral("edit-copy"), tr("Copy the last answer"));
    m_regenerate = tool("regenerateButton", QStringLiteral("view-refresh"), tr("Answer the last question again"));
    auto* buttons = new QHBoxLayout;
    buttons->addWidget(m_copy);
    buttons->addWidget(m_regenerate);
    buttons->addStretch(1);
    buttons->addWidget(m_stop);
    buttons->addWidget(m_ask);

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 6, 6, 6);
    layout->addLayout(top);
    layout->addWidget(m_transcript, 1);
    layout->addWidget(m_progress);
    layout->addWidget(m_question);
    layout->addLayout(buttons);

    m_renderTimer = new QTimer(this);
    m_renderTimer->setSingleShot(true);
    m_renderTimer->setInterval(30);   // streaming re-renders at most ~30 times a second
    connect(m_renderTimer, &QTimer::timeout, this, [this] { render(partCount() - 1); });

    connect(m_new, &QToolButton::clicked, this, [this] { newConversation(); });
    connect(m_rename, &QToolButton::clicked, this, [this] {
        bool ok = false;
        const QString title = QInputDialog::getText(this, tr("Rename Conversation"), tr("Title:"), QLineEdit::Normal,
                                                    m_conversations->currentText(), &ok);
        if (ok && !title.trimmed().isEmpty())
            renameConversation(title.trimmed());
    });
    connect(m_delete, &QToolButton::clicked, this, &ChatView::deleteConversation);
    connect(m_conversations, &QComboBox::activated, this, [this](int index) {
        selectConversation(m_conversations->itemData(index).toLongLong());
    });
    connect(m_ask, &QPushButton::clicked, this, [this] {
        if (ask(m_question->toPlainText().trimmed()))
            m_question->clear();
    });
    auto* send = new QShortcut(QKeySequence(Qt::CTRL | Qt::Key_Return), m_question);
    connect(send, &QShortcut::activated, m_ask, &QPushButton::click);
    connect(m_stop, &QPushButton::clicked, this, &ChatView::stop);
    connect(m_copy, &QToolButton::clicked, this, &ChatView::copyLastAnswer);
    connect(m_regenerate, &QToolButton::clicked, this, &ChatView::regenerate);
    updateButtons();
}

ChatView::~ChatView() = default;

void ChatView::setBackend(AnswerSource* backend)
{
    if (m_backend)
        disconnect(m_backend, nullptr, this, nullptr);
    m_backend = backend;
    if (backend) {
        // Only our own requests: a review asks through the same backend.
        connect(backend, &AnswerSource::readingProgress, this,
                [this](quint64 request, qint64 done, qint64 total, double rate, double eta) {
                    if (isOurs(request))
                        m_progress->report(done, total, rate, eta);
                });
        connect(backend, &AnswerSource::readingFinished, this, [this](quint64 request, bool completed) {
            if (!isOurs(request))
                return;
            m_progress->finish();
            if (!completed)
                endWithoutAnswer();   // cancelled: the reading resumes from here next time
        });
        connect(backend, &AnswerSource::token, this, [this](quint64 request, const QString& piece) {
            if (isOurs(request))
                onToken(piece);
        });
        connect(backend, &AnswerSource::reasoning, this, [this](quint64 request, const QString& piece) {
            if (isOurs(request))
                onReasoning(piece);
        });
        connect(backend, &AnswerSource::answered, this, [this](quint64 request, const AnswerOutcome& outcome) {
            if (isOurs(request))
                onAnswered(request, outcome);
            else if (m_unsaved.contains(request))   // stopped by a switch: saved all the same
                saveTurn(m_unsaved.take(request), outcome);
        });
        connect(backend, &AnswerSource::failed, this, [this](quint64 request, AnswerErrorKind, const QString& message) {
            m_unsaved.remove(request);
            if (isOurs(request))
                onFailed(message);
        });
        connect(backend, &AnswerSource::conversationSaved, this, [this](quint64 request, qint64 id) {
            if (isOurs(request))
                adoptConversation(id);
        });
        connect(backend, &AnswerSource::cancelled, this, [this](quint64 request) {
            m_unsaved.remove(request);
            if (isOurs(request))
                endWithoutAnswer();
        });
    }
    updateButtons();
}

void ChatView::setDocument(std::shared_ptr<const Document> document, qint64 documentId)
{
    if (m_answering && m_backend)
        m_backend->stop(m_request);
    m_answering = false;
    m_document = std::move(document);
    m_documentId = documentId;
    m_pendingConversation = false;
    m_conversationId = 0;
    m_selectedAnswer = -1;
    reloadConversations(0);
}

void ChatView::reloadConversations(qint64 select)
{
    m_conversations->clear();
    QVector<ConversationRecord> list;
    if (m_store && m_documentId) {
        try {
            list = m_store->conversations(m_documentId);
        } catch (const StoreError& e) {
            report(e.message());
        }
    }
    if (m_pendingConversation)
        m_conversations->addItem(m_pendingTitle, 0);
    for (const ConversationRecord& c : list)
        if (!m_deleting.contains(c.id))
            m_conversations->addItem(c.title, c.id);
    int index = -1;
    if (select)
        index = m_conversations->findData(select);
    if (index < 0 && m_conversations->count() > 0)
        index = 0;   // the new one, or the most recent
    m_conversations->setCurrentIndex(index);
    showConversation(index >= 0 ? m_conversations->itemData(index).toLongLong() : 0);
    loadMessages();
}

void ChatView::showConversation(qint64 id)
{
    if (id)
        m_pendingConversation = false;
    if (id != m_conversationId || !m_conversationSlot || m_conversationSlot->load() != id)
        m_conversationSlot = std::make_shared<std::atomic<qint64>>(id);
    m_conversationId = id;
}

int ChatView::conversationCount() const { return m_conversations->count(); }

void ChatView::selectConversation(qint64 id)
{
    if (id == m_conversationId)
        return;
    if (m_answering && m_backend)
        m_backend->stop(m_request);
    m_answering = false;
    m_pendingConversation = m_pendingConversation && id == 0;   // left: an empty new one goes
    reloadConversations(id);
}

void ChatView::newConversation(const QString& title)
{
    if (!m_documentId || m_answering)
        return;
    m_pendingConversation = true;
    m_pendingTitleChosen = !title.isEmpty();
    m_pendingTitle = title.isEmpty() ? tr("New conversation") : title;
    m_conversationSlot = std::make_shared<std::atomic<qint64>>(0);
    m_conversationId = 0;
    m_shownAnswersOf = -1;   // nothing of the conversation shown before
    reloadConversations(0);
}

void ChatView::renameConversation(const QString& title)
{
    if (m_pendingConversation && !m_conversationId) {
        m_pendingTitle = title;   // for the first turn, when it is saved
        m_pendingTitleChosen = true;
        m_conversations->setItemText(m_conversations->currentIndex(), title);
        // ... and for one already on its way to the store.
        if (m_writer)
            m_writer->post(this, [slot = m_conversationSlot, title](LibraryStore& store) {
                if (const qint64 id = slot->load())
                    store.renameConversation(id, title);
            }, [] {}, [this](const StoreError& e) { report(e.message()); });
        return;
    }
    if (!m_writer || !m_conversationId)
        return;
    const qint64 id = m_conversationId;
    m_conversations->setItemText(m_conversations->currentIndex(), title);
    m_writer->post(this, [id, title](LibraryStore& store) { store.renameConversation(id, title); }, [] {},
                   [this](const StoreError& e) {
                       report(e.message());
                       if (!m_answering)
                           reloadConversations(m_conversationId);
                   });
}

void ChatView::deleteConversation()
{
    if (m_answering)
        return;
    if (m_pendingConversation && !m_conversationId) {
        m_pendingConversation = false;
        reloadConversations(0);
        return;
    }
    if (!m_writer || !m_conversationId)
        return;
    const qint64 id = m_conversationId;
    m_deleting.insert(id);   // gone from the list now, from the store when the job runs
    reloadConversations(0);
    m_writer->post(this, [id](LibraryStore& store) { store.deleteConversation(id); },
                   [this, id] { m_deleting.remove(id); },
                   [this, id](const StoreError& e) {
                       m_deleting.remove(id);
                       report(e.message());
                       if (!m_answering)
                           reloadConversations(m_conversationId);
                   });
}

void ChatView::loadMessages()
{
    m_streaming.clear();
    m_streamingReasoning.clear();
    m_selectedAnswer = -1;
    QVector<MessageRecord> messages;
    if (m_shownAnswersOf != m_conversationId) {
        m_shownAnswers.clear();   // another conversation: its newest answers first
        m_openThinking.clear();   // and its thinking folded
        m_shownAnswersOf = m_conversationId;
        m_messages.clear();       // and nothing of the one shown before
        m_turns.clear();
        render(0);
    }
    if (m_store && m_conversationId) {
        try {
            messages = m_store->messages(m_conversationId);
        } catch (const StoreError& e) {
            report(e.message());
        }
    } else if (m_pendingConversation) {
        messages = m_messages;   // a new conversation: what it shows is not in the store yet
    }
    setMessages(std::move(messages));
    for (int t = int(m_turns.size()) - 1; t >= 0; --t)
        if (!m_turns[t].answers.isEmpty()) {
            selectAnswer(m_turns[t].answers[shownAnswer(t)]);
            break;
        }
    if (m_selectedAnswer < 0)
        emit evidenceSelected({});
    updateButtons();
}

bool ChatView::ask(const QString& question)
{
    if (question.isEmpty() || m_answering)
        return false;
    if (!m_document || !m_documentId) {
        report(tr("Open a document before asking about it."));
        return false;
    }
    if (!m_backend) {
        report(tr("No model is loaded: choose one in Tools → Model Manager."));
        return false;
    }
    // The conversation goes into the store with its first turn: the worker's, or the
    // one this pane saves for a source that stores nothing.
    if (!m_conversationId && !m_pendingConversation)
        newConversation();
    if (!m_pendingTitleChosen && m_pendingConversation)
        m_pendingTitle = question.left(48);
    startAnswer(question, true);
    return true;
}

void ChatView::startAnswer(const QString& question, bool appendQuestion)
{
    AnswerRequest request;
    request.document = m_document;
    request.documentId = m_documentId;
    request.conversationId = m_conversationId;
    request.question = question;
    // A backend that stores turns binds a conversation to its model when it saves the
    // first one: let it create the conversation (adoptConversation keeps our title).
    if (m_backend->storesMessages() && m_messages.isEmpty())
        request.conversationId = 0;
    const int lastBefore = turnCount() - 1;
    const bool offeredAgain = lastBefore >= 0 && showsStoppedAnswer(lastBefore);
    UnsavedTurn unsaved;
    unsaved.conversation = m_conversationSlot;
    unsaved.documentId = m_documentId;
    unsaved.modelFingerprint = m_modelFingerprint;
    unsaved.title = m_pendingTitle.isEmpty() ? question.left(48) : m_pendingTitle;
    if (appendQuestion) {
        request.history = shownHistory(turnCount());
        MessageRecord message;
        message.conversationId = m_conversationId;
        message.role = MessageRole::User;
        message.text = question;
        unsaved.question = message;   // saved with its answer, in one transaction
        addMessage(message);
    } else {
        // Regenerate: the conversation as shown, up to (not including) the last question.
        request.history = shownHistory(turnCount() - 1);
        request.again = true;
    }
    m_answering = true;
    m_asked = question;
    m_streaming.clear();
    m_streamingReasoning.clear();
    updateButtons();
    // The last turn, with the answer being written, and the one before it when it offered
    // Answer again (as the last turn no more, it cannot).
    render(offeredAgain ? lastBefore : partCount() - 1);
    m_request = m_backend->ask(request);
    if (!m_backend->storesMessages())
        m_unsaved.insert(m_request, unsaved);
}

void ChatView::stop()
{
    if (m_answering && m_backend)
        m_backend->stop(m_request);
}

void ChatView::regenerate()
{
    if (m_answering || !m_backend)
        return;
    if (!m_turns.isEmpty() && m_turns.last().question >= 0)
        startAnswer(m_messages[m_turns.last().question].text, false);
}

void ChatView::continueAnswer()
{
    if (m_answering || !m_backend || m_turns.isEmpty() || !offersContinue(turnCount() - 1))
        return;
    const ChatTurn& last = m_turns.last();
    AnswerRequest request;
    request.document = m_document;
    request.documentId = m_documentId;
    request.conversationId = m_conversationId;
    request.question = last.question >= 0 ? m_messages[last.question].text : QString();
    request.history = shownHistory(turnCount());   // the stopped answer last: where to go on from
    request.continuing = true;
    // The answer is written on where it is: shown as the one being written, its text so far first.
    m_continued = m_messages.last();
    QVector<MessageRecord> without = m_messages;
    without.removeLast();
    m_answering = true;
    m_asked = request.question;
    m_streaming = m_continued->text;
    m_streamingReasoning.clear();
    setMessages(std::move(without));
    updateButtons();
    render(partCount() - 1);
    m_request = m_backend->ask(request);
    if (!m_backend->storesMessages()) {
        UnsavedTurn unsaved;
        unsaved.conversation = m_conversationSlot;
        unsaved.documentId = m_documentId;
        unsaved.replaces = m_continued->id;   // 0 while its own save is on the way: the last answer then
        unsaved.continuing = true;
        m_unsaved.insert(m_request, unsaved);
    }
}

void ChatView::copyLastAnswer()
{
    for (int t = int(m_turns.size()) - 1; t >= 0; --t)
        if (!m_turns[t].answers.isEmpty()) {
            QApplication::clipboard()->setText(m_messages[m_turns[t].answers[shownAnswer(t)]].text);
            return;
        }
}

void ChatView::onReasoning(const QString& piece)
{
    if (!m_answering)
        return;
    m_streamingReasoning += piece;
    scheduleRender();
}

void ChatView::onToken(const QString& piece)
{
    if (!m_answering)
        return;
    m_streaming += piece;
    scheduleRender();
}

void ChatView::onAnswered(quint64 request, const AnswerOutcome& outcome)
{
    if (!m_answering)
        return;
    // The new answer belongs to the last question and is shown; earlier ones stay a click away.
    m_shownAnswers.remove(turnCount() - 1);
    m_answering = false;
    m_streaming.clear();
    m_streamingReasoning.clear();
    if (m_backend && m_backend->storesMessages() && m_store) {
        loadMessages();   // the question and answer as saved, with their ids and evidence
    } else {
        MessageRecord message;
        message.conversationId = m_conversationId;
        message.role = MessageRole::Assistant;
        message.text = outcome.text;
        message.evidence = outcome.evidence;
        message.interrupted = outcome.interrupted;   // stopped: marked so, as the worker's store does
        message.reasoning = outcome.reasoning;
        if (m_continued && message.reasoning.isEmpty())
            message.reasoning = m_continued->reasoning;
        addMessage(message);
        render(partCount() - 1);
        if (m_unsaved.contains(request))
            saveTurn(m_unsaved.take(request), outcome);
    }
    m_continued.reset();
    selectAnswer(int(m_messages.size()) - 1);
    updateButtons();
    emit answerFinished();
}

void ChatView::saveTurn(const UnsavedTurn& turn, const AnswerOutcome& outcome)
{
    if (!m_writer)
        return;
    UnsavedTurn saved = turn;
    if (turn.conversation == m_conversationSlot && m_pendingConversation && m_pendingTitleChosen)
        saved.title = m_pendingTitle;   // renamed while it was being answered
    MessageRecord answer;
    answer.role = MessageRole::Assistant;
    answer.text = outcome.text;
    answer.evidence = outcome.evidence;
    answer.interrupted = outcome.interrupted;
    answer.reasoning = outcome.reasoning;
    if (turn.continuing && m_continued && answer.reasoning.isEmpty())
        answer.reasoning = m_continued->reasoning;
    m_writer->post(this, [turn = std::move(saved), answer](LibraryStore& store) mutable {
        TurnRecord saved;
        if (turn.continuing) {
            // The stopped answer, saved again in place with what was written on.
            saved.conversationId = turn.conversation->load();
            answer.id = turn.replaces;
            if (!answer.id) {
                const QVector<MessageRecord> messages = store.messages(saved.conversationId);
                if (!messages.isEmpty() && messages.last().role == MessageRole::Assistant)
                    answer.id = messages.last().id;
            }
            store.updateTurn(saved.conversationId, MessageRecord{}, answer);
            saved.answerId = answer.id;
        } else if (turn.question) {
            // A new conversation is created in the same transaction (conversation id 0).
            saved = store.appendTurn(turn.conversation->load(), *turn.question, answer, turn.documentId,
                                     turn.modelFingerprint, turn.title);
            turn.conversation->store(saved.conversationId);   // for the jobs queued after this one
        } else {
            saved.conversationId = turn.conversation->load();
            saved.answerId = store.appendMessage(saved.conversationId, answer);
        }
        return saved;
    }, [this, slot = turn.conversation](const TurnRecord& saved) { turnSaved(slot, saved); },
    [this](const StoreError& e) { report(tr("The answer could not be saved: %1").arg(e.message())); });
}

void ChatView::turnSaved(const std::shared_ptr<std::atomic<qint64>>& conversation, const TurnRecord& saved)
{
    if (m_answering)
        return;   // the list and ids are brought up to date when this answer ends
    // The conversation shown (a new one now has its id): its messages as saved.
    if (conversation == m_conversationSlot) {
        if (m_pendingConversation)
            m_shownAnswersOf = saved.conversationId;   // the same conversation: its choices kept
        m_conversationId = saved.conversationId;
        m_pendingConversation = false;
    }
    reloadConversations(m_conversationId);
}

// A Continue that wrote nothing, or failed: the stopped answer is shown as it was.
bool ChatView::restoreContinued()
{
    if (!m_continued)
        return false;
    QVector<MessageRecord> with = m_messages;
    with.push_back(*std::exchange(m_continued, std::nullopt));
    setMessages(std::move(with));
    return true;
}

void ChatView::onFailed(const QString& message)
{
    if (!m_continued)
        giveQuestionBack();
    m_answering = false;
    m_streaming.clear();
    m_streamingReasoning.clear();
    m_progress->finish();
    // A backend that saves turns itself saved nothing of this one.
    if (!restoreContinued()) {
        if (m_backend && m_backend->storesMessages() && m_conversationId)
            loadMessages();
        else
            dropUnansweredQuestion();   // nothing stored of it (a new conversation: nothing at all)
    }
    updateButtons();
    report(message);
}

// Nothing was saved of a question without an answer (it is back in the box): nor is it shown.
void ChatView::dropUnansweredQuestion()
{
    QVector<MessageRecord> kept = m_messages;
    if (!kept.isEmpty() && kept.last().role == MessageRole::User && kept.last().id == 0)
        kept.removeLast();
    setMessages(std::move(kept));
}

// A question that got no answer goes back into the box, to ask again or change.
void ChatView::giveQuestionBack()
{
    if (m_question->toPlainText().trimmed().isEmpty())
        m_question->setPlainText(m_asked);
}

void ChatView::endWithoutAnswer()
{
    if (!m_answering)
        return;
    if (!m_continued)
        giveQuestionBack();
    m_answering = false;
    m_streaming.clear();
    m_streamingReasoning.clear();
    m_progress->finish();
    // A backend that stores turns kept nothing of this question: show what the store has.
    if (!restoreContinued()) {
        if (m_backend && m_backend->storesMessages() && m_conversationId)
            loadMessages();
        else
            dropUnansweredQuestion();   // nothing stored of it (a new conversation: nothing at all)
    }
    updateButtons();
}

void ChatView::adoptConversation(qint64 id)
{
    if (!id || id == m_conversationId)
        return;
    // The worker created the conversation with its first turn: a title the user gave the
    // new conversation is kept.
    if (m_pendingConversation && m_pendingTitleChosen && m_writer) {
        const QString title = m_pendingTitle;
        m_writer->post(this, [id, title](LibraryStore& store) { store.renameConversation(id, title); },
                       [this] {
                           if (!m_answering)
                               reloadConversations(m_conversationId);
                       },
                       [this](const StoreError& e) { report(e.message()); });
    }
    m_pendingConversation = false;
    reloadConversations(id);
}

void ChatView::selectAnswer(int messageIndex)
{
    if (messageIndex < 0 || messageIndex >= m_messages.size())
        return;
    m_selectedAnswer = messageIndex;
    // The selected answer is the one its question shows.
    for (int t = 0; t < m_turns.size(); ++t) {
        const int alternative = int(m_turns[t].answers.indexOf(messageIndex));
        if (alternative >= 0 && alternative != shownAnswer(t)) {
            m_shownAnswers[t] = alternative;
            renderTurn(t);
        }
    }
    emit evidenceSelected(m_messages[messageIndex].evidence);
}

int ChatView::shownAnswer(int turn) const
{
    if (turn < 0 || turn >= m_turns.size() || m_turns[turn].answers.isEmpty())
        return -1;
    const int count = int(m_turns[turn].answers.size());
    const int chosen = m_shownAnswers.value(turn, count - 1);
    return chosen >= 0 && chosen < count ? chosen : count - 1;
}

void ChatView::showAnswer(int turn, int alternative)
{
    if (m_answering || turn < 0 || turn >= m_turns.size() || alternative < 0
        || alternative >= m_turns[turn].answers.size())
        return;
    m_shownAnswers[turn] = alternative;
    renderTurn(turn);
    selectAnswer(m_turns[turn].answers[alternative]);
}

QVector<MessageRecord> ChatView::shownHistory(int turnCount) const
{
    QVector<MessageRecord> history;
    for (int t = 0; t < std::min(turnCount, int(m_turns.size())); ++t) {
        if (m_turns[t].question >= 0)
            history.push_back(m_messages[m_turns[t].question]);
        if (const int shown = shownAnswer(t); shown >= 0)
            history.push_back(m_messages[m_turns[t].answers[shown]]);
    }
    return history;
}

void ChatView::updateButtons()
{
    const bool haveConversation = m_conversationId != 0 || m_pendingConversation;
    bool hasAnswer = false;
    for (const MessageRecord& m : m_messages)
        hasAnswer = hasAnswer || m.role == MessageRole::Assistant;
    m_ask->setEnabled(!m_answering && m_document);
    m_stop->setEnabled(m_answering);
    m_new->setEnabled(m_documentId != 0 && !m_answering);
    m_rename->setEnabled(haveConversation);
    m_delete->setEnabled(haveConversation && !m_answering);
    m_copy->setEnabled(hasAnswer);
    m_regenerate->setEnabled(hasAnswer && !m_answering && m_backend);
    m_conversations->setEnabled(!m_answering);
}

void ChatView::report(const QString& message) { emit failed(message); }

} // namespace folio
