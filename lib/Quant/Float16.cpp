//===- Float16.cpp - IEEE half-precision storage conversions --------------===//

#include "qtc/Quant/Float16.h"

#include "llvm/ADT/APFloat.h"

using namespace qtc::quant;

uint16_t qtc::quant::toHalfBits(double value, llvm::RoundingMode rounding) {
  llvm::APFloat half(value);
  bool losesInfo = false;
  half.convert(llvm::APFloat::IEEEhalf(), rounding, &losesInfo);
  return static_cast<uint16_t>(half.bitcastToAPInt().getZExtValue());
}

float qtc::quant::fromHalfBits(uint16_t bits) {
  llvm::APFloat half(llvm::APFloat::IEEEhalf(), llvm::APInt(16, bits));
  bool losesInfo = false;
  half.convert(llvm::APFloat::IEEEsingle(),
               llvm::RoundingMode::NearestTiesToEven, &losesInfo);
  return half.convertToFloat();
}
