//===- WeightPacking.h - Weights in the layouts the kernels read ----------===//
#ifndef QTC_LIB_CHAIN_WEIGHTPACKING_H
#define QTC_LIB_CHAIN_WEIGHTPACKING_H

#include "qtc/Import/WeightMatrix.h"
#include "qtc/Import/WeightStore.h"
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

/// How the rows of one source become rows of a packed tensor.
enum class RowConversion {
  Copy,       // bytes as stored
  ToF16,      // f32/f16/bf16 elements to f16 (non-finite values refused)
  FlipHighBit, // int8 codes with zero 128 to the signed value (code ^ 0x80)
  AddToNibbles // two codes a byte, each plus `nibbleOffset` (int3 on int4's grid)
};

/// `rows` rows of the stored tensor `ref` (`name` for messages).
struct RowSource {
  std::string name;
  WeightRef ref;
  int64_t rows = 0;
  RowConversion conversion = RowConversion::Copy;
  int nibbleOffset = 0;
};

/// A tensor whose rows are `sources`' rows one after another, each row
/// `rowBytes` long once converted, produced in any row range straight from
/// the sources (the pages of memory-mapped ones are released as they are
/// read) rather than copied whole: what packing hands the artifact writer.
DeferredWeight concatenateRows(const WeightStore &store,
                               std::vector<RowSource> sources, uint64_t rowBytes);

/// The deferred tensors of a quantized linear in the artifact's layout: the
/// stored codes, scales and zeros of `weights` (rows each, in order)
/// concatenated with appendArtifactLayout's conversions. Errors name the
/// stored tensor that is missing or of the wrong shape.
struct DeferredLinearLayout {
  DeferredWeight data, scales, zeros; // zeros: asymmetric int only
  bool hasZeros = false;
  int64_t dataColumns = 0, scaleColumns = 0;
  bool f32Scales = false, signedData = false;
};
mlir::FailureOr<DeferredLinearLayout>
deferArtifactLayout(const WeightStore &store, llvm::ArrayRef<llvm::StringRef> weights,
                    llvm::ArrayRef<int64_t> rows, int64_t inFeatures,
                    const WeightQuantization &how, mlir::Location loc);

} // namespace qtc

#endif // QTC_LIB_CHAIN_WEIGHTPACKING_H
