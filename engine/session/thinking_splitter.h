// Separating a reasoning model's thinking from its answer while the text
// streams in. Qwen3 (and the R1-style models) begin an answer with
// "<think>...</think>"; the UI shows that part folded and stores it apart, and
// nothing may take evidence or citations from it.
#pragma once

#include <string>
#include <string_view>

namespace folio {

class ThinkingSplitter {
public:
    struct Options {
        // The prompt already opened the block (templates that end with
        // "<think>\n"), so the text starts inside it and only "</think>" comes.
        bool startsInside = false;
    };

    // What push()/finish() release: each part in order, possibly empty.
    struct Output {
        std::string reasoning;
        std::string answer;
    };

    ThinkingSplitter() = default;
    explicit ThinkingSplitter(Options options);

    // The next piece of generated text (as TokenStreamDecoder returns it).
    // Text that could still be the start of a tag, or white space at an edge
    // of the reasoning, is held back until the next piece decides it.
    Output push(std::string_view text);

    // End of generation: releases what is held. A block never closed (the
    // model stopped while thinking) is all reasoning, and reasoningClosed()
    // stays false. push() after finish() is not meant to happen.
    Output finish();

    // Whole text at once: push(text) then finish().
    static Output split(std::string_view text, Options options);
    static Output split(std::string_view text) { return split(text, Options{}); }

    bool hasReasoning() const { return opened_; }     // a think block began
    bool reasoningClosed() const { return closed_; }  // and its "</think>" came
    bool inReasoning() const { return phase_ == Phase::Reasoning; }

    // Without a think block the answer is the text exactly as generated. With
    // one, the reasoning loses the white space at both of its ends and the
    // answer the white space before it (the template writes "</think>\n\n").

private:
    enum class Phase { Undecided, Reasoning, AfterReasoning, Answer };

    void emitReasoning(std::string_view chunk, bool last, Output& out);

    Phase phase_ = Phase::Undecided;
    std::string held_;         // undecided text, or a possible tag start
    std::string heldSpace_;    // white space at the reasoning's current end
    bool reasoningText_ = false;  // reasoning has had a visible character
    bool opened_ = false;
    bool closed_ = false;
};

} // namespace folio
