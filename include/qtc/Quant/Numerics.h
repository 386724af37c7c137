//===- Numerics.h - Quantization error measures -----------------*- C++ -*-===//
//
// The numbers the numerics report (artifact LayerNumerics) records per layer.
//
//===----------------------------------------------------------------------===//

#ifndef QTC_QUANT_NUMERICS_H
#define QTC_QUANT_NUMERICS_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

namespace qtc::quant {

struct ErrorStats {
  /// Signal-to-quantization-noise ratio, 10 log10(sum x^2 / sum (x - y)^2),
  /// in dB; +infinity when the approximation is exact.
  double sqnrDb = 0.0;
  /// max |x - y|.
  double maxAbsError = 0.0;
};

/// Compares `approximation` with `reference` element by element; both must
/// have the same, non-zero length. Accumulates in double.
llvm::Expected<ErrorStats> measureError(llvm::ArrayRef<float> reference,
                                        llvm::ArrayRef<float> approximation);

} // namespace qtc::quant

#endif // QTC_QUANT_NUMERICS_H
