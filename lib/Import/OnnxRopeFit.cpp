//===- OnnxRopeFit.cpp - RoPE parameters from measured frequencies --------===//

#include "OnnxRopeFit.h"

#include "llvm/ADT/SmallVector.h"

#include <cmath>

using namespace mlir;
using namespace qtc;

namespace {

double roundToDigits(double value, int digits) {
  double magnitude = std::pow(10.0, digits - 1 - std::floor(std::log10(value)));
  return std::round(value * magnitude) / magnitude;
}

bool allMatch(const RopeFit &fit, ArrayRef<double> f, int64_t headDim,
              const FrequencyMatch &match) {
  for (int64_t i = 0; i < int64_t(f.size()); ++i)
    if (!match(ropeFrequency(fit, headDim, i), f[i]))
      return false;
  return true;
}

/// theta^(-2i/D) / factor for one factor in a few roundings.
FailureOr<RopeFit> fitPlain(ArrayRef<double> f, int64_t headDim,
                            const FrequencyMatch &match) {
  int64_t half = f.size();
  SmallVector<double, 8> factors = {1.0};
  for (int digits = 1; digits <= 6; ++digits)
    factors.push_back(roundToDigits(1.0 / f[0], digits));
  for (double factor : factors) {
    if (!match(1.0 / factor, f[0]))
      continue;
    double num = 0, den = 0;
    for (int64_t i = 1; i < half; ++i) {
      double e = double(2 * i) / headDim;
      num += -e * std::log(f[i] * factor);
      den += e * e;
    }
    double estimate = half > 1 ? std::exp(num / den) : 10000.0;
    for (int digits = 1; digits <= 9; ++digits) {
      RopeFit fit;
      fit.theta = roundToDigits(estimate, digits);
      fit.factor = factor;
      fit.scaling = factor == 1.0 ? RopeFit::Scaling::None : RopeFit::Scaling::Linear;
      if (allMatch(fit, f, headDim, match))
        return fit;
    }
  }
  return failure();
}

/// llama3: the high frequencies as theta gives them, the low ones divided
/// by factor, the ones between interpolated by smooth = (old/wl - low) /
/// (high - low) with wl = 2 pi / f. Scaling old, low and high together
/// changes no frequency, so low is taken as 1 (Llama 3's value).
FailureOr<RopeFit> fitLlama3(ArrayRef<double> f, int64_t headDim,
                             const FrequencyMatch &match) {
  int64_t half = f.size();
  if (half < 3 || !match(1.0, f[0]))
    return failure();
  // Theta from two unscaled frequencies, or from the two lowest (both
  // divided by the factor), whichever pair the bands leave.
  double estimates[] = {std::pow(f[1], -double(headDim) / 2.0),
                        std::pow(f[half - 2] / f[half - 1], double(headDim) / 2.0)};
  for (int thetaDigits = 1; thetaDigits <= 9; ++thetaDigits)
  for (double estimate : estimates) {
    RopeFit fit;
    fit.scaling = RopeFit::Scaling::Llama3;
    fit.theta = roundToDigits(estimate, thetaDigits);
    auto base = [&](int64_t i) {
      return std::pow(fit.theta, -double(2 * i) / headDim);
    };
    double rawFactor = base(half - 1) / f[half - 1];
    if (!(rawFactor > 1.0 + 1e-3))
      continue;
    // The bands: unscaled prefix, divided suffix, interpolated between.
    for (int factorDigits = 1; factorDigits <= 6; ++factorDigits) {
      fit.factor = roundToDigits(rawFactor, factorDigits);
      int64_t firstMid = 0;
      while (firstMid < half && match(base(firstMid), f[firstMid]))
        ++firstMid;
      int64_t firstLow = half;
      while (firstLow > firstMid &&
             match(base(firstLow - 1) / fit.factor, f[firstLow - 1]))
        --firstLow;
      if (firstMid == 0 || firstLow == half)
        continue;
      // smooth = A x + B in x = 1 / wl, with A = old / (high - low) and
      // B = -low / (high - low).
      SmallVector<std::pair<double, double>, 8> points;
      for (int64_t i = firstMid; i < firstLow; ++i) {
        double r = f[i] / base(i);
        double smooth = (r - 1.0 / fit.factor) / (1.0 - 1.0 / fit.factor);
        points.push_back({base(i) / (2 * M_PI), smooth});
      }
      SmallVector<std::pair<double, double>, 4> candidates; // (old, high)
      if (points.size() >= 2) {
        double n = points.size(), sx = 0, sy = 0, sxx = 0, sxy = 0;
        for (auto [x, y] : points) {
          sx += x;
          sy += y;
          sxx += x * x;
          sxy += x * y;
        }
        double a = (n * sxy - sx * sy) / (n * sxx - sx * sx);
        double b = (sy - a * sx) / n;
        if (!(b < 0))
          continue;
        candidates.push_back({-a / b, 1.0 - 1.0 / b});
      } else if (points.size() == 1) {
        auto [x, smooth] = points.front();
        candidates.push_back({(smooth * 3.0 + 1.0) / x, 4.0});
      } else {
        // No frequency between the bands: high 4, old anywhere that puts
        // the last unscaled wavelength below old / 4 and the first divided
        // one above old; the round numbers in that range are tried.
        double lo = 4.0 * 2 * M_PI / base(firstMid - 1);
        double hi = 2 * M_PI / base(firstLow);
        for (int digits = 1; digits <= 6; ++digits) {
          double mid = roundToDigits(std::sqrt(lo * hi), digits);
          if (mid > lo && mid < hi)
            candidates.push_back({mid, 4.0});
        }
      }
      for (auto [old, high] : candidates) {
        if (!(old >= 1) || !(high > 1))
          continue;
        fit.lowFreqFactor = 1.0;
        fit.originalMaxPositions = int64_t(std::llround(old));
        for (int highDigits = 1; highDigits <= 6; ++highDigits) {
          fit.highFreqFactor = roundToDigits(high, highDigits);
          if (fit.highFreqFactor > 1.0 && allMatch(fit, f, headDim, match))
            return fit;
        }
      }
    }
  }
  return failure();
}

} // namespace

double qtc::ropeFrequency(const RopeFit &fit, int64_t headDim, int64_t i) {
  double base = std::pow(fit.theta, -double(2 * i) / headDim);
  switch (fit.scaling) {
  case RopeFit::Scaling::None:
    return base;
  case RopeFit::Scaling::Linear:
    return base / fit.factor;
  case RopeFit::Scaling::Llama3: {
    double old = double(fit.originalMaxPositions);
    double wavelength = 2 * M_PI / base;
    if (wavelength > old / fit.lowFreqFactor)
      return base / fit.factor;
    if (wavelength >= old / fit.highFreqFactor) {
      double smooth = (old / wavelength - fit.lowFreqFactor) /
                      (fit.highFreqFactor - fit.lowFreqFactor);
      return (1 - smooth) * base / fit.factor + smooth * base;
    }
    return base;
  }
  }
  return base;
}

FailureOr<RopeFit> qtc::fitRopeFrequencies(ArrayRef<double> f, int64_t headDim,
                                           const FrequencyMatch &match) {
  if (f.empty())
    return failure();
  FailureOr<RopeFit> plain = fitPlain(f, headDim, match);
  if (succeeded(plain))
    return plain;
  return fitLlama3(f, headDim, match);
}
