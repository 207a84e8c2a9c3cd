#include "app/documents/document.h"
#include "app/remote/text_evidence.h"

#include <gtest/gtest.h>

namespace folio {
namespace {

Document threePages()
{
    Document doc;
    doc.kind = DocumentKind::Pdf;
    doc.unit = PageUnit::Page;
    doc.pageUnit = pageUnitKey(doc.unit);
    const QStringList pages = {
        QStringLiteral("Call me Ishmael. Some years ago, never mind how long precisely, I went to sea."),
        QStringLiteral("Martha climbed the narrow stairs and hid the ledger in the bell tower before the storm."),
        QStringLiteral("The Halcyon sailed from Nantucket on March 14, 1847, with a crew of thirty-one."),
    };
    for (int i = 0; i < pages.size(); ++i) {
        const qsizetype begin = doc.text.size();
        doc.text += pages[i] + QStringLiteral("\n\n");
        doc.pages.append(begin, begin + pages[i].size(), QString::number(i + 10));  // printed labels 10, 11, 12
    }
    return doc;
}

TEST(TextEvidence, CitedPagesByTheirMarkersFirstThenTextMatches)
{
    const Document doc = threePages();
    const QVector<TextEvidence> evidence = evidenceFromText(
        doc, QStringLiteral("She HID the ledger in the bell tower, before the storm [p. 12]. See also [p. 99]."));
    ASSERT_EQ(evidence.size(), 2);
    EXPECT_EQ(evidence[0], (TextEvidence{2, TextEvidence::Kind::Citation, 1.0}));  // [p. 12] is the third page
    EXPECT_EQ(evidence[1].page, 1);  // quoted across case and punctuation
    EXPECT_EQ(evidence[1].kind, TextEvidence::Kind::TextMatch);
    EXPECT_GT(evidence[1].weight, 0.0);
}

TEST(TextEvidence, RangesAndListsOfPagesAreEachCited)
{
    const Document doc = threePages();
    EXPECT_EQ(evidenceFromText(doc, QStringLiteral("As told [pp. 10-11] and [p. 12, 10].")).size(), 3);
}

TEST(TextEvidence, ShortCommonRunsAreNotEvidence)
{
    const Document doc = threePages();
    EXPECT_TRUE(evidenceFromText(doc, QStringLiteral("I went to sea. The storm.")).isEmpty());
    EXPECT_TRUE(evidenceFromText(Document{}, QStringLiteral("[p. 1]")).isEmpty());
}

} // namespace
} // namespace folio
