//===- WeightMatrix.cpp - A stored weight read as f32 ---------------------===//

#include "qtc/Import/WeightMatrix.h"

#include "qtc/Import/WeightStore.h"
#include "qtc/rt/Float16.h"

#include "mlir/IR/Diagnostics.h"

#include <algorithm>
#include <cmath>
#include <cstring>

using namespace mlir;

namespace qtc {

// Branch-free so that it vectorizes: em << 13 as a float, times 2^112, is
// the half's magnitude for normal and subnormal halves alike (exact);
// infinities and NaNs keep their payload. Built for AVX2 and any x86-64.
#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target_clones("arch=x86-64-v3", "default")))
#endif
bool widenHalves(const uint16_t *__restrict halves, int64_t n, float *__restrict out) {
  uint32_t special = 0;
  for (int64_t i = 0; i < n; ++i) {
    const uint32_t h = halves[i], em = h & 0x7fffu;
    float magnitude;
    const uint32_t shifted = em << 13;
    std::memcpy(&magnitude, &shifted, 4);
    magnitude *= 0x1p112f;
    uint32_t bits;
    std::memcpy(&bits, &magnitude, 4);
    const uint32_t nonFinite = em >= 0x7c00u, mask = 0u - nonFinite;
    special |= nonFinite;
    bits = (bits & ~mask) | ((0x7f800000u | ((h & 0x3ffu) << 13)) & mask);
    bits |= (h & 0x8000u) << 16;
    std::memcpy(&out[i], &bits, 4);
  }
  return special == 0;
}

FailureOr<WeightMatrix> readWeight(const WeightStore &weights, StringRef name,
                                   Location loc) {
  std::optional<WeightRef> ref = weights.lookup(name);
  if (!ref)
    return emitError(loc) << "weight '" << name << "' is not in the model";
  WeightMatrix m;
  m.shape.assign(ref->shape.begin(), ref->shape.end());
  int64_t n = ref->numElements();
  m.values.resize(n);
  const auto *bytes = static_cast<const uint8_t *>(ref->data);
  switch (ref->dtype) {
  case DType::F32:
    std::memcpy(m.values.data(), bytes, n * sizeof(float));
    break;
  case DType::F16: {
    // The source is mmap'ed and may be unaligned for uint16_t: widened in
    // aligned pieces.
    constexpr int64_t kPiece = 4096;
    uint16_t piece[kPiece];
    bool finite = true;
    for (int64_t at = 0; at < n; at += kPiece) {
      int64_t count = std::min(kPiece, n - at);
      std::memcpy(piece, bytes + 2 * at, 2 * count);
      finite &= widenHalves(piece, count, m.values.data() + at);
    }
    if (finite)
      return m;
    break;
  }
  case DType::BF16:
    for (int64_t i = 0; i < n; ++i) {
      uint16_t h;
      std::memcpy(&h, bytes + 2 * i, 2);
      m.values[i] = rt::bf16ToFloat(h);
    }
    break;
  default:
    return emitError(loc) << "weight '" << name << "' has element type "
                          << dtypeName(ref->dtype)
                          << "; expected f32, f16 or bf16";
  }
  for (int64_t i = 0; i < n; ++i)
    if (!std::isfinite(m.values[i]))
      return emitError(loc) << "weight '" << name << "' holds a non-finite "
                            << "value (" << m.values[i] << ") at element " << i;
  return m;
}

WeightMatrix concatRows(ArrayRef<WeightMatrix> parts) {
  WeightMatrix out;
  int64_t rows = 0;
  for (const WeightMatrix &p : parts)
    rows += p.shape[0];
  out.shape = {rows, parts.front().shape[1]};
  out.values.reserve(rows * out.shape[1]);
  for (const WeightMatrix &p : parts)
    out.values.insert(out.values.end(), p.values.begin(), p.values.end());
  return out;
}

} // namespace qtc
