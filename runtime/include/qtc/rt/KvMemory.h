//===- KvMemory.h - Bytes a KV cache scheme takes --------------------------===//
//
// The memory of the paged KV cache per scheme (artifact.fbs KvCacheSpec): the
// bytes of one block in all layers (what a KV budget is divided by), per
// token, and the f16 tail a partly filled block of an integer cache keeps
// beside its page (KvPage.h).
//
//===----------------------------------------------------------------------===//
#ifndef QTC_RT_KVMEMORY_H
#define QTC_RT_KVMEMORY_H

#include "qtc/rt/KvPage.h"
#include "qtc/rt/artifact_generated.h"

#include <cstdint>

namespace qtc::rt {

inline bool kvIsInteger(fb::KvDType dtype) {
  return dtype == fb::KvDType::Int8 || dtype == fb::KvDType::Int4 || dtype == fb::KvDType::Int2;
}

inline int kvIntegerBits(fb::KvDType dtype) {
  switch (dtype) {
  case fb::KvDType::Int8: return 8;
  case fb::KvDType::Int4: return 4;
  case fb::KvDType::Int2: return 2;
  default: return 0;
  }
}

// The page of one kv head's keys (`keys`) or values in one block.
inline KvPageLayout kvPageLayout(const fb::KvCacheSpec &kv, bool keys) {
  return KvPageLayout::make(
      kv.block_size(), kv.head_dim(), kvIntegerBits(kv.dtype()),
      keys && kv.key_granularity() == fb::KvGranularity::PerChannel,
      keys ? kv.key_symmetric() : kv.value_symmetric(), kv.sink_tokens());
}

// Bytes of one block's keys and values for one layer and kv head.
inline uint64_t kvHeadBlockBytes(const fb::KvCacheSpec &kv) {
  if (kvIsInteger(kv.dtype()))
    return kvPageLayout(kv, true).pageBytes + kvPageLayout(kv, false).pageBytes;
  const uint64_t element = kv.dtype() == fb::KvDType::F8E4M3 ? 1
                           : kv.dtype() == fb::KvDType::F32  ? 4
                                                             : 2;
  return 2 * element * uint64_t(kv.block_size()) * kv.head_dim();
}

// Bytes of one block (block_size tokens) in every layer, keys and values.
inline uint64_t kvBlockBytes(const fb::KvCacheSpec &kv) {
  return uint64_t(kv.num_layers()) * kv.num_kv_heads() * kvHeadBlockBytes(kv);
}

// f16 keys and values of one partly filled block in every layer: what an
// integer cache with per-channel keys or a window keeps per sequence beside
// its pages (0 for the others: per-token pages without a window are read
// as written).
inline uint64_t kvTailBytes(const fb::KvCacheSpec &kv) {
  if (!kvIsInteger(kv.dtype()) ||
      (kv.key_granularity() != fb::KvGranularity::PerChannel && kv.residual_window() == 0))
    return 0;
  return uint64_t(kv.num_layers()) * kv.num_kv_heads() * 2 * 2 * kv.block_size() * kv.head_dim();
}

} // namespace qtc::rt

#endif // QTC_RT_KVMEMORY_H
