#include "app/reading/prompt_builder.h"

#include "app/documents/document.h"

#include <QCryptographicHash>

#include <stdexcept>

namespace folio {

namespace {

// Placeholders no template or text contains; cut out of the formatted template.
const std::string kSystemMark = "\x01" "FOLIO-SYSTEM" "\x01";
const std::string kQuestionMark = "\x01" "FOLIO-QUESTION" "\x01";
const std::string kAnswerMark = "\x01" "FOLIO-ANSWER" "\x01";
const std::string kNextQuestionMark = "\x01" "FOLIO-NEXT" "\x01";

const char* const kInstructions =
    "You are Folio, a careful reader. The user's document is given in full below, between <document> and "
    "</document>. Each page begins with a marker such as [p. 12]. Answer the user's questions from this document, "
    "and cite the markers of the pages your answer rests on. If the document does not say, answer that it does not.";

// Text of `formatted` between `from` (or the start) and `to` (or the end).
std::string between(const std::string& formatted, const std::string& from, const std::string& to)
{
    std::size_t begin = 0;
    if (!from.empty()) {
        begin = formatted.find(from);
        if (begin == std::string::npos)
            throw std::logic_error("chat template drops a message");
        begin += from.size();
    }
    std::size_t end = formatted.size();
    if (!to.empty()) {
        end = formatted.find(to, begin);
        if (end == std::string::npos)
            throw std::logic_error("chat template reorders messages");
    }
    return formatted.substr(begin, end - begin);
}

std::string attributeText(const QString& value)
{
    QString v = value.simplified();
    v.replace(QLatin1Char('"'), QLatin1Char('\''));
    return v.toStdString();
}

} // namespace

std::vector<std::pair<int, int>> DocumentPrompt::keyRanges() const
{
    std::vector<std::pair<int, int>> ranges;
    ranges.reserve(pages.size());
    for (const PageTokenRange& p : pages)
        ranges.push_back({p.begin, p.end});
    return ranges;
}

PromptBuilder::PromptBuilder(Tokenizer tokenizer, ChatTemplate chatTemplate)
    : tokenizer_(std::move(tokenizer)), chat_(std::move(chatTemplate))
{
    const std::string first = chat_.format({{"system", kSystemMark}, {"user", kQuestionMark}}, true);
    const std::string second = chat_.format(
        {{"system", kSystemMark}, {"user", kQuestionMark}, {"assistant", kAnswerMark}, {"user", kNextQuestionMark}}, true);
    beforeSystem_ = between(first, {}, kSystemMark);
    systemToQuestion_ = between(first, kSystemMark, kQuestionMark);
    afterQuestion_ = between(first, kQuestionMark, {});
    answerToQuestion_ = between(second, kAnswerMark, kNextQuestionMark);
}

std::vector<int32_t> PromptBuilder::encodeTemplate(const std::string& text) const
{
    return text.empty() ? std::vector<int32_t>{} : tokenizer_.encode(text, false, true);
}

std::vector<int32_t> PromptBuilder::encodeContent(const std::string& text) const
{
    return text.empty() ? std::vector<int32_t>{} : tokenizer_.encode(text, false, false);
}

QString PromptBuilder::pageMarker(const Document& document, int index)
{
    switch (document.unit) {
    case PageUnit::Page: {
        const QString label = document.pages.page(index).label;
        return QStringLiteral("[p. %1]").arg(label.isEmpty() ? QString::number(index + 1) : label);
    }
    case PageUnit::Chapter: return QStringLiteral("[ch. %1]").arg(index + 1);
    case PageUnit::Section: break;
    }
    return QStringLiteral("[§ %1]").arg(index + 1);
}

DocumentBlock PromptBuilder::documentBlock(const Document& document)
{
    DocumentBlock block;
    block.opening = QString::fromUtf8(kInstructions) + QStringLiteral("\n\n<document title=\"")
                    + QString::fromStdString(attributeText(document.title)) + QLatin1Char('"');
    if (!document.author.isEmpty())
        block.opening += QStringLiteral(" author=\"") + QString::fromStdString(attributeText(document.author))
                         + QLatin1Char('"');
    block.opening += QStringLiteral(">\n");
    if (document.pages.isEmpty()) {
        block.pages.append(document.text + QLatin1Char('\n'));
    } else {
        for (int i = 0; i < document.pageCount(); ++i)
            block.pages.append(pageMarker(document, i) + QLatin1Char('\n') + document.pageText(i).trimmed()
                               + QStringLiteral("\n\n"));
    }
    block.closing = QStringLiteral("</document>");
    return block;
}

QString DocumentBlock::text() const
{
    return opening + pages.join(QString()) + closing;
}

DocumentPrompt PromptBuilder::documentPrompt(const Document& document) const
{
    DocumentPrompt prompt;
    std::vector<int32_t>& tokens = prompt.tokens;
    if (tokenizer_.addBosByDefault() && tokenizer_.bos() >= 0)
        tokens.push_back(tokenizer_.bos());
    const DocumentBlock block = documentBlock(document);
    // Template text with special tokens parsed; the instructions, title and pages as plain text.
    auto append = [&](const std::vector<int32_t>& more) { tokens.insert(tokens.end(), more.begin(), more.end()); };
    append(encodeTemplate(beforeSystem_));
    append(encodeContent(block.opening.toStdString()));
    for (int i = 0; i < block.pages.size(); ++i) {
        const int begin = static_cast<int>(tokens.size());
        append(encodeContent(block.pages[i].toStdString()));
        if (!document.pages.isEmpty())
            prompt.pages.push_back({i, begin, static_cast<int>(tokens.size())});
    }
    append(encodeContent(block.closing.toStdString()));
    append(encodeTemplate(systemToQuestion_));

    QCryptographicHash hash(QCryptographicHash::Sha256);
    hash.addData(QByteArrayView(reinterpret_cast<const char*>(tokens.data()), qsizetype(tokens.size() * sizeof(int32_t))));
    prompt.tokensDigest = hash.result().toHex().toStdString();
    return prompt;
}

std::vector<int32_t> PromptBuilder::questionTokens(const QString& question, bool firstTurn) const
{
    std::vector<int32_t> tokens = firstTurn ? std::vector<int32_t>{} : encodeTemplate(answerToQuestion_);
    const std::vector<int32_t> text = encodeContent(question.trimmed().toStdString());
    tokens.insert(tokens.end(), text.begin(), text.end());
    const std::vector<int32_t> open = encodeTemplate(afterQuestion_);
    tokens.insert(tokens.end(), open.begin(), open.end());
    return tokens;
}

std::vector<int32_t> PromptBuilder::answerTokens(const QString& answer) const
{
    return encodeContent(answer.trimmed().toStdString());
}

std::vector<int32_t> PromptBuilder::replayTokens(const QVector<ConversationTurn>& turns) const
{
    std::vector<int32_t> tokens;
    for (int i = 0; i < turns.size(); ++i) {
        const std::vector<int32_t> q = questionTokens(turns[i].question, i == 0);
        const std::vector<int32_t> a = answerTokens(turns[i].answer);
        tokens.insert(tokens.end(), q.begin(), q.end());
        tokens.insert(tokens.end(), a.begin(), a.end());
    }
    return tokens;
}

} // namespace folio
