//===- RopeFrequencies.cpp - RoPE frequencies and their parameters --------===//

#include "RopeFrequencies.h"

#include "llvm/ADT/APFloat.h"

#include <cmath>

using namespace qtc;

namespace {

constexpr double kPi = 3.14159265358979323846;

bool representableIn(const llvm::fltSemantics &semantics, double value) {
  llvm::APFloat narrow(value);
  bool losesInfo = false;
  narrow.convert(semantics, llvm::APFloat::rmNearestTiesToEven, &losesInfo);
  narrow.convert(llvm::APFloat::IEEEdouble(),
                 llvm::APFloat::rmNearestTiesToEven, &losesInfo);
  double back = narrow.convertToDouble();
  return std::fabs(back - value) <= 1e-9 * std::fabs(value);
}

// Relative precision the frequencies were stored with: exporters keep them
// in bf16, f16 or f32 (computed in f32 at best).
double storagePrecision(llvm::ArrayRef<double> frequencies) {
  auto all = [&](const llvm::fltSemantics &semantics) {
    for (double f : frequencies)
      if (!representableIn(semantics, f))
        return false;
    return true;
  };
  if (all(llvm::APFloat::BFloat()))
    return std::ldexp(1.0, -8);
  if (all(llvm::APFloat::IEEEhalf()))
    return std::ldexp(1.0, -10);
  return std::ldexp(1.0, -20);
}

bool closeRelative(double expected, double actual, double tolerance) {
  return std::fabs(expected - actual) <= tolerance * std::fabs(expected);
}

double roundToSignificantDigits(double value, int digits) {
  double magnitude = std::pow(10.0, digits - 1 - std::floor(std::log10(value)));
  return std::round(value * magnitude) / magnitude;
}

} // namespace

std::vector<double> qtc::ropeFrequencies(double theta,
                                         const RopeScalingConfig &scaling,
                                         int64_t headDim) {
  std::vector<double> frequencies;
  for (int64_t i = 0; i < headDim / 2; ++i)
    frequencies.push_back(1.0 / std::pow(theta, double(2 * i) / headDim));

  switch (scaling.kind) {
  case RopeScalingConfig::Kind::None:
    break;
  case RopeScalingConfig::Kind::Linear:
    for (double &f : frequencies)
      f /= scaling.factor;
    break;
  case RopeScalingConfig::Kind::Llama3: {
    // transformers' _compute_llama3_parameters.
    double original = scaling.originalMaxPositions;
    double lowWavelength = original / scaling.lowFreqFactor;
    double highWavelength = original / scaling.highFreqFactor;
    for (double &f : frequencies) {
      double wavelength = 2 * kPi / f;
      if (wavelength > lowWavelength) {
        f /= scaling.factor;
      } else if (wavelength >= highWavelength) {
        double smooth = (original / wavelength - scaling.lowFreqFactor) /
                        (scaling.highFreqFactor - scaling.lowFreqFactor);
        f = (1 - smooth) * f / scaling.factor + smooth * f;
      }
    }
    break;
  }
  }
  return frequencies;
}

llvm::Expected<std::vector<double>>
qtc::frequenciesFromTables(const HostTensor &cos, const HostTensor &sin,
                           int64_t headDim, int64_t positions) {
  auto checkShape = [&](const HostTensor &table,
                        const char *name) -> llvm::Error {
    size_t rank = table.shape.size();
    bool ok = rank >= 2 && table.shape[rank - 2] == positions &&
              table.shape[rank - 1] == headDim &&
              table.numElements() == positions * headDim;
    if (!ok)
      return llvm::createStringError(
          std::string("the RoPE ") + name +
          " table does not have one row of head_dim values per position");
    return llvm::Error::success();
  };
  if (llvm::Error error = checkShape(cos, "cos"))
    return std::move(error);
  if (llvm::Error error = checkShape(sin, "sin"))
    return std::move(error);
  if (positions < 2 || headDim % 2 != 0)
    return llvm::createStringError("RoPE tables are too small to read");

  int64_t half = headDim / 2;
  std::vector<double> frequencies(half);
  for (int64_t i = 0; i < half; ++i)
    frequencies[i] =
        std::atan2(sin.floatAt(headDim + i), cos.floatAt(headDim + i));

  constexpr double kTolerance = 1e-5;
  for (int64_t p = 0; p < positions; ++p)
    for (int64_t j = 0; j < headDim; ++j) {
      double angle = p * frequencies[j % half];
      int64_t at = p * headDim + j;
      if (std::fabs(cos.floatAt(at) - std::cos(angle)) > kTolerance ||
          std::fabs(sin.floatAt(at) - std::sin(angle)) > kTolerance)
        return llvm::createStringError(
            "the RoPE tables are not cos/sin(position * frequency) in the "
            "rotate-half layout (mismatch at position " +
            std::to_string(p) + ", column " + std::to_string(j) + ")");
    }
  return frequencies;
}

