//===- KvPage.h - The page of an integer-quantized KV cache block ---------===//
//
// One definition, two sides: the byte layout of one kv head's keys or values
// in one block of an Int8/Int4/Int2 KV cache (artifact.fbs KvCacheSpec), and
// the rounding that fills it. The host backend encodes and decodes through
// these functions; the GPU kernels must produce the same bytes and read the
// same values (docs/contracts.md, "The quantized KV cache page").
//
// A page holds `blockSize` slots of `headDim` values:
//   codes   blockSize * headDim codes of `bits` bits; the code of (slot, c)
//           is bits [(slot * headDim + c) * bits, +bits) of the region,
//           lowest bits of a byte first
//   scales  f16: one per channel (PerChannel keys: over the block's quantized
//           slots) or one per slot (PerToken)
//   zeros   f16, same count, asymmetric pages only
//   sinks   f16 [sinkTokens, headDim]: the sequence's first positions, kept
//           unquantized (only the sequence's first block uses it)
// each region starting at a multiple of 16 bytes.
//
// Asymmetric: scale = f16((max - min) / (2^bits - 1)), zero = f16(min),
// code = clamp(rint((x - zero) / scale), 0, 2^bits - 1), x' = fma(code, scale,
// zero). Symmetric: scale = f16(max|x| / (2^(bits-1) - 1)), q = clamp(rint(x /
// scale), -(2^(bits-1) - 1), 2^(bits-1) - 1), stored as code = q + 2^(bits-1),
// x' = (code - 2^(bits-1)) * scale. A zero scale stores code 0 (asymmetric:
// x' = zero) or q = 0. f32 arithmetic, IEEE division, round to nearest even.
//
//===----------------------------------------------------------------------===//
#ifndef QTC_RT_KVPAGE_H
#define QTC_RT_KVPAGE_H

#include "qtc/rt/Float16.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace qtc::rt {

struct KvPageLayout {
  int blockSize = 0, headDim = 0, bits = 8, sinkTokens = 0;
  bool perChannel = false, symmetric = false;
  size_t scalesOffset = 0, zerosOffset = 0, sinkOffset = 0, pageBytes = 0;

  int numParams() const { return perChannel ? headDim : blockSize; }
  size_t codesBytes() const {
    return (static_cast<size_t>(blockSize) * headDim * bits + 7) / 8;
  }

  static KvPageLayout make(int blockSize, int headDim, int bits, bool perChannel,
                           bool symmetric, int sinkTokens) {
    auto align16 = [](size_t n) { return (n + 15) / 16 * 16; };
    KvPageLayout l;
    l.blockSize = blockSize;
    l.headDim = headDim;
    l.bits = bits;
    l.perChannel = perChannel;
    l.symmetric = symmetric;
    l.sinkTokens = sinkTokens;
    l.scalesOffset = align16(l.codesBytes());
    const size_t params = static_cast<size_t>(l.numParams()) * sizeof(uint16_t);
    l.zerosOffset = align16(l.scalesOffset + params);
    l.sinkOffset = symmetric ? l.zerosOffset : align16(l.zerosOffset + params);
    l.pageBytes = align16(l.sinkOffset + static_cast<size_t>(sinkTokens) * headDim * 2);
    return l;
  }
};

