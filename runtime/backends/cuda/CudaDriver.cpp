//===- CudaDriver.cpp - The CUDA driver API, loaded at run time -----------===//

#include "CudaDriver.h"

#include <dlfcn.h>

#include <mutex>

namespace qtc::rt::cuda {
namespace {

// Two levels so that cuda.h's macros expand first: "cuMemAlloc_v2".
#define QTC_CUDA_SYMBOL_(x) #x
#define QTC_CUDA_SYMBOL(x) QTC_CUDA_SYMBOL_(x)

struct LoadedDriver {
  DriverApi api;
  Status status;
};

LoadedDriver load() {
  LoadedDriver loaded;
  void *handle = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char *why = dlerror();
    loaded.status = unavailable(std::string("CUDA driver not found: dlopen(libcuda.so.1): ") +
                                (why ? why : "unknown error"));
    return loaded;
  }
  DriverApi &api = loaded.api;
#define QTC_CUDA_RESOLVE(name)                                                 \
  api.name = reinterpret_cast<decltype(api.name)>(                             \
      dlsym(handle, QTC_CUDA_SYMBOL(name)));                                   \
  if (!api.name) {                                                             \
    loaded.status = unavailable(std::string("CUDA driver too old: libcuda.so.1 has no ") + \
                                QTC_CUDA_SYMBOL(name));                        \
    return loaded;                                                             \
  }
  QTC_CUDA_DRIVER_FUNCTIONS(QTC_CUDA_RESOLVE)
#undef QTC_CUDA_RESOLVE
  // The handle stays open for the life of the process: the entry points
  // above are used until exit.
  CUresult init = api.cuInit(0);
  if (init != CUDA_SUCCESS) {
    Status s = checkCuda(api, init, "cuInit(0)");
    loaded.status = unavailable(s.message());
    return loaded;
  }
  int version = 0;
  if (api.cuDriverGetVersion(&version) == CUDA_SUCCESS && version >= 12030)
    api.cuLaunchKernelEx = reinterpret_cast<decltype(api.cuLaunchKernelEx)>(
        dlsym(handle, QTC_CUDA_SYMBOL(cuLaunchKernelEx)));
  int count = 0;
  if (api.cuDeviceGetCount(&count) != CUDA_SUCCESS || count == 0)
    loaded.status = unavailable("no CUDA device found");
  return loaded;
}

} // namespace

StatusOr<const DriverApi *> loadDriver() {
  static LoadedDriver loaded = load();
  if (!loaded.status.isOk())
    return loaded.status;
  return &loaded.api;
}

CUresult launchKernel(const DriverApi &api, CUfunction f, const abi::LaunchDims &dims,
                      CUstream stream, void **params) {
  if (!dims.programmatic || !api.cuLaunchKernelEx)
    return api.cuLaunchKernel(f, dims.grid[0], dims.grid[1], dims.grid[2], dims.block[0],
                              dims.block[1], dims.block[2], dims.sharedBytes, stream,
                              params, nullptr);
  CUlaunchAttribute attribute = {};
  attribute.id = CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION;
  attribute.value.programmaticStreamSerializationAllowed = 1;
  CUlaunchConfig config = {};
  config.gridDimX = dims.grid[0];
  config.gridDimY = dims.grid[1];
  config.gridDimZ = dims.grid[2];
  config.blockDimX = dims.block[0];
  config.blockDimY = dims.block[1];
  config.blockDimZ = dims.block[2];
  config.sharedMemBytes = dims.sharedBytes;
  config.hStream = stream;
  config.attrs = &attribute;
  config.numAttrs = 1;
  return api.cuLaunchKernelEx(&config, f, params, nullptr);
}

Status checkCuda(const DriverApi &api, CUresult result, const char *call) {
  if (result == CUDA_SUCCESS)
    return Status::ok();
  const char *name = nullptr, *text = nullptr;
  if (api.cuGetErrorName)
    api.cuGetErrorName(result, &name);
  if (api.cuGetErrorString)
    api.cuGetErrorString(result, &text);
  std::string message = std::string(call) + " failed: " +
                        (name ? name : "CUDA error " + std::to_string(result)) +
                        (text ? std::string(" (") + text + ")" : std::string());
  if (result == CUDA_ERROR_OUT_OF_MEMORY)
    return resourceExhausted(message);
  return internalError(message);
}

} // namespace qtc::rt::cuda
