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

} // namespace

llvm::Expected<double> qtc::quant::clipGroupsForOutputError(
    llvm::MutableArrayRef<float> weight, int64_t outFeatures, int64_t inFeatures,
    llvm::ArrayRef<double> hessian, const ClipSearchOptions &options) {
  const int64_t g = options.grid.groupSize, n = inFeatures;
  if (llvm::Error error =
          verifyIntGroupShape(outFeatures, inFeatures, g, options.grid.bits))
    return std::move(error);
  if (weight.size() != static_cast<size_t>(outFeatures * inFeatures))
    return fail("weight holds " + llvm::Twine(weight.size()) + " values, expected " +
                llvm::Twine(outFeatures) + "x" + llvm::Twine(inFeatures));
  if (hessian.size() != static_cast<size_t>(n * n))
    return fail("hessian holds " + llvm::Twine(hessian.size()) + " values, expected " +
                llvm::Twine(n) + "x" + llvm::Twine(n));
  if (options.steps < 1 || !(options.minRatio > 0 && options.minRatio <= 1))
    return fail("clip search needs steps >= 1 and a minimum ratio in (0, 1]");

  // d: the row's rounding residual RTN(clamped) - original; hd = H d. A
  // group's clamp changes d on its columns only, and the row's error
  // d^T H d by 2 delta.(H d)_g + delta^T H_gg delta: cross-group terms
  // included, which matter because clipping errors share a sign (a clamp
  // shrinks every large weight), unlike rounding errors.
  std::vector<float> clamped(g);
  std::vector<double> d(n), hd(n), candidate(g), delta(g);
  double ratioSum = 0;
  int64_t groups = 0;
  auto residual = [&](const float *w, double ratio, double *out) -> llvm::Error {
    float absMax = 0;
    for (int64_t i = 0; i < g; ++i)
      absMax = std::max(absMax, std::fabs(w[i]));
    float limit = static_cast<float>(absMax * ratio);
    for (int64_t i = 0; i < g; ++i)
      clamped[i] = std::clamp(w[i], -limit, limit);
    llvm::Expected<IntGrid> grid = intGroupGrid(clamped, options.grid.bits, options.grid.symmetric);
    if (!grid)
      return grid.takeError();
    for (int64_t i = 0; i < g; ++i)
      out[i] = intValue(intCode(clamped[i], *grid), *grid) - w[i];
    return llvm::Error::success();
  };
  for (int64_t row = 0; row < outFeatures; ++row) {
    float *w = weight.data() + row * n;
    for (int64_t col = 0; col < n; col += g)
      if (llvm::Error error = residual(w + col, 1.0, d.data() + col))
        return fail("row " + llvm::Twine(row) + ": " + llvm::toString(std::move(error)));
    for (int64_t i = 0; i < n; ++i) {
      double sum = 0;
      const double *h = hessian.data() + i * n;
      for (int64_t j = 0; j < n; ++j)
        sum += h[j] * d[j];
      hd[i] = sum;
    }
    for (int64_t col = 0; col < n; col += g, ++groups) {
      double bestChange = 0, bestRatio = 1.0;
      for (int s = 1; s <= options.steps; ++s) {
        double ratio = 1.0 - (1.0 - options.minRatio) * s / options.steps;
        if (llvm::Error error = residual(w + col, ratio, candidate.data()))
          return fail("row " + llvm::Twine(row) + ": " + llvm::toString(std::move(error)));
        double change = 0;
        for (int64_t i = 0; i < g; ++i)
          delta[i] = candidate[i] - d[col + i];
        for (int64_t i = 0; i < g; ++i) {
          if (delta[i] == 0)
            continue;
          const double *h = hessian.data() + (col + i) * n + col;
          double dot = 0;
          for (int64_t j = 0; j < g; ++j)
            dot += h[j] * delta[j];
          change += delta[i] * (2 * hd[col + i] + dot);
        }
        if (change < bestChange) {
          bestChange = change;
          bestRatio = ratio;
        }
      }
      if (bestRatio < 1.0) {
        if (llvm::Error error = residual(w + col, bestRatio, candidate.data()))
          return fail("row " + llvm::Twine(row) + ": " + llvm::toString(std::move(error)));
        for (int64_t i = 0; i < g; ++i) {
          delta[i] = candidate[i] - d[col + i];
          d[col + i] = candidate[i];
        }
        // hd += H[:, group] delta (H symmetric: rows of the group's columns).
        for (int64_t i = 0; i < g; ++i) {
          if (delta[i] == 0)
            continue;
          const double *h = hessian.data() + (col + i) * n;
          for (int64_t j = 0; j < n; ++j)
            hd[j] += h[j] * delta[i];
        }
        float absMax = 0;
        for (int64_t i = 0; i < g; ++i)
          absMax = std::max(absMax, std::fabs(w[col + i]));
        float limit = static_cast<float>(absMax * bestRatio);
        for (int64_t i = 0; i < g; ++i)
          w[col + i] = std::clamp(w[col + i], -limit, limit);
      }
      ratioSum += bestRatio;
    }
  }
  return groups ? ratioSum / groups : 1.0;
}
