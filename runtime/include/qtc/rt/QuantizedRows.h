//===- QuantizedRows.h - Activation rows quantized per token --------------===//
//
// The one definition of dynamic per-token activation quantization
// (runtime/schema/artifact.fbs, ActivationQuant) and of the slot layout that
// holds its result, shared by the host backend, the kernel generators and
// the kernel checks:
//
//   s[t]  = max_k |x[t, k]| / G (1 for a zero row), G = 127 (int8) or 448 (e4m3)
//   q[t,k] = int8: round_half_even(x[t, k] / s[t]) clamped to [-127, 127]
//            e4m3: the OCP E4M3 byte of x[t, k] / s[t] (nearest even, saturating)
//
// The quotient is an f32 division. A quantized slot of `width` holds, for a
// call of `rows` rows, the codes row-major ([rows, width] bytes from byte 0)
// and then the f32 scales from byte scalesOffset(rows, width), 16-byte
// aligned so that kernels read the codes and the scales with wide loads.
//
//===----------------------------------------------------------------------===//
#ifndef QTC_RT_QUANTIZEDROWS_H
#define QTC_RT_QUANTIZEDROWS_H

#include "qtc/rt/Float8.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>

namespace qtc::rt::quantized_rows {

// Where row 0's scale is, in bytes from the slot's start.
inline size_t scalesOffset(int rows, int width) {
  return (static_cast<size_t>(rows) * width + 15) / 16 * 16;
}

// Bytes a quantized slot of `width` needs for `rows` rows.
inline size_t slotBytes(int rows, int width) {
  return scalesOffset(rows, width) + static_cast<size_t>(rows) * sizeof(float);
}

// The grid's largest magnitude: 127 for int8 codes, 448 for e4m3.
inline float gridMax(bool fp8) { return fp8 ? 448.0f : 127.0f; }

inline float rowScale(float absMax, bool fp8) {
  return absMax > 0.0f ? absMax / gridMax(fp8) : 1.0f;
}

// The code of x / scale (an int8 value, or an e4m3 byte) as its byte.
inline uint8_t code(float x, float scale, bool fp8) {
  float v = x / scale;
  if (fp8)
    return floatToE4M3(v);
  return static_cast<uint8_t>(static_cast<int8_t>(std::clamp(std::nearbyint(v), -127.0f, 127.0f)));
}

// The value a code stands for, before its row scale.
inline float decode(uint8_t c, bool fp8) {
  return fp8 ? e4m3ToFloat(c) : static_cast<float>(static_cast<int8_t>(c));
}

// Quantizes `rows` rows of `width` values, x(t, k) giving each as a float
// (the host's f32 rows, or the GPU's f16 rows widened), into `slot`'s layout.
template <typename Load>
void quantize(Load x, int rows, int width, bool fp8, uint8_t *slot) {
  float *scales = reinterpret_cast<float *>(slot + scalesOffset(rows, width));
  for (int t = 0; t < rows; ++t) {
    float absMax = 0.0f;
    for (int k = 0; k < width; ++k)
      absMax = std::max(absMax, std::fabs(x(t, k)));
    const float s = rowScale(absMax, fp8);
    scales[t] = s;
    uint8_t *codes = slot + static_cast<size_t>(t) * width;
    for (int k = 0; k < width; ++k)
      codes[k] = code(x(t, k), s, fp8);
  }
}

} // namespace qtc::rt::quantized_rows

#endif // QTC_RT_QUANTIZEDROWS_H
