//===- CudaKvSupport.h - The KV caches the CUDA kernels read --------------===//
//
// The generated attention and RoPE/append kernels read and write the caches
// qtc/rt/KvGpuSupport.h names: f16, fp8 e4m3 with scale 1, int8 per-token
// pages without sinks or window. The CUDA backend refuses any other cache
// (int4/int2 KIVI pages, per-channel keys, windows, sinks, calibrated fp8
// scales: host implementations only) when it loads the artifact, before
// touching the device. Header-only so that the check is tested where no
// CUDA is built.
//
//===----------------------------------------------------------------------===//
#ifndef QTC_RT_BACKENDS_CUDA_CUDAKVSUPPORT_H
#define QTC_RT_BACKENDS_CUDA_CUDAKVSUPPORT_H

#include "qtc/rt/Artifact.h"
#include "qtc/rt/KvGpuSupport.h"
#include "qtc/rt/Status.h"

#include <string>

namespace qtc::rt {

inline Status checkCudaKvCacheSupported(const fb::KvCacheSpec &kv) {
  const std::string gap = kvCacheGpuGap(kv);
  if (gap.empty())
    return Status::ok();
  return failedPrecondition("cuda backend: a KV cache of " + gap +
                            " has no CUDA kernels yet (they read f16, fp8 e4m3 with scale 1 "
                            "and int8 per-token pages); run it with the host backend");
}

} // namespace qtc::rt

#endif // QTC_RT_BACKENDS_CUDA_CUDAKVSUPPORT_H
