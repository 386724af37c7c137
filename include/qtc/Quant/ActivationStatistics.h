//===- ActivationStatistics.h - What calibration learns of an input -*- C++ -*-===//
//
// Statistics of the rows one linear layer reads (its input activations),
// accumulated over calibration tokens: the Gram matrix X^T X that GPTQ's
// Hessian is, and the per-channel magnitudes that activation-aware methods
// (AWQ, SmoothQuant) scale by. Linears that read one input (q, k and v; gate
// and up) share one set.
//
//===----------------------------------------------------------------------===//
#ifndef QTC_QUANT_ACTIVATIONSTATISTICS_H
#define QTC_QUANT_ACTIVATIONSTATISTICS_H

#include "llvm/ADT/ArrayRef.h"

#include <cstdint>
#include <vector>

namespace qtc::quant {

class ActivationStatistics {
public:
  explicit ActivationStatistics(int64_t width);

  /// Adds `numRows` rows of `width()` floats (row-major). Non-finite values
  /// are counted and left out of every statistic.
  void accumulate(const float *rows, int64_t numRows);

  int64_t width() const { return width_; }
  /// Rows accumulated so far.
  int64_t rows() const { return rows_; }
  /// Values that were NaN or infinite (and skipped).
  int64_t nonFinite() const { return nonFinite_; }

  /// X^T X over every row, [width, width] row-major, symmetric.
  std::vector<double> gram() const;
  /// max |x| per channel.
  llvm::ArrayRef<float> absMax() const { return absMax_; }
  /// mean |x| per channel (0 before any row).
  std::vector<double> meanAbs() const;

  /// The statistics the same rows would have with channel i multiplied by
  /// factors[i]: what a smoothing pass (AWQ, SmoothQuant) leaves a layer's
  /// input after folding a per-channel scale into the op that produces it.
  ActivationStatistics scaled(llvm::ArrayRef<double> factors) const;

private:
  int64_t width_;
  int64_t rows_ = 0;
  int64_t nonFinite_ = 0;
  std::vector<double> upper_; // X^T X, upper triangle kept in a full matrix
  std::vector<float> absMax_;
  std::vector<double> sumAbs_;
};

} // namespace qtc::quant

#endif // QTC_QUANT_ACTIVATIONSTATISTICS_H
