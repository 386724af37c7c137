//===- RoundToNearest.cpp - Group-wise round-to-nearest quantizers --------===//

#include "qtc/Quant/RoundToNearest.h"

#include "qtc/Quant/Float16.h"

#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <cmath>

using namespace qtc::quant;

namespace {

llvm::Error fail(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// Stores `scale` as f16 rounded as `rounding` says; fails when f16 cannot
/// hold it.
llvm::Expected<Int4Grid> gridWithScale(double scale, int zero,
                                       llvm::RoundingMode rounding) {
  Int4Grid grid;
  grid.scaleBits = toHalfBits(scale, rounding);
  grid.scale = fromHalfBits(grid.scaleBits);
  grid.zero = zero;
  if (!std::isfinite(grid.scale))
    return fail(llvm::formatv("int4 scale {0:e} exceeds the f16 range", scale));
  return grid;
}

llvm::Expected<Int4Grid> symmetricGrid(llvm::ArrayRef<float> group) {
  double absMax = 0.0;
  for (float value : group)
    absMax = std::max(absMax, std::fabs(static_cast<double>(value)));
  if (absMax == 0.0)
    return Int4Grid{0, 0.0, kInt4SymmetricZero};
  // Rounding the scale up keeps absmax / scale within the 7 steps either side.
  return gridWithScale(absMax / (kInt4MaxCode - kInt4SymmetricZero),
                       kInt4SymmetricZero,
                       llvm::RoundingMode::TowardPositive);
}

llvm::Expected<Int4Grid> asymmetricGrid(llvm::ArrayRef<float> group) {
  auto [minIt, maxIt] = std::minmax_element(group.begin(), group.end());
  double lo = *minIt, hi = *maxIt;
  if (lo == hi) {
    // A constant group c: scale |c| with code 1 (c > 0) or 14 under zero 15
    // (c < 0) reproduces c exactly whenever f16 holds it.
    if (lo == 0.0)
      return Int4Grid{0, 0.0, 0};
    return gridWithScale(std::fabs(lo), lo > 0.0 ? 0 : kInt4MaxCode,
                         llvm::RoundingMode::NearestTiesToEven);
  }
  lo = std::min(lo, 0.0);
  hi = std::max(hi, 0.0);
  // Rounding the scale up keeps the widened range within 15 steps.
  llvm::Expected<Int4Grid> grid = gridWithScale(
      (hi - lo) / kInt4MaxCode, 0, llvm::RoundingMode::TowardPositive);
  if (grid)
    grid->zero = static_cast<int>(
        std::clamp(std::nearbyint(-lo / grid->scale), 0.0,
                   static_cast<double>(kInt4MaxCode)));
  return grid;
}

} // namespace

llvm::Expected<Int4Grid> qtc::quant::int4GroupGrid(llvm::ArrayRef<float> group,
                                                   bool symmetric) {
  for (float value : group)
    if (!std::isfinite(value))
      return fail("int4 group holds a non-finite value");
  return symmetric ? symmetricGrid(group) : asymmetricGrid(group);
}

// Ties go to even: std::nearbyint's default rounding mode.
uint8_t qtc::quant::int4Code(double value, const Int4Grid &grid) {
  if (grid.scale == 0.0)
    return static_cast<uint8_t>(grid.zero);
  double code = std::nearbyint(value / grid.scale) + grid.zero;
  return static_cast<uint8_t>(
      std::clamp(code, 0.0, static_cast<double>(kInt4MaxCode)));
}

llvm::Expected<Int4GroupWeight>
qtc::quant::quantizeInt4GroupRtn(llvm::ArrayRef<float> weight,
                                 int64_t outFeatures, int64_t inFeatures,
                                 const Int4GroupOptions &options) {
  if (llvm::Error error =
          verifyInt4GroupShape(outFeatures, inFeatures, options.groupSize))
    return std::move(error);
  if (weight.size() != static_cast<size_t>(outFeatures) * inFeatures)
    return fail("weight holds " + llvm::Twine(weight.size()) +
                " values, expected " + llvm::Twine(outFeatures) + "x" +
                llvm::Twine(inFeatures));
  for (size_t i = 0; i < weight.size(); ++i)
    if (!std::isfinite(weight[i]))
      return fail("weight [" + llvm::Twine(i / inFeatures) + ", " +
                  llvm::Twine(i % inFeatures) + "] is not finite");

  Int4GroupWeight result;
  result.outFeatures = outFeatures;
  result.inFeatures = inFeatures;
  result.groupSize = options.groupSize;
  result.symmetric = options.symmetric;
  result.data.resize(static_cast<size_t>(outFeatures) * inFeatures / 2);
  result.scales.resize(static_cast<size_t>(outFeatures) *
                       result.groupsPerRow());
  if (!options.symmetric)
    result.zeros.resize(result.scales.size());

  std::vector<uint8_t> codes(inFeatures);
  for (int64_t row = 0; row < outFeatures; ++row) {
    llvm::ArrayRef<float> rowValues = weight.slice(row * inFeatures, inFeatures);
    for (int64_t group = 0; group < result.groupsPerRow(); ++group) {
      llvm::ArrayRef<float> values =
          rowValues.slice(group * options.groupSize, options.groupSize);
      llvm::Expected<Int4Grid> grid = int4GroupGrid(values, options.symmetric);
      if (!grid)
        return fail("row " + llvm::Twine(row) + ", group " +
                    llvm::Twine(group) + ": " +
                    llvm::toString(grid.takeError()));
      int64_t slot = row * result.groupsPerRow() + group;
      result.scales[slot] = grid->scaleBits;
      if (!options.symmetric)
        result.zeros[slot] = toHalfBits(grid->zero);
      for (int64_t k = 0; k < options.groupSize; ++k)
        codes[group * options.groupSize + k] = int4Code(values[k], *grid);
    }
    packInt4(codes, llvm::MutableArrayRef<uint8_t>(result.data)
                        .slice(row * (inFeatures / 2), inFeatures / 2));
  }
  return result;
}
