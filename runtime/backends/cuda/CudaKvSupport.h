//===- CudaKvSupport.h - The KV caches the CUDA kernels read --------------===//
//
// The generated attention and RoPE/append kernels read and write f16 caches
// and fp8 e4m3 caches with scale 1. Integer caches (qtc/rt/KvPage.h) and
// calibrated fp8 scales have host implementations only: the CUDA backend
// refuses such an artifact when it loads it, before touching the device.
// Header-only so that the check is tested where no CUDA is built.
//
//===----------------------------------------------------------------------===//
#ifndef QTC_RT_BACKENDS_CUDA_CUDAKVSUPPORT_H
#define QTC_RT_BACKENDS_CUDA_CUDAKVSUPPORT_H

#include "qtc/rt/Artifact.h"
#include "qtc/rt/Status.h"

#include <string>

namespace qtc::rt {

inline Status checkCudaKvCacheSupported(const fb::KvCacheSpec &kv) {
  const bool scaled = (kv.key_scales() && kv.key_scales()->size() > 0) ||
                      (kv.value_scales() && kv.value_scales()->size() > 0);
  if ((kv.dtype() == fb::KvDType::F16 || kv.dtype() == fb::KvDType::F8E4M3) && !scaled)
    return Status::ok();
  return failedPrecondition(
      std::string("cuda backend: a KV cache of ") + fb::EnumNameKvDType(kv.dtype()) +
      (scaled ? " with calibrated scales" : "") +
      " has no CUDA kernels yet (they read f16, or fp8 e4m3 with scale 1); run it with "
      "the host backend");
}

} // namespace qtc::rt

#endif // QTC_RT_BACKENDS_CUDA_CUDAKVSUPPORT_H
