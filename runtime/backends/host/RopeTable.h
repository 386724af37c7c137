//===- RopeTable.h - Per-position RoPE cos/sin for the host backend -------===//
//
// Hugging Face Llama's rotary embedding: angle = pos * inv_freq[i] in f32 as
// transformers computes it, cos/sin tabulated for every position below
// max_positions. The frequencies come from qtc/rt/RopeFrequencies.h, the one
// definition the GPU kernels are generated from too.
//
//===----------------------------------------------------------------------===//
#ifndef QTC_RT_BACKENDS_HOST_ROPETABLE_H
#define QTC_RT_BACKENDS_HOST_ROPETABLE_H

#include "qtc/rt/RopeFrequencies.h"
#include "qtc/rt/artifact_generated.h"

#include <vector>

namespace qtc::rt::host {

// The RoPE fields of `config`, for ropeInverseFrequencies (RopeFrequencies.h).
RopeFrequencySpec ropeFrequencySpec(const fb::ModelConfig &config);

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
