// How a document and a conversation about it become tokens.
//
// The whole document goes into the context once, as a document block inside the
// first (system) message of the model's chat template, each page preceded by a
// marker the model can quote ("[p. 12]", "[ch. 3]", "[§ 4]"). Everything up to the
// end of that block and of the template text that follows it before the question
// is the *shared prefix*: identical for every conversation about the same document
// with the same model and template, so its KV state is saved once and shared.
// The turns follow: question, the assistant prompt, the answer, the next question.
//
// The template is applied with placeholders once (ChatTemplate::format over
// sentinel messages) and cut at them, so a turn's tokens never depend on what came
// before. Template text is tokenized with special tokens parsed; document text,
// questions and answers never are, so a document cannot inject control tokens.
// Pages are tokenized one by one, which makes page -> token ranges exact.
#pragma once

#include "engine/session/chat_template.h"
#include "engine/tokenizer/tokenizer.h"

#include <QString>
#include <QStringList>
#include <QVector>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace folio {

struct Document;

// Bumped whenever the prompt text changes: part of every snapshot fingerprint.
inline constexpr int kPromptFormatVersion = 1;

// Page `page` (index into the document's page map) holds tokens [begin, end) of the context.
struct PageTokenRange {
    int page = 0;
    int begin = 0;
    int end = 0;
};

struct DocumentPrompt {
    std::vector<int32_t> tokens;          // the shared prefix, BOS included
    std::vector<PageTokenRange> pages;    // in order, disjoint, inside the prefix
    std::string tokensDigest;             // SHA-256 of the tokens (hex): what a snapshot holds
    // The ranges as the engine's AttentionObserver takes them.
    std::vector<std::pair<int, int>> keyRanges() const;
};

// The system text that holds the document: the instructions, then the document block,
// each page after its marker. The same text goes to the engine (tokenized page by page)
// and, whole, to a server.
struct DocumentBlock {
    QString opening;     // instructions and <document title=...>
    QStringList pages;   // "[p. 12]\n...text...\n\n" per page (one piece when there are no pages)
    QString closing;     // </document>
    QString text() const;
};

// A turn already in a conversation, for rebuilding its tokens after the state was lost.
struct ConversationTurn {
    QString question;
    QString answer;
};

class PromptBuilder {
public:
    PromptBuilder(Tokenizer tokenizer, ChatTemplate chatTemplate);

    const ChatTemplate& chatTemplate() const { return chat_; }

    DocumentPrompt documentPrompt(const Document& document) const;
    static DocumentBlock documentBlock(const Document& document);
    // The tokens that follow the prefix (first turn) or an answer (later turns) and
    // open the assistant's reply.
    std::vector<int32_t> questionTokens(const QString& question, bool firstTurn) const;
    // An answer as text, re-tokenized (only when rebuilding a lost state: the live
    // answer's own tokens are already in the context).
    std::vector<int32_t> answerTokens(const QString& answer) const;
    // Prefix-free tokens of whole earlier turns, in order.
    std::vector<int32_t> replayTokens(const QVector<ConversationTurn>& turns) const;

    // What the model is told to quote for page `index`: "[p. 12]", "[ch. 3]", "[§ 4]".
    static QString pageMarker(const Document& document, int index);

private:
    std::vector<int32_t> encodeTemplate(const std::string& text) const;  // special tokens parsed
    std::vector<int32_t> encodeContent(const std::string& text) const;   // plain text

    Tokenizer tokenizer_;
    ChatTemplate chat_;
    // The template cut at the placeholders (see the file comment).
    std::string beforeSystem_;     // start of the conversation up to the system text
    std::string systemToQuestion_; // after the system text, before the first question
    std::string afterQuestion_;    // after a question: opens the assistant's turn
    std::string answerToQuestion_; // after an answer, before the next question
};

} // namespace folio
