// The chat transcript as a QTextDocument made of parts (one per turn), each rendered
// from its own Markdown: a part can be appended, replaced or cut off without parsing or
// laying out the others again, so streaming into the last turn of a long conversation
// costs what that turn costs. The document reads the same as one setMarkdown() of the
// parts joined (each part begins with a paragraph of its own, which the chat's do).
#pragma once

#include <QString>
#include <QVector>

class QTextDocument;

namespace folio {

class TranscriptDocument {
public:
    explicit TranscriptDocument(QTextDocument* document);

    int partCount() const { return int(m_starts.size()); }
    void append(const QString& markdown);
    // Renders part `index` again; the parts after it stay as they are (and move).
    void replace(int index, const QString& markdown);
    // Removes the parts from `count` on.
    void truncate(int count);

private:
    // Removes [begin, end) and puts the part's blocks there, starting a block of their own.
    int insertPart(int begin, int end, const QString& markdown);
    void removeAfterPart(int begin, int end);
    int partEnd(int index) const;   // position of the separator after the part

    QTextDocument* m_document;
    QVector<int> m_starts;   // position of each part's first block
};

} // namespace folio
