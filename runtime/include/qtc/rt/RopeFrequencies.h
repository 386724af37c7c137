//===- RopeFrequencies.h - RoPE inverse frequencies, one definition -------===//
//
// Hugging Face Llama's rotary inverse frequencies, inv_freq[i] =
// theta^(-2i/head_dim) for i < head_dim/2, optionally rescaled ("linear" or
// "llama3" rope_scaling, as transformers' _compute_llama3_parameters does),
// all in f32 as transformers computes them.
//
// The compiler bakes these values into the RoPE kernels (lib/Codegen) and the
// host backend tabulates cos/sin from them (backends/host/RopeTable): both
// call this one function so the GPU and the host rotate by bit-identical
// frequencies. Header-only (the schema's generated header is too), so lib/
// uses it without the runtime's libraries.
//
//===----------------------------------------------------------------------===//
#ifndef QTC_RT_ROPEFREQUENCIES_H
#define QTC_RT_ROPEFREQUENCIES_H

#include "qtc/rt/artifact_generated.h"

#include <cmath>
#include <cstdint>
#include <vector>

namespace qtc::rt {

// The RoPE fields of an artifact's ModelConfig (runtime/schema/artifact.fbs).
struct RopeFrequencySpec {
  // The schema's enum: one list of RoPE scaling kinds below the IR.
  using Scaling = fb::RopeScaling;

  int headDim = 0;
  float theta = 10000.0f;
  Scaling scaling = Scaling::None;
  float factor = 1.0f;
  float lowFreqFactor = 1.0f;
  float highFreqFactor = 4.0f;
  int originalMaxPositions = 0;
};

// The headDim/2 inverse frequencies of `spec`, scaling applied. The caller
// has checked the spec (artifact validation, kernel request checks): for
// Llama3, originalMaxPositions > 0 and lowFreqFactor != highFreqFactor.
inline std::vector<float> ropeInverseFrequencies(const RopeFrequencySpec &spec) {
  const int half = spec.headDim > 0 ? spec.headDim / 2 : 0;
  std::vector<float> inv(static_cast<size_t>(half));
  for (int i = 0; i < half; ++i)
    inv[i] = 1.0f / std::pow(spec.theta,
                             static_cast<float>(2 * i) / static_cast<float>(spec.headDim));

  switch (spec.scaling) {
  case RopeFrequencySpec::Scaling::None:
    break;
  case RopeFrequencySpec::Scaling::Linear:
    for (float &f : inv)
      f /= spec.factor;
    break;
  case RopeFrequencySpec::Scaling::Llama3: {
    const float pi = static_cast<float>(3.14159265358979323846);
    const float low = spec.lowFreqFactor;
    const float high = spec.highFreqFactor;
    const float oldContext = static_cast<float>(spec.originalMaxPositions);
    const float lowFreqWavelen = oldContext / low;
    const float highFreqWavelen = oldContext / high;
    for (float &f : inv) {
      const float wavelen = 2.0f * pi / f;
      if (wavelen > lowFreqWavelen) {
        f /= spec.factor;
      } else if (wavelen >= highFreqWavelen) {
        const float smooth = (oldContext / wavelen - low) / (high - low);
        f = (1.0f - smooth) * f / spec.factor + smooth * f;
      }
    }
    break;
  }
  }
  return inv;
}

} // namespace qtc::rt

#endif // QTC_RT_ROPEFREQUENCIES_H
