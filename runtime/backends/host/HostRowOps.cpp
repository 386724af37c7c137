//===- HostRowOps.cpp - Row-wise steps of the host backend ----------------===//

#include "HostRowOps.h"

#include <cmath>
#include <cstddef>
#include <cstring>

namespace qtc::rt::host {

void embedding(const float *table, int width, const int32_t *ids, int rows, float *out) {
  for (int t = 0; t < rows; ++t)
    std::memcpy(out + static_cast<size_t>(t) * width,
                table + static_cast<size_t>(ids[t]) * width, sizeof(float) * width);
}

void rmsNorm(const float *x, const float *w, int rows, int width, float eps, float *out) {
  for (int t = 0; t < rows; ++t) {
    const float *xr = x + static_cast<size_t>(t) * width;
    float *yr = out + static_cast<size_t>(t) * width;
    double sumSquares = 0.0;
    for (int i = 0; i < width; ++i)
      sumSquares += static_cast<double>(xr[i]) * xr[i];
    const float inv = static_cast<float>(1.0 / std::sqrt(sumSquares / width + eps));
    for (int i = 0; i < width; ++i)
      yr[i] = w[i] * (xr[i] * inv);
  }
}

void swiGlu(const float *x, int rows, int F, float *out) {
  for (int t = 0; t < rows; ++t) {
    const float *gate = x + static_cast<size_t>(t) * 2 * F;
    const float *up = gate + F;
    float *yr = out + static_cast<size_t>(t) * F;
    for (int i = 0; i < F; ++i)
      yr[i] = gate[i] / (1.0f + std::exp(-gate[i])) * up[i];
  }
}

void add(const float *a, const float *b, long count, float *out) {
  for (long i = 0; i < count; ++i)
    out[i] = a[i] + b[i];
}

void gatherRows(const float *x, int width, const int32_t *rowIds, int numRows, float *out) {
  for (int r = 0; r < numRows; ++r)
    std::memcpy(out + static_cast<size_t>(r) * width,
                x + static_cast<size_t>(rowIds[r]) * width, sizeof(float) * width);
}

} // namespace qtc::rt::host
