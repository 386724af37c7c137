//===- RoundToNearest.cpp - Group-wise round-to-nearest quantizers --------===//

#include "qtc/Quant/RoundToNearest.h"

#include "qtc/Quant/Float16.h"

#include "TargetClones.h"

#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <cmath>

using namespace qtc::quant;

// The per-weight loops below vectorize in their AVX2 clones (TargetClones.h);
// their inputs are finite (checked once per weight).

namespace {

constexpr int kLanes = 8;

QTC_QUANT_TARGET_CLONES float absMaxOf(const float *v, int64_t n) {
  float lanes[kLanes] = {};
  int64_t k = 0;
  for (; k + kLanes <= n; k += kLanes)
    for (int j = 0; j < kLanes; ++j)
      lanes[j] = std::max(lanes[j], std::fabs(v[k + j]));
  float m = 0.0f;
  for (; k < n; ++k)
    m = std::max(m, std::fabs(v[k]));
  for (float lane : lanes)
    m = std::max(m, lane);
  return m;
}

QTC_QUANT_TARGET_CLONES void minMaxOf(const float *v, int64_t n, float &lo, float &hi) {
  float mins[kLanes], maxs[kLanes];
  for (int j = 0; j < kLanes; ++j)
    mins[j] = maxs[j] = v[0];
  int64_t k = 0;
  for (; k + kLanes <= n; k += kLanes)
    for (int j = 0; j < kLanes; ++j) {
      mins[j] = std::min(mins[j], v[k + j]);
      maxs[j] = std::max(maxs[j], v[k + j]);
    }
  lo = hi = v[0];
  for (; k < n; ++k) {
    lo = std::min(lo, v[k]);
    hi = std::max(hi, v[k]);
  }
  for (int j = 0; j < kLanes; ++j) {
    lo = std::min(lo, mins[j]);
    hi = std::max(hi, maxs[j]);
  }
}

// intCode over a group: the same double division and ties-to-even rounding.
QTC_QUANT_TARGET_CLONES void encodeGroup(const float *v, int64_t n, double scale, int zero,
                                  int maxCode, uint8_t *codes) {
  const double top = maxCode;
  for (int64_t k = 0; k < n; ++k) {
    double code = std::nearbyint(v[k] / scale) + zero;
    codes[k] = static_cast<uint8_t>(std::clamp(code, 0.0, top));
  }
}

llvm::Error fail(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// Stores `scale` as f16 rounded as `rounding` says; fails when f16 cannot
/// hold it.
llvm::Expected<IntGrid> gridWithScale(double scale, int zero, int maxCode,
                                      llvm::RoundingMode rounding) {
  IntGrid grid;
  grid.maxCode = maxCode;
  grid.scaleBits = toHalfBits(scale, rounding);
  grid.scale = fromHalfBits(grid.scaleBits);
  grid.zero = zero;
  if (!std::isfinite(grid.scale))
    return fail(llvm::formatv("scale {0:e} exceeds the f16 range", scale));
  return grid;
}

llvm::Expected<IntGrid> symmetricGrid(llvm::ArrayRef<float> group, int bits) {
  double absMax = absMaxOf(group.data(), static_cast<int64_t>(group.size()));
  int zero = intSymmetricZero(bits), maxCode = intMaxCode(bits);
  if (absMax == 0.0)
    return IntGrid{0, 0.0, zero, maxCode};
  // Rounding the scale up keeps absmax / scale within the maxCode - zero
  // steps either side.
  return gridWithScale(absMax / (maxCode - zero), zero, maxCode,
                       llvm::RoundingMode::TowardPositive);
}

llvm::Expected<IntGrid> asymmetricGrid(llvm::ArrayRef<float> group, int bits) {
  float loValue = 0.0f, hiValue = 0.0f; // an empty group is a zero one
  if (!group.empty())
    minMaxOf(group.data(), static_cast<int64_t>(group.size()), loValue, hiValue);
  double lo = loValue, hi = hiValue;
  int maxCode = intMaxCode(bits);
  if (lo == hi) {
    // A constant group c: scale |c| with code 1 (c > 0) or maxCode - 1 under
    // zero maxCode (c < 0) reproduces c exactly whenever f16 holds it.
    if (lo == 0.0)
      return IntGrid{0, 0.0, 0, maxCode};
    return gridWithScale(std::fabs(lo), lo > 0.0 ? 0 : maxCode, maxCode,
                         llvm::RoundingMode::NearestTiesToEven);
  }
  lo = std::min(lo, 0.0);
  hi = std::max(hi, 0.0);
  // Rounding the scale up keeps the widened range within maxCode steps.
  llvm::Expected<IntGrid> grid = gridWithScale(
      (hi - lo) / maxCode, 0, maxCode, llvm::RoundingMode::TowardPositive);
  if (grid)
    grid->zero = static_cast<int>(
        std::clamp(std::nearbyint(-lo / grid->scale), 0.0,
                   static_cast<double>(maxCode)));
  return grid;
}

// The grid of a group of finite values.
llvm::Expected<IntGrid> finiteGroupGrid(llvm::ArrayRef<float> group, int bits,
                                        bool symmetric) {
  return symmetric ? symmetricGrid(group, bits) : asymmetricGrid(group, bits);
}

} // namespace

llvm::Expected<IntGrid> qtc::quant::intGroupGrid(llvm::ArrayRef<float> group,
                                                 int bits, bool symmetric) {
  if (!isSupportedIntBits(bits))
    return fail("integer weights of " + llvm::Twine(bits) +
                " bits are not supported (3, 4 or 8)");
  for (float value : group)
    if (!std::isfinite(value))
      return fail("group holds a non-finite value");
  return finiteGroupGrid(group, bits, symmetric);
}

// Ties go to even: std::nearbyint's default rounding mode.
uint8_t qtc::quant::intCode(double value, const IntGrid &grid) {
  if (grid.scale == 0.0)
    return static_cast<uint8_t>(grid.zero);
  double code = std::nearbyint(value / grid.scale) + grid.zero;
  return static_cast<uint8_t>(
      std::clamp(code, 0.0, static_cast<double>(grid.maxCode)));
}

llvm::Expected<IntGroupWeight>
qtc::quant::quantizeIntGroupRtn(llvm::ArrayRef<float> weight,
                                 int64_t outFeatures, int64_t inFeatures,
                                 const IntGroupOptions &options) {
  if (llvm::Error error = verifyIntGroupShape(outFeatures, inFeatures,
                                              options.groupSize, options.bits))
    return std::move(error);
  if (weight.size() != static_cast<size_t>(outFeatures) * inFeatures)
    return fail("weight holds " + llvm::Twine(weight.size()) +
                " values, expected " + llvm::Twine(outFeatures) + "x" +
                llvm::Twine(inFeatures));
  for (size_t i = 0; i < weight.size(); ++i)
    if (!std::isfinite(weight[i]))
      return fail("weight [" + llvm::Twine(i / inFeatures) + ", " +
                  llvm::Twine(i % inFeatures) + "] is not finite");

  IntGroupWeight result;
  result.outFeatures = outFeatures;
  result.inFeatures = inFeatures;
  result.groupSize = options.groupSize;
  result.bits = options.bits;
  result.symmetric = options.symmetric;
  result.codes.resize(static_cast<size_t>(outFeatures) * inFeatures);
  result.scales.resize(static_cast<size_t>(outFeatures) *
                       result.groupsPerRow());
  if (!options.symmetric)
    result.zeros.resize(result.scales.size());

  for (int64_t row = 0; row < outFeatures; ++row) {
    uint8_t *codes = result.codes.data() + row * inFeatures;
    llvm::ArrayRef<float> rowValues = weight.slice(row * inFeatures, inFeatures);
    for (int64_t group = 0; group < result.groupsPerRow(); ++group) {
      llvm::ArrayRef<float> values =
          rowValues.slice(group * options.groupSize, options.groupSize);
      llvm::Expected<IntGrid> grid =
          finiteGroupGrid(values, options.bits, options.symmetric);
      if (!grid)
        return fail("row " + llvm::Twine(row) + ", group " +
                    llvm::Twine(group) + ": " +
                    llvm::toString(grid.takeError()));
      int64_t slot = row * result.groupsPerRow() + group;
      result.scales[slot] = grid->scaleBits;
      if (!options.symmetric)
        result.zeros[slot] = toHalfBits(grid->zero);
      uint8_t *groupCodes = codes + group * options.groupSize;
      if (grid->scale == 0.0)
        std::fill_n(groupCodes, options.groupSize, static_cast<uint8_t>(grid->zero));
      else
        encodeGroup(values.data(), options.groupSize, grid->scale, grid->zero,
                    grid->maxCode, groupCodes);
    }
  }
  return result;
}
