//===- Fp8Channel.cpp - FP8 E4M3 weights with one scale per row -----------===//

#include "qtc/Quant/Fp8Channel.h"

#include "qtc/rt/Float8.h"

#include <algorithm>
#include <cmath>

using namespace qtc::quant;

namespace {

llvm::Error fail(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

bool isNanCode(uint8_t code) { return (code & 0x7f) == 0x7f; }

} // namespace

llvm::Expected<Fp8ChannelWeight>
qtc::quant::quantizeFp8ChannelRtn(llvm::ArrayRef<float> weight,
                                  int64_t outFeatures, int64_t inFeatures) {
  if (outFeatures <= 0 || inFeatures <= 0)
    return fail("fp8 weight needs a positive shape, got " +
                llvm::Twine(outFeatures) + "x" + llvm::Twine(inFeatures));
  if (weight.size() != static_cast<size_t>(outFeatures) * inFeatures)
    return fail("weight holds " + llvm::Twine(weight.size()) +
                " values, expected " + llvm::Twine(outFeatures) + "x" +
                llvm::Twine(inFeatures));
  Fp8ChannelWeight result;
  result.outFeatures = outFeatures;
  result.inFeatures = inFeatures;
  result.codes.resize(weight.size());
  result.scales.resize(outFeatures);
  for (int64_t row = 0; row < outFeatures; ++row) {
    llvm::ArrayRef<float> values = weight.slice(row * inFeatures, inFeatures);
    float absMax = 0.0f;
    for (int64_t k = 0; k < inFeatures; ++k) {
      if (!std::isfinite(values[k]))
        return fail("weight [" + llvm::Twine(row) + ", " + llvm::Twine(k) +
                    "] is not finite");
      absMax = std::max(absMax, std::fabs(values[k]));
    }
    // The scale is stored in f32; dividing by it is the rounding the
    // kernels undo by multiplying, so both use this one float.
    float scale = absMax > 0.0f ? absMax / kE4M3Max : 1.0f;
    if (!std::isfinite(scale) || scale == 0.0f)
      return fail("row " + llvm::Twine(row) + ": its scale underflows f32");
    result.scales[row] = scale;
    for (int64_t k = 0; k < inFeatures; ++k)
      result.codes[row * inFeatures + k] = rt::floatToE4M3(values[k] / scale);
  }
  return result;
}

llvm::Error qtc::quant::verifyFp8Channel(const Fp8ChannelWeight &weight) {
  if (weight.outFeatures <= 0 || weight.inFeatures <= 0)
    return fail("fp8 weight needs a positive shape, got " +
                llvm::Twine(weight.outFeatures) + "x" + llvm::Twine(weight.inFeatures));
  size_t size = static_cast<size_t>(weight.outFeatures) * weight.inFeatures;
  if (weight.codes.size() != size || weight.scales.size() != size_t(weight.outFeatures))
    return fail("fp8 weight holds " + llvm::Twine(weight.codes.size()) + " codes and " +
                llvm::Twine(weight.scales.size()) + " scales, expected " +
                llvm::Twine(size) + " and " + llvm::Twine(weight.outFeatures));
  for (size_t i = 0; i < size; ++i)
    if (isNanCode(weight.codes[i]))
      return fail("fp8 weight code at [" + llvm::Twine(i / weight.inFeatures) + ", " +
                  llvm::Twine(i % weight.inFeatures) + "] is NaN");
  return llvm::Error::success();
}

llvm::Expected<std::vector<float>>
qtc::quant::dequantizeFp8Channel(const Fp8ChannelWeight &weight) {
  if (llvm::Error error = verifyFp8Channel(weight))
    return std::move(error);
  std::vector<float> dense(weight.codes.size());
  for (int64_t row = 0; row < weight.outFeatures; ++row)
    for (int64_t k = 0; k < weight.inFeatures; ++k) {
      size_t at = row * weight.inFeatures + k;
      dense[at] = rt::e4m3ToFloat(weight.codes[at]) * weight.scales[row];
    }
  return dense;
}
