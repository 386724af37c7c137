//===- RoundToNearest.h - Group-wise round-to-nearest quantizers -*- C++ -*-===//
//
// RTN: every weight goes to the nearest code of its group's grid; the grid is
// fixed by the group's range. The baseline every better quantizer (GPTQ, AWQ)
// is measured against, and the default for weights nobody calibrated.
//
//===----------------------------------------------------------------------===//

#ifndef QTC_QUANT_ROUNDTONEAREST_H
#define QTC_QUANT_ROUNDTONEAREST_H

#include "qtc/Quant/Int4Group.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

namespace qtc::quant {

struct Int4GroupOptions {
  /// Consecutive input channels sharing a scale; must divide the row length.
  int64_t groupSize = 128;
  /// Symmetric: zero fixed at 8, scale = absmax / 7 (codes 1..15 in use).
  /// Asymmetric: the group's range, widened to include 0 as GPTQ's quantizer
  /// does, is split into 15 steps: scale = (max - min) / 15, zero =
  /// round(-min / scale). Including 0 keeps zero exact and every weight
  /// within half a step of its code.
  bool symmetric = true;
};

/// One group's grid: code q stands for (q - zero) * scale. Every int4
/// quantizer picks its codes on this grid, so what it chose is what the
/// kernels decode.
struct Int4Grid {
  uint16_t scaleBits = 0; // the f16 scale as stored
  double scale = 0.0;     // its value, exactly; 0 for an all-zero group
  int zero = 0;           // in [0, 15]
};

/// The grid of one group of weights, as Int4GroupOptions::symmetric
/// describes; a group whose values are all equal gets the exact grid
/// quantizeInt4GroupRtn documents. Fails on non-finite values and on scales
/// beyond f16's range.
llvm::Expected<Int4Grid> int4GroupGrid(llvm::ArrayRef<float> group,
                                       bool symmetric);

/// The code nearest `value` on `grid`, clamped to [0, 15] (ties to even);
/// the zero point when the scale is 0. `value` must be finite.
uint8_t int4Code(double value, const Int4Grid &grid);

/// The value code `code` stands for on `grid`. Exact in float too (a small
/// integer times an f16), so it equals what dequantizeInt4Group gives.
inline double int4Value(uint8_t code, const Int4Grid &grid) {
  return (static_cast<int>(code) - grid.zero) * grid.scale;
}

/// Quantizes a row-major [outFeatures, inFeatures] weight to int4 groups.
///
/// Scales are rounded up to f16 before codes are chosen, so every weight `w`
/// dequantizes to within scale / 2 of itself with the stored scale. A group
/// whose values are all equal (c) is stored as scale |c|, code 1 or 14, so it
/// dequantizes exactly when c is representable in f16. Ties round to even,
/// as torch.round does.
///
/// Fails on shapes the layout cannot hold (odd rows, group size not dividing
/// the row), non-finite weights, and groups whose scale exceeds f16's range.
llvm::Expected<Int4GroupWeight>
quantizeInt4GroupRtn(llvm::ArrayRef<float> weight, int64_t outFeatures,
                     int64_t inFeatures, const Int4GroupOptions &options);

} // namespace qtc::quant

#endif // QTC_QUANT_ROUNDTONEAREST_H
