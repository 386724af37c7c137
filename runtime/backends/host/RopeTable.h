//===- RopeTable.h - RoPE frequencies and per-position cos/sin ------------===//
//
// Hugging Face Llama's rotary embedding: inv_freq[i] = theta^(-2i/head_dim),
// optionally rescaled ("linear" or "llama3" rope_scaling), angle = pos *
// inv_freq[i] in f32 as transformers computes it, cos/sin tabulated for every
// position below max_positions.
//
//===----------------------------------------------------------------------===//
#ifndef QTC_RT_BACKENDS_HOST_ROPETABLE_H
#define QTC_RT_BACKENDS_HOST_ROPETABLE_H

#include "qtc/rt/artifact_generated.h"

#include <vector>

namespace qtc::rt::host {

// The head_dim/2 inverse frequencies of `config`, scaling applied.
std::vector<float> ropeInverseFrequencies(const fb::ModelConfig &config);

class RopeTable {
public:
  void build(const fb::ModelConfig &config);
  int halfDim() const { return halfDim_; }
  // [halfDim] cos and sin of the angles at `position` (< max_positions).
  const float *cos(int position) const { return cos_.data() + static_cast<size_t>(position) * halfDim_; }
  const float *sin(int position) const { return sin_.data() + static_cast<size_t>(position) * halfDim_; }

private:
  int halfDim_ = 0;
  std::vector<float> cos_, sin_;
};

} // namespace qtc::rt::host

#endif // QTC_RT_BACKENDS_HOST_ROPETABLE_H
