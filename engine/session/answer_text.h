// What a model writes, as the reader is shown it: the text cut at the family's stop
// strings (StopStringMatcher) and a reasoning model's thinking set apart from its
// answer (ThinkingSplitter), while it streams. Fed the decoded text piece by piece
// (TokenStreamDecoder); each push says what became certain.
#pragma once

#include "engine/session/stop_strings.h"
#include "engine/session/thinking_splitter.h"

#include <string>
#include <string_view>
#include <vector>

namespace folio {

class AnswerText {
public:
    explicit AnswerText(std::vector<std::string> stopStrings, ThinkingSplitter::Options thinking = {});

    struct Piece {
        std::string reasoning;   // thinking, for a folded view; never evidence or citations
        std::string answer;
        bool stopped = false;    // a stop string ended the turn: generate no more
    };

    Piece push(std::string_view decoded);
    // The end of generation: `rest` is what the decoder still held (ignored after a
    // stop string), and everything held back comes out.
    Piece finish(std::string_view rest = {});

    bool stopped() const { return matcher_.stopped(); }
    bool hasReasoning() const { return splitter_.hasReasoning(); }
    // Inside the think block now: what the model attends to is not evidence for the answer.
    bool inReasoning() const { return splitter_.inReasoning(); }

private:
    StopStringMatcher matcher_;
    ThinkingSplitter splitter_;
};

} // namespace folio
