//===- Float16.h - IEEE half-precision storage conversions ------*- C++ -*-===//
//
// Scales and zero points are stored as f16 bits. These wrap llvm::APFloat so
// the rounding is IEEE-exact and explicit, rather than hand-rolled bit math.
//
//===----------------------------------------------------------------------===//

#ifndef QTC_QUANT_FLOAT16_H
#define QTC_QUANT_FLOAT16_H

#include "llvm/ADT/FloatingPointMode.h"

#include <cstdint>

namespace qtc::quant {

/// The binary16 bits nearest `value` in the direction `rounding` gives.
/// Values beyond the f16 range become infinities (as IEEE conversion does).
uint16_t toHalfBits(double value, llvm::RoundingMode rounding =
                                      llvm::RoundingMode::NearestTiesToEven);

/// The value of binary16 `bits`, exactly.
float fromHalfBits(uint16_t bits);

/// The largest finite f16 value.
inline constexpr double kHalfMax = 65504.0;

} // namespace qtc::quant

#endif // QTC_QUANT_FLOAT16_H
