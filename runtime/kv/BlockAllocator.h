//===- BlockAllocator.h - Paged KV-cache block bookkeeping ----------------===//
//
// Physical KV blocks of `blockSize` token slots are handed to sequences; each
// sequence has a block table (logical block i -> physical block) and a
// length. Blocks are reference counted so a forked sequence shares its
// parent's blocks; appending into a shared, partly filled last block first
// gives the appender its own copy (copy-on-write), returned as a BlockCopy for
// the backend to perform (Backend::copyKvBlock) before it writes.
//
// Allocation is all-or-nothing: an append that needs more blocks than are
// free fails with kResourceExhausted naming both numbers, and changes nothing.
// The allocator only does bookkeeping; the storage lives in the backend.
//
//===----------------------------------------------------------------------===//
#ifndef QTC_RT_KV_BLOCKALLOCATOR_H
#define QTC_RT_KV_BLOCKALLOCATOR_H

#include "qtc/rt/Status.h"

#include <cstdint>
#include <unordered_map>
#include <utility>
#include <vector>

namespace qtc::rt {

struct BlockCopy {
  int src = 0;
  int dst = 0;
  bool operator==(const BlockCopy &o) const { return src == o.src && dst == o.dst; }
};

class BlockAllocator {
public:
  using SeqId = int64_t;

  BlockAllocator(int numBlocks, int blockSize);

  int numBlocks() const { return static_cast<int>(refCounts_.size()); }
  int blockSize() const { return blockSize_; }
  int numFreeBlocks() const { return static_cast<int>(freeList_.size()); }
  int numSequences() const { return static_cast<int>(seqs_.size()); }
  // Blocks a sequence of `numTokens` tokens occupies.
  int blocksFor(int64_t numTokens) const {
    return static_cast<int>((numTokens + blockSize_ - 1) / blockSize_);
  }

  // A new, empty sequence.
  SeqId createSequence();
  // A new sequence sharing all of `parent`'s blocks and its length.
  StatusOr<SeqId> fork(SeqId parent);
  // A new sequence made of `blocks`, full blocks of tokens held elsewhere
  // (the prefix cache): one more reference each, length blocks * blockSize.
  StatusOr<SeqId> createSequenceFrom(const std::vector<int32_t> &blocks);
  // One more, or one fewer, reference to a used block held outside any
  // sequence; the block is free again when its last reference goes.
  Status retain(int block);
  Status releaseBlock(int block);
  // Returns the sequence's blocks (dropping one reference each) and forgets it.
  Status freeSequence(SeqId seq);

  // Makes room for `count` more tokens at the end of each listed sequence
  // (all of them or none) and advances their lengths. Returns the copies the
  // backend must make first, for shared last blocks now written into.
  StatusOr<std::vector<BlockCopy>> append(const std::vector<std::pair<SeqId, int>> &requests);
  StatusOr<std::vector<BlockCopy>> append(SeqId seq, int count) { return append({{seq, count}}); }

  bool contains(SeqId seq) const { return seqs_.count(seq) != 0; }
  // Number of tokens in the sequence; 0 for an unknown one.
  int64_t length(SeqId seq) const;
  // Physical block per logical block; empty for an unknown sequence.
  const std::vector<int32_t> &blockTable(SeqId seq) const;
  int refCount(int block) const { return refCounts_.at(block); }

private:
  struct Sequence {
    std::vector<int32_t> blocks;
    int64_t length = 0;
  };
  int takeFreeBlock();
  void release(int block);

  int blockSize_;
  std::vector<int> refCounts_;
  std::vector<int32_t> freeList_; // a stack: the most recently freed is reused first
  std::unordered_map<SeqId, Sequence> seqs_;
  SeqId nextId_ = 0;
};

} // namespace qtc::rt

#endif // QTC_RT_KV_BLOCKALLOCATOR_H
