//===- IntGroup.cpp - Integer weights with one grid per group -------------===//

#include "qtc/Quant/IntGroup.h"

#include "qtc/Quant/Float16.h"

#include "TargetClones.h"

#include <algorithm>

using namespace qtc::quant;

float IntGroupWeight::scale(int64_t row, int64_t group) const {
  return fromHalfBits(scales[row * groupsPerRow() + group]);
}

float IntGroupWeight::zero(int64_t row, int64_t group) const {
  if (symmetric)
    return static_cast<float>(intSymmetricZero(bits));
  return fromHalfBits(zeros[row * groupsPerRow() + group]);
}

static llvm::Error fail(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

llvm::Error qtc::quant::verifyIntGroupShape(int64_t outFeatures,
                                            int64_t inFeatures,
                                            int64_t groupSize, int bits) {
  if (!isSupportedIntBits(bits))
    return fail("integer weights of " + llvm::Twine(bits) +
                " bits are not supported (3, 4 or 8)");
  if (outFeatures <= 0 || inFeatures <= 0)
    return fail("group-quantized weight needs a positive shape, got " +
                llvm::Twine(outFeatures) + "x" + llvm::Twine(inFeatures));
  if (groupSize <= 0 || inFeatures % groupSize != 0)
    return fail("group size " + llvm::Twine(groupSize) +
                " must be positive and divide the row length " +
                llvm::Twine(inFeatures));
  return llvm::Error::success();
}

llvm::Error qtc::quant::verifyIntGroup(const IntGroupWeight &weight) {
  if (llvm::Error error = verifyIntGroupShape(weight.outFeatures, weight.inFeatures,
                                              weight.groupSize, weight.bits))
    return error;
  auto outFeatures = static_cast<size_t>(weight.outFeatures);
  size_t groups = outFeatures * weight.groupsPerRow();
  if (weight.codes.size() != outFeatures * weight.inFeatures)
    return fail("group-quantized weight holds " + llvm::Twine(weight.codes.size()) +
                " codes, expected " + llvm::Twine(outFeatures * weight.inFeatures));
  if (weight.scales.size() != groups)
    return fail("group-quantized weight holds " + llvm::Twine(weight.scales.size()) +
                " scales, expected " + llvm::Twine(groups));
  size_t expectedZeros = weight.symmetric ? 0 : groups;
  if (weight.zeros.size() != expectedZeros)
    return fail("group-quantized weight holds " + llvm::Twine(weight.zeros.size()) +
                " zero points, expected " + llvm::Twine(expectedZeros));
  int maxCode = intMaxCode(weight.bits);
  // The largest code first (a reduction that vectorizes), the offender's
  // place only when there is one.
  uint8_t largest = 0;
  for (uint8_t c : weight.codes)
    largest = std::max(largest, c);
  if (largest <= maxCode)
    return llvm::Error::success();
  for (size_t i = 0; i < weight.codes.size(); ++i)
    if (weight.codes[i] > maxCode)
      return fail("code " + llvm::Twine(int(weight.codes[i])) + " at [" +
                  llvm::Twine(i / weight.inFeatures) + ", " +
                  llvm::Twine(i % weight.inFeatures) + "] exceeds " +
                  llvm::Twine(weight.bits) + " bits");
  return llvm::Error::success();
}

QTC_QUANT_TARGET_CLONES void qtc::quant::packInt4(llvm::ArrayRef<uint8_t> codes,
                          llvm::MutableArrayRef<uint8_t> packed) {
  for (size_t j = 0; j < packed.size(); ++j)
    packed[j] = static_cast<uint8_t>((codes[2 * j] & 0x0F) |
                                     (codes[2 * j + 1] << 4));
}

void qtc::quant::unpackInt4(llvm::ArrayRef<uint8_t> packed,
                            llvm::MutableArrayRef<uint8_t> codes) {
  for (size_t j = 0; j < packed.size(); ++j) {
    codes[2 * j] = packed[j] & 0x0F;
    codes[2 * j + 1] = packed[j] >> 4;
  }
}

namespace {

QTC_QUANT_TARGET_CLONES void dequantizeGroup(const uint8_t *codes, int64_t n, float zero,
                                             float scale, float *out) {
  for (int64_t k = 0; k < n; ++k)
    out[k] = (static_cast<float>(codes[k]) - zero) * scale;
}

} // namespace

llvm::Expected<std::vector<float>>
qtc::quant::dequantizeIntGroup(const IntGroupWeight &weight) {
  if (llvm::Error error = verifyIntGroup(weight))
    return std::move(error);
  std::vector<float> dense(static_cast<size_t>(weight.outFeatures) *
                           weight.inFeatures);
  for (int64_t row = 0; row < weight.outFeatures; ++row) {
    for (int64_t group = 0; group < weight.groupsPerRow(); ++group) {
      size_t at = static_cast<size_t>(row) * weight.inFeatures + group * weight.groupSize;
      dequantizeGroup(weight.codes.data() + at, weight.groupSize, weight.zero(row, group),
                      weight.scale(row, group), dense.data() + at);
    }
  }
  return dense;
}
