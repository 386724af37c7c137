//===- WeightPacking.h - Weights in the layouts the kernels read ----------===//
#ifndef QTC_LIB_CHAIN_WEIGHTPACKING_H
#define QTC_LIB_CHAIN_WEIGHTPACKING_H

#include "qtc/Import/WeightMatrix.h"
#include "qtc/Transforms/WeightContext.h"

#include "mlir/IR/Location.h"
#include "mlir/Support/LLVM.h"

#include <cstdint>
#include <vector>

namespace qtc {

// f32 -> IEEE half, round to nearest even, little-endian bytes.
std::vector<uint8_t> packF16(llvm::ArrayRef<float> values);

// A quantized linear weight in the artifact layout of its WeightFormat
// (runtime/schema/artifact.fbs): int3/int4 codes as Int4Group nibbles (int3
// symmetric codes recentred on Int4Group's zero point 8), int8 as two's
// complement bytes (Int8Group), fp8 as e4m3 bytes with f32 row scales
// (Fp8Channel). Rows of several weights append one after another.
struct ArtifactLinearLayout {
  std::vector<uint8_t> data, scales, zeros; // zeros: asymmetric int only
  int64_t dataColumns = 0;                  // per row, in elements of the data type
  int64_t scaleColumns = 0;                 // per row (1 for fp8)
  bool f32Scales = false;                   // fp8: f32, else f16
  bool signedData = false;                  // int8: i8, else u8
};

// Appends `q`'s rows to `layout` (whose columns must match if non-empty).
void appendArtifactLayout(const QuantizedWeight &q, ArtifactLinearLayout &layout);

} // namespace qtc

#endif // QTC_LIB_CHAIN_WEIGHTPACKING_H
