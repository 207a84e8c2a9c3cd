// ReviewParser on hand-written answers: complete, partial (as while streaming), scores
// off their scale, headings in the several shapes models write; and the Markdown export.
#include "app/review/review_parser.h"
#include "app/review/venue_form.h"

#include <gtest/gtest.h>

using folio::ParsedReview;
using folio::ReviewParser;
using folio::VenueCatalog;
using folio::VenueForm;

namespace {

VenueForm venue(const char* id) { return *VenueCatalog::builtIn().find(QString::fromLatin1(id)); }

const char* kCompleteIclrAnswer = R"(Here is my review.

## Summary
The paper proposes a cache for long documents [p. 2].

## Strengths
- Clear method.
- Strong results on two benchmarks [p. 6].

## Weaknesses
1. No comparison with sliding-window attention.
2. Table 3 lacks error bars.

## Questions
Why does the ablation in Figure 4 stop at 16K tokens?

## Ethics concerns
None.

## Scores
- Soundness: 3 (claims mostly supported)
- Presentation: 4
- Contribution: 2 - incremental over prior caches
- Rating: 6: marginally above the acceptance threshold
- Confidence: 4
)";

} // namespace

TEST(ReviewParser, ReadsACompleteAnswer)
{
    const VenueForm form = venue("iclr");
    const ParsedReview review = ReviewParser::parse(form, QString::fromUtf8(kCompleteIclrAnswer));
    EXPECT_TRUE(review.complete());
    EXPECT_TRUE(review.problems(form).isEmpty()) << review.problems(form).join('\n').toStdString();
    EXPECT_EQ(review.preamble, QStringLiteral("Here is my review."));
    EXPECT_EQ(review.section(QStringLiteral("summary"))->text,
              QStringLiteral("The paper proposes a cache for long documents [p. 2]."));
    EXPECT_TRUE(review.section(QStringLiteral("weaknesses"))->text.startsWith(QStringLiteral("1. No comparison")));
    EXPECT_TRUE(review.section(QStringLiteral("weaknesses"))->text.endsWith(QStringLiteral("error bars.")));
    EXPECT_EQ(review.section(QStringLiteral("ethics"))->text, QStringLiteral("None."));
    EXPECT_EQ(review.score(QStringLiteral("soundness"))->value, 3);
    EXPECT_EQ(review.score(QStringLiteral("contribution"))->value, 2);
    EXPECT_EQ(review.score(QStringLiteral("rating"))->value, 6);
    EXPECT_TRUE(review.score(QStringLiteral("rating"))->onScale);
    EXPECT_EQ(review.score(QStringLiteral("confidence"))->value, 4);
}

TEST(ReviewParser, PartialAnswerLeavesTheRestEmpty)
{
    const VenueForm form = venue("iclr");
    const QString full = QString::fromUtf8(kCompleteIclrAnswer);
    const QString partial = full.left(full.indexOf(QStringLiteral("Table 3")));   // cut mid-stream
    const ParsedReview review = ReviewParser::parse(form, partial);
    EXPECT_FALSE(review.complete());
    EXPECT_FALSE(review.section(QStringLiteral("summary"))->text.isEmpty());
    EXPECT_TRUE(review.section(QStringLiteral("weaknesses"))->found);
    EXPECT_TRUE(review.section(QStringLiteral("weaknesses"))->text.startsWith(QStringLiteral("1. No comparison")));
    EXPECT_TRUE(review.section(QStringLiteral("questions"))->text.isEmpty());
    EXPECT_FALSE(review.section(QStringLiteral("questions"))->found);
    EXPECT_FALSE(review.score(QStringLiteral("rating"))->found);
    const QStringList problems = review.problems(form);
    EXPECT_TRUE(problems.contains(QStringLiteral("The section \"Questions\" is missing.")));
    EXPECT_TRUE(problems.contains(QStringLiteral("The score \"Rating\" is missing (scale: 1, 3, 5, 6, 8 or 10).")));

    const ParsedReview empty = ReviewParser::parse(form, QString());
    EXPECT_EQ(empty.sections.size(), form.sections.size());
    EXPECT_EQ(empty.scores.size(), form.scores.size());
}

TEST(ReviewParser, FlagsScoresOffTheScale)
{
    const VenueForm form = venue("iclr");
    QString answer = QString::fromUtf8(kCompleteIclrAnswer);
    answer.replace(QStringLiteral("Rating: 6: marginally"), QStringLiteral("Rating: 7: marginally"));
    answer.replace(QStringLiteral("Soundness: 3"), QStringLiteral("Soundness: 5"));
    const ParsedReview review = ReviewParser::parse(form, answer);
    EXPECT_FALSE(review.complete());
    EXPECT_TRUE(review.score(QStringLiteral("rating"))->found);
    EXPECT_FALSE(review.score(QStringLiteral("rating"))->onScale);
    EXPECT_FALSE(review.score(QStringLiteral("soundness"))->onScale);
    EXPECT_TRUE(review.problems(form).contains(
        QStringLiteral("The score \"Rating\" is 7, which is not on its scale (1, 3, 5, 6, 8 or 10).")));

    const VenueForm acl = venue("acl");
    const ParsedReview half = ReviewParser::parse(acl, QStringLiteral("Overall assessment: 3.5\nConfidence: 4.5\nSoundness: 3,5\n"));
    EXPECT_TRUE(half.score(QStringLiteral("overall"))->onScale);
    EXPECT_EQ(half.score(QStringLiteral("soundness"))->value, 3.5);   // decimal comma
    EXPECT_FALSE(half.score(QStringLiteral("confidence"))->onScale);  // whole points only
}

