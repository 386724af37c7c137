//===- RopeTable.cpp - RoPE frequencies and per-position cos/sin ----------===//

#include "RopeTable.h"

#include <cmath>

namespace qtc::rt::host {

std::vector<float> ropeInverseFrequencies(const fb::ModelConfig &config) {
  const int headDim = config.head_dim();
  const float theta = config.rope_theta();
  std::vector<float> inv(headDim / 2);
  for (int i = 0; i < headDim / 2; ++i)
    inv[i] = 1.0f / std::pow(theta, static_cast<float>(2 * i) / static_cast<float>(headDim));

  switch (config.rope_scaling()) {
  case fb::RopeScaling::Linear:
    for (float &f : inv)
      f /= config.rope_factor();
    break;
  case fb::RopeScaling::Llama3: {
    // transformers' _compute_llama3_parameters.
    const float factor = config.rope_factor();
    const float low = config.rope_low_freq_factor();
    const float high = config.rope_high_freq_factor();
    const float oldContext = static_cast<float>(config.rope_original_max_positions());
    const float lowFreqWavelen = oldContext / low;
    const float highFreqWavelen = oldContext / high;
    for (float &f : inv) {
      const float wavelen = 2.0f * static_cast<float>(M_PI) / f;
      if (wavelen > lowFreqWavelen) {
        f /= factor;
      } else if (wavelen >= highFreqWavelen) {
        const float smooth = (oldContext / wavelen - low) / (high - low);
        f = (1.0f - smooth) * f / factor + smooth * f;
      }
    }
    break;
  }
  default:
    break;
  }
  return inv;
}

void RopeTable::build(const fb::ModelConfig &config) {
  const std::vector<float> inv = ropeInverseFrequencies(config);
  halfDim_ = static_cast<int>(inv.size());
  const size_t count = static_cast<size_t>(config.max_positions()) * halfDim_;
  cos_.resize(count);
  sin_.resize(count);
  for (int pos = 0; pos < config.max_positions(); ++pos)
    for (int i = 0; i < halfDim_; ++i) {
      const float angle = static_cast<float>(pos) * inv[i];
      cos_[static_cast<size_t>(pos) * halfDim_ + i] = static_cast<float>(std::cos(double(angle)));
      sin_[static_cast<size_t>(pos) * halfDim_ + i] = static_cast<float>(std::sin(double(angle)));
    }
}

} // namespace qtc::rt::host
