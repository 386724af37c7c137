//===- RoundToNearest.h - Group-wise round-to-nearest quantizers -*- C++ -*-===//
//
// RTN: every weight goes to the nearest code of its group's grid; the grid is
// fixed by the group's range. The baseline every better quantizer (GPTQ, AWQ)
// is measured against, and the default for weights nobody calibrated.
//
//===----------------------------------------------------------------------===//

#ifndef QTC_QUANT_ROUNDTONEAREST_H
#define QTC_QUANT_ROUNDTONEAREST_H

#include "qtc/Quant/IntGroup.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

namespace qtc::quant {

struct IntGroupOptions {
  /// Consecutive input channels sharing a scale; must divide the row length.
  int64_t groupSize = 128;
  /// Symmetric: zero fixed at Z = 2^(bits-1), scale = absmax / (Z - 1)
  /// (codes 1 .. 2^bits - 1 in use; for int4 zero 8, absmax / 7).
  /// Asymmetric: the group's range, widened to include 0 as GPTQ's quantizer
  /// does, is split into 2^bits - 1 steps: scale = (max - min) / (2^bits - 1),
  /// zero = round(-min / scale). Including 0 keeps zero exact and every
  /// weight within half a step of its code.
  bool symmetric = true;
  /// Code width: 3, 4 or 8.
  int bits = 4;
};

/// One group's grid: code q stands for (q - zero) * scale. Every integer
/// quantizer picks its codes on this grid, so what it chose is what the
/// kernels decode.
struct IntGrid {
  uint16_t scaleBits = 0; // the f16 scale as stored
  double scale = 0.0;     // its value, exactly; 0 for an all-zero group
  int zero = 0;           // in [0, maxCode]
  int maxCode = 15;       // 2^bits - 1
};

/// The grid of one group of `bits`-bit weights, as IntGroupOptions
/// describes; a group whose values are all equal gets the exact grid
/// quantizeIntGroupRtn documents. Fails on non-finite values and on scales
/// beyond f16's range.
llvm::Expected<IntGrid> intGroupGrid(llvm::ArrayRef<float> group, int bits,
                                     bool symmetric);

/// The code nearest `value` on `grid`, clamped to [0, maxCode] (ties to even);
/// the zero point when the scale is 0. `value` must be finite.
uint8_t intCode(double value, const IntGrid &grid);

/// The value code `code` stands for on `grid`. Exact in float too (a small
/// integer times an f16), so it equals what dequantizeIntGroup gives.
inline double intValue(uint8_t code, const IntGrid &grid) {
  return (static_cast<int>(code) - grid.zero) * grid.scale;
}

/// Quantizes a row-major [outFeatures, inFeatures] weight to integer groups.
///
/// Scales are rounded up to f16 before codes are chosen, so every weight `w`
/// dequantizes to within scale / 2 of itself with the stored scale. A group
/// whose values are all equal (c) is stored as scale |c| one step from the
/// zero point, so it
/// dequantizes exactly when c is representable in f16. Ties round to even,
/// as torch.round does.
///
/// Fails on unsupported widths, group sizes not dividing the row, non-finite weights, and groups whose scale exceeds f16's range.
llvm::Expected<IntGroupWeight>
quantizeIntGroupRtn(llvm::ArrayRef<float> weight, int64_t outFeatures,
                     int64_t inFeatures, const IntGroupOptions &options);

} // namespace qtc::quant

#endif // QTC_QUANT_ROUNDTONEAREST_H
