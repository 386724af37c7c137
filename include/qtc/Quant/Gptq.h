//===- Gptq.h - GPTQ group-wise integer weight quantization -----*- C++ -*-===//
//
// GPTQ (Frantar et al. 2022, "GPTQ: Accurate Post-Training Quantization for
// Generative Pre-trained Transformers"; the reference gptq.py `fasterquant`)
// quantizes a weight one input channel at a time and moves each channel's
// rounding error onto the channels not yet quantized, weighted by the inverse
// of the layer's Hessian H = sum x x^T over calibration rows, so the layer's
// outputs on those rows change as little as the grid allows. RTN ignores the
// inputs; GPTQ lowers tr(dW H dW^T), the summed squared output error.
//
// The codes land on the grid RTN uses (intGroupGrid, intCode) and the result
// is the same IntGroupWeight, so the kernels cannot tell them apart.
//
//===----------------------------------------------------------------------===//

#ifndef QTC_QUANT_GPTQ_H
#define QTC_QUANT_GPTQ_H

#include "qtc/Quant/IntGroup.h"
#include "qtc/Quant/RoundToNearest.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>

namespace qtc::quant {

struct GptqOptions {
  /// Code width, group size and symmetry, as for RTN.
  IntGroupOptions grid;
  /// Fraction of mean(diag H) added to H's diagonal, so a Hessian of fewer
  /// calibration rows than channels (singular) still has an inverse. Where H
  /// is still not positive definite, GPTQ retries with 10x as much, up to 1.
  double dampening = 0.01;
  /// Columns per lazy-batch block: the error of a block's columns reaches the
  /// columns after it in one matrix product instead of column by column.
  /// Without act-order a block holds whole groups, so blockSize is rounded up
  /// to a multiple of the group size.
  int64_t blockSize = 128;
  /// Quantize columns by decreasing diag(H) (the inputs with the most energy
  /// first, while many columns are left to absorb their error). Groups stay
  /// contiguous in the original column order, as the kernels need, so each
  /// group's grid is then fixed beforehand from its original weights (the
  /// reference's static_groups); without act-order a group's grid comes from
  /// its error-updated weights when the sweep reaches it.
  bool actOrder = true;
  /// Rows are quantized independently; this many threads share them (0: up to
  /// 2). The result does not depend on it.
  int threads = 0;
};

/// GPTQ of a row-major [outFeatures, inFeatures] weight. `hessian` is the
/// [inFeatures, inFeatures] row-major sum over calibration rows x of x x^T (any
/// positive scaling), symmetric and positive semidefinite. Channels no
/// calibration row used (H[i, i] == 0) are quantized as zero weights, as in
/// the reference: their inputs were always 0.
///
/// Fails on shapes the layout cannot hold, a hessian of the wrong size, with
/// non-finite or negative-diagonal entries or not symmetric, non-finite
/// weights, bad options, a Hessian that stays indefinite when damped, and
/// group scales beyond f16's range.
llvm::Expected<IntGroupWeight>
quantizeIntGroupGptq(llvm::ArrayRef<float> weight, int64_t outFeatures,
                      int64_t inFeatures, llvm::ArrayRef<double> hessian,
                      const GptqOptions &options);

/// GPTQ's objective tr(dW H dW^T) with dW = dequantized - weight (both
/// row-major [outFeatures, inFeatures]; `hessian` as above): the summed
/// squared output error over the calibration rows. Accumulates in double.
llvm::Expected<double> hessianWeightedError(llvm::ArrayRef<float> weight,
                                            llvm::ArrayRef<float> dequantized,
                                            int64_t outFeatures,
                                            int64_t inFeatures,
                                            llvm::ArrayRef<double> hessian);

} // namespace qtc::quant

#endif // QTC_QUANT_GPTQ_H
