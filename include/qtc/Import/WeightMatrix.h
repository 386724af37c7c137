//===- WeightMatrix.h - A stored weight read as f32 -------------*- C++ -*-===//
//
// Passes and the plan read weights out of the WeightStore as f32 whatever the
// source's element type, checking for NaN and infinity on the way.
//
//===----------------------------------------------------------------------===//
#ifndef QTC_IMPORT_WEIGHTMATRIX_H
#define QTC_IMPORT_WEIGHTMATRIX_H

#include "mlir/IR/Location.h"
#include "mlir/Support/LLVM.h"
#include "llvm/ADT/SmallVector.h"

#include <cstdint>
#include <vector>

namespace qtc {

class WeightStore;

// A weight read out of its source as f32, row-major.
struct WeightMatrix {
  llvm::SmallVector<int64_t, 2> shape;
  std::vector<float> values;
};

// Reads `name` (f32, f16 or bf16 in the source) as f32. Fails with a
// diagnostic at `loc` if the tensor is missing, of another type, or holds a
// NaN or infinity (naming the first bad element).
mlir::FailureOr<WeightMatrix> readWeight(const WeightStore &weights,
                                         llvm::StringRef name,
                                         mlir::Location loc);

// out[i] = rt::halfToFloat(halves[i]), bit for bit, for n halves; true when
// none is an infinity or NaN. Vectorized (readWeight widens every f16 weight
// of a model through it).
bool widenHalves(const uint16_t *halves, int64_t n, float *out);

// Stacks rank-2 matrices of equal column count.
WeightMatrix concatRows(llvm::ArrayRef<WeightMatrix> parts);

} // namespace qtc

#endif // QTC_IMPORT_WEIGHTMATRIX_H
