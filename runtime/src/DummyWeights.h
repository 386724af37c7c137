//===- DummyWeights.h - Generated weights for benchmarks ------------------===//
//
// With LoadFormat::kDummy (vLLM's --load-format dummy) an artifact's tensors
// are not read from anywhere: each is generated when a backend asks for it
// (Artifact::tensorBytes), one tensor at a time, so a 7B model benchmarks on
// a machine that never received its weights and no second host copy of the
// whole model exists. This is the one place that decides what a tensor gets;
// both backends read through it.
//
// What a tensor is comes from the plan (the step kinds and their `weights`
// lists in runtime/schema/artifact.fbs), and its values are of the scale a
// trained model's would be, so activations stay in the range the kernels
// see in real use:
//   RmsNorm weights                 near 1 (normal, mean 1, std 0.05)
//   embedding tables, dense linear  normal, mean 0, std kWeightStd
//     weights and biases
//   int4 / int8 codes               uniform over every code
//   fp8 e4m3 codes                  uniform over the bytes, NaN codes (0x7f,
//                                   0xff) replaced by zeros
//   scales                          the code distribution's RMS times the
//                                   scale gives kWeightStd, times a factor
//                                   uniform in [0.75, 1.25] per scale
//   int4 zero points                7 or 8 (inside [0, 15])
// The bytes of tensor i depend on the seed and on i only: the same on either
// backend, whatever order tensors are generated in.
//
//===----------------------------------------------------------------------===//
#ifndef QTC_RT_SRC_DUMMYWEIGHTS_H
#define QTC_RT_SRC_DUMMYWEIGHTS_H

#include "qtc/rt/artifact_generated.h"

#include <cstdint>
#include <vector>

namespace qtc::rt {

// What a tensor is to the plan.
enum class DummyRole : uint8_t {
  kUnused,      // no step names it: zeros
  kNormWeight,  // RmsNorm weights
  kFloatWeight, // Embedding tables, Dense linear weights, biases
  kInt4Codes,   // Int4Group data
  kInt4Scales,
  kInt4Zeros,   // Int4Group zero points (asymmetric)
  kInt8Codes,   // Int8Group data
  kInt8Scales,
  kFp8Codes,    // Fp8Channel data
  kFp8Scales,   // Fp8Channel f32 row scales
};
const char *dummyRoleName(DummyRole role);

class DummyWeights {
public:
  // Standard deviation of float weights and of dequantized quantized ones
  // (Hugging Face's initializer_range for Llama).
  static constexpr float kWeightStd = 0.02f;
  static constexpr float kNormMean = 1.0f;
  static constexpr float kNormStd = 0.05f;

  // Roles from the plan of `artifact`, which has passed validateArtifact
  // and outlives this object. A tensor named by several steps takes the
  // role of the first.
  DummyWeights(const fb::Artifact &artifact, uint64_t seed);

  DummyRole role(int tensorIndex) const { return roles_[tensorIndex]; }
  // Writes the tensor's TensorInfo.size bytes to `out`.
  void fill(int tensorIndex, uint8_t *out) const;

  // RMS of the code values the generated codes take (the scale's divisor).
  static double int4CodeRms();
  static double int8CodeRms();
  static double fp8CodeRms();

private:
  const fb::Artifact &artifact_;
  uint64_t seed_;
  std::vector<DummyRole> roles_;
};

} // namespace qtc::rt

#endif // QTC_RT_SRC_DUMMYWEIGHTS_H
