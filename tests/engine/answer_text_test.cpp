// The text a reader is shown as it streams: stop strings cut, a reasoning model's
// <think> block set apart, on every split of the stream.
#include "engine/session/answer_text.h"

#include <gtest/gtest.h>

using namespace folio;

namespace {

struct Whole {
    std::string reasoning, answer;
    bool stopped = false;
};

Whole feed(const std::vector<std::string>& pieces, const std::vector<std::string>& stops,
           ThinkingSplitter::Options options = {})
{
    AnswerText text(stops, options);
    Whole w;
    for (const std::string& p : pieces) {
        const AnswerText::Piece out = text.push(p);
        w.reasoning += out.reasoning;
        w.answer += out.answer;
        if (out.stopped) {
            w.stopped = true;
            break;
        }
    }
    const AnswerText::Piece last = text.finish();
    w.reasoning += last.reasoning;
    w.answer += last.answer;
    return w;
}

// Every way to cut `text` into two pieces, and one piece per byte.
std::vector<std::vector<std::string>> splits(const std::string& text)
{
    std::vector<std::vector<std::string>> all;
    for (std::size_t i = 0; i <= text.size(); ++i)
        all.push_back({text.substr(0, i), text.substr(i)});
    std::vector<std::string> bytes;
    for (char c : text)
        bytes.emplace_back(1, c);
    all.push_back(bytes);
    return all;
}

} // namespace

TEST(AnswerText, ThinkingIsSetApartAndTheStopStringEndsTheTurnOnEverySplit)
{
    const std::string stream = "<think>\nThe keeper said it twice.\n</think>\n\nThe word is juniper [p. 2].<|im_end|>junk";
    for (const auto& pieces : splits(stream)) {
        const Whole w = feed(pieces, {"<|im_end|>"});
        EXPECT_EQ(w.reasoning, "The keeper said it twice.");
        EXPECT_EQ(w.answer, "The word is juniper [p. 2].");
        EXPECT_TRUE(w.stopped);
    }
}

TEST(AnswerText, WithoutAThinkBlockTheAnswerIsTheTextAsWritten)
{
    for (const auto& pieces : splits(" Juniper, on page 2.\n")) {
        const Whole w = feed(pieces, {"<|im_end|>"});
        EXPECT_EQ(w.reasoning, "");
        EXPECT_EQ(w.answer, " Juniper, on page 2.\n");
        EXPECT_FALSE(w.stopped);
    }
}

TEST(AnswerText, AModelStoppedWhileThinkingHasOnlyReasoning)
{
    const Whole w = feed({"<think>", "still weighing", " the pages"}, {"<|im_end|>"});
    EXPECT_EQ(w.reasoning, "still weighing the pages");
    EXPECT_EQ(w.answer, "");
}

TEST(AnswerText, APromptThatOpenedTheBlockStartsInside)
{
    const Whole w = feed({"checking page 3", "</think>", "\n\nYes."}, {}, ThinkingSplitter::Options{true});
    EXPECT_EQ(w.reasoning, "checking page 3");
    EXPECT_EQ(w.answer, "Yes.");
}

TEST(AnswerText, SaysWhileItIsInsideTheThinkBlock)
{
    AnswerText text({"<|im_end|>"});
    EXPECT_FALSE(text.inReasoning());
    text.push("<think>");
    text.push("weighing page 3");
    EXPECT_TRUE(text.inReasoning());
    text.push("</think>");
    text.push("\n\nYes, page 3.");
    EXPECT_FALSE(text.inReasoning());
    AnswerText opened({}, ThinkingSplitter::Options{true});
    EXPECT_TRUE(opened.inReasoning());   // the prompt opened the block
}
