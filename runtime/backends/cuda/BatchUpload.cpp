//===- BatchUpload.cpp - A forward call's batch arrays on the device ------===//

#include "BatchUpload.h"

#include <cstring>
#include <string>

namespace qtc::rt::cuda {

Status checkBatch(const BatchView &b, const BatchLimits &limits) {
  auto str = [](long long v) { return std::to_string(v); };
  if (b.numTokens <= 0 || b.numTokens > limits.maxTokens)
    return invalidArgument("batch has " + str(b.numTokens) + " tokens; the backend takes 1 to " +
                           str(limits.maxTokens));
  if (b.numSeqs <= 0 || b.maxBlocksPerSeq <= 0)
    return invalidArgument("batch needs at least one sequence and one block per sequence");
  if (b.numLogitRows < 0 || b.numLogitRows > limits.maxTokens)
    return invalidArgument("batch asks for " + str(b.numLogitRows) + " logit rows; at most " +
                           str(limits.maxTokens));
  if (!b.tokenIds || !b.positions || !b.tokenSeq || !b.seqLens || !b.blockTables ||
      (b.numLogitRows > 0 && !b.logitRows))
    return invalidArgument("batch is missing one of its arrays");
  const long long capacity = static_cast<long long>(b.maxBlocksPerSeq) * limits.blockSize;
  for (int s = 0; s < b.numSeqs; ++s) {
    const int len = b.seqLens[s];
    if (len <= 0 || len > capacity || len > limits.maxPositions)
      return invalidArgument("sequence " + str(s) + " has length " + str(len) +
                             "; its block table holds " + str(capacity) +
                             " positions and the model " + str(limits.maxPositions));
    for (int i = 0, n = (len + limits.blockSize - 1) / limits.blockSize; i < n; ++i) {
      const int block = b.blockTables[static_cast<size_t>(s) * b.maxBlocksPerSeq + i];
      if (block < 0 || block >= limits.numKvBlocks)
        return invalidArgument("sequence " + str(s) + " maps its block " + str(i) +
                               " to physical block " + str(block) + " of " +
                               str(limits.numKvBlocks));
    }
  }
  for (int t = 0; t < b.numTokens; ++t) {
    if (b.tokenIds[t] < 0 || b.tokenIds[t] >= limits.vocabSize)
      return invalidArgument("token " + str(t) + " has id " + str(b.tokenIds[t]) +
                             " outside the vocabulary of " + str(limits.vocabSize));
    if (b.tokenSeq[t] < 0 || b.tokenSeq[t] >= b.numSeqs)
      return invalidArgument("token " + str(t) + " belongs to sequence " + str(b.tokenSeq[t]) +
                             " of " + str(b.numSeqs));
    if (b.positions[t] < 0 || b.positions[t] >= b.seqLens[b.tokenSeq[t]])
      return invalidArgument("token " + str(t) + " is at position " + str(b.positions[t]) +
                             ", outside its sequence's length " +
                             str(b.seqLens[b.tokenSeq[t]]));
  }
  for (int r = 0; r < b.numLogitRows; ++r)
    if (b.logitRows[r] < 0 || b.logitRows[r] >= b.numTokens)
      return invalidArgument("logit row " + str(r) + " names token " + str(b.logitRows[r]) +
                             " of " + str(b.numTokens));
  return Status::ok();
}

Status BatchUpload::allocate(const DriverApi &api, int maxTokens, int maxBlocksPerSeq) {
  maxTokens_ = maxTokens;
  tableCapacity_ = static_cast<size_t>(maxTokens) * maxBlocksPerSeq;
  // Per-token arrays first, each padded to 16 bytes; the block tables last.
  size_t perToken = (static_cast<size_t>(maxTokens) + 3) / 4 * 4;
  idsAt_ = 0;
  positionsAt_ = perToken;
  tokenSeqAt_ = 2 * perToken;
  logitRowsAt_ = 3 * perToken;
  tablesAt_ = 4 * perToken;
  totalInts_ = tablesAt_ + tableCapacity_;
  StatusOr<DeviceMemory> device = DeviceMemory::allocate(api, 4 * totalInts_, "batch arrays");
  if (!device.isOk())
    return device.status();
  StatusOr<PinnedMemory> host = PinnedMemory::allocate(api, 4 * totalInts_, "batch arrays");
  if (!host.isOk())
    return host.status();
  device_ = std::move(*device);
  host_ = std::move(*host);
  return Status::ok();
}

Status BatchUpload::reserve(const DriverApi &api, const BatchView &batch, bool &moved) {
  moved = false;
  size_t need = static_cast<size_t>(batch.numSeqs) * batch.maxBlocksPerSeq;
  if (need <= tableCapacity_)
    return Status::ok();
  moved = true;
  int perSeq = static_cast<int>((need + maxTokens_ - 1) / maxTokens_);
  return allocate(api, maxTokens_, perSeq);
}

Status BatchUpload::upload(const DriverApi &api, const BatchView &b, CUstream stream) {
  int32_t *host = static_cast<int32_t *>(host_.get());
  std::memcpy(host + idsAt_, b.tokenIds, 4 * static_cast<size_t>(b.numTokens));
  std::memcpy(host + positionsAt_, b.positions, 4 * static_cast<size_t>(b.numTokens));
  std::memcpy(host + tokenSeqAt_, b.tokenSeq, 4 * static_cast<size_t>(b.numTokens));
  if (b.numLogitRows > 0)
    std::memcpy(host + logitRowsAt_, b.logitRows, 4 * static_cast<size_t>(b.numLogitRows));
  size_t tableInts = static_cast<size_t>(b.numSeqs) * b.maxBlocksPerSeq;
  std::memcpy(host + tablesAt_, b.blockTables, 4 * tableInts);
  // One copy of the used prefix; the previous call's copy has finished
  // (forward synchronizes before returning), so the buffer is free.
  QTC_CU(api, cuMemcpyHtoDAsync(device_.get(), host, 4 * (tablesAt_ + tableInts), stream));
  return Status::ok();
}

} // namespace qtc::rt::cuda
