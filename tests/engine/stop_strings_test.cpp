#include "engine/session/stop_strings.h"

#include <gtest/gtest.h>

namespace folio {
namespace {

TEST(StopStringTest, StopInsideOneChunk)
{
    StopStringMatcher m({"<|im_end|>"});
    const auto r = m.push("Hello<|im_end|>rest");
    EXPECT_EQ(r.text, "Hello");
    EXPECT_TRUE(r.stopped);
    EXPECT_TRUE(m.stopped());
    const auto after = m.push("more");
    EXPECT_EQ(after.text, "");
    EXPECT_TRUE(after.stopped);
    EXPECT_EQ(m.flush(), "");
}

TEST(StopStringTest, StopAcrossChunkBoundaries)
{
    StopStringMatcher m({"<|im_end|>"});
    auto r = m.push("Hel");
    EXPECT_EQ(r.text, "Hel");
    EXPECT_FALSE(r.stopped);
    r = m.push("lo<|im");
    EXPECT_EQ(r.text, "lo");
    EXPECT_FALSE(r.stopped);
    r = m.push("_en");
    EXPECT_EQ(r.text, "");
    EXPECT_FALSE(r.stopped);
    r = m.push("d|>tail");
    EXPECT_EQ(r.text, "");
    EXPECT_TRUE(r.stopped);
}

TEST(StopStringTest, PartialPrefixIsReleasedWhenItDiverges)
{
    StopStringMatcher m({"<|im_end|>"});
    EXPECT_EQ(m.push("a <|im").text, "a ");
    EXPECT_EQ(m.push("port").text, "<|import");
    EXPECT_EQ(m.push("ant <").text, "ant ");
    EXPECT_EQ(m.flush(), "<");  // held text is given back at the end
}

TEST(StopStringTest, MultipleStopStrings)
{
    StopStringMatcher m({"</s>", "\nUser:", ""});
    EXPECT_EQ(m.push("answer\nUs").text, "answer");
    EXPECT_EQ(m.push("er").text, "");
    const auto r = m.push(":");
    EXPECT_EQ(r.text, "");
    EXPECT_TRUE(r.stopped);

    StopStringMatcher earliest({"\nUser:", "</s>"});
    const auto e = earliest.push("x</s>y\nUser:");
    EXPECT_EQ(e.text, "x");
    EXPECT_TRUE(e.stopped);
}

TEST(StopStringTest, OverlappingPrefixFindsTheMatch)
{
    StopStringMatcher m({"aab"});
    EXPECT_EQ(m.push("xaa").text, "x");
    const auto r = m.push("ab");
    EXPECT_EQ(r.text, "a");
    EXPECT_TRUE(r.stopped);
}

TEST(StopStringTest, NeverSplitsUtf8Characters)
{
    StopStringMatcher m({"<end>"});
    // "café" with the é (C3 A9) split across pieces.
    EXPECT_EQ(m.push("caf\xC3").text, "caf");
    EXPECT_EQ(m.push("\xA9!").text, "\xC3\xA9!");
    // A 4-byte emoji (F0 9F 98 80) fed one byte at a time.
    EXPECT_EQ(m.push("\xF0").text, "");
    EXPECT_EQ(m.push("\x9F").text, "");
    EXPECT_EQ(m.push("\x98").text, "");
    EXPECT_EQ(m.push("\x80").text, "\xF0\x9F\x98\x80");
    // A stop string that itself starts with a multi-byte character.
    StopStringMatcher arrow({"\xE2\x86\x92" "END"});
    EXPECT_EQ(arrow.push("ok \xE2\x86").text, "ok ");
    EXPECT_EQ(arrow.push("\x92" "EN").text, "");
    const auto r = arrow.push("D");
    EXPECT_TRUE(r.stopped);
    EXPECT_EQ(r.text, "");
}

TEST(StopStringTest, IncompleteUtf8Tail)
{
    EXPECT_EQ(incompleteUtf8Tail("abc"), 0u);
    EXPECT_EQ(incompleteUtf8Tail("ab\xC3"), 1u);
    EXPECT_EQ(incompleteUtf8Tail("\xC3\xA9"), 0u);
    EXPECT_EQ(incompleteUtf8Tail("\xE2\x86"), 2u);
    EXPECT_EQ(incompleteUtf8Tail("\xF0\x9F\x98"), 3u);
    EXPECT_EQ(incompleteUtf8Tail(""), 0u);
}

TEST(StopStringTest, ResetStartsOver)
{
    StopStringMatcher m({"</s>"});
    EXPECT_TRUE(m.push("</s>").stopped);
    m.reset();
    const auto r = m.push("again");
    EXPECT_FALSE(r.stopped);
    EXPECT_EQ(r.text, "again");
}

} // namespace
} // namespace folio
