// The bundled demo model (resources/models/folio-demo.gguf) does its job through the
// engine: it answers planted-fact questions at its own training length, still does at
// 8x that length with Dual Chunk Attention, and fails at 8x with plain RoPE, which is
// what shows that context extension, not luck, finds the facts. The prompts are the
// benchmark's (folio-bench passkey --tasks all): every task kind at several depths,
// filler from the held-out sample chapters, greedy answers checked exactly.
#include "engine/model/model.h"

#include "tests/engine/passkey_task.h"
#include "tests/support/shared_data.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

using namespace folio;

namespace {

constexpr int kPrompts = 30;  // 6 task kinds x 5 depths
const double kDepths[] = {0.1, 0.3, 0.5, 0.7, 0.9};

class DemoModel : public ::testing::Test {
protected:
    static void SetUpTestSuite()
    {
        const auto path = test::sourceDir() / "resources/models/folio-demo.gguf";
        ASSERT_TRUE(std::filesystem::exists(path)) << "the shipped demo model is missing: " << path;
        model_ = Model::load(path.string());
        std::ifstream in(test::sourceDir() / "resources/samples/moby-dick-chapters-1-12.txt", std::ios::binary);
        std::stringstream filler;
        filler << in.rdbuf();
        task_ = std::make_unique<test::PasskeyTask>(model_, filler.str());
    }
    static void TearDownTestSuite()
    {
        task_.reset();
        model_.reset();
    }

    // Correct answers out of kPrompts at `ratio` x the trained length with `method`.
    static int correct(int ratio, const std::string& method)
    {
        const int trained = model_->params().contextLength;
        const int tokens = ratio * trained;
        std::mt19937 rng(4242u + static_cast<unsigned>(ratio));
        int ok = 0;
        for (int i = 0; i < kPrompts; ++i) {
            const std::string& kind = test::PasskeyTask::kinds()[i % 6];
            const test::PasskeyPrompt prompt = task_->make(tokens, kDepths[i / 6], rng, kind);
            const std::string got = task_->answer(prompt, test::passkeyMethodOptions(method, tokens, trained));
            ok += got == prompt.answer;
            if (got != prompt.answer)
                std::printf("  %s %dx %s@%.1f: '%s' (expected '%s')\n", method.c_str(), ratio, kind.c_str(),
                            prompt.depth, got.c_str(), prompt.answer.c_str());
        }
        std::printf("%s at %dx (%d tokens): %d / %d correct\n", method.c_str(), ratio, tokens, ok, kPrompts);
        return ok;
    }

    static inline std::shared_ptr<const Model> model_;
    static inline std::unique_ptr<test::PasskeyTask> task_;
};

TEST_F(DemoModel, IsSmallLlamaTrainedOnShortContext)
{
    EXPECT_EQ(model_->params().architecture, "llama");
    EXPECT_EQ(model_->params().contextLength, 256);
    EXPECT_LT(std::filesystem::file_size(test::sourceDir() / "resources/models/folio-demo.gguf"), 16u << 20);
}

TEST_F(DemoModel, AnswersAtItsTrainingLength)
{
    EXPECT_GE(correct(1, "none") * 10, kPrompts * 9);  // >= 90%
}

TEST_F(DemoModel, AnswersAtEightTimesItsTrainingLengthWithDca)
{
    EXPECT_GE(correct(8, "dca") * 10, kPrompts * 8);  // >= 80%
}

TEST_F(DemoModel, FailsAtEightTimesItsTrainingLengthWithPlainRope)
{
    EXPECT_LE(correct(8, "none") * 10, kPrompts * 3);  // <= 30%
}

// folio-bench passkey --shared-document yes: one document with a fact of every kind,
// read once, each question after it in its own prompt, answers as each whole prompt
// read on its own gives them (the same tokens; only the prefill's batches differ).
TEST_F(DemoModel, SharedDocumentAnswersAsSeparatePrompts)
{
    const int trained = model_->params().contextLength;
    std::mt19937 rng(77u);
    std::vector<std::pair<std::string, double>> facts;
    for (std::size_t k = 0; k < test::PasskeyTask::kinds().size(); ++k)
        facts.emplace_back(test::PasskeyTask::kinds()[k], 0.1 + 0.15 * double(k));
    const test::SharedDocumentPrompt shared = task_->makeShared(4 * trained, facts, rng);
    ASSERT_EQ(shared.questions.size(), facts.size());
    EXPECT_LE(shared.longestPrompt(), 4 * trained);
    const SessionOptions dca = test::passkeyMethodOptions("dca", 4 * trained, trained);
    const std::vector<std::string> answers = task_->answer(shared, dca);
    int right = 0;
    for (std::size_t q = 0; q < shared.questions.size(); ++q) {
        test::PasskeyPrompt whole;
        whole.tokens = shared.document;
        whole.tokens.insert(whole.tokens.end(), shared.questions[q].suffix.begin(), shared.questions[q].suffix.end());
        EXPECT_EQ(answers[q], task_->answer(whole, dca)) << shared.questions[q].kind;
        right += answers[q] == shared.questions[q].answer;
    }
    EXPECT_GE(right, 5) << "of 6 at 4x with DCA";
}

} // namespace
