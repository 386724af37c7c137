//===- DeviceHarness.h - Run single generated kernels on the GPU ----------===//
//
// What the GPU checks and benchmarks share: the driver (through the CUDA
// backend's loader), device buffers freed at exit, PTX loading through the
// backend's module cache, launches by KernelAbi geometry, event timing, and
// the manifest that qtc-kernelgen --out-dir writes next to the PTX files.
//
//===----------------------------------------------------------------------===//
#ifndef QTC_TEST_GPU_DEVICEHARNESS_H
#define QTC_TEST_GPU_DEVICEHARNESS_H

#include "CudaDriver.h"
#include "ModuleCache.h"

#include "qtc/rt/KernelAbi.h"

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace qtc::gpu {

// One manifest line: key=value pairs.
struct ManifestEntry {
  std::map<std::string, std::string> fields;
  std::string get(const std::string &key) const;
  long long getInt(const std::string &key) const;
  double getDouble(const std::string &key) const;
  rt::abi::KernelTile tile() const;
};
rt::StatusOr<std::vector<ManifestEntry>> readManifest(const std::string &dir);

// A kernel argument: a device pointer or an i32.
struct KernelArg {
  static KernelArg pointer(CUdeviceptr p) { KernelArg a; a.ptr = p; a.isPointer = true; return a; }
  static KernelArg i32(int v) { KernelArg a; a.value = v; return a; }
  CUdeviceptr ptr = 0;
  int value = 0;
  bool isPointer = false;
};

class DeviceHarness {
public:
  static rt::StatusOr<std::unique_ptr<DeviceHarness>> create();
  ~DeviceHarness();

  const rt::cuda::DriverApi &api() const { return api_; }
  const std::string &deviceKey() const { return deviceKey_; }
  int l2Bytes() const { return l2Bytes_; }

  // Device memory filled with `fill` bytes (poison), freed with the harness.
  rt::StatusOr<CUdeviceptr> alloc(size_t bytes, unsigned char fill = 0xFF);
  rt::Status upload(CUdeviceptr dst, const void *src, size_t bytes);
  rt::Status download(void *dst, CUdeviceptr src, size_t bytes);
  template <typename T>
  rt::StatusOr<CUdeviceptr> uploadVector(const std::vector<T> &v) {
    rt::StatusOr<CUdeviceptr> p = alloc(v.size() * sizeof(T));
    if (!p.isOk())
      return p;
    rt::Status s = upload(*p, v.data(), v.size() * sizeof(T));
    if (!s.isOk())
      return s;
    return p;
  }

  rt::StatusOr<CUfunction> loadKernel(const std::string &ptxPath, const std::string &entry);
  rt::Status launch(CUfunction f, const rt::abi::LaunchDims &dims,
                    const std::vector<KernelArg> &args);
  rt::Status synchronize();

  // Milliseconds between two events recorded around `work` on the stream.
  rt::StatusOr<float> time(const std::function<rt::Status()> &work);
  // Median milliseconds of one replay of a CUDA graph captured from `work`
  // (launch gaps as in a decode step replayed as a graph).
  rt::StatusOr<float> timeGraph(const std::function<rt::Status()> &work, int reps);
  // Device-to-device copy bandwidth over `bytes`, counting bytes read plus
  // written, in GB/s (median of `reps`).
  rt::StatusOr<double> copyBandwidth(size_t bytes, int reps);

private:
  DeviceHarness(const rt::cuda::DriverApi &api) : api_(api) {}
  const rt::cuda::DriverApi &api_;
  CUdevice device_ = 0;
  CUcontext context_ = nullptr;
  CUstream stream_ = nullptr;
  std::string deviceKey_;
  int l2Bytes_ = 0;
  std::unique_ptr<rt::cuda::ModuleCache> modules_;
  std::vector<CUdeviceptr> allocations_;
  // Functions already allowed their dynamic shared memory beyond 48 KB.
  std::map<CUfunction, int> sharedLimits_;
};

} // namespace qtc::gpu

#endif // QTC_TEST_GPU_DEVICEHARNESS_H
