//===- Numerics.cpp - Quantization error measures -------------------------===//

#include "qtc/Quant/Numerics.h"

#include "TargetClones.h"

#include <algorithm>
#include <cmath>
#include <limits>

using namespace qtc::quant;

QTC_QUANT_TARGET_CLONES llvm::Expected<ErrorStats>
qtc::quant::measureError(llvm::ArrayRef<float> reference,
                         llvm::ArrayRef<float> approximation) {
  if (reference.empty() || reference.size() != approximation.size())
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        "error measures need two arrays of one non-zero length (got " +
            llvm::Twine(reference.size()) + " and " +
            llvm::Twine(approximation.size()) + ")");
  // Four partial sums in a fixed order (the same result on every machine),
  // so that the loop over a whole weight vectorizes.
  constexpr size_t kLanes = 4;
  double signals[kLanes] = {}, noises[kLanes] = {}, maxErrors[kLanes] = {};
  const size_t n = reference.size(), whole = n / kLanes * kLanes;
  for (size_t i = 0; i < whole; i += kLanes)
    for (size_t j = 0; j < kLanes; ++j) {
      double x = reference[i + j], error = x - approximation[i + j];
      signals[j] += x * x;
      noises[j] += error * error;
      maxErrors[j] = std::max(maxErrors[j], std::fabs(error));
    }
  for (size_t i = whole; i < n; ++i) {
    double x = reference[i], error = x - approximation[i];
    signals[i - whole] += x * x;
    noises[i - whole] += error * error;
    maxErrors[i - whole] = std::max(maxErrors[i - whole], std::fabs(error));
  }
  double signal = (signals[0] + signals[1]) + (signals[2] + signals[3]);
  double noise = (noises[0] + noises[1]) + (noises[2] + noises[3]);
  ErrorStats stats;
  stats.maxAbsError = std::max(std::max(maxErrors[0], maxErrors[1]),
                               std::max(maxErrors[2], maxErrors[3]));
  stats.sqnrDb = noise == 0.0 ? std::numeric_limits<double>::infinity()
                              : 10.0 * std::log10(signal / noise);
  return stats;
}
