//===- WeightMatrix.cpp - A stored weight read as f32 ---------------------===//

#include "qtc/Import/WeightMatrix.h"

#include "qtc/Import/WeightStore.h"
#include "qtc/rt/Float16.h"

#include "mlir/IR/Diagnostics.h"

#include <cmath>
#include <cstring>

using namespace mlir;

namespace qtc {

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
  case DType::F16:
    for (int64_t i = 0; i < n; ++i) {
      uint16_t h;
      std::memcpy(&h, bytes + 2 * i, 2);
      m.values[i] = rt::halfToFloat(h);
    }
    break;
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
