// Stop strings over streamed text: generated tokens arrive as decoded pieces,
// and a stop string ("<|im_end|>", "\nUser:") may be split across pieces.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace folio {

class StopStringMatcher {
public:
    explicit StopStringMatcher(std::vector<std::string> stops);  // empty strings are ignored

    struct Result {
        std::string text;  // safe to show now (not "emit": Qt defines that as a macro)
        bool stopped;      // a stop string was completed; emit holds the text before it
    };

    // Feed the next decoded piece. Holds back a suffix that could still become a
    // stop string, and an incomplete UTF-8 sequence at the end, so that what is
    // emitted is never retracted and never splits a character. After a stop
    // every further push returns {"", true}.
    Result push(std::string_view newText);

    // End of generation: the held-back text (it did not become a stop string).
    // Returned as is, even if it ends in an incomplete UTF-8 sequence.
    std::string flush();

    bool stopped() const { return stopped_; }
    void reset();  // forget held text and the stopped state; keep the stop strings

private:
    size_t heldBackLength() const;

    std::vector<std::string> stops_;
    std::string pending_;
    bool stopped_ = false;
};

// Bytes at the end of text that form an incomplete (not yet finished) UTF-8
// sequence: 0 when text ends on a character boundary.
size_t incompleteUtf8Tail(std::string_view text);

} // namespace folio
