#include "app/documents/page_map.h"

#include <gtest/gtest.h>

using folio::PageMap;

TEST(PageMap, FindsThePageOfEachCharacter)
{
    PageMap map;
    map.append(0, 10, QStringLiteral("1"));
    map.append(12, 20, QStringLiteral("2"));   // two separator characters between pages
    map.append(20, 25, QStringLiteral("3"));
    EXPECT_EQ(map.count(), 3);
    EXPECT_EQ(map.pageAt(0), 0);
    EXPECT_EQ(map.pageAt(9), 0);
    EXPECT_EQ(map.pageAt(10), -1);   // separator
    EXPECT_EQ(map.pageAt(11), -1);
    EXPECT_EQ(map.pageAt(12), 1);
    EXPECT_EQ(map.pageAt(19), 1);
    EXPECT_EQ(map.pageAt(20), 2);
    EXPECT_EQ(map.pageAt(24), 2);
    EXPECT_EQ(map.pageAt(25), -1);
    EXPECT_EQ(map.pageAt(-3), -1);
    EXPECT_EQ(map.page(1).label, QStringLiteral("2"));
    EXPECT_EQ(map.page(1).length(), 8);
}

TEST(PageMap, EmptyMapHasNoPages)
{
    PageMap map;
    EXPECT_TRUE(map.isEmpty());
    EXPECT_EQ(map.pageAt(0), -1);
}
