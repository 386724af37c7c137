//===- WeightPacking.h - Weights in the layouts the kernels read ----------===//
#ifndef QTC_LIB_PIPELINE_WEIGHTPACKING_H
#define QTC_LIB_PIPELINE_WEIGHTPACKING_H

#include "mlir/IR/Location.h"
#include "mlir/Support/LLVM.h"

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

// Stacks rank-2 matrices of equal column count.
WeightMatrix concatRows(llvm::ArrayRef<WeightMatrix> parts);

// f32 -> IEEE half, round to nearest even, little-endian bytes.
std::vector<uint8_t> packF16(llvm::ArrayRef<float> values);

// Int4Group layout of runtime/schema/artifact.fbs, plus the dequantized
// matrix for numerics.
struct PackedInt4 {
  std::vector<uint8_t> data, scales, zeros;
  std::vector<float> dequantized;
};
// Round-to-nearest int4 of `w` (named `name` in errors).
mlir::FailureOr<PackedInt4> packInt4(const WeightMatrix &w, int groupSize,
                                     bool symmetric, mlir::Location loc,
                                     llvm::StringRef name);

struct LayerError {
  float sqnrDb = 0.0f, maxAbsError = 0.0f;
};
// Error of rows [row, row + rows) of `dequantized` against `reference`.
LayerError measureError(const WeightMatrix &reference,
                        llvm::ArrayRef<float> dequantized, int64_t row,
                        int64_t rows);

} // namespace qtc

#endif // QTC_LIB_PIPELINE_WEIGHTPACKING_H
