//===- Int4Group.cpp - The artifact's Int4Group weight layout -------------===//

#include "qtc/Quant/Int4Group.h"

#include "qtc/Quant/Float16.h"

using namespace qtc::quant;

uint8_t Int4GroupWeight::code(int64_t row, int64_t col) const {
  uint8_t byte = data[row * (inFeatures / 2) + col / 2];
  return col % 2 == 0 ? byte & 0x0F : byte >> 4;
}

float Int4GroupWeight::scale(int64_t row, int64_t group) const {
  return fromHalfBits(scales[row * groupsPerRow() + group]);
}

float Int4GroupWeight::zero(int64_t row, int64_t group) const {
  if (symmetric)
    return static_cast<float>(kInt4SymmetricZero);
  return fromHalfBits(zeros[row * groupsPerRow() + group]);
}

static llvm::Error fail(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

llvm::Error qtc::quant::verifyInt4GroupShape(int64_t outFeatures,
                                             int64_t inFeatures,
                                             int64_t groupSize) {
  if (outFeatures <= 0 || inFeatures <= 0)
    return fail("int4 group weight needs a positive shape, got " +
                llvm::Twine(outFeatures) + "x" + llvm::Twine(inFeatures));
  if (inFeatures % 2 != 0)
    return fail("int4 group weight rows pack two codes a byte, so their "
                "length must be even (got " +
                llvm::Twine(inFeatures) + ")");
  if (groupSize <= 0 || inFeatures % groupSize != 0)
    return fail("group size " + llvm::Twine(groupSize) +
                " must be positive and divide the row length " +
                llvm::Twine(inFeatures));
  return llvm::Error::success();
}

llvm::Error qtc::quant::verifyInt4Group(const Int4GroupWeight &weight) {
  if (llvm::Error error = verifyInt4GroupShape(
          weight.outFeatures, weight.inFeatures, weight.groupSize))
    return error;
  auto outFeatures = static_cast<size_t>(weight.outFeatures);
  size_t groups = outFeatures * weight.groupsPerRow();
  if (weight.data.size() != outFeatures * weight.inFeatures / 2)
    return fail("int4 group weight data holds " +
                llvm::Twine(weight.data.size()) + " bytes, expected " +
                llvm::Twine(outFeatures * weight.inFeatures / 2));
  if (weight.scales.size() != groups)
    return fail("int4 group weight holds " + llvm::Twine(weight.scales.size()) +
                " scales, expected " + llvm::Twine(groups));
  size_t expectedZeros = weight.symmetric ? 0 : groups;
  if (weight.zeros.size() != expectedZeros)
    return fail("int4 group weight holds " + llvm::Twine(weight.zeros.size()) +
                " zero points, expected " + llvm::Twine(expectedZeros));
  return llvm::Error::success();
}

void qtc::quant::packInt4(llvm::ArrayRef<uint8_t> codes,
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

llvm::Expected<std::vector<float>>
qtc::quant::dequantizeInt4Group(const Int4GroupWeight &weight) {
  if (llvm::Error error = verifyInt4Group(weight))
    return std::move(error);
  std::vector<float> dense(static_cast<size_t>(weight.outFeatures) *
                           weight.inFeatures);
  for (int64_t row = 0; row < weight.outFeatures; ++row) {
    for (int64_t group = 0; group < weight.groupsPerRow(); ++group) {
      float scale = weight.scale(row, group), zero = weight.zero(row, group);
      int64_t begin = group * weight.groupSize;
      for (int64_t col = begin; col < begin + weight.groupSize; ++col)
        dense[row * weight.inFeatures + col] =
            (static_cast<float>(weight.code(row, col)) - zero) * scale;
    }
  }
  return dense;
}
