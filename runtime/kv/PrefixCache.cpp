//===- PrefixCache.cpp - KV blocks of earlier prompts, found by their tokens -===//

#include "kv/PrefixCache.h"

#include <algorithm>
#include <cstring>

namespace qtc::rt {

uint64_t PrefixCache::chainHash(uint64_t parent, const int32_t *begin, const int32_t *end) {
  // FNV-1a over the parent's hash and the tokens: a lookup key, confirmed
  // against the stored tokens on every match.
  uint64_t h = 1469598103934665603ull;
  auto mix = [&](const void *data, size_t bytes) {
    const auto *p = static_cast<const unsigned char *>(data);
    for (size_t i = 0; i < bytes; ++i) {
      h ^= p[i];
      h *= 1099511628211ull;
    }
  };
  mix(&parent, sizeof(parent));
  mix(begin, static_cast<size_t>(end - begin) * sizeof(int32_t));
  return h;
}

const PrefixCache::Entry *PrefixCache::find(uint64_t hash, uint64_t parent, const int32_t *begin,
                                            const int32_t *end) const {
  auto it = entries_.find(hash);
  if (it == entries_.end() || it->second.parent != parent ||
      !std::equal(begin, end, it->second.tokens.begin(), it->second.tokens.end()))
    return nullptr;
  return &it->second;
}

std::vector<int32_t> PrefixCache::match(const std::vector<int32_t> &tokens, int maxBlocks) {
  const int bs = allocator_.blockSize();
  const int limit = std::min<int>(maxBlocks, static_cast<int>(tokens.size()) / bs);
  std::vector<int32_t> blocks;
  uint64_t parent = 0;
  const uint64_t now = ++clock_;
  for (int i = 0; i < limit; ++i) {
    const int32_t *begin = tokens.data() + static_cast<size_t>(i) * bs;
    const uint64_t hash = chainHash(parent, begin, begin + bs);
    if (!find(hash, parent, begin, begin + bs))
      break;
    Entry &entry = entries_[hash];
    entry.lastUse = now;
    blocks.push_back(entry.block);
    parent = hash;
  }
  return blocks;
}

Status PrefixCache::insert(const std::vector<int32_t> &tokens, const std::vector<int32_t> &table,
                           int fullBlocks) {
  const int bs = allocator_.blockSize();
  if (fullBlocks < 0 || static_cast<size_t>(fullBlocks) > table.size() ||
      static_cast<size_t>(fullBlocks) * bs > tokens.size())
    return invalidArgument("prefix cache: " + std::to_string(fullBlocks) +
                           " full blocks do not fit a table of " + std::to_string(table.size()) +
                           " blocks over " + std::to_string(tokens.size()) + " tokens");
  uint64_t parent = 0;
  const uint64_t now = ++clock_;
  for (int i = 0; i < fullBlocks; ++i) {
    const int32_t *begin = tokens.data() + static_cast<size_t>(i) * bs;
    const uint64_t hash = chainHash(parent, begin, begin + bs);
    auto it = entries_.find(hash);
    if (it == entries_.end()) {
      QTC_RT_RETURN_IF_ERROR(allocator_.retain(table[i]));
      Entry entry;
      entry.block = table[i];
      entry.parent = parent;
      entry.tokens.assign(begin, begin + bs);
      entry.lastUse = now;
      entry.depth = i;
      entries_.emplace(hash, std::move(entry));
    } else if (it->second.parent == parent &&
               std::equal(begin, begin + bs, it->second.tokens.begin())) {
      it->second.lastUse = now;
    } else {
      break; // a hash collision: keep the older entry, cache nothing deeper
    }
    parent = hash;
  }
  return Status::ok();
}

int PrefixCache::evictable() const {
  int n = 0;
  for (const auto &[hash, entry] : entries_)
    n += allocator_.refCount(entry.block) == 1;
  return n;
}

int PrefixCache::evict(int blocks) {
  std::vector<std::pair<uint64_t, const Entry *>> candidates;
  for (const auto &[hash, entry] : entries_)
    if (allocator_.refCount(entry.block) == 1)
      candidates.emplace_back(hash, &entry);
  // Least recently used first; among equals the deepest, so that chains
  // lose their ends before their starts.
  std::sort(candidates.begin(), candidates.end(), [](const auto &a, const auto &b) {
    if (a.second->lastUse != b.second->lastUse)
      return a.second->lastUse < b.second->lastUse;
    return a.second->depth > b.second->depth;
  });
  int freed = 0;
  for (const auto &[hash, entry] : candidates) {
    if (freed >= blocks)
      break;
    (void)allocator_.releaseBlock(entry->block);
    entries_.erase(hash);
    ++freed;
  }
  return freed;
}

void PrefixCache::clear() {
  for (const auto &[hash, entry] : entries_)
    (void)allocator_.releaseBlock(entry.block);
  entries_.clear();
}

} // namespace qtc::rt
