//===- Int4GroupTest.cpp - The Int4Group layout ---------------------------===//

#include "qtc/Quant/Int4Group.h"

#include "qtc/Quant/Float16.h"

#include <gtest/gtest.h>

#include <random>

using namespace qtc::quant;

TEST(Int4GroupTest, PackingPutsEvenChannelsInTheLowNibble) {
  std::vector<uint8_t> codes = {0x1, 0x2, 0xF, 0x0, 0xA, 0x5};
  std::vector<uint8_t> packed(3);
  packInt4(codes, packed);
  EXPECT_EQ(packed, (std::vector<uint8_t>{0x21, 0x0F, 0x5A}));
}

TEST(Int4GroupTest, PackingRoundTrips) {
  std::mt19937 rng(1);
  std::uniform_int_distribution<int> code(0, 15);
  for (int trial = 0; trial < 100; ++trial) {
    std::vector<uint8_t> codes(2 * (1 + trial * 7));
    for (uint8_t &c : codes)
      c = static_cast<uint8_t>(code(rng));
    std::vector<uint8_t> packed(codes.size() / 2), unpacked(codes.size());
    packInt4(codes, packed);
    unpackInt4(packed, unpacked);
    EXPECT_EQ(unpacked, codes);
  }
}

TEST(Int4GroupTest, DequantizesPerTheSchemaFormula) {
  // w[n, k] = (q[n, k] - zero[n, k / group]) * scale[n, k / group].
  Int4GroupWeight weight;
  weight.outFeatures = 2;
  weight.inFeatures = 4;
  weight.groupSize = 2;
  weight.symmetric = false;
  std::vector<uint8_t> codes = {0, 15, 3, 4, /*row 1*/ 8, 9, 1, 2};
  weight.data.resize(4);
  packInt4(codes, weight.data);
  weight.scales = {toHalfBits(0.5), toHalfBits(2.0), toHalfBits(1.0),
                   toHalfBits(0.25)};
  weight.zeros = {toHalfBits(0.0), toHalfBits(4.0), toHalfBits(8.0),
                  toHalfBits(1.0)};
  llvm::Expected<std::vector<float>> dense = dequantizeInt4Group(weight);
  ASSERT_TRUE(static_cast<bool>(dense)) << llvm::toString(dense.takeError());
  EXPECT_EQ(*dense, (std::vector<float>{0.0f, 7.5f, -2.0f, 0.0f, 0.0f, 1.0f,
                                        0.0f, 0.25f}));
  EXPECT_EQ(weight.code(1, 1), 9);
  EXPECT_EQ(weight.zero(0, 1), 4.0f);

  weight.symmetric = true;
  weight.zeros.clear();
  dense = dequantizeInt4Group(weight);
  ASSERT_TRUE(static_cast<bool>(dense)) << llvm::toString(dense.takeError());
  EXPECT_EQ((*dense)[0], -4.0f); // (0 - 8) * 0.5
  EXPECT_EQ(weight.zero(1, 0), 8.0f);
}

TEST(Int4GroupTest, RejectsInconsistentBuffers) {
  Int4GroupWeight weight;
  weight.outFeatures = 2;
  weight.inFeatures = 4;
  weight.groupSize = 2;
  weight.data.resize(4);
  weight.scales.resize(3); // needs 2 rows x 2 groups
  llvm::Expected<std::vector<float>> dense = dequantizeInt4Group(weight);
  ASSERT_FALSE(static_cast<bool>(dense));
  EXPECT_EQ(llvm::toString(dense.takeError()),
            "int4 group weight holds 3 scales, expected 4");

  weight.scales.resize(4);
  weight.zeros.resize(4); // symmetric weights have none
  EXPECT_EQ(llvm::toString(verifyInt4Group(weight)),
            "int4 group weight holds 4 zero points, expected 0");
}

TEST(Int4GroupTest, RejectsShapesTheLayoutCannotHold) {
  EXPECT_EQ(llvm::toString(verifyInt4GroupShape(0, 4, 2)),
            "int4 group weight needs a positive shape, got 0x4");
  EXPECT_EQ(llvm::toString(verifyInt4GroupShape(2, 5, 5)),
            "int4 group weight rows pack two codes a byte, so their length "
            "must be even (got 5)");
  EXPECT_EQ(llvm::toString(verifyInt4GroupShape(2, 96, 64)),
            "group size 64 must be positive and divide the row length 96");
  EXPECT_FALSE(static_cast<bool>(verifyInt4GroupShape(2, 96, 32)));
}
