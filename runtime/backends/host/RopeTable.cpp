//===- RopeTable.cpp - Per-position RoPE cos/sin for the host backend -----===//

#include "RopeTable.h"

#include <cmath>

namespace qtc::rt::host {

RopeFrequencySpec ropeFrequencySpec(const fb::ModelConfig &config) {
  RopeFrequencySpec spec;
  spec.headDim = config.head_dim();
  spec.theta = config.rope_theta();
  spec.scaling = config.rope_scaling();
  spec.factor = config.rope_factor();
  spec.lowFreqFactor = config.rope_low_freq_factor();
  spec.highFreqFactor = config.rope_high_freq_factor();
  spec.originalMaxPositions = config.rope_original_max_positions();
  return spec;
}

void RopeTable::build(const fb::ModelConfig &config) {
  const std::vector<float> inv = ropeInverseFrequencies(ropeFrequencySpec(config));
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
