//===- TestArtifactBuilder.h - Builds .qtc artifacts for runtime tests ----===//
//
// The runtime's tests need artifacts without the compiler (lib/Artifact holds
// the real writer). This builder fills the schema's object API (fb::ArtifactT)
// and lays out the file exactly as ArtifactFormat.h says. Tests edit the
// table directly to produce broken artifacts.
//
//===----------------------------------------------------------------------===//
#ifndef QTC_TEST_UNIT_RUNTIME_TESTARTIFACTBUILDER_H
#define QTC_TEST_UNIT_RUNTIME_TESTARTIFACTBUILDER_H

#include "qtc/rt/Artifact.h"

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace qtc::rt::test {

// magic, FlatBuffer size, the packed table, padding, then `weights`.
std::vector<uint8_t> serializeArtifact(const fb::ArtifactT &artifact,
                                       const std::vector<uint8_t> &weights);

// Round-to-nearest int4 of a [out, in] f32 matrix in groups of `groupSize`
// input channels, packed as WeightFormat::Int4Group describes. `dequantized`
// receives the f32 weights the packed form stands for.
struct Int4Weights {
  std::vector<uint8_t> data;  // [out, in/2]
  std::vector<float> scales;  // [out, in/group], f16-exact
  std::vector<float> zeros;   // [out, in/group], f16-exact; empty if symmetric
  std::vector<float> dequantized;
};
Int4Weights quantizeInt4Group(const std::vector<float> &w, int out, int in, int groupSize,
                              bool symmetric);

class TestArtifactBuilder {
public:
  TestArtifactBuilder();

  fb::ArtifactT &artifact() { return artifact_; }
  fb::ModelConfigT &config() { return *artifact_.config; }
  fb::PlanT &plan() { return *artifact_.plan; }
  fb::KvCacheSpecT &kvCache() { return *artifact_.kv_cache; }

  // Appends a tensor at the next 256-aligned offset; returns its index.
  int addTensor(const std::string &name, fb::DType dtype, std::vector<int64_t> shape,
                const void *bytes, size_t size);
  int addF32(const std::string &name, std::vector<int64_t> shape, const std::vector<float> &values);
  // Values are rounded to f16.
  int addF16(const std::string &name, std::vector<int64_t> shape, const std::vector<float> &values);
  int addSlot(const std::string &name, int width,
              fb::ActivationQuant activation = fb::ActivationQuant::None);
  fb::StepT &addStep(fb::StepKind kind, std::vector<int32_t> inputs,
                     std::vector<int32_t> outputs, std::vector<int32_t> weights = {});
  // A Linear step reading `input` (and `residual` if >= 0) into `output`.
  fb::StepT &addDenseLinear(int input, int residual, int output, int weight, int in, int out);
  fb::StepT &addInt4Linear(int input, int residual, int output, const std::string &name,
                           const Int4Weights &w, int in, int out, int groupSize, bool symmetric);

  std::vector<uint8_t> &weights() { return weights_; }
  std::vector<uint8_t> build() const;
  // The artifact without its weights section: the file ends with the table,
  // as it must when artifact().weights_file or dummy_weights is set.
  // weights() is then what a weights file holds.
  std::vector<uint8_t> buildWithoutWeights() const;
  StatusOr<std::unique_ptr<Artifact>> load() const;
  // Writes build() to `path`; false on an I/O error.
  bool writeTo(const std::string &path) const;

private:
  fb::ArtifactT artifact_;
  std::vector<uint8_t> weights_;
};

// Uniform values in [-scale, scale).
std::vector<float> randomValues(std::mt19937 &rng, size_t count, float scale);

} // namespace qtc::rt::test

#endif // QTC_TEST_UNIT_RUNTIME_TESTARTIFACTBUILDER_H
