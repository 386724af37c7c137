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
