// The chat pane's transcript: the messages grouped into turns, each turn rendered from
// its Markdown into its own part of the transcript's document (TranscriptDocument).
// What changes re-renders only its turns: the answer being written its own (throttled
// by m_renderTimer), a finished answer its turn, a reload the turns that differ.
#include "ui/chat/chat_view.h"

#include "ui/chat/transcript_document.h"

#include <QRegularExpression>
#include <QScrollBar>
#include <QTextBrowser>
#include <QTimer>

#include <algorithm>

namespace folio {

namespace {
// "12 words" (no translations are loaded, so no %n plural forms)
QString wordsText(const QString& text)
{
    const auto n = text.split(QRegularExpression(QStringLiteral("\\s+")), Qt::SkipEmptyParts).size();
    return n == 1 ? ChatView::tr("1 word") : ChatView::tr("%1 words").arg(n);
}
} // namespace

namespace {

bool sameMessage(const MessageRecord& a, const MessageRecord& b)
{
    return a.id == b.id && a.role == b.role && a.text == b.text && a.interrupted == b.interrupted
           && a.evidence == b.evidence;
}

bool sameTurn(const ChatTurn& a, const ChatTurn& b) { return a.question == b.question && a.answers == b.answers; }

int lastMessageOf(const ChatTurn& turn) { return turn.answers.isEmpty() ? turn.question : turn.answers.last(); }

} // namespace

QVector<ChatTurn> ChatView::turns(const QVector<MessageRecord>& messages)
{
    QVector<ChatTurn> out;
    MessageRole previous = MessageRole::System;
    for (int i = 0; i < messages.size(); ++i) {
        const MessageRecord& m = messages[i];
        if (m.role == MessageRole::System)
            continue;
        if (m.role == MessageRole::User) {
            const bool askedAgain = previous == MessageRole::Assistant && !out.isEmpty() && out.last().question >= 0
                                    && messages[out.last().question].text == m.text;
            if (!askedAgain)
                out.push_back({i, {}});
        } else {
            if (out.isEmpty())
                out.push_back({-1, {}});
            out.last().answers.push_back(i);
        }
        previous = m.role;
    }
    return out;
}

void ChatView::setMessages(QVector<MessageRecord> messages)
{
    int firstChanged = 0;
    while (firstChanged < messages.size() && firstChanged < m_messages.size()
           && sameMessage(messages[firstChanged], m_messages[firstChanged]))
        ++firstChanged;
    QVector<ChatTurn> grouped = turns(messages);
    // A turn looks as before when it groups the same messages, none of them changed.
    int from = 0;
    while (from < grouped.size() && from < m_turns.size() && sameTurn(grouped[from], m_turns[from])
           && lastMessageOf(grouped[from]) < firstChanged)
        ++from;
    if (m_livePart >= 0)
        from = std::min(from, m_livePart);   // drawn with the answer being written
    m_messages = std::move(messages);
    m_turns = std::move(grouped);
    // The last turn offers what only the last can have (Answer again).
    from = std::min(from, int(m_turns.size()) - 1);
    if (m_answering)
        from = std::min(from, partCount() - 1);
    render(from);
}

void ChatView::addMessage(const MessageRecord& message)
{
    m_messages.push_back(message);
    m_turns = turns(m_messages);
}

int ChatView::partCount() const
{
    return int(m_turns.size()) + (m_answering && m_turns.isEmpty() ? 1 : 0);
}

void ChatView::render(int fromTurn)
{
    m_renderTimer->stop();
    const int parts = partCount();
    fromTurn = std::clamp(fromTurn, 0, std::min(parts, m_rendered->partCount()));
    m_rendered->truncate(fromTurn);
    for (int t = fromTurn; t < parts; ++t)
        m_rendered->append(turnMarkdown(t));
    m_livePart = m_answering ? parts - 1 : -1;
    QScrollBar* bar = m_transcript->verticalScrollBar();
    bar->setValue(bar->maximum());
}

// Another answer shown: only its turn changes, and the reader stays where they are.
void ChatView::renderTurn(int turn)
{
    if (turn >= 0 && turn < m_rendered->partCount())
        m_rendered->replace(turn, turnMarkdown(turn));
}

bool ChatView::showsStoppedAnswer(int turn) const
{
    const int shown = shownAnswer(turn);
    return turn == m_turns.size() - 1 && shown >= 0 && m_messages[m_turns[turn].answers[shown]].interrupted;
}

bool ChatView::offersContinue(int turn) const
{
    const int shown = shownAnswer(turn);
    return showsStoppedAnswer(turn) && m_backend && m_backend->canContinue()
           && m_turns[turn].answers[shown] == int(m_messages.size()) - 1;
}

QString ChatView::transcriptMarkdown() const
{
    QString md;
    for (int t = 0; t < partCount(); ++t)
        md += turnMarkdown(t);
    return md;
}

void ChatView::scheduleRender()
{
    if (!m_renderTimer->isActive())
        m_renderTimer->start();
}

QString ChatView::turnMarkdown(int t) const
{
    const QString rule = QStringLiteral("---\n\n");
    const ChatTurn turn = t < m_turns.size() ? m_turns[t] : ChatTurn{};
    QString md;
    if (turn.question >= 0)
        md += tr("**You**") + QStringLiteral("\n\n") + linkCitations(m_messages[turn.question].text)
              + QStringLiteral("\n\n") + rule;
    const int count = int(turn.answers.size());
    if (m_answering && t == partCount() - 1) {
        // The answer being written; another answer to the question takes the old one's place.
        md += tr("**Folio**");
        if (count > 0)
            md += QStringLiteral("  ") + answerSwitcher(t, count, count + 1, false);
        md += QStringLiteral("\n\n");
        if (!m_streamingReasoning.isEmpty())   // the thinking, folded: how far it has got
            md += QStringLiteral("*%1*\n\n").arg(m_streaming.isEmpty() ? tr("Thinking… (%1)").arg(wordsText(m_streamingReasoning))
                                                                   : tr("Thought first (%1)").arg(wordsText(m_streamingReasoning)));
        return md + linkCitations(m_streaming) + QStringLiteral(" ▍\n\n");
    }
    if (count == 0)
        return md;
    const int shown = shownAnswer(t);
    const int index = turn.answers[shown];
    const MessageRecord& m = m_messages[index];
    md += tr("**Folio**");
    if (count > 1)
        md += QStringLiteral("  ") + answerSwitcher(t, shown, count, true);
    md += QStringLiteral("\n\n");
    if (!m.reasoning.isEmpty()) {
        // The thinking folded under a link; unfolded as a quote, never linked as citations.
        const bool open = m_openThinking.contains(index);
        md += QStringLiteral("*[%1](folio-thinking:%2.%3)*\n\n")
                  .arg(open ? tr("Hide the thinking") : tr("Show the thinking (%1)").arg(wordsText(m.reasoning)))
                  .arg(t)
                  .arg(index);
        if (open)
            for (const QString& line : m.reasoning.split(QLatin1Char('\n')))
                md += QStringLiteral("> ") + line.toHtmlEscaped() + QStringLiteral("\n");
        if (open)
            md += QStringLiteral("\n");
    }
    md += linkCitations(m.text);
    if (m.interrupted) {
        md += QStringLiteral(" *") + tr("(stopped)") + QLatin1Char('*');
        // Only the last question can be answered again (from the state before its answer).
        if (offersContinue(t))
            md += QStringLiteral(" [%1](folio-continue:%2)").arg(tr("Continue")).arg(t);
        if (showsStoppedAnswer(t))
            md += QStringLiteral(" [%1](folio-again:%2)").arg(tr("Answer again")).arg(t);
    }
    md += QStringLiteral("\n\n");
    if (!m.evidence.isEmpty())
        md += QStringLiteral("*[%1](folio-evidence:%2)*\n\n").arg(tr("Show evidence pages")).arg(index);
    return md + rule;
}

// "‹ 2/3 ›": the answer shown of a question's answers, with links to the neighbours.
QString ChatView::answerSwitcher(int turn, int shown, int count, bool links) const
{
    const auto arrow = [&](const QString& glyph, int target) {
        return links && target >= 0 && target < count
                   ? QStringLiteral("[%1](folio-answer:%2.%3)").arg(glyph).arg(turn).arg(target)
                   : glyph;
    };
    return QStringLiteral("%1 %2 %3")
        .arg(arrow(QStringLiteral("‹"), shown - 1), tr("%1/%2").arg(shown + 1).arg(count), arrow(QStringLiteral("›"), shown + 1));
}

QString ChatView::linkCitations(const QString& markdown)
{
    static const QRegularExpression citation(QStringLiteral(R"(\[(pp?)\.\s*([0-9A-Za-z]+)([^\]\[]{0,12})\])"));
    QString out;
    qsizetype last = 0;
    for (auto it = citation.globalMatch(markdown); it.hasNext();) {
        const QRegularExpressionMatch m = it.next();
        out += markdown.mid(last, m.capturedStart() - last);
        out += QStringLiteral("[%1. %2%3](folio-page:%2)").arg(m.captured(1), m.captured(2), m.captured(3));
        last = m.capturedEnd();
    }
    out += markdown.mid(last);
    return out;
}

} // namespace folio
