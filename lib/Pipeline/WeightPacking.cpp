//===- WeightPacking.cpp - Weights in the layouts the kernels read --------===//

#include "WeightPacking.h"

#include "qtc/Import/WeightStore.h"
#include "qtc/Quant/Numerics.h"
#include "qtc/Quant/RoundToNearest.h"
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
      m.values[i] = rt::bitsToFloat(static_cast<uint32_t>(h) << 16);
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

std::vector<uint8_t> packF16(ArrayRef<float> values) {
  std::vector<uint8_t> bytes(values.size() * 2);
  for (size_t i = 0; i < values.size(); ++i) {
    uint16_t h = rt::floatToHalf(values[i]);
    std::memcpy(bytes.data() + 2 * i, &h, 2);
  }
  return bytes;
}

FailureOr<PackedInt4> packInt4(const WeightMatrix &w, int groupSize,
                               bool symmetric, Location loc,
                               StringRef name) {
  quant::Int4GroupOptions options;
  options.groupSize = groupSize;
  options.symmetric = symmetric;
  llvm::Expected<quant::Int4GroupWeight> q = quant::quantizeInt4GroupRtn(
      w.values, w.shape[0], w.shape[1], options);
  if (!q)
    return emitError(loc) << "quantizing '" << name
                          << "': " << llvm::toString(q.takeError());
  llvm::Expected<std::vector<float>> deq = quant::dequantizeInt4Group(*q);
  if (!deq)
    return emitError(loc) << "dequantizing '" << name
                          << "': " << llvm::toString(deq.takeError());
  PackedInt4 packed;
  packed.data = std::move(q->data);
  // Symmetric weights have no zeros: an empty vector's data() may be null,
  // and memcpy from null is undefined even for zero bytes (UBSan caught it).
  auto bytesOf = [](const std::vector<uint16_t> &halves) {
    std::vector<uint8_t> bytes(halves.size() * 2);
    if (!halves.empty())
      std::memcpy(bytes.data(), halves.data(), bytes.size());
    return bytes;
  };
  packed.scales = bytesOf(q->scales);
  packed.zeros = bytesOf(q->zeros);
  packed.dequantized = std::move(*deq);
  return packed;
}

LayerError measureError(const WeightMatrix &reference,
                        ArrayRef<float> dequantized, int64_t row,
                        int64_t rows) {
  int64_t cols = reference.shape[1];
  ArrayRef<float> ref(reference.values.data() + row * cols, rows * cols);
  ArrayRef<float> deq = dequantized.slice(row * cols, rows * cols);
  llvm::Expected<quant::ErrorStats> stats = quant::measureError(ref, deq);
  if (!stats) {
    // Sizes agree by construction; an error here is a bug, reported as NaN.
    llvm::consumeError(stats.takeError());
    return {std::nanf(""), std::nanf("")};
  }
  return {static_cast<float>(stats->sqnrDb),
          static_cast<float>(stats->maxAbsError)};
}

} // namespace qtc