TEST(ReviewParser, AcceptsTheHeadingShapesModelsWrite)
{
    const VenueForm form = venue("acl");
    const QString answer = QStringLiteral(
        "**Paper Summary:** A new benchmark for long-document QA.\n"
        "\n"
        "### 2. Summary of Strengths\n"
        "Careful annotation.\n"
        "Summary Of Weaknesses:\n"
        "Only English.\n"
        "**Comments/Suggestions/Typos**\n"
        "Typo on p. 3.\n"
        "Limitations and societal impact: discussed in Section 7.\n"
        "# Ethical concerns\n"
        "None.\n"
        "### Soundness\n"
        "4 strong\n"
        "**Excitement**: 3.5\n"
        "1. Overall Assessment = 4\n"
        "* Reproducibility: 4/5\n"
        "- Confidence: 3\n");
    const ParsedReview review = ReviewParser::parse(form, answer);
    EXPECT_TRUE(review.problems(form).isEmpty()) << review.problems(form).join('\n').toStdString();
    EXPECT_EQ(review.section(QStringLiteral("summary"))->text, QStringLiteral("A new benchmark for long-document QA."));
    EXPECT_EQ(review.section(QStringLiteral("strengths"))->text, QStringLiteral("Careful annotation."));
    EXPECT_EQ(review.section(QStringLiteral("weaknesses"))->text, QStringLiteral("Only English."));
    EXPECT_EQ(review.section(QStringLiteral("comments"))->text, QStringLiteral("Typo on p. 3."));
    EXPECT_EQ(review.section(QStringLiteral("limitations"))->text, QStringLiteral("discussed in Section 7."));
    EXPECT_EQ(review.section(QStringLiteral("ethics"))->text, QStringLiteral("None."));
    EXPECT_EQ(review.score(QStringLiteral("soundness"))->value, 4);
    EXPECT_EQ(review.score(QStringLiteral("excitement"))->value, 3.5);
    EXPECT_EQ(review.score(QStringLiteral("overall"))->value, 4);
    EXPECT_EQ(review.score(QStringLiteral("reproducibility"))->value, 4);
    EXPECT_EQ(review.score(QStringLiteral("confidence"))->value, 3);
}

TEST(ReviewParser, ProseThatMentionsATitleStaysInItsSection)
{
    const VenueForm form = venue("neurips");
    const QString answer = QStringLiteral(
        "## Weaknesses\n"
        "Strengths of the baseline are overstated.\n"
        "Soundness suffers from the missing proof of Lemma 2.\n"
        "## Scores\n"
        "Overall: 4\n");
    const ParsedReview review = ReviewParser::parse(form, answer);
    EXPECT_EQ(review.section(QStringLiteral("weaknesses"))->text,
              QStringLiteral("Strengths of the baseline are overstated.\nSoundness suffers from the missing proof of Lemma 2."));
    EXPECT_TRUE(review.section(QStringLiteral("strengths"))->text.isEmpty());
    EXPECT_FALSE(review.score(QStringLiteral("soundness"))->found);
    EXPECT_EQ(review.score(QStringLiteral("rating"))->value, 4);   // NeurIPS calls it "Overall"
}

TEST(ReviewMarkdown, ExportsSectionsScoresAndProblems)
{
    const VenueForm form = venue("iclr");
    QString answer = QString::fromUtf8(kCompleteIclrAnswer);
    answer.replace(QStringLiteral("Rating: 6: marginally"), QStringLiteral("Rating: 7: marginally"));
    answer.remove(answer.indexOf(QStringLiteral("## Questions")),
                  answer.indexOf(QStringLiteral("## Ethics")) - answer.indexOf(QStringLiteral("## Questions")));
    const ParsedReview review = ReviewParser::parse(form, answer);
    const QString markdown = folio::reviewToMarkdown(form, review, QStringLiteral("A Cache for Books"));

    EXPECT_TRUE(markdown.startsWith(QStringLiteral("# Pre-submission self-check for ICLR\n")));
    EXPECT_TRUE(markdown.contains(QStringLiteral("Paper: A Cache for Books")));
    EXPECT_TRUE(markdown.contains(QStringLiteral("Form: ICLR 2025")));
    EXPECT_TRUE(markdown.contains(QStringLiteral("## Summary\n\nThe paper proposes a cache")));
    EXPECT_TRUE(markdown.contains(QStringLiteral("## Questions\n\n_(not given)_")));
    EXPECT_TRUE(markdown.contains(QStringLiteral("| Soundness | 3 | good | 1 to 4 |")));
    EXPECT_TRUE(markdown.contains(QStringLiteral("| Rating | 7 | **not on the scale** | 1, 3, 5, 6, 8 or 10 |")));
    EXPECT_TRUE(markdown.contains(QStringLiteral("## Problems with this review")));
    EXPECT_TRUE(markdown.contains(QStringLiteral("- The section \"Questions\" is missing.")));
    // Sections come in the form's order.
    EXPECT_LT(markdown.indexOf(QStringLiteral("## Strengths")), markdown.indexOf(QStringLiteral("## Weaknesses")));
    EXPECT_LT(markdown.indexOf(QStringLiteral("## Ethics concerns")), markdown.indexOf(QStringLiteral("## Scores")));
}
