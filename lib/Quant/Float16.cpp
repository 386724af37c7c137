//===- Float16.cpp - IEEE half-precision storage conversions --------------===//

#include "qtc/Quant/Float16.h"

#include "qtc/rt/Float16.h"

#include "llvm/ADT/APFloat.h"

using namespace qtc::quant;

uint16_t qtc::quant::toHalfBits(double value, llvm::RoundingMode rounding) {
  llvm::APFloat half(value);
  bool losesInfo = false;
  half.convert(llvm::APFloat::IEEEhalf(), rounding, &losesInfo);
  return static_cast<uint16_t>(half.bitcastToAPInt().getZExtValue());
}

// Exact either way; the runtime's bit conversion is the one definition the
// kernels and backends decode with, and far cheaper than APFloat per group.
float qtc::quant::fromHalfBits(uint16_t bits) { return rt::halfToFloat(bits); }
