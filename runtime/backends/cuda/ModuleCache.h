//===- ModuleCache.h - PTX to loaded modules, with a SASS cache on disk ---===//
//
// The artifact carries PTX; the driver JIT-compiles it for the device. The
// compiled image (cubin) is kept in a cache folder ($QTC_CACHE_DIR, else
// $XDG_CACHE_HOME/qtc, else ~/.cache/qtc), one file per hash of the PTX and
// of the device (name, compute capability, driver version), so a second run
// loads the SASS directly. A missing or unwritable cache only costs time.
//
//===----------------------------------------------------------------------===//
#ifndef QTC_RT_BACKENDS_CUDA_MODULECACHE_H
#define QTC_RT_BACKENDS_CUDA_MODULECACHE_H

#include "CudaDriver.h"

#include <string>
#include <vector>

namespace qtc::rt::cuda {

class ModuleCache {
public:
  // `deviceKey` names the device and driver the SASS is valid for.
  ModuleCache(const DriverApi &api, std::string deviceKey, std::string cacheDir);
  ~ModuleCache();
  ModuleCache(const ModuleCache &) = delete;
  ModuleCache &operator=(const ModuleCache &) = delete;

  static std::string defaultCacheDir();
  // "<device name> sm_XY driver N" for the current context's device.
  static StatusOr<std::string> deviceKey(const DriverApi &api, CUdevice device);

  // Loads `ptx` (NUL-terminated text) into the current context. `what`
  // names the kernel in errors. Modules live until the cache is destroyed.
  StatusOr<CUmodule> load(const std::string &ptx, const std::string &what);

  int hits() const { return hits_; }
  int misses() const { return misses_; }

private:
  StatusOr<std::vector<char>> compile(const std::string &ptx, const std::string &what);
  std::string pathFor(const std::string &ptx) const;

  const DriverApi &api_;
  std::string deviceKey_;
  std::string cacheDir_;
  std::vector<CUmodule> modules_;
  int hits_ = 0, misses_ = 0;
};

} // namespace qtc::rt::cuda

#endif // QTC_RT_BACKENDS_CUDA_MODULECACHE_H