namespace kvpage {

inline unsigned code(const uint8_t *page, const KvPageLayout &l, int slot, int c) {
  const size_t bit = (static_cast<size_t>(slot) * l.headDim + c) * l.bits;
  return (page[bit / 8] >> (bit % 8)) & ((1u << l.bits) - 1);
}

inline void setCode(uint8_t *page, const KvPageLayout &l, int slot, int c, unsigned value) {
  const size_t bit = (static_cast<size_t>(slot) * l.headDim + c) * l.bits;
  const unsigned mask = ((1u << l.bits) - 1) << (bit % 8);
  page[bit / 8] = static_cast<uint8_t>((page[bit / 8] & ~mask) | (value << (bit % 8)));
}

inline uint16_t param(const uint8_t *page, size_t offset, int i) {
  uint16_t h;
  std::memcpy(&h, page + offset + 2 * static_cast<size_t>(i), 2);
  return h;
}
inline void setParam(uint8_t *page, size_t offset, int i, uint16_t h) {
  std::memcpy(page + offset + 2 * static_cast<size_t>(i), &h, 2);
}

// Quantizes x[0], x[stride], ..., x[(n-1) * stride] as one group: parameter
// `p` of the page, codes at (slot, c) = at(i).
template <typename At>
inline void encodeGroup(uint8_t *page, const KvPageLayout &l, int p, const float *x, int n,
                        size_t stride, At at) {
  float lo = INFINITY, hi = -INFINITY, amax = 0.0f;
  for (int i = 0; i < n; ++i) {
    const float v = x[i * stride];
    lo = std::min(lo, v);
    hi = std::max(hi, v);
    amax = std::max(amax, std::fabs(v));
  }
  if (n == 0)
    lo = hi = 0.0f;
  if (l.symmetric) {
    const int qmax = (1 << (l.bits - 1)) - 1, mid = 1 << (l.bits - 1);
    const uint16_t sh = floatToHalf(amax / static_cast<float>(qmax));
    const float s = halfToFloat(sh);
    setParam(page, l.scalesOffset, p, sh);
    for (int i = 0; i < n; ++i) {
      float q = s > 0.0f ? std::nearbyint(x[i * stride] / s) : 0.0f;
      q = std::min(std::max(q, static_cast<float>(-qmax)), static_cast<float>(qmax));
      auto [slot, c] = at(i);
      setCode(page, l, slot, c, static_cast<unsigned>(static_cast<int>(q) + mid));
    }
    return;
  }
  const int qmax = (1 << l.bits) - 1;
  const uint16_t sh = floatToHalf((hi - lo) / static_cast<float>(qmax));
  const uint16_t zh = floatToHalf(lo);
  const float s = halfToFloat(sh), z = halfToFloat(zh);
  setParam(page, l.scalesOffset, p, sh);
  setParam(page, l.zerosOffset, p, zh);
  for (int i = 0; i < n; ++i) {
    float q = s > 0.0f ? std::nearbyint((x[i * stride] - z) / s) : 0.0f;
    q = std::min(std::max(q, 0.0f), static_cast<float>(qmax));
    auto [slot, c] = at(i);
    setCode(page, l, slot, c, static_cast<unsigned>(q));
  }
}

} // namespace kvpage

// Stores position `slot`'s values x[headDim] unquantized in the sink region.
inline void kvPageStoreSink(uint8_t *page, const KvPageLayout &l, int slot, const float *x) {
  for (int c = 0; c < l.headDim; ++c)
    kvpage::setParam(page, l.sinkOffset, slot * l.headDim + c, floatToHalf(x[c]));
}

// PerToken: quantizes slot `slot` from x[headDim].
inline void kvPageEncodeToken(uint8_t *page, const KvPageLayout &l, int slot, const float *x) {
  kvpage::encodeGroup(page, l, slot, x, l.headDim, 1,
                      [&](int c) { return std::pair<int, int>(slot, c); });
}

// PerChannel: quantizes slots [first, slots) of x[blockSize, headDim] (row per
// slot), one group per channel; slots before `first` are sinks.
inline void kvPageEncodeChannels(uint8_t *page, const KvPageLayout &l, const float *x, int first,
                                 int slots) {
  for (int c = 0; c < l.headDim; ++c)
    kvpage::encodeGroup(page, l, c, x + static_cast<size_t>(first) * l.headDim + c, slots - first,
                        l.headDim, [&](int i) { return std::pair<int, int>(first + i, c); });
}

// The value stored at (slot, c); slots below `sinks` read the sink region.
inline float kvPageDecode(const uint8_t *page, const KvPageLayout &l, int slot, int c,
                          int sinks) {
  if (slot < sinks)
    return halfToFloat(kvpage::param(page, l.sinkOffset, slot * l.headDim + c));
  const int p = l.perChannel ? c : slot;
  const float s = halfToFloat(kvpage::param(page, l.scalesOffset, p));
  const unsigned q = kvpage::code(page, l, slot, c);
  if (l.symmetric)
    return static_cast<float>(static_cast<int>(q) - (1 << (l.bits - 1))) * s;
  const float z = halfToFloat(kvpage::param(page, l.zerosOffset, p));
  return std::fma(static_cast<float>(q), s, z);
}

// Decodes slots [begin, end) into out[(slot - begin) * headDim + c].
inline void kvPageDecodeSlots(const uint8_t *page, const KvPageLayout &l, int begin, int end,
                              int sinks, float *out) {
  for (int slot = begin; slot < end; ++slot)
    for (int c = 0; c < l.headDim; ++c)
      out[static_cast<size_t>(slot - begin) * l.headDim + c] = kvPageDecode(page, l, slot, c, sinks);
}

} // namespace qtc::rt

#endif // QTC_RT_KVPAGE_H
