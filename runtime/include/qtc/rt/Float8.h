//===- Float8.h - OCP FP8 E4M3 (e4m3fn) conversions -----------------------===//
//
// The KV cache's fp8 format: 1 sign, 4 exponent (bias 7), 3 mantissa bits,
// no infinities, 0x7f / 0xff are NaN, largest finite 448, subnormals down to
// 2^-9. Encoding rounds to nearest even and saturates to +-448 like the GPU's
// `cvt.rn.satfinite.e4m3x2.f32` (sm_89+), so the host backend stores the
// values the CUDA kernels store. Hand-written for the same reason as
// Float16.h: C++17 has no 8-bit float type.
//
//===----------------------------------------------------------------------===//
#ifndef QTC_RT_FLOAT8_H
#define QTC_RT_FLOAT8_H

#include <cmath>
#include <cstdint>

namespace qtc::rt {

inline float e4m3ToFloat(uint8_t code) {
  const float sign = (code & 0x80u) ? -1.0f : 1.0f;
  const int exponent = (code >> 3) & 0xf;
  const int mantissa = code & 0x7;
  if (exponent == 15 && mantissa == 7)
    return std::nanf("");
  if (exponent == 0) // subnormal: mantissa * 2^-9
    return sign * std::ldexp(static_cast<float>(mantissa), -9);
  return sign * std::ldexp(1.0f + static_cast<float>(mantissa) / 8.0f, exponent - 7);
}

inline uint8_t floatToE4M3(float value) {
  const uint8_t sign = std::signbit(value) ? 0x80u : 0x00u;
  if (std::isnan(value))
    return static_cast<uint8_t>(sign | 0x7fu);
  const float magnitude = std::fabs(value);
  if (magnitude >= 448.0f) // saturate, infinities included
    return static_cast<uint8_t>(sign | 0x7eu);
  if (magnitude < 0.015625f) { // below 2^-6: multiples of 2^-9; 8 is 2^-6 itself
    const float steps = std::nearbyint(magnitude * 512.0f);
    return static_cast<uint8_t>(sign | static_cast<uint8_t>(steps));
  }
  int e = 0;
  std::frexp(magnitude, &e); // magnitude in [2^(e-1), 2^e)
  const int exponent = e - 1; // -6 .. 8
  // 8 + mantissa, rounded to nearest even; 16 carries into the exponent.
  const float scaled = std::nearbyint(std::ldexp(magnitude, 3 - exponent));
  const int code = ((exponent + 7) << 3) + static_cast<int>(scaled) - 8;
  return static_cast<uint8_t>(sign | (code > 0x7e ? 0x7e : code));
}

// The value `f` takes after a round trip through e4m3.
inline float roundToE4M3(float f) { return e4m3ToFloat(floatToE4M3(f)); }

} // namespace qtc::rt

#endif // QTC_RT_FLOAT8_H
