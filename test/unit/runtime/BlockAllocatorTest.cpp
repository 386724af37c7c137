//===- BlockAllocatorTest.cpp - Paged KV block bookkeeping ----------------===//

#include "kv/BlockAllocator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>

using namespace qtc::rt;
using ::testing::HasSubstr;
using SeqId = BlockAllocator::SeqId;

TEST(BlockAllocator, AllocatesBlocksAsSequencesGrow) {
  BlockAllocator a(8, 16);
  SeqId s = a.createSequence();
  ASSERT_TRUE(a.append(s, 1));
  EXPECT_EQ(a.blockTable(s).size(), 1u);
  ASSERT_TRUE(a.append(s, 15));
  EXPECT_EQ(a.blockTable(s).size(), 1u);
  ASSERT_TRUE(a.append(s, 1));
  EXPECT_EQ(a.blockTable(s).size(), 2u);
  EXPECT_EQ(a.length(s), 17);
  EXPECT_EQ(a.numFreeBlocks(), 6);
  ASSERT_TRUE(a.freeSequence(s).isOk());
  EXPECT_EQ(a.numFreeBlocks(), 8);
  EXPECT_FALSE(a.contains(s));
  EXPECT_EQ(a.freeSequence(s).code(), StatusCode::kNotFound);
}

TEST(BlockAllocator, ExhaustionNamesNeedAndLeavesStateIntact) {
  BlockAllocator a(4, 16);
  SeqId s = a.createSequence(), t = a.createSequence();
  ASSERT_TRUE(a.append(s, 20)); // 2 blocks
  const std::vector<int32_t> tableBefore = a.blockTable(s);
  // t needs 2 blocks and s 1 more: 3 > 2 free.
  auto result = a.append({{t, 32}, {s, 13}});
  ASSERT_FALSE(result);
  EXPECT_EQ(result.status().code(), StatusCode::kResourceExhausted);
  EXPECT_THAT(result.status().message(),
              HasSubstr("needs 3 more blocks of 16 tokens, but only 2 of 4 are free"));
  EXPECT_EQ(a.numFreeBlocks(), 2);
  EXPECT_EQ(a.length(s), 20);
  EXPECT_EQ(a.length(t), 0);
  EXPECT_EQ(a.blockTable(s), tableBefore);
  EXPECT_TRUE(a.blockTable(t).empty());
  // What fits still goes through afterwards.
  ASSERT_TRUE(a.append({{t, 16}, {s, 13}}));
  EXPECT_EQ(a.numFreeBlocks(), 0);
}

TEST(BlockAllocator, ForkSharesBlocksAndCopiesOnWrite) {
  BlockAllocator a(8, 4);
  SeqId parent = a.createSequence();
  ASSERT_TRUE(a.append(parent, 6)); // blocks [b0 full, b1 with 2 of 4]
  auto child = a.fork(parent);
  ASSERT_TRUE(child);
  EXPECT_EQ(a.blockTable(*child), a.blockTable(parent));
  EXPECT_EQ(a.length(*child), 6);
  const int b0 = a.blockTable(parent)[0], b1 = a.blockTable(parent)[1];
  EXPECT_EQ(a.refCount(b0), 2);
  EXPECT_EQ(a.refCount(b1), 2);
  EXPECT_EQ(a.numFreeBlocks(), 6);

  // The child writes into the shared, partly filled b1: it gets its own copy.
  auto copies = a.append(*child, 1);
  ASSERT_TRUE(copies);
  ASSERT_EQ(copies->size(), 1u);
  EXPECT_EQ((*copies)[0].src, b1);
  const int own = (*copies)[0].dst;
  EXPECT_NE(own, b1);
  EXPECT_EQ(a.blockTable(*child)[0], b0);
  EXPECT_EQ(a.blockTable(*child)[1], own);
  EXPECT_EQ(a.refCount(b1), 1);
  EXPECT_EQ(a.refCount(own), 1);
  EXPECT_EQ(a.refCount(b0), 2);

  // The parent is now b1's only owner and writes in place.
  copies = a.append(parent, 2);
  ASSERT_TRUE(copies);
  EXPECT_TRUE(copies->empty());
  EXPECT_EQ(a.blockTable(parent)[1], b1);

  ASSERT_TRUE(a.freeSequence(parent).isOk());
  EXPECT_EQ(a.refCount(b0), 1);
  ASSERT_TRUE(a.freeSequence(*child).isOk());
  EXPECT_EQ(a.numFreeBlocks(), 8);
}

TEST(BlockAllocator, ForkAtBlockBoundaryNeedsNoCopy) {
  BlockAllocator a(4, 4);
  SeqId parent = a.createSequence();
  ASSERT_TRUE(a.append(parent, 4));
  auto child = a.fork(parent);
  ASSERT_TRUE(child);
  auto copies = a.append(*child, 1);
  ASSERT_TRUE(copies);
  EXPECT_TRUE(copies->empty());
  EXPECT_EQ(a.blockTable(*child).size(), 2u);
  EXPECT_EQ(a.blockTable(*child)[0], a.blockTable(parent)[0]);
}

