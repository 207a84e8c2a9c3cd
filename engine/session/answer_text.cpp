#include "engine/session/answer_text.h"

namespace folio {

AnswerText::AnswerText(std::vector<std::string> stopStrings, ThinkingSplitter::Options thinking)
    : matcher_(std::move(stopStrings)), splitter_(thinking)
{
}

AnswerText::Piece AnswerText::push(std::string_view decoded)
{
    Piece piece;
    if (matcher_.stopped())
        return {{}, {}, true};
    const StopStringMatcher::Result r = matcher_.push(decoded);
    const ThinkingSplitter::Output out = splitter_.push(r.text);
    piece.reasoning = out.reasoning;
    piece.answer = out.answer;
    piece.stopped = r.stopped;
    return piece;
}

AnswerText::Piece AnswerText::finish(std::string_view rest)
{
    Piece piece;
    if (!matcher_.stopped()) {
        const StopStringMatcher::Result r = matcher_.push(rest);
        const std::string tail = r.text + (r.stopped ? std::string() : matcher_.flush());
        const ThinkingSplitter::Output out = splitter_.push(tail);
        piece.reasoning = out.reasoning;
        piece.answer = out.answer;
        piece.stopped = r.stopped;
    }
    const ThinkingSplitter::Output last = splitter_.finish();
    piece.reasoning += last.reasoning;
    piece.answer += last.answer;
    return piece;
}

} // namespace folio
