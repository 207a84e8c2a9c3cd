#include "ui/chat/transcript_document.h"

#include <QTextBlock>
#include <QTextCursor>
#include <QTextDocument>
#include <QTextDocumentFragment>

namespace folio {

TranscriptDocument::TranscriptDocument(QTextDocument* document) : m_document(document)
{
    // A read-only transcript needs no undo; kept, every streamed frame would stay in it.
    m_document->setUndoRedoEnabled(false);
}

int TranscriptDocument::partEnd(int index) const
{
    return index + 1 < m_starts.size() ? m_starts[index + 1] - 1 : m_document->characterCount() - 1;
}

void TranscriptDocument::append(const QString& markdown)
{
    const int end = m_document->characterCount() - 1;
    m_starts.push_back(insertPart(end, end, markdown));
}

void TranscriptDocument::replace(int index, const QString& markdown)
{
    if (index < 0 || index >= m_starts.size())
        return;
    const int before = m_document->characterCount();
    const int begin = index == 0 ? 0 : m_starts[index] - 1;
    insertPart(begin, partEnd(index), markdown);
    const int moved = m_document->characterCount() - before;
    for (int i = index + 1; i < m_starts.size(); ++i)
        m_starts[i] += moved;
}

void TranscriptDocument::truncate(int count)
{
    if (count < 0 || count >= m_starts.size())
        return;
    QTextCursor cursor(m_document);
    if (count == 0) {
        cursor.select(QTextCursor::Document);
        cursor.removeSelectedText();
        cursor.setBlockFormat({});
    } else {
        removeAfterPart(m_starts[count] - 1, m_document->characterCount() - 1);
    }
    m_starts.resize(count);
}

// Inserting a fragment merges its first block into the block at the cursor (which keeps
// its own format) and its last into what follows: so the part gets a new block with its
// first block's format, inserted after the previous part's last block (the first part
// reuses the document's first block). Positions: `begin` is the end of the previous
// part (0 for the first), `end` the separator that begins the next part or the end.
// Removes [end of the previous part's last block, end). Taking out the separator that
// ends that block can leave it with the format of a block that followed (its rule line
// lost after a list): it gets its own back.
void TranscriptDocument::removeAfterPart(int begin, int end)
{
    QTextCursor cursor(m_document);
    cursor.setPosition(begin);
    const QTextBlockFormat own = cursor.blockFormat();
    cursor.setPosition(end, QTextCursor::KeepAnchor);
    cursor.removeSelectedText();
    cursor.setBlockFormat(own);
}

int TranscriptDocument::insertPart(int begin, int end, const QString& markdown)
{
    QTextDocument parsed;
    parsed.setMarkdown(markdown);
    QTextBlockFormat first = parsed.firstBlock().blockFormat();
    first.clearProperty(QTextFormat::ObjectIndex);   // a list of the parsed document, not ours

    QTextCursor cursor(m_document);
    cursor.beginEditBlock();
    if (begin == 0) {
        cursor.setPosition(0);
        cursor.setPosition(end, QTextCursor::KeepAnchor);
        cursor.removeSelectedText();
    } else {
        removeAfterPart(begin, end);
        cursor.setPosition(begin);
    }
    if (begin == 0)
        cursor.setBlockFormat(first);
    else
        cursor.insertBlock(first);
    const int start = cursor.position();
    cursor.insertFragment(QTextDocumentFragment(&parsed));
    cursor.endEditBlock();
    return start;
}

} // namespace folio
