//===- AwqClip.h - Clip weight groups to minimise output error --*- C++ -*-===//
//
// AWQ's weight clipping (Lin et al., 2023, auto_clip): a group's integer grid is
// fixed by its largest weight, so one large weight coarsens the grid for all
// the others. Clamping the group to a fraction of its range, chosen per row
// and group to minimise the group's output error over the calibration
// activations, trades that one weight's error for everyone else's. The
// clamped weights then quantize by plain round-to-nearest.
//
//===----------------------------------------------------------------------===//
#ifndef QTC_QUANT_AWQCLIP_H
#define QTC_QUANT_AWQCLIP_H

#include "qtc/Quant/RoundToNearest.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>

namespace qtc::quant {

struct ClipSearchOptions {
  IntGroupOptions grid;
  int steps = 20;         // ratios 1, 1 - (1 - minRatio)/steps, ..., minRatio
  double minRatio = 0.5;
};

/// Clamps each group of the row-major [outFeatures, inFeatures] `weight` to
/// +-ratio * max|w|, the ratio chosen per row and group, one group after
/// another, to minimise the row's output error d^T H d, where d =
/// RTN(clamped) - original over the whole row and `hessian` ([in, in]) the
/// sum of x x^T. Each choice includes ratio 1 (no clamp), so the row's error
/// never grows over RTN's. Returns the mean chosen ratio.
llvm::Expected<double> clipGroupsForOutputError(llvm::MutableArrayRef<float> weight,
                                                int64_t outFeatures,
                                                int64_t inFeatures,
                                                llvm::ArrayRef<double> hessian,
                                                const ClipSearchOptions &options);

} // namespace qtc::quant

#endif // QTC_QUANT_AWQCLIP_H
