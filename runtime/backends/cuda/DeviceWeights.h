//===- DeviceWeights.h - An artifact's weights in device memory -----------===//
//
// Every tensor a plan step uses, uploaded once into one allocation, each at
// a 256-byte aligned offset. The kernels take f16 for every float tensor
// (KernelAbi.h) but the f32 row scales of Fp8Channel linears, so other f32
// and bf16 tensors are converted to f16 on the way; integer data (int4 and
// int8 codes, e4m3 bytes) and those fp8 scales are copied as is. Tensors
// come through Artifact::tensorBytes, so dummy weights are generated and
// uploaded one tensor at a time.
//
//===----------------------------------------------------------------------===//
#ifndef QTC_RT_BACKENDS_CUDA_DEVICEWEIGHTS_H
#define QTC_RT_BACKENDS_CUDA_DEVICEWEIGHTS_H

#include "DeviceMemory.h"

#include "qtc/rt/Artifact.h"

#include <vector>

namespace qtc::rt::cuda {

class DeviceWeights {
public:
  Status upload(const DriverApi &api, const Artifact &artifact);
  // Device address of tensor `index`, 0 for -1 or an unused tensor.
  CUdeviceptr address(int index) const {
    return index >= 0 && index < static_cast<int>(offsets_.size()) &&
                   offsets_[index] != kUnused
               ? memory_.get() + offsets_[index]
               : 0;
  }
  size_t bytes() const { return memory_.size(); }

private:
  static constexpr size_t kUnused = ~size_t(0);
  DeviceMemory memory_;
  std::vector<size_t> offsets_;
};

} // namespace qtc::rt::cuda

#endif // QTC_RT_BACKENDS_CUDA_DEVICEWEIGHTS_H
