//===- HostActivationQuant.h - Per-token activation quantization ----------===//
//
// The host side of quantized activation slots (qtc/rt/QuantizedRows.h):
// QuantizeRows and a quantizing RmsNorm write codes and row scales into the
// slot's bytes; a Linear with an activation scheme multiplies s[t] * q[t, k]
// in f32, the same products as the integer (or fp8) dot product scaled by
// s[t], up to f32 rounding of the sum.
//
//===----------------------------------------------------------------------===//
#ifndef QTC_RT_BACKENDS_HOST_HOSTACTIVATIONQUANT_H
#define QTC_RT_BACKENDS_HOST_HOSTACTIVATIONQUANT_H

#include "qtc/rt/artifact_generated.h"

#include <cstdint>

namespace qtc::rt::host {

// Quantizes rows of x with `mode` (not None) into a quantized slot's bytes.
void quantizeRows(fb::ActivationQuant mode, const float *x, int rows, int width,
                  uint8_t *slot);

// out[t, k] = s[t] * q[t, k] of a quantized slot written by quantizeRows.
void dequantizeRows(fb::ActivationQuant mode, const uint8_t *slot, int rows, int width,
                    float *out);

} // namespace qtc::rt::host

#endif // QTC_RT_BACKENDS_HOST_HOSTACTIVATIONQUANT_H
