//===- KernelAbiTest.cpp - Launch geometry and parameter lists ------------===//
//
// qtc/rt/KernelAbi.h is shared by the kernel generators and the CUDA
// backend; these checks run on the CPU.
//
//===----------------------------------------------------------------------===//

#include "qtc/rt/KernelAbi.h"

#include <gtest/gtest.h>

using namespace qtc::rt::abi;

namespace {

const KernelFamily kRowFamilies[] = {
    KernelFamily::Embedding,  KernelFamily::RmsNorm, KernelFamily::RopeKvAppend,
    KernelFamily::SwiGlu,     KernelFamily::Add,     KernelFamily::GatherRows,
    KernelFamily::QuantizeRows, KernelFamily::ArgmaxRows,
};

const KernelFamily kAllFamilies[] = {
    KernelFamily::Embedding, KernelFamily::RmsNorm, KernelFamily::Linear,
    KernelFamily::RopeKvAppend, KernelFamily::Attention, KernelFamily::SwiGlu,
    KernelFamily::Add, KernelFamily::GatherRows, KernelFamily::QuantizeRows,
    KernelFamily::ArgmaxRows,
};

} // namespace

TEST(KernelAbi, CeilDivRoundsUpAndIsZeroForEmptyOrBadSizes) {
  EXPECT_EQ(ceilDiv(1, 8), 1u);
  EXPECT_EQ(ceilDiv(8, 8), 1u);
  EXPECT_EQ(ceilDiv(9, 8), 2u);
  EXPECT_EQ(ceilDiv(12288, 16), 768u);
  EXPECT_EQ(ceilDiv(0, 8), 0u);
  EXPECT_EQ(ceilDiv(-5, 8), 0u);
  EXPECT_EQ(ceilDiv(5, 0), 0u);
  EXPECT_EQ(ceilDiv(5, -2), 0u);
}

TEST(KernelAbi, RowFamiliesRunOneBlockPerRow) {
  KernelTile tile;
  tile.blockX = 256;
  tile.blockY = 2;
  tile.sharedBytes = 1024;
  LaunchExtent extent;
  extent.numRows = 37;
  extent.numKvHeads = 4;    // ignored by row kernels
  extent.outFeatures = 999; // ignored by row kernels
  for (KernelFamily family : kRowFamilies) {
    LaunchDims dims = launchDims(family, tile, extent);
    SCOPED_TRACE(familyName(family));
    EXPECT_EQ(dims.grid[0], 37u);
    EXPECT_EQ(dims.grid[1], 1u);
    EXPECT_EQ(dims.grid[2], 1u);
    EXPECT_EQ(dims.block[0], 256u);
    EXPECT_EQ(dims.block[1], 2u);
    EXPECT_EQ(dims.block[2], 1u);
    EXPECT_EQ(dims.sharedBytes, 1024u);
    EXPECT_FALSE(dims.empty());
  }
}

TEST(KernelAbi, LinearTilesFeaturesAndTokens) {
  KernelTile tile;
  tile.blockX = 128;
  tile.tileM = 8;
  tile.tileN = 16;
  tile.sharedBytes = 4096;
  LaunchExtent extent;
  extent.numRows = 17;       // 3 token tiles of 8
  extent.outFeatures = 1000; // 63 feature tiles of 16
  LaunchDims dims = launchDims(KernelFamily::Linear, tile, extent);
  EXPECT_EQ(dims.grid[0], 63u);
  EXPECT_EQ(dims.grid[1], 3u);
  EXPECT_EQ(dims.grid[2], 1u);
  EXPECT_EQ(dims.block[0], 128u);
  EXPECT_EQ(dims.sharedBytes, 4096u);

  extent.numRows = 1;
  extent.outFeatures = 16;
  dims = launchDims(KernelFamily::Linear, tile, extent);
  EXPECT_EQ(dims.grid[0], 1u);
  EXPECT_EQ(dims.grid[1], 1u);
}

TEST(KernelAbi, NoRowsGiveAnEmptyGridTheCallerSkips) {
  KernelTile tile;
  tile.blockX = 64;
  LaunchExtent extent;
  extent.numRows = 0;
  extent.numKvHeads = 2;
  extent.outFeatures = 64;
  for (KernelFamily family : kAllFamilies) {
    SCOPED_TRACE(familyName(family));
    EXPECT_TRUE(launchDims(family, tile, extent).empty());
  }
  extent.numRows = -3;
  for (KernelFamily family : kAllFamilies) {
    SCOPED_TRACE(familyName(family));
    EXPECT_TRUE(launchDims(family, tile, extent).empty());
  }
}

TEST(KernelAbi, LinearWithoutFeaturesIsEmpty) {
  KernelTile tile;
  tile.blockX = 128;
  tile.tileN = 16;
  LaunchExtent extent;
  extent.numRows = 4;
  extent.outFeatures = 0;
  EXPECT_TRUE(launchDims(KernelFamily::Linear, tile, extent).empty());
}

TEST(KernelAbi, ParameterListsPutPointersBeforeIntegers) {
  struct Expected {
    KernelFamily family;
    int count;
    int firstI32;
  };
  const Expected expected[] = {
      {KernelFamily::Embedding, embedding::kCount, embedding::kNumTokens},
      {KernelFamily::RmsNorm, rms_norm::kCount, rms_norm::kNumRows},
      {KernelFamily::Linear, linear::kCount, linear::kNumTokens},
      {KernelFamily::RopeKvAppend, rope_kv_append::kCount, rope_kv_append::kNumTokens},
      {KernelFamily::Attention, attention::kCount, attention::kNumTokens},
      {KernelFamily::SwiGlu, swiglu::kCount, swiglu::kNumRows},
      {KernelFamily::Add, add::kCount, add::kNumRows},
      {KernelFamily::GatherRows, gather_rows::kCount, gather_rows::kNumRows},
      {KernelFamily::QuantizeRows, quantize_rows::kCount, quantize_rows::kNumRows},
      {KernelFamily::ArgmaxRows, argmax_rows::kCount, argmax_rows::kNumRows},
  };
  for (const Expected &e : expected) {
    SCOPED_TRACE(familyName(e.family));
    EXPECT_EQ(paramCount(e.family), e.count);
    for (int i = 0; i < e.count; ++i)
      EXPECT_EQ(paramType(e.family, i), i < e.firstI32 ? ParamType::Pointer : ParamType::I32)
          << "parameter " << i;
  }
  // The greedy-sampling kernel: logits rows in, one id per row out.
  EXPECT_EQ(argmax_rows::kX, 0);
  EXPECT_EQ(argmax_rows::kIds, 1);
  EXPECT_EQ(argmax_rows::kNumRows, 2);
  EXPECT_EQ(argmax_rows::kCount, 3);
}

TEST(KernelAbi, FamilyNamesAreDistinct) {
  for (KernelFamily a : kAllFamilies)
    for (KernelFamily b : kAllFamilies) {
      if (a != b) {
        EXPECT_STRNE(familyName(a), familyName(b));
      }
    }
  EXPECT_STREQ(familyName(KernelFamily::ArgmaxRows), "argmax_rows");
}
