#include "engine/session/thinking_splitter.h"

#include "engine/gguf/gguf.h"
#include "engine/session/chat_template.h"
#include "engine/tokenizer/tokenizer.h"
#include "support/shared_data.h"

#include <algorithm>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace folio {
namespace {

struct Collected {
    std::string reasoning;
    std::string answer;
    std::vector<std::string> answerPieces;  // what reached the UI, push by push
};

// Feeds `pieces` one at a time, then finishes.
Collected stream(const std::vector<std::string>& pieces, ThinkingSplitter::Options options = {})
{
    ThinkingSplitter splitter(options);
    Collected c;
    const auto take = [&](const ThinkingSplitter::Output& out) {
        c.reasoning += out.reasoning;
        c.answer += out.answer;
        if (!out.answer.empty())
            c.answerPieces.push_back(out.answer);
    };
    for (const std::string& piece : pieces)
        take(splitter.push(piece));
    take(splitter.finish());
    return c;
}

// Every way of cutting `text` into two pieces gives the same split as the whole.
void expectSameAtEveryCut(const std::string& text, const std::string& reasoning, const std::string& answer)
{
    for (std::size_t cut = 0; cut <= text.size(); ++cut) {
        const Collected c = stream({text.substr(0, cut), text.substr(cut)});
        EXPECT_EQ(c.reasoning, reasoning) << "cut at " << cut;
        EXPECT_EQ(c.answer, answer) << "cut at " << cut;
    }
}

TEST(ThinkingSplitter, SeparatesReasoningFromAnswer)
{
    const ThinkingSplitter::Output out =
        ThinkingSplitter::split("<think>\nThe user asks about page 3.\n</think>\n\nPage 3 is about whales.");
    EXPECT_EQ(out.reasoning, "The user asks about page 3.");
    EXPECT_EQ(out.answer, "Page 3 is about whales.");
}

TEST(ThinkingSplitter, TagsSplitAcrossTokens)
{
    const Collected c = stream({"<", "th", "ink", ">\n", "Some", " thought", "\n</", "thi", "nk>", "\n\n", "Ans", "wer."});
    EXPECT_EQ(c.reasoning, "Some thought");
    EXPECT_EQ(c.answer, "Answer.");
    expectSameAtEveryCut("<think>\nA < B, and </thin is not a tag.\n</think>\n\nSo: <thin>.",
                         "A < B, and </thin is not a tag.", "So: <thin>.");
}

TEST(ThinkingSplitter, ReasoningStreamsBeforeTheBlockCloses)
{
    ThinkingSplitter splitter;
    EXPECT_EQ(splitter.push("<think>\nFirst").reasoning, "First");
    EXPECT_TRUE(splitter.inReasoning());
    // The white space at the end waits: it is dropped if the block ends there.
    EXPECT_EQ(splitter.push(" step\n").reasoning, " step");
    EXPECT_EQ(splitter.push("second").reasoning, "\nsecond");
    const ThinkingSplitter::Output out = splitter.push("\n</think>\n\nDone");
    EXPECT_EQ(out.reasoning, "");
    EXPECT_EQ(out.answer, "Done");
    EXPECT_TRUE(splitter.hasReasoning());
    EXPECT_TRUE(splitter.reasoningClosed());
    EXPECT_FALSE(splitter.inReasoning());
}

TEST(ThinkingSplitter, MissingCloseTagAtTheEnd)
{
    ThinkingSplitter splitter;
    ThinkingSplitter::Output out = splitter.push("<think>\nStill thinking when the budget ran out</th");
    EXPECT_EQ(out.reasoning, "Still thinking when the budget ran out");
    out = splitter.finish();
    EXPECT_EQ(out.reasoning, "</th");  // never completed: it was text
    EXPECT_EQ(out.answer, "");
    EXPECT_TRUE(splitter.hasReasoning());
    EXPECT_FALSE(splitter.reasoningClosed());
}

TEST(ThinkingSplitter, NoThinkBlockPassesTextThroughUnchanged)
{
    for (const std::string text : {"Plain answer.", "  \nIndented answer", "<b>bold</b>", "<thin", "", " \n"}) {
        const ThinkingSplitter::Output out = ThinkingSplitter::split(text);
        EXPECT_EQ(out.answer, text);
        EXPECT_EQ(out.reasoning, "");
    }
    // A tag later in the answer is answer text.
    EXPECT_EQ(ThinkingSplitter::split("Sure. <think>x</think>").answer, "Sure. <think>x</think>");
    // The answer streams as soon as it cannot be a tag.
    const Collected c = stream({"Hel", "lo", " there"});
    EXPECT_EQ(c.answerPieces, (std::vector<std::string>{"Hel", "lo", " there"}));
    ThinkingSplitter splitter;
    splitter.push("Plain");
    splitter.finish();
    EXPECT_FALSE(splitter.hasReasoning());
}

TEST(ThinkingSplitter, ThinkingTurnedOffLeavesAnEmptyBlockOrNone)
{
    // With enable_thinking=false the empty block is in the prompt; if a model
    // writes one anyway it yields no reasoning.
    const ThinkingSplitter::Output out = ThinkingSplitter::split("<think>\n\n</think>\n\nThe answer.");
    EXPECT_EQ(out.reasoning, "");
    EXPECT_EQ(out.answer, "The answer.");
    expectSameAtEveryCut("<think>\n\n</think>\n\nThe answer.", "", "The answer.");
}

TEST(ThinkingSplitter, PromptThatOpensTheBlock)
{
    const ThinkingSplitter::Options inside{.startsInside = true};
    const Collected c = stream({"\nreasoning here", "\n</think>", "\n\nanswer"}, inside);
    EXPECT_EQ(c.reasoning, "reasoning here");
    EXPECT_EQ(c.answer, "answer");
    EXPECT_EQ(ThinkingSplitter::split("never closed", inside).reasoning, "never closed");
}

TEST(ThinkingSplitter, OneCharacterAtATime)
{
    const std::string text = "  <think>\nLet me see: 2 + 2.\n\n</think>\n\n4, since 2 + 2 = 4.";
    std::vector<std::string> pieces;
    for (const char ch : text)
        pieces.emplace_back(1, ch);
    const Collected c = stream(pieces);
    EXPECT_EQ(c.reasoning, "Let me see: 2 + 2.");
    EXPECT_EQ(c.answer, "4, since 2 + 2 = 4.");
}

// Through Qwen3's own vocabulary, token by token as a session streams: <think>
// and </think> are user-defined tokens, so their text reaches the splitter.
TEST(ThinkingSplitter, Qwen3TokensStreamedThroughTheDecoder)
{
    FOLIO_REQUIRE_SHARED("vocab/ggml-vocab-qwen2.gguf");
    const GgufFile file = GgufFile::open((test::sharedDir() / "vocab/ggml-vocab-qwen2.gguf").string());
    const Tokenizer tokenizer = Tokenizer::fromGguf(file);
    const std::string generated = "<think>\nThe page says the tide turns at noon.\n</think>\n\nAt noon, says page 12.";
    const std::vector<int32_t> ids = tokenizer.encode(generated, false, true);
    EXPECT_EQ(ids.front(), *tokenizer.findToken("<think>"));

    TokenStreamDecoder decoder(tokenizer);
    ThinkingSplitter splitter;
    std::string reasoning, answer;
    for (const int32_t id : ids) {
        const ThinkingSplitter::Output out = splitter.push(decoder.push(id));
        reasoning += out.reasoning;
        answer += out.answer;
    }
    const ThinkingSplitter::Output out = splitter.push(decoder.flush());
    const ThinkingSplitter::Output rest = splitter.finish();
    EXPECT_EQ(reasoning + out.reasoning + rest.reasoning, "The page says the tide turns at noon.");
    EXPECT_EQ(answer + out.answer + rest.answer, "At noon, says page 12.");

    // With thinking off, the prompt ends in the empty block the template writes.
    ChatTemplate qwen3 = ChatTemplate::forFamily(ChatFamily::Qwen3);
    qwen3.setThinking(false);
    const std::string prompt = qwen3.format({{"user", "When does the tide turn?"}}, true);
    const std::vector<int32_t> promptIds = tokenizer.encode(prompt, false, true);
    const std::vector<int32_t> emptyBlock = tokenizer.encode("<think>\n\n</think>\n\n", false, true);
    ASSERT_GE(promptIds.size(), emptyBlock.size());
    EXPECT_TRUE(std::equal(emptyBlock.begin(), emptyBlock.end(), promptIds.end() - static_cast<long>(emptyBlock.size())));
}

} // namespace
} // namespace folio