TEST(BlockAllocator, CopyOnWriteCountsInAllOrNothing) {
  BlockAllocator a(2, 4);
  SeqId parent = a.createSequence();
  ASSERT_TRUE(a.append(parent, 2));
  auto child = a.fork(parent);
  ASSERT_TRUE(child);
  // One free block: either sharer may copy, but not both plus a new block.
  auto result = a.append({{parent, 1}, {*child, 3}});
  ASSERT_FALSE(result);
  EXPECT_THAT(result.status().message(), HasSubstr("needs 2 more blocks"));
  EXPECT_EQ(a.refCount(a.blockTable(parent)[0]), 2);
  // Both sharers append into the shared block: the first copies, the last
  // writes in place, so one free block is enough.
  auto both = a.append({{parent, 1}, {*child, 1}});
  ASSERT_TRUE(both) << both.status().toString();
  EXPECT_EQ(both->size(), 1u);
  EXPECT_EQ(a.numFreeBlocks(), 0);
}

TEST(BlockAllocator, RejectsBadRequestsWithoutChanges) {
  BlockAllocator a(4, 4);
  SeqId s = a.createSequence();
  EXPECT_EQ(a.append(12345, 1).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(a.append(s, -1).status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(a.append({{s, 1}, {s, 1}}).status().message(), HasSubstr("listed twice"));
  EXPECT_EQ(a.fork(999).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(a.numFreeBlocks(), 4);
  EXPECT_EQ(a.length(s), 0);
}

// Randomized: create / append (single and batched) / fork / free against a
// model that tracks each sequence's token contents as the ids of the writes
// that produced them. Shared prefixes must read the same physical slots
// until one side writes; the allocator's copies stand in for the backend.
TEST(BlockAllocator, RandomizedAgainstModel) {
  constexpr int kBlocks = 24, kBlockSize = 4;
  for (uint32_t seed = 1; seed <= 20; ++seed) {
    std::mt19937 rng(seed);
    BlockAllocator a(kBlocks, kBlockSize);
    // Simulated KV storage: the value written at each physical slot.
    std::vector<int64_t> storage(kBlocks * kBlockSize, -1);
    std::map<SeqId, std::vector<int64_t>> model; // expected contents per sequence
    int64_t nextValue = 0;

    auto checkInvariants = [&] {
      std::map<int, int> references;
      for (const auto &[seq, contents] : model) {
        ASSERT_TRUE(a.contains(seq));
        ASSERT_EQ(a.length(seq), static_cast<int64_t>(contents.size()));
        const std::vector<int32_t> &table = a.blockTable(seq);
        ASSERT_EQ(table.size(), (contents.size() + kBlockSize - 1) / kBlockSize);
        for (int32_t block : table)
          ++references[block];
        for (size_t pos = 0; pos < contents.size(); ++pos)
          ASSERT_EQ(storage[table[pos / kBlockSize] * kBlockSize + pos % kBlockSize],
                    contents[pos])
              << "seed " << seed << " seq " << seq << " pos " << pos;
      }
      int used = 0;
      for (int b = 0; b < kBlocks; ++b) {
        ASSERT_EQ(a.refCount(b), references.count(b) ? references[b] : 0) << "block " << b;
        used += a.refCount(b) > 0;
      }
      ASSERT_EQ(a.numFreeBlocks(), kBlocks - used);
      ASSERT_EQ(a.numSequences(), static_cast<int>(model.size()));
    };

    for (int op = 0; op < 300; ++op) {
      std::vector<SeqId> live;
      for (const auto &entry : model)
        live.push_back(entry.first);
      const int choice = static_cast<int>(rng() % 10);
      if (choice == 0 || live.empty()) {
        model[a.createSequence()] = {};
      } else if (choice == 1) {
        SeqId parent = live[rng() % live.size()];
        auto child = a.fork(parent);
        ASSERT_TRUE(child);
        model[*child] = model[parent];
      } else if (choice == 2) {
        SeqId victim = live[rng() % live.size()];
        ASSERT_TRUE(a.freeSequence(victim).isOk());
        model.erase(victim);
      } else {
        // Append to one to three distinct sequences at once.
        std::vector<std::pair<SeqId, int>> requests;
        std::set<SeqId> chosen;
        const int count = 1 + static_cast<int>(rng() % 3);
        for (int i = 0; i < count; ++i) {
          SeqId seq = live[rng() % live.size()];
          if (chosen.insert(seq).second)
            requests.push_back({seq, static_cast<int>(rng() % 7)});
        }
        const int freeBefore = a.numFreeBlocks();
        std::map<SeqId, std::vector<int32_t>> tablesBefore;
        for (auto [seq, n] : requests)
          tablesBefore[seq] = a.blockTable(seq);
        auto copies = a.append(requests);
        if (!copies) {
          ASSERT_EQ(copies.status().code(), StatusCode::kResourceExhausted);
          ASSERT_EQ(a.numFreeBlocks(), freeBefore);
          for (auto [seq, n] : requests)
            ASSERT_EQ(a.blockTable(seq), tablesBefore[seq]);
        } else {
          for (const BlockCopy &copy : *copies)
            std::copy(storage.begin() + copy.src * kBlockSize,
                      storage.begin() + (copy.src + 1) * kBlockSize,
                      storage.begin() + copy.dst * kBlockSize);
          for (auto [seq, n] : requests) {
            std::vector<int64_t> &contents = model[seq];
            const std::vector<int32_t> &table = a.blockTable(seq);
            for (int i = 0; i < n; ++i) {
              const size_t pos = contents.size();
              // Writing a shared block would corrupt another sequence.
              ASSERT_EQ(a.refCount(table[pos / kBlockSize]), 1)
                  << "seed " << seed << ": write into a shared block";
              storage[table[pos / kBlockSize] * kBlockSize + pos % kBlockSize] = nextValue;
              contents.push_back(nextValue++);
            }
          }
        }
      }
      checkInvariants();
      if (HasFatalFailure())
        return;
    }
  }
}
