//===- GroupSize.h - The quantization group a layer gets --------*- C++ -*-===//
#ifndef QTC_LIB_TRANSFORMS_GROUPSIZE_H
#define QTC_LIB_TRANSFORMS_GROUPSIZE_H

#include "llvm/Support/MathExtras.h"

#include <cstdint>
#include <optional>

namespace qtc {

// The group of a layer with `inFeatures` inputs under a recipe's
// `groupSize`: that size when it divides the inputs, else with
// `smallerGroups` the largest power of two below it that does; nullopt when
// none does. `groupSize` 0 means one group per row: `inFeatures`.
// qtc-quantize-weights and the passes that search scales for it
// (qtc-awq) must agree, so both ask here.
inline std::optional<int64_t> groupForInputs(int64_t inFeatures, int64_t groupSize,
                                             bool smallerGroups) {
  if (groupSize == 0)
    return inFeatures;
  if (groupSize > 0 && inFeatures % groupSize == 0)
    return groupSize;
  if (!smallerGroups)
    return std::nullopt;
  for (int64_t group = static_cast<int64_t>(llvm::PowerOf2Ceil(groupSize)) / 2;
       group >= 2; group /= 2)
    if (inFeatures % group == 0)
      return group;
  return std::nullopt;
}

} // namespace qtc

#endif // QTC_LIB_TRANSFORMS_GROUPSIZE_H
