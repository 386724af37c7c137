//===- PrefixCache.h - KV blocks of earlier prompts, found by their tokens -===//
//
// Automatic prefix caching (as in vLLM): after a prompt is prefilled, each of
// its full KV blocks is remembered under a hash of all tokens up to the
// block's end (a chain: the block's tokens and its parent's hash), and keeps
// one reference of its own in the BlockAllocator. A later prompt that starts
// with the same tokens gets those blocks in its block table and is prefilled
// only from the first block not found. Full blocks are never written again
// (appends go to the partly filled last block or to new blocks), so sharing
// them needs no copy.
//
// Blocks only the cache holds are evicted least recently used first (the
// deeper block first among equals, so a chain is shortened from its end)
// when a request needs room. A hash match is confirmed against the stored
// tokens: a collision is a miss.
//
//===----------------------------------------------------------------------===//
#ifndef QTC_RT_KV_PREFIXCACHE_H
#define QTC_RT_KV_PREFIXCACHE_H

#include "kv/BlockAllocator.h"

#include <cstdint>
#include <unordered_map>
#include <vector>

namespace qtc::rt {

class PrefixCache {
public:
  explicit PrefixCache(BlockAllocator &allocator) : allocator_(allocator) {}
  ~PrefixCache() { clear(); }
  PrefixCache(const PrefixCache &) = delete;
  PrefixCache &operator=(const PrefixCache &) = delete;

  // The cached blocks holding tokens[0 .. k * blockSize) for the largest
  // k <= maxBlocks found, in order; marks them used now.
  std::vector<int32_t> match(const std::vector<int32_t> &tokens, int maxBlocks);
  // Remembers the first `fullBlocks` blocks of `table` as holding
  // tokens[0 .. fullBlocks * blockSize); blocks already cached are kept.
  Status insert(const std::vector<int32_t> &tokens, const std::vector<int32_t> &table,
                int fullBlocks);
  // Drops cached blocks no sequence uses until `blocks` have been freed or
  // none is left; returns how many were freed.
  int evict(int blocks);
  // Cached blocks that no sequence uses (what evict() can free).
  int evictable() const;
  int size() const { return static_cast<int>(entries_.size()); }
  void clear();

private:
  struct Entry {
    int32_t block = 0;
    uint64_t parent = 0;
    std::vector<int32_t> tokens; // the block's own tokens
    uint64_t lastUse = 0;
    int depth = 0; // index of the block in its prompt
  };
  // The chain hash of the block after `parent` holding tokens[begin, end).
  static uint64_t chainHash(uint64_t parent, const int32_t *begin, const int32_t *end);
  const Entry *find(uint64_t hash, uint64_t parent, const int32_t *begin,
                    const int32_t *end) const;

  BlockAllocator &allocator_;
  std::unordered_map<uint64_t, Entry> entries_;
  uint64_t clock_ = 0;
};

} // namespace qtc::rt

#endif // QTC_RT_KV_PREFIXCACHE_H