llvm::Expected<RopeFit> qtc::fitRopeTheta(llvm::ArrayRef<double> frequencies,
                                          int64_t headDim) {
  if (frequencies.empty() || !(frequencies.front() > 0.0))
    return llvm::createStringError("RoPE frequencies must be positive");
  double tolerance = storagePrecision(frequencies);
  RopeFit fit;

  // f_0 = theta^0 = 1 unless positions are scaled linearly.
  double first = frequencies.front();
  if (!closeRelative(1.0, first, tolerance)) {
    fit.scaling.kind = RopeScalingConfig::Kind::Linear;
    fit.scaling.factor = static_cast<float>(1.0 / first);
    for (int digits = 1; digits <= 7; ++digits) {
      double factor = roundToSignificantDigits(1.0 / first, digits);
      if (closeRelative(1.0 / factor, first, tolerance)) {
        fit.scaling.factor = static_cast<float>(factor);
        break;
      }
    }
    first = 1.0 / fit.scaling.factor;
    tolerance *= 2;
  }

  // One rotated pair says nothing about theta; use transformers' default.
  if (frequencies.size() == 1) {
    fit.theta = 10000.0f;
    return fit;
  }

  // Least squares on log f_i = -(2i/d) log theta, then the simplest theta
  // that reproduces every frequency.
  double numerator = 0, denominator = 0;
  for (size_t i = 1; i < frequencies.size(); ++i) {
    if (!(frequencies[i] > 0.0))
      return llvm::createStringError("RoPE frequencies must be positive");
    double exponent = double(2 * i) / headDim;
    numerator += -exponent * std::log(frequencies[i] / first);
    denominator += exponent * exponent;
  }
  double estimate = std::exp(numerator / denominator);
  auto reproduces = [&](double theta) {
    for (size_t i = 0; i < frequencies.size(); ++i) {
      double expected = first * std::pow(theta, -double(2 * i) / headDim);
      if (!closeRelative(expected, frequencies[i], tolerance))
        return false;
    }
    return true;
  };
  for (int digits = 1; digits <= 9; ++digits) {
    double theta = roundToSignificantDigits(estimate, digits);
    if (reproduces(theta)) {
      fit.theta = static_cast<float>(theta);
      return fit;
    }
  }
  return llvm::createStringError(
      "the RoPE frequencies follow no theta^(-2i/head_dim) (estimated theta " +
      std::to_string(estimate) +
      "); scaled RoPE such as llama3 needs the model's config.json beside "
      "the ONNX file");
}

bool qtc::frequenciesMatch(llvm::ArrayRef<double> frequencies, double theta,
                           const RopeScalingConfig &scaling, int64_t headDim) {
  std::vector<double> expected = ropeFrequencies(theta, scaling, headDim);
  if (expected.size() != frequencies.size())
    return false;
  // Reference frequencies are computed in f32 by transformers; allow that
  // rounding on top of the storage precision.
  double tolerance = storagePrecision(frequencies) + std::ldexp(1.0, -20);
  for (size_t i = 0; i < expected.size(); ++i)
    if (!closeRelative(expected[i], frequencies[i], tolerance))
      return false;
  return true;
}
