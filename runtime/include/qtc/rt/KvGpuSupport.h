//===- KvGpuSupport.h - The KV cache schemes the GPU kernels implement ----===//
//
// One rule for the compiler (which generates GPU kernels only for these
// caches) and the CUDA backend (which refuses the others at load): the
// generated RoPE/append and attention kernels read and write f16 caches,
// fp8 e4m3 caches with scale 1 and int8 per-token pages (qtc/rt/KvPage.h)
// without sink tokens or an f16 window, symmetric or with zeros. Calibrated
// fp8 scales, per-channel keys, windows, sinks and int4/int2 pages have host
// implementations only.
//
//===----------------------------------------------------------------------===//
#ifndef QTC_RT_KVGPUSUPPORT_H
#define QTC_RT_KVGPUSUPPORT_H

#include "qtc/rt/artifact_generated.h"

#include <string>

namespace qtc::rt {

// "" when the kernels implement the cache, else what they lack.
inline std::string kvCacheGpuGap(fb::KvDType dtype, fb::KvGranularity keyGranularity,
                                 int residualWindow, int sinkTokens, bool calibratedScales) {
  switch (dtype) {
  case fb::KvDType::F16:
    return "";
  case fb::KvDType::F8E4M3:
    return calibratedScales ? "fp8 e4m3 with calibrated scales" : "";
  case fb::KvDType::Int8:
    if (keyGranularity == fb::KvGranularity::PerChannel)
      return "int8 with per-channel keys";
    if (residualWindow > 0)
      return "int8 with an f16 window";
    if (sinkTokens > 0)
      return "int8 with f16 sink tokens";
    return "";
  default:
    return std::string(fb::EnumNameKvDType(dtype)) + " pages";
  }
}

inline std::string kvCacheGpuGap(const fb::KvCacheSpec &kv) {
  const bool scaled = (kv.key_scales() && kv.key_scales()->size() > 0) ||
                      (kv.value_scales() && kv.value_scales()->size() > 0);
  return kvCacheGpuGap(kv.dtype(), kv.key_granularity(), kv.residual_window(),
                       kv.sink_tokens(), scaled);
}

} // namespace qtc::rt

#endif // QTC_RT_KVGPUSUPPORT_H
