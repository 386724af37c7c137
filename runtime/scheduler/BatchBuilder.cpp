//===- BatchBuilder.cpp - Lays out a backend call from sequence chunks ----===//

#include "scheduler/BatchBuilder.h"

#include <algorithm>

namespace qtc::rt {

void BatchBuilder::build(const BlockAllocator &allocator,
                         const std::vector<SequenceChunk> &chunks, bool decodeOnly) {
  tokenIds_.clear();
  positions_.clear();
  tokenSeq_.clear();
  seqLens_.clear();
  logitRows_.clear();
  size_t maxBlocks = 1;
  for (const SequenceChunk &chunk : chunks)
    maxBlocks = std::max(maxBlocks, allocator.blockTable(chunk.seq).size());
  blockTables_.assign(chunks.size() * maxBlocks, -1);

  for (size_t s = 0; s < chunks.size(); ++s) {
    const SequenceChunk &chunk = chunks[s];
    const std::vector<int32_t> &table = allocator.blockTable(chunk.seq);
    std::copy(table.begin(), table.end(), blockTables_.begin() + s * maxBlocks);
    seqLens_.push_back(chunk.startPosition + chunk.count);
    for (int i = 0; i < chunk.count; ++i) {
      const int row = static_cast<int>(tokenIds_.size());
      tokenIds_.push_back(chunk.ids[i]);
      positions_.push_back(chunk.startPosition + i);
      tokenSeq_.push_back(static_cast<int32_t>(s));
      if (chunk.logits == SequenceChunk::Logits::kAll ||
          (chunk.logits == SequenceChunk::Logits::kLast && i == chunk.count - 1))
        logitRows_.push_back(row);
    }
  }
  view_ = BatchView();
  view_.numTokens = static_cast<int>(tokenIds_.size());
  view_.numSeqs = static_cast<int>(chunks.size());
  view_.tokenIds = tokenIds_.data();
  view_.positions = positions_.data();
  view_.tokenSeq = tokenSeq_.data();
  view_.seqLens = seqLens_.data();
  view_.blockTables = blockTables_.data();
  view_.maxBlocksPerSeq = static_cast<int>(maxBlocks);
  view_.logitRows = logitRows_.data();
  view_.numLogitRows = static_cast<int>(logitRows_.size());
  view_.decodeOnly = decodeOnly;
}

} // namespace qtc::rt
