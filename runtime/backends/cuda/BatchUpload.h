//===- BatchUpload.h - A forward call's batch arrays on the device --------===//
//
// The kernels read token ids, positions, token -> sequence, block tables and
// logit rows from device memory. Each forward packs them into one pinned
// host buffer and sends them with a single async copy into a device buffer
// of fixed capacity, whose addresses therefore stay the same from call to
// call (captured CUDA graphs rely on that). The backend has checked the
// batch with validateBatch (qtc/rt/BatchValidation.h) before it gets here.
//
//===----------------------------------------------------------------------===//
#ifndef QTC_RT_BACKENDS_CUDA_BATCHUPLOAD_H
#define QTC_RT_BACKENDS_CUDA_BATCHUPLOAD_H

#include "DeviceMemory.h"

#include "qtc/rt/Backend.h"

namespace qtc::rt::cuda {

class BatchUpload {
public:
  Status allocate(const DriverApi &api, int maxTokens, int maxBlocksPerSeq);
  // Grows the block-table capacity when a batch needs more; returns true in
  // `moved` when device addresses changed.
  Status reserve(const DriverApi &api, const BatchView &batch, bool &moved);
  // Packs `batch` and queues its copy on `stream`.
  Status upload(const DriverApi &api, const BatchView &batch, CUstream stream);

  CUdeviceptr ids() const { return device_.get() + 4 * idsAt_; }
  CUdeviceptr positions() const { return device_.get() + 4 * positionsAt_; }
  CUdeviceptr tokenSeq() const { return device_.get() + 4 * tokenSeqAt_; }
  CUdeviceptr logitRows() const { return device_.get() + 4 * logitRowsAt_; }
  CUdeviceptr blockTables() const { return device_.get() + 4 * tablesAt_; }

private:
  int maxTokens_ = 0;
  size_t tableCapacity_ = 0; // int32 entries
  size_t idsAt_ = 0, positionsAt_ = 0, tokenSeqAt_ = 0, logitRowsAt_ = 0, tablesAt_ = 0;
  size_t totalInts_ = 0;
  DeviceMemory device_;
  PinnedMemory host_;
};

} // namespace qtc::rt::cuda

#endif // QTC_RT_BACKENDS_CUDA_BATCHUPLOAD_H
