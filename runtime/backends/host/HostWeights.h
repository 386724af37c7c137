//===- HostWeights.h - f32 copies of an artifact's weights ----------------===//
//
// The host backend decodes every weight to f32 once, at prepare(): f16/bf16
// tensors are widened and quantized linears dequantized, so the per-token
// loops see plain floats. This costs 4 bytes per parameter of host memory,
// which is right for the oracle and small models.
//
//===----------------------------------------------------------------------===//
#ifndef QTC_RT_BACKENDS_HOST_HOSTWEIGHTS_H
#define QTC_RT_BACKENDS_HOST_HOSTWEIGHTS_H

#include "qtc/rt/Artifact.h"

#include <vector>

namespace qtc::rt::host {

// A verified f32, f16 or bf16 tensor of `artifact`, widened to f32.
std::vector<float> decodeFloatTensor(const Artifact &artifact, int tensorIndex);

// The [out_features, in_features] f32 weight of a verified Linear step, in
// any WeightFormat (runtime/schema/artifact.fbs says how each decodes).
std::vector<float> dequantizeLinearWeight(const Artifact &artifact, const fb::Step &step);

} // namespace qtc::rt::host

#endif // QTC_RT_BACKENDS_HOST_HOSTWEIGHTS_H
