//===- AwqClip.cpp - Clip weight groups to minimise output error ----------===//

#include "qtc/Quant/AwqClip.h"

#include <algorithm>
#include <cmath>
#include <vector>

using namespace qtc::quant;

namespace {

llvm::Error fail(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

// d^T H_g d over the group starting at column `col`.
double groupError(llvm::ArrayRef<double> d, llvm::ArrayRef<double> hessian,
                  int64_t inFeatures, int64_t col) {
  const int64_t g = static_cast<int64_t>(d.size());
  double total = 0;
  for (int64_t i = 0; i < g; ++i) {
    if (d[i] == 0)
      continue;
    const double *h = hessian.data() + (col + i) * inFeatures + col;
    double dot = 0;
    for (int64_t j = 0; j < g; ++j)
      dot += h[j] * d[j];
    total += d[i] * dot;
  }
  return total;
}

} // namespace

llvm::Expected<double> qtc::quant::clipGroupsForOutputError(
    llvm::MutableArrayRef<float> weight, int64_t outFeatures, int64_t inFeatures,
    llvm::ArrayRef<double> hessian, const ClipSearchOptions &options) {
  const int64_t g = options.grid.groupSize;
  if (llvm::Error error = verifyInt4GroupShape(outFeatures, inFeatures, g))
    return std::move(error);
  if (weight.size() != static_cast<size_t>(outFeatures * inFeatures))
    return fail("weight holds " + llvm::Twine(weight.size()) + " values, expected " +
                llvm::Twine(outFeatures) + "x" + llvm::Twine(inFeatures));
  if (hessian.size() != static_cast<size_t>(inFeatures * inFeatures))
    return fail("hessian holds " + llvm::Twine(hessian.size()) + " values, expected " +
                llvm::Twine(inFeatures) + "x" + llvm::Twine(inFeatures));
  if (options.steps < 1 || !(options.minRatio > 0 && options.minRatio <= 1))
    return fail("clip search needs steps >= 1 and a minimum ratio in (0, 1]");

  std::vector<float> original(g), clamped(g);
  std::vector<double> d(g);
  double ratioSum = 0;
  int64_t groups = 0;
  for (int64_t row = 0; row < outFeatures; ++row) {
    for (int64_t col = 0; col < inFeatures; col += g, ++groups) {
      float *w = weight.data() + row * inFeatures + col;
      std::copy(w, w + g, original.begin());
      float absMax = 0;
      for (float v : original)
        absMax = std::max(absMax, std::fabs(v));
      double bestError = INFINITY, bestRatio = 1.0;
      for (int s = 0; s <= options.steps; ++s) {
        double ratio = 1.0 - (1.0 - options.minRatio) * s / options.steps;
        float limit = static_cast<float>(absMax * ratio);
        for (int64_t i = 0; i < g; ++i)
          clamped[i] = std::clamp(original[i], -limit, limit);
        llvm::Expected<Int4Grid> grid = int4GroupGrid(clamped, options.grid.symmetric);
        if (!grid)
          return fail("row " + llvm::Twine(row) + ", column " + llvm::Twine(col) +
                      ": " + llvm::toString(grid.takeError()));
        for (int64_t i = 0; i < g; ++i)
          d[i] = int4Value(int4Code(clamped[i], *grid), *grid) - original[i];
        double error = groupError(d, hessian, inFeatures, col);
        if (error < bestError) {
          bestError = error;
          bestRatio = ratio;
        }
      }
      float limit = static_cast<float>(absMax * bestRatio);
      for (int64_t i = 0; i < g; ++i)
        w[i] = std::clamp(original[i], -limit, limit);
      ratioSum += bestRatio;
    }
  }
  return groups ? ratioSum / groups : 1.0;
}
