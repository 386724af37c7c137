//===- BatchBuilder.h - Lays out a backend call from sequence chunks ------===//
//
// A call packs chunks: runs of consecutive new tokens of one sequence each
// (a whole or partial prompt in prefill, one token in decode). The builder
// owns the arrays a BatchView points into.
//
//===----------------------------------------------------------------------===//
#ifndef QTC_RT_SCHEDULER_BATCHBUILDER_H
#define QTC_RT_SCHEDULER_BATCHBUILDER_H

#include "kv/BlockAllocator.h"
#include "qtc/rt/Backend.h"

#include <cstdint>
#include <vector>

namespace qtc::rt {

struct SequenceChunk {
  BlockAllocator::SeqId seq = 0;
  const int32_t *ids = nullptr; // `count` token ids
  int count = 0;
  int startPosition = 0; // position of ids[0] in its sequence
  enum class Logits { kNone, kLast, kAll } logits = Logits::kNone;
};

class BatchBuilder {
public:
  // Lays out `chunks` (their KV already reserved in `allocator`, so each
  // sequence's length covers the chunk) as one call.
  void build(const BlockAllocator &allocator, const std::vector<SequenceChunk> &chunks,
             bool decodeOnly);
  const BatchView &view() const { return view_; }

private:
  std::vector<int32_t> tokenIds_, positions_, tokenSeq_, seqLens_, blockTables_, logitRows_;
  BatchView view_;
};

} // namespace qtc::rt

#endif // QTC_RT_SCHEDULER_BATCHBUILDER_H
