//===- PrefixCacheTest.cpp - KV blocks of earlier prompts -----------------===//

#include "kv/PrefixCache.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <numeric>

using namespace qtc::rt;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

namespace {

std::vector<int32_t> iota(int n, int32_t first = 0) {
  std::vector<int32_t> v(n);
  std::iota(v.begin(), v.end(), first);
  return v;
}

// A sequence holding `tokens`, as a prefill would leave it.
BlockAllocator::SeqId prefilled(BlockAllocator &a, const std::vector<int32_t> &tokens) {
  BlockAllocator::SeqId s = a.createSequence();
  EXPECT_TRUE(a.append(s, static_cast<int>(tokens.size())));
  return s;
}

} // namespace

TEST(PrefixCache, FindsTheFullBlocksOfAnEarlierPrompt) {
  BlockAllocator a(8, 4);
  PrefixCache cache(a);
  std::vector<int32_t> prompt = iota(10); // blocks [0-3] [4-7], 2 tokens past
  BlockAllocator::SeqId s = prefilled(a, prompt);
  const std::vector<int32_t> table = a.blockTable(s);
  ASSERT_TRUE(cache.insert(prompt, table, 2).isOk());
  EXPECT_EQ(cache.size(), 2);
  EXPECT_EQ(a.refCount(table[0]), 2); // the sequence's and the cache's

  // Same start: both blocks; a shorter limit or a divergence stops earlier.
  std::vector<int32_t> later = iota(9);
  EXPECT_THAT(cache.match(later, 8), ElementsAre(table[0], table[1]));
  EXPECT_THAT(cache.match(later, 1), ElementsAre(table[0]));
  later[5] = 99;
  EXPECT_THAT(cache.match(later, 8), ElementsAre(table[0]));
  later[0] = 99;
  EXPECT_TRUE(cache.match(later, 8).empty());
  // A block is found by everything before it, not by its own tokens.
  std::vector<int32_t> shifted = iota(8, 4);
  EXPECT_TRUE(cache.match(shifted, 8).empty());

  // The sequence goes; the cache keeps the blocks, then gives them back.
  ASSERT_TRUE(a.freeSequence(s).isOk());
  EXPECT_EQ(a.numFreeBlocks(), 6);
  EXPECT_EQ(cache.evictable(), 2);
  cache.clear();
  EXPECT_EQ(a.numFreeBlocks(), 8);
}

TEST(PrefixCache, EvictsLeastRecentlyUsedChainsFromTheirEnds) {
  BlockAllocator a(8, 4);
  PrefixCache cache(a);
  std::vector<int32_t> first = iota(12), second = iota(8, 100);
  BlockAllocator::SeqId s1 = prefilled(a, first), s2 = prefilled(a, second);
  const std::vector<int32_t> t1 = a.blockTable(s1), t2 = a.blockTable(s2);
  ASSERT_TRUE(cache.insert(first, t1, 3).isOk());
  ASSERT_TRUE(cache.insert(second, t2, 2).isOk());
  // In use by a sequence: nothing to evict.
  EXPECT_EQ(cache.evict(8), 0);
  ASSERT_TRUE(a.freeSequence(s1).isOk());
  ASSERT_TRUE(a.freeSequence(s2).isOk());
  EXPECT_EQ(a.numFreeBlocks(), 3);

  cache.match(first, 3); // `first` is now the most recent
  // Two blocks: `second`'s chain (matches below also count as uses).
  EXPECT_EQ(cache.evict(2), 2);
  EXPECT_EQ(cache.size(), 3);
  EXPECT_TRUE(cache.match(second, 2).empty());
  EXPECT_THAT(cache.match(first, 3), ElementsAre(t1[0], t1[1], t1[2]));
  // Blocks used together go from the chain's end: its start stays findable.
  EXPECT_EQ(cache.evict(1), 1);
  EXPECT_THAT(cache.match(first, 3), ElementsAre(t1[0], t1[1]));
  EXPECT_EQ(cache.evict(10), 2);
  EXPECT_EQ(a.numFreeBlocks(), 8);
}

TEST(PrefixCache, RejectsInconsistentInserts) {
  BlockAllocator a(4, 4);
  PrefixCache cache(a);
  std::vector<int32_t> prompt = iota(6);
  BlockAllocator::SeqId s = prefilled(a, prompt);
  EXPECT_THAT(cache.insert(prompt, a.blockTable(s), 2).message(),
              HasSubstr("2 full blocks do not fit a table of 2 blocks over 6 tokens"));
  // A block that is not in use cannot be cached.
  EXPECT_EQ(cache.insert(iota(4), {3}, 1).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(cache.size(), 0);
}
