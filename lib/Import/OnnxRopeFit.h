//===- OnnxRopeFit.h - RoPE parameters from measured frequencies -*- C++ -*-===//
//
// qtc-onnx-raise-rope measures the frequencies f_i (i < head_dim / 2) the
// graph's cos/sin tables rotate by; this finds the Hugging Face parameters
// that give them: theta, and a linear factor or llama3's band-wise scaling.
//
//===----------------------------------------------------------------------===//

#ifndef QTC_LIB_IMPORT_ONNXROPEFIT_H
#define QTC_LIB_IMPORT_ONNXROPEFIT_H

#include "mlir/Support/LLVM.h"
#include "llvm/ADT/ArrayRef.h"

#include <cstdint>
#include <functional>

namespace qtc {

struct RopeFit {
  enum class Scaling { None, Linear, Llama3 };
  double theta = 0;
  Scaling scaling = Scaling::None;
  double factor = 1;
  /// llama3 only (transformers' rope_scaling fields).
  double lowFreqFactor = 1;
  double highFreqFactor = 4;
  int64_t originalMaxPositions = 0;
};

/// Whether a frequency `actual` measured from the tables is `expected`.
using FrequencyMatch = std::function<bool(double expected, double actual)>;

/// The parameters with the fewest significant digits whose frequencies all
/// `match` `f`: theta^(-2i/D) / factor (factor 1 when there is no scaling),
/// else llama3 scaling (theta from the unscaled high frequencies, factor
/// from the lowest, the band edges from the frequencies between; where the
/// frequencies leave the edges' common scale free, low_freq_factor is 1).
mlir::FailureOr<RopeFit> fitRopeFrequencies(llvm::ArrayRef<double> f,
                                            int64_t headDim,
                                            const FrequencyMatch &match);

/// The i-th frequency of `fit` for heads of `headDim`, in double.
double ropeFrequency(const RopeFit &fit, int64_t headDim, int64_t i);

} // namespace qtc

#endif // QTC_LIB_IMPORT_ONNXROPEFIT_H
