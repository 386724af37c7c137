//===- HostActivationQuant.cpp - Per-token activation quantization --------===//

#include "HostActivationQuant.h"

#include "qtc/rt/QuantizedRows.h"

namespace qtc::rt::host {

namespace qr = quantized_rows;

void quantizeRows(fb::ActivationQuant mode, const float *x, int rows, int width,
                  uint8_t *slot) {
  qr::quantize([&](int t, int k) { return x[static_cast<long>(t) * width + k]; }, rows, width,
               mode == fb::ActivationQuant::Fp8PerToken, slot);
}

void dequantizeRows(fb::ActivationQuant mode, const uint8_t *slot, int rows, int width,
                    float *out) {
  const bool fp8 = mode == fb::ActivationQuant::Fp8PerToken;
  const float *scales = reinterpret_cast<const float *>(slot + qr::scalesOffset(rows, width));
  for (int t = 0; t < rows; ++t) {
    const uint8_t *codes = slot + static_cast<long>(t) * width;
    float *dst = out + static_cast<long>(t) * width;
    for (int k = 0; k < width; ++k)
      dst[k] = qr::decode(codes[k], fp8) * scales[t];
  }
}

} // namespace qtc::rt::host
