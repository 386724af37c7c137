//===- DeviceMemory.h - Owned device and pinned host allocations ----------===//
#ifndef QTC_RT_BACKENDS_CUDA_DEVICEMEMORY_H
#define QTC_RT_BACKENDS_CUDA_DEVICEMEMORY_H

#include "CudaDriver.h"

#include <utility>

namespace qtc::rt::cuda {

// A cuMemAlloc'ed range, freed on destruction.
class DeviceMemory {
public:
  DeviceMemory() = default;
  DeviceMemory(const DeviceMemory &) = delete;
  DeviceMemory &operator=(const DeviceMemory &) = delete;
  DeviceMemory(DeviceMemory &&o) noexcept { *this = std::move(o); }
  DeviceMemory &operator=(DeviceMemory &&o) noexcept {
    std::swap(api_, o.api_);
    std::swap(ptr_, o.ptr_);
    std::swap(bytes_, o.bytes_);
    return *this;
  }
  ~DeviceMemory() {
    if (ptr_)
      api_->cuMemFree(ptr_);
  }

  static StatusOr<DeviceMemory> allocate(const DriverApi &api, size_t bytes,
                                         const char *what) {
    DeviceMemory m;
    m.api_ = &api;
    m.bytes_ = bytes;
    Status s = checkCuda(api, api.cuMemAlloc(&m.ptr_, bytes > 0 ? bytes : 1),
                         "cuMemAlloc");
    if (!s.isOk())
      return s.withContext(std::string("allocating ") + std::to_string(bytes) +
                           " bytes for " + what);
    return m;
  }

  CUdeviceptr get() const { return ptr_; }
  size_t size() const { return bytes_; }

private:
  const DriverApi *api_ = nullptr;
  CUdeviceptr ptr_ = 0;
  size_t bytes_ = 0;
};

// Page-locked host memory (cuMemAllocHost): async copies need it.
class PinnedMemory {
public:
  PinnedMemory() = default;
  PinnedMemory(const PinnedMemory &) = delete;
  PinnedMemory &operator=(const PinnedMemory &) = delete;
  PinnedMemory(PinnedMemory &&o) noexcept { *this = std::move(o); }
  PinnedMemory &operator=(PinnedMemory &&o) noexcept {
    std::swap(api_, o.api_);
    std::swap(ptr_, o.ptr_);
    std::swap(bytes_, o.bytes_);
    return *this;
  }
  ~PinnedMemory() {
    if (ptr_)
      api_->cuMemFreeHost(ptr_);
  }

  static StatusOr<PinnedMemory> allocate(const DriverApi &api, size_t bytes,
                                         const char *what) {
    PinnedMemory m;
    m.api_ = &api;
    m.bytes_ = bytes;
    Status s = checkCuda(api, api.cuMemAllocHost(&m.ptr_, bytes > 0 ? bytes : 1),
                         "cuMemAllocHost");
    if (!s.isOk())
      return s.withContext(std::string("allocating ") + std::to_string(bytes) +
                           " pinned bytes for " + what);
    return m;
  }

  void *get() const { return ptr_; }
  size_t size() const { return bytes_; }

private:
  const DriverApi *api_ = nullptr;
  void *ptr_ = nullptr;
  size_t bytes_ = 0;
};

} // namespace qtc::rt::cuda

#endif // QTC_RT_BACKENDS_CUDA_DEVICEMEMORY_H
