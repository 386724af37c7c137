//===- Numerics.cpp - Quantization error measures -------------------------===//

#include "qtc/Quant/Numerics.h"

#include <algorithm>
#include <cmath>
#include <limits>

using namespace qtc::quant;

llvm::Expected<ErrorStats>
qtc::quant::measureError(llvm::ArrayRef<float> reference,
                         llvm::ArrayRef<float> approximation) {
  if (reference.empty() || reference.size() != approximation.size())
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        "error measures need two arrays of one non-zero length (got " +
            llvm::Twine(reference.size()) + " and " +
            llvm::Twine(approximation.size()) + ")");
  double signal = 0.0, noise = 0.0;
  ErrorStats stats;
  for (size_t i = 0; i < reference.size(); ++i) {
    double x = reference[i], error = x - approximation[i];
    signal += x * x;
    noise += error * error;
    stats.maxAbsError = std::max(stats.maxAbsError, std::fabs(error));
  }
  stats.sqnrDb = noise == 0.0 ? std::numeric_limits<double>::infinity()
                              : 10.0 * std::log10(signal / noise);
  return stats;
}
