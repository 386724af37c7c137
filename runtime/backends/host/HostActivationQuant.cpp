//===- HostActivationQuant.cpp - Per-token activation quantization --------===//

#include "HostActivationQuant.h"

#include "qtc/rt/Float8.h"

#include <algorithm>
#include <cmath>

namespace qtc::rt::host {

void roundRowsToActivationGrid(fb::ActivationQuant mode, const float *x, int rows,
                               int width, float *out) {
  const bool fp8 = mode == fb::ActivationQuant::Fp8PerToken;
  const float gridMax = fp8 ? 448.0f : 127.0f;
  for (int t = 0; t < rows; ++t) {
    const float *row = x + static_cast<long>(t) * width;
    float *dst = out + static_cast<long>(t) * width;
    float absMax = 0.0f;
    for (int k = 0; k < width; ++k)
      absMax = std::max(absMax, std::fabs(row[k]));
    const float scale = absMax > 0.0f ? absMax / gridMax : 1.0f;
    for (int k = 0; k < width; ++k) {
      float v = row[k] / scale;
      float q = fp8 ? roundToE4M3(v) : std::clamp(std::nearbyint(v), -127.0f, 127.0f);
      dst[k] = q * scale;
    }
  }
}

} // namespace qtc::rt::host
