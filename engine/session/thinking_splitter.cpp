#include "engine/session/thinking_splitter.h"

#include <algorithm>

namespace folio {

namespace {

constexpr std::string_view kOpen = "<think>";
constexpr std::string_view kClose = "</think>";
constexpr std::string_view kSpace = " \t\r\n";

// Length of the longest end of `text` that is a proper beginning of `tag`:
// those bytes may be the first half of a tag split across tokens.
std::size_t partialTagAtEnd(std::string_view text, std::string_view tag)
{
    for (std::size_t n = std::min(text.size(), tag.size() - 1); n > 0; --n) {
        if (text.substr(text.size() - n) == tag.substr(0, n))
            return n;
    }
    return 0;
}

} // namespace

ThinkingSplitter::ThinkingSplitter(Options options)
{
    if (options.startsInside) {
        phase_ = Phase::Reasoning;
        opened_ = true;
    }
}

void ThinkingSplitter::emitReasoning(std::string_view chunk, bool last, Output& out)
{
    if (!reasoningText_) {
        const std::size_t first = chunk.find_first_not_of(kSpace);
        if (first == std::string_view::npos)
            return;  // only the white space after "<think>" so far
        chunk.remove_prefix(first);
        reasoningText_ = true;
    }
    // White space at the end is held: it is dropped if the block ends there.
    const std::size_t lastVisible = chunk.find_last_not_of(kSpace);
    if (lastVisible == std::string_view::npos) {
        if (!last)
            heldSpace_ += chunk;
        return;
    }
    out.reasoning += heldSpace_;
    out.reasoning += chunk.substr(0, lastVisible + 1);
    heldSpace_.clear();
    if (!last)
        heldSpace_ = chunk.substr(lastVisible + 1);
}

ThinkingSplitter::Output ThinkingSplitter::push(std::string_view text)
{
    held_ += text;
    Output out;
    for (;;) {
        switch (phase_) {
        case Phase::Undecided: {
            const std::size_t first = held_.find_first_not_of(kSpace);
            if (first == std::string::npos)
                return out;
            const std::string_view rest = std::string_view(held_).substr(first);
            if (rest.starts_with(kOpen)) {
                held_.erase(0, first + kOpen.size());
                phase_ = Phase::Reasoning;
                opened_ = true;
                continue;
            }
            if (kOpen.starts_with(rest))
                return out;  // "<thi" so far
            phase_ = Phase::Answer;
            continue;
        }
        case Phase::Reasoning: {
            const std::size_t close = held_.find(kClose);
            if (close != std::string::npos) {
                emitReasoning(std::string_view(held_).substr(0, close), true, out);
                held_.erase(0, close + kClose.size());
                phase_ = Phase::AfterReasoning;
                closed_ = true;
                continue;
            }
            const std::size_t ready = held_.size() - partialTagAtEnd(held_, kClose);
            emitReasoning(std::string_view(held_).substr(0, ready), false, out);
            held_.erase(0, ready);
            return out;
        }
        case Phase::AfterReasoning: {
            const std::size_t first = held_.find_first_not_of(kSpace);
            if (first == std::string::npos) {
                held_.clear();
                return out;
            }
            held_.erase(0, first);
            phase_ = Phase::Answer;
            continue;
        }
        case Phase::Answer:
            out.answer += held_;
            held_.clear();
            return out;
        }
    }
}

ThinkingSplitter::Output ThinkingSplitter::finish()
{
    Output out;
    switch (phase_) {
    case Phase::Undecided:
    case Phase::Answer:
        out.answer = std::move(held_);  // no block: the text as it came
        break;
    case Phase::Reasoning:
        emitReasoning(held_, true, out);  // an unfinished "</thi" is reasoning text
        break;
    case Phase::AfterReasoning:
        break;  // only white space after the block
    }
    held_.clear();
    heldSpace_.clear();
    return out;
}

ThinkingSplitter::Output ThinkingSplitter::split(std::string_view text, Options options)
{
    ThinkingSplitter splitter(options);
    Output out = splitter.push(text);
    Output rest = splitter.finish();
    out.reasoning += rest.reasoning;
    out.answer += rest.answer;
    return out;
}

} // namespace folio
