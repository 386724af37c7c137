//===- BlockAllocator.cpp - Paged KV-cache block bookkeeping --------------===//

#include "kv/BlockAllocator.h"

#include <algorithm>
#include <string>

namespace qtc::rt {

BlockAllocator::BlockAllocator(int numBlocks, int blockSize)
    : blockSize_(std::max(1, blockSize)), refCounts_(std::max(0, numBlocks), 0) {
  freeList_.reserve(refCounts_.size());
  // Reversed so that block 0 is handed out first.
  for (int b = numBlocks - 1; b >= 0; --b)
    freeList_.push_back(b);
}

BlockAllocator::SeqId BlockAllocator::createSequence() {
  SeqId id = nextId_++;
  seqs_.emplace(id, Sequence{});
  return id;
}

StatusOr<BlockAllocator::SeqId> BlockAllocator::fork(SeqId parent) {
  auto it = seqs_.find(parent);
  if (it == seqs_.end())
    return notFound("fork of unknown sequence " + std::to_string(parent));
  Sequence child = it->second;
  for (int32_t block : child.blocks)
    ++refCounts_[block];
  SeqId id = nextId_++;
  seqs_.emplace(id, std::move(child));
  return id;
}

StatusOr<BlockAllocator::SeqId>
BlockAllocator::createSequenceFrom(const std::vector<int32_t> &blocks) {
  for (int32_t block : blocks)
    if (block < 0 || block >= numBlocks() || refCounts_[block] == 0)
      return invalidArgument("sequence from block " + std::to_string(block) +
                             ", which is not a used block");
  Sequence s;
  s.blocks = blocks;
  s.length = static_cast<int64_t>(blocks.size()) * blockSize_;
  for (int32_t block : blocks)
    ++refCounts_[block];
  SeqId id = nextId_++;
  seqs_.emplace(id, std::move(s));
  return id;
}

Status BlockAllocator::retain(int block) {
  if (block < 0 || block >= numBlocks() || refCounts_[block] == 0)
    return invalidArgument("retain of block " + std::to_string(block) + ", which is not used");
  ++refCounts_[block];
  return Status::ok();
}

Status BlockAllocator::releaseBlock(int block) {
  if (block < 0 || block >= numBlocks() || refCounts_[block] == 0)
    return invalidArgument("release of block " + std::to_string(block) + ", which is not used");
  release(block);
  return Status::ok();
}

Status BlockAllocator::freeSequence(SeqId seq) {
  auto it = seqs_.find(seq);
  if (it == seqs_.end())
    return notFound("free of unknown sequence " + std::to_string(seq));
  for (int32_t block : it->second.blocks)
    release(block);
  seqs_.erase(it);
  return Status::ok();
}

int64_t BlockAllocator::length(SeqId seq) const {
  auto it = seqs_.find(seq);
  return it == seqs_.end() ? 0 : it->second.length;
}

const std::vector<int32_t> &BlockAllocator::blockTable(SeqId seq) const {
  static const std::vector<int32_t> empty;
  auto it = seqs_.find(seq);
  return it == seqs_.end() ? empty : it->second.blocks;
}

int BlockAllocator::takeFreeBlock() {
  int block = freeList_.back();
  freeList_.pop_back();
  refCounts_[block] = 1;
  return block;
}

void BlockAllocator::release(int block) {
  if (--refCounts_[block] == 0)
    freeList_.push_back(block);
}

StatusOr<std::vector<BlockCopy>>
BlockAllocator::append(const std::vector<std::pair<SeqId, int>> &requests) {
  // First pass: validate and count, touching nothing. `copiedAway` mirrors
  // the second pass: once all but one sharer have copied a block, the last
  // one writes into it directly.
  int64_t needed = 0;
  std::unordered_map<int, int> copiedAway;
  for (size_t i = 0; i < requests.size(); ++i) {
    auto [seq, count] = requests[i];
    auto it = seqs_.find(seq);
    if (it == seqs_.end())
      return notFound("append to unknown sequence " + std::to_string(seq));
    if (count < 0)
      return invalidArgument("append of " + std::to_string(count) + " tokens");
    for (size_t j = 0; j < i; ++j)
      if (requests[j].first == seq)
        return invalidArgument("sequence " + std::to_string(seq) + " is listed twice");
    const Sequence &s = it->second;
    if (count == 0)
      continue;
    needed += blocksFor(s.length + count) - static_cast<int64_t>(s.blocks.size());
    const bool writesIntoLastBlock = s.length % blockSize_ != 0;
    if (writesIntoLastBlock) {
      int last = s.blocks.back();
      if (refCounts_[last] - copiedAway[last] > 1) {
        ++copiedAway[last];
        ++needed; // copy-on-write
      }
    }
  }
  if (needed > numFreeBlocks())
    return resourceExhausted("KV cache full: the request needs " + std::to_string(needed) +
                             " more blocks of " + std::to_string(blockSize_) +
                             " tokens, but only " + std::to_string(numFreeBlocks()) + " of " +
                             std::to_string(numBlocks()) + " are free");

  // Second pass: cannot fail.
  std::vector<BlockCopy> copies;
  for (auto [seq, count] : requests) {
    if (count == 0)
      continue;
    Sequence &s = seqs_[seq];
    if (s.length % blockSize_ != 0 && refCounts_[s.blocks.back()] > 1) {
      int shared = s.blocks.back();
      int own = takeFreeBlock();
      release(shared);
      s.blocks.back() = own;
      copies.push_back({shared, own});
    }
    s.length += count;
    while (static_cast<int64_t>(s.blocks.size()) < blocksFor(s.length))
      s.blocks.push_back(takeFreeBlock());
  }
  return copies;
}

} // namespace qtc::rt
