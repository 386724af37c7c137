//===- Float16.h - IEEE half and bfloat16 conversions ---------------------===//
//
// Hand-written because C++17 has no portable 16-bit float type (_Float16 is a
// compiler extension) and the runtime must round exactly as the GPU does:
// float -> half and float -> bf16 round to nearest even.
//
//===----------------------------------------------------------------------===//
#ifndef QTC_RT_FLOAT16_H
#define QTC_RT_FLOAT16_H

#include <cstdint>
#include <cstring>

namespace qtc::rt {

inline uint32_t floatBits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof(u));
  return u;
}

inline float bitsToFloat(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof(f));
  return f;
}

inline float halfToFloat(uint16_t h) {
  uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  uint32_t exponent = (h >> 10) & 0x1fu;
  uint32_t mantissa = h & 0x3ffu;
  if (exponent == 0) {
    // Zero or subnormal: mantissa * 2^-24 is exact in float.
    float magnitude = static_cast<float>(mantissa) * 5.9604644775390625e-8f;
    return bitsToFloat(floatBits(magnitude) | sign);
  }
  if (exponent == 31)
    return bitsToFloat(sign | 0x7f800000u | (mantissa << 13));
  return bitsToFloat(sign | ((exponent + 112) << 23) | (mantissa << 13));
}

// Round to nearest even (F. Giesen's float_to_half_fast3_rtne).
inline uint16_t floatToHalf(float value) {
  uint32_t bits = floatBits(value);
  uint32_t sign = bits & 0x80000000u;
  bits ^= sign;
  uint32_t result;
  if (bits >= (143u << 23)) {           // >= 65536 (or inf / nan)
    result = bits > 0x7f800000u ? 0x7e00u : 0x7c00u;
  } else if (bits < (113u << 23)) {     // half subnormal or zero
    // Adding 0.5 aligns the 10 mantissa bits at the bottom; the FPU rounds.
    float shifted = bitsToFloat(bits) + 0.5f;
    result = floatBits(shifted) - floatBits(0.5f);
  } else {
    uint32_t mantissaOdd = (bits >> 13) & 1u;
    bits += (static_cast<uint32_t>(15 - 127) << 23) + 0xfffu;
    bits += mantissaOdd;
    result = bits >> 13;
  }
  return static_cast<uint16_t>(result | (sign >> 16));
}

inline float bf16ToFloat(uint16_t b) {
  return bitsToFloat(static_cast<uint32_t>(b) << 16);
}

inline uint16_t floatToBf16(float value) {
  uint32_t bits = floatBits(value);
  if ((bits & 0x7fffffffu) > 0x7f800000u)
    return static_cast<uint16_t>((bits >> 16) | 0x40u); // quiet nan
  bits += 0x7fffu + ((bits >> 16) & 1u);
  return static_cast<uint16_t>(bits >> 16);
}

// The value `f` takes after a round trip through half.
inline float roundToHalf(float f) { return halfToFloat(floatToHalf(f)); }

} // namespace qtc::rt

#endif // QTC_RT_FLOAT16_H
