//===- BatchUpload.cpp - A forward call's batch arrays on the device ------===//

#include "BatchUpload.h"

#include <cstring>

namespace qtc::rt::cuda {

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
