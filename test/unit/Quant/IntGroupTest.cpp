//===- IntGroupTest.cpp - The Int4Group layout ---------------------------===//

#include "qtc/Quant/IntGroup.h"

#include "qtc/Quant/Float16.h"

#include <gtest/gtest.h>

#include <random>

using namespace qtc::quant;

TEST(IntGroupTest, PackingPutsEvenChannelsInTheLowNibble) {
  std::vector<uint8_t> codes = {0x1, 0x2, 0xF, 0x0, 0xA, 0x5};
  std::vector<uint8_t> packed(3);
  packInt4(codes, packed);
  EXPECT_EQ(packed, (std::vector<uint8_t>{0x21, 0x0F, 0x5A}));
}

TEST(IntGroupTest, PackingRoundTrips) {
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

TEST(IntGroupTest, DequantizesPerTheSchemaFormula) {
  // w[n, k] = (q[n, k] - zero[n, k / group]) * scale[n, k / group].
  IntGroupWeight weight;
  weight.outFeatures = 2;
  weight.inFeatures = 4;
  weight.groupSize = 2;
  weight.symmetric = false;
  weight.codes = {0, 15, 3, 4, /*row 1*/ 8, 9, 1, 2};
  weight.scales = {toHalfBits(0.5), toHalfBits(2.0), toHalfBits(1.0),
                   toHalfBits(0.25)};
  weight.zeros = {toHalfBits(0.0), toHalfBits(4.0), toHalfBits(8.0),
                  toHalfBits(1.0)};
  llvm::Expected<std::vector<float>> dense = dequantizeIntGroup(weight);
  ASSERT_TRUE(static_cast<bool>(dense)) << llvm::toString(dense.takeError());
  EXPECT_EQ(*dense, (std::vector<float>{0.0f, 7.5f, -2.0f, 0.0f, 0.0f, 1.0f,
                                        0.0f, 0.25f}));
  EXPECT_EQ(weight.code(1, 1), 9);
  EXPECT_EQ(weight.zero(0, 1), 4.0f);

  weight.symmetric = true;
  weight.zeros.clear();
  dense = dequantizeIntGroup(weight);
  ASSERT_TRUE(static_cast<bool>(dense)) << llvm::toString(dense.takeError());
  EXPECT_EQ((*dense)[0], -4.0f); // (0 - 8) * 0.5
  EXPECT_EQ(weight.zero(1, 0), 8.0f);
}

TEST(IntGroupTest, RejectsInconsistentBuffers) {
  IntGroupWeight weight;
  weight.outFeatures = 2;
  weight.inFeatures = 4;
  weight.groupSize = 2;
  weight.codes.resize(8);
  weight.scales.resize(3); // needs 2 rows x 2 groups
  llvm::Expected<std::vector<float>> dense = dequantizeIntGroup(weight);
  ASSERT_FALSE(static_cast<bool>(dense));
  EXPECT_EQ(llvm::toString(dense.takeError()),
            "group-quantized weight holds 3 scales, expected 4");

  weight.scales.resize(4);
  weight.zeros.resize(4); // symmetric weights have none
  EXPECT_EQ(llvm::toString(verifyIntGroup(weight)),
            "group-quantized weight holds 4 zero points, expected 0");

  weight.zeros.clear();
  weight.bits = 3;
  weight.codes[5] = 8; // 3-bit codes end at 7
  EXPECT_EQ(llvm::toString(verifyIntGroup(weight)),
            "code 8 at [1, 1] exceeds 3 bits");
}

TEST(IntGroupTest, SymmetricZeroPointsFollowTheWidth) {
  EXPECT_EQ(intSymmetricZero(3), 4);
  EXPECT_EQ(intSymmetricZero(4), 8);
  EXPECT_EQ(intSymmetricZero(8), 128);
  EXPECT_EQ(intMaxCode(8), 255);
  IntGroupWeight weight;
  weight.outFeatures = 1;
  weight.inFeatures = 2;
  weight.groupSize = 2;
  weight.bits = 8;
  weight.codes = {0, 255};
  weight.scales = {toHalfBits(0.5)};
  llvm::Expected<std::vector<float>> dense = dequantizeIntGroup(weight);
  ASSERT_TRUE(static_cast<bool>(dense)) << llvm::toString(dense.takeError());
  EXPECT_EQ(*dense, (std::vector<float>{-64.0f, 63.5f}));
}

TEST(IntGroupTest, RejectsShapesTheLayoutCannotHold) {
  EXPECT_EQ(llvm::toString(verifyIntGroupShape(0, 4, 2, 4)),
            "group-quantized weight needs a positive shape, got 0x4");
  EXPECT_EQ(llvm::toString(verifyIntGroupShape(2, 96, 64, 4)),
            "group size 64 must be positive and divide the row length 96");
  EXPECT_EQ(llvm::toString(verifyIntGroupShape(2, 96, 32, 5)),
            "integer weights of 5 bits are not supported (3, 4 or 8)");
  EXPECT_FALSE(static_cast<bool>(verifyIntGroupShape(2, 96, 32, 4)));
  // Odd rows are fine for the structure; only nibble storage needs even.
  EXPECT_FALSE(static_cast<bool>(verifyIntGroupShape(2, 5, 5, 8)));
}
