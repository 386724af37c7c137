//===- HostActivationQuant.h - Per-token activation quantization ----------===//
//
// A Linear with `activation` Int8PerToken or Fp8PerToken multiplies the
// codes of its input rows (runtime/schema/artifact.fbs, ActivationQuant).
// The host backend rounds each row to its grid here and multiplies the
// rounded values s * q in f32: the same products as the integer (or fp8)
// dot product scaled by s, up to f32 rounding of the sum.
//
//===----------------------------------------------------------------------===//
#ifndef QTC_RT_BACKENDS_HOST_HOSTACTIVATIONQUANT_H
#define QTC_RT_BACKENDS_HOST_HOSTACTIVATIONQUANT_H

#include "qtc/rt/artifact_generated.h"

namespace qtc::rt::host {

// out[t, :] = s[t] * quantize(x[t, :] / s[t]) with the row scale and
// rounding of `mode` (not None). `out` may equal `x`.
void roundRowsToActivationGrid(fb::ActivationQuant mode, const float *x, int rows,
                               int width, float *out);

} // namespace qtc::rt::host

#endif // QTC_RT_BACKENDS_HOST_HOSTACTIVATIONQUANT_H
