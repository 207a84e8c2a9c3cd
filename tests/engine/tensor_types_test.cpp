#include "engine/gguf/tensor_types.h"

#include <gtest/gtest.h>

using namespace folio;

TEST(TensorTypes, BlockLayoutsMatchGgml)
{
    EXPECT_EQ(rowBytes(GgmlType::F32, 64), 256u);
    EXPECT_EQ(rowBytes(GgmlType::F16, 64), 128u);
    EXPECT_EQ(rowBytes(GgmlType::BF16, 64), 128u);
    EXPECT_EQ(rowBytes(GgmlType::Q8_0, 64), 68u);   // 2 x (f16 scale + 32 int8)
    EXPECT_EQ(rowBytes(GgmlType::Q4_0, 64), 36u);   // 2 x (f16 scale + 16 nibble bytes)
    EXPECT_EQ(rowBytes(GgmlType::Q4_K, 256), 144u);
    EXPECT_EQ(rowBytes(GgmlType::Q5_K, 256), 176u);
    EXPECT_EQ(rowBytes(GgmlType::Q6_K, 512), 420u);
}

TEST(TensorTypes, UnknownNumbersAreRejected)
{
    EXPECT_FALSE(typeTraits(4).has_value());   // Q4_2, removed from ggml
    EXPECT_FALSE(typeTraits(999).has_value());
    ASSERT_TRUE(typeTraits(12).has_value());
    EXPECT_EQ(typeTraits(12)->name, "q4_K");
}
