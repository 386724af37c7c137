//===- KvReference.h - Plain quantize-dequantize of a KV group ------------===//
//
// What the integer KV cache stores for one group of values, written the
// plain way from KvPage.h's definition, for tests to compare against.
//
//===----------------------------------------------------------------------===//
#ifndef QTC_TEST_UNIT_RUNTIME_KVREFERENCE_H
#define QTC_TEST_UNIT_RUNTIME_KVREFERENCE_H

#include "qtc/rt/Float16.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace qtc::rt::test {

// Plain quantize-dequantize of one group, as KvPage.h's comment defines it.
inline std::vector<float> referenceGroup(const std::vector<float> &x, int bits, bool symmetric,
                                  float *stepOut) {
  std::vector<float> out(x.size());
  if (symmetric) {
    float amax = 0;
    for (float v : x)
      amax = std::max(amax, std::fabs(v));
    const int qmax = (1 << (bits - 1)) - 1;
    const float s = roundToHalf(amax / qmax);
    for (size_t i = 0; i < x.size(); ++i) {
      float q = s > 0 ? std::nearbyint(x[i] / s) : 0.0f;
      q = std::clamp(q, float(-qmax), float(qmax));
      out[i] = q * s;
    }
    *stepOut = s;
    return out;
  }
  const float lo = *std::min_element(x.begin(), x.end());
  const float hi = *std::max_element(x.begin(), x.end());
  const int qmax = (1 << bits) - 1;
  const float s = roundToHalf((hi - lo) / qmax), z = roundToHalf(lo);
  for (size_t i = 0; i < x.size(); ++i) {
    float q = s > 0 ? std::nearbyint((x[i] - z) / s) : 0.0f;
    q = std::clamp(q, 0.0f, float(qmax));
    out[i] = std::fma(q, s, z);
  }
  *stepOut = s;
  return out;
}

} // namespace qtc::rt::test

#endif // QTC_TEST_UNIT_RUNTIME_KVREFERENCE_H
