//===- CudaDriver.h - The CUDA driver API, loaded at run time -------------===//
//
// qtc never links libcuda: it opens libcuda.so.1 with dlopen and resolves the
// entry points it uses, so the runtime builds, links and runs its host
// backend on machines without a GPU. cuda.h supplies the types and the
// versioned entry-point names (cuMemAlloc is cuMemAlloc_v2, ...): each member
// below is named by cuda.h's macro and resolved under the name it expands to.
//
//===----------------------------------------------------------------------===//
#ifndef QTC_RT_BACKENDS_CUDA_CUDADRIVER_H
#define QTC_RT_BACKENDS_CUDA_CUDADRIVER_H

#include "qtc/rt/KernelAbi.h"
#include "qtc/rt/Status.h"

#include <cuda.h>

#include <cstddef>
#include <string>

namespace qtc::rt::cuda {

#define QTC_CUDA_DRIVER_FUNCTIONS(X)                                           \
  X(cuInit)                                                                    \
  X(cuDriverGetVersion)                                                        \
  X(cuGetErrorName)                                                            \
  X(cuGetErrorString)                                                          \
  X(cuDeviceGet)                                                               \
  X(cuDeviceGetCount)                                                          \
  X(cuDeviceGetName)                                                           \
  X(cuDeviceGetAttribute)                                                      \
  X(cuDevicePrimaryCtxRetain)                                                  \
  X(cuDevicePrimaryCtxRelease)                                                 \
  X(cuCtxSetCurrent)                                                           \
  X(cuCtxSynchronize)                                                          \
  X(cuMemGetInfo)                                                              \
  X(cuMemAlloc)                                                                \
  X(cuMemFree)                                                                 \
  X(cuMemAllocHost)                                                            \
  X(cuMemFreeHost)                                                             \
  X(cuMemcpyHtoD)                                                              \
  X(cuMemcpyDtoH)                                                              \
  X(cuMemcpyDtoD)                                                              \
  X(cuMemcpyHtoDAsync)                                                         \
  X(cuMemcpyDtoHAsync)                                                         \
  X(cuMemcpyDtoDAsync)                                                         \
  X(cuMemsetD8Async)                                                           \
  X(cuStreamCreate)                                                            \
  X(cuStreamDestroy)                                                           \
  X(cuStreamSynchronize)                                                       \
  X(cuEventCreate)                                                             \
  X(cuEventDestroy)                                                            \
  X(cuEventRecord)                                                             \
  X(cuEventSynchronize)                                                        \
  X(cuEventElapsedTime)                                                        \
  X(cuModuleLoadData)                                                          \
  X(cuModuleUnload)                                                            \
  X(cuModuleGetFunction)                                                       \
  X(cuFuncGetAttribute)                                                        \
  X(cuFuncSetAttribute)                                                        \
  X(cuLaunchKernel)                                                            \
  X(cuStreamBeginCapture)                                                      \
  X(cuStreamEndCapture)                                                        \
  X(cuGraphInstantiate)                                                        \
  X(cuGraphLaunch)                                                             \
  X(cuGraphExecDestroy)                                                        \
  X(cuGraphDestroy)                                                            \
  X(cuLinkCreate)                                                              \
  X(cuLinkAddData)                                                             \
  X(cuLinkComplete)                                                            \
  X(cuLinkDestroy)

struct DriverApi {
#define QTC_CUDA_DECLARE(name) decltype(&::name) name = nullptr;
  QTC_CUDA_DRIVER_FUNCTIONS(QTC_CUDA_DECLARE)
#undef QTC_CUDA_DECLARE
  // Optional: null on drivers older than CUDA 12.3, which cannot capture
  // programmatic launches in a graph; such launches are then plain (still
  // correct: griddepcontrol.wait returns at once without a programmatic
  // predecessor).
  decltype(&::cuLaunchKernelEx) cuLaunchKernelEx = nullptr;
};

// Opens libcuda.so.1 and resolves every entry point, once per process, and
// calls cuInit. kUnavailable when the library, an entry point or a device is
// missing.
StatusOr<const DriverApi *> loadDriver();

// Ok for CUDA_SUCCESS, else kInternal (kResourceExhausted for out of memory)
// naming the call and the driver's error name and string.
Status checkCuda(const DriverApi &api, CUresult result, const char *call);

// Launches `f` on `stream` with `dims`; with programmatic stream
// serialization when dims.programmatic is set and the driver supports it (the
// kernel may start while its stream predecessor finishes, and waits for it
// with griddepcontrol.wait).
CUresult launchKernel(const DriverApi &api, CUfunction f, const abi::LaunchDims &dims,
                      CUstream stream, void **params);

} // namespace qtc::rt::cuda

// Calls api.fn(args...) and returns its Status from the enclosing function
// when it fails: QTC_CU(api, cuMemAlloc(&ptr, bytes)).
#define QTC_CU(api, call)                                                      \
  QTC_RT_RETURN_IF_ERROR(::qtc::rt::cuda::checkCuda((api), (api).call, #call))

#endif // QTC_RT_BACKENDS_CUDA_CUDADRIVER_H
