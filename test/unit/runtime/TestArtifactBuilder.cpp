//===- TestArtifactBuilder.cpp - Builds .qtc artifacts for runtime tests --===//

#include "TestArtifactBuilder.h"

#include "qtc/rt/Float16.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>

namespace qtc::rt::test {

std::vector<uint8_t> serializeArtifact(const fb::ArtifactT &artifact,
                                       const std::vector<uint8_t> &weights) {
  flatbuffers::FlatBufferBuilder fbb;
  fbb.Finish(fb::Artifact::Pack(fbb, &artifact), fb::ArtifactIdentifier());
  const uint64_t tableSize = fbb.GetSize();
  const size_t weightsStart = alignUp(kArtifactHeaderSize + tableSize, kWeightsAlignment);
  std::vector<uint8_t> file(weightsStart + weights.size(), 0);
  std::memcpy(file.data(), kArtifactMagic, sizeof(kArtifactMagic));
  for (int i = 0; i < 8; ++i)
    file[8 + i] = static_cast<uint8_t>(tableSize >> (8 * i));
  std::memcpy(file.data() + kArtifactHeaderSize, fbb.GetBufferPointer(), tableSize);
  if (!weights.empty())
    std::memcpy(file.data() + weightsStart, weights.data(), weights.size());
  return file;
}

Int4Weights quantizeInt4Group(const std::vector<float> &w, int out, int in, int groupSize,
                              bool symmetric) {
  Int4Weights q;
  const int groups = in / groupSize;
  q.data.assign(static_cast<size_t>(out) * in / 2, 0);
  q.scales.resize(static_cast<size_t>(out) * groups);
  if (!symmetric)
    q.zeros.resize(q.scales.size());
  q.dequantized.resize(w.size());
  for (int n = 0; n < out; ++n)
    for (int g = 0; g < groups; ++g) {
      const float *src = w.data() + static_cast<size_t>(n) * in + g * groupSize;
      float lo = *std::min_element(src, src + groupSize);
      float hi = *std::max_element(src, src + groupSize);
      float scale, zero;
      if (symmetric) {
        scale = std::max(std::fabs(lo), std::fabs(hi)) / 7.0f;
        zero = 8.0f;
      } else {
        scale = (hi - lo) / 15.0f;
        zero = scale > 0 ? std::clamp(std::nearbyint(-lo / scale), 0.0f, 15.0f) : 0.0f;
      }
      if (!(scale > 0))
        scale = 1.0f;
      scale = roundToHalf(scale);
      const size_t gi = static_cast<size_t>(n) * groups + g;
      q.scales[gi] = scale;
      if (!symmetric)
        q.zeros[gi] = zero;
      for (int i = 0; i < groupSize; ++i) {
        const int k = g * groupSize + i;
        int value = static_cast<int>(std::nearbyint(src[i] / scale + zero));
        value = std::clamp(value, 0, 15);
        uint8_t &byte = q.data[(static_cast<size_t>(n) * in + k) / 2];
        byte |= static_cast<uint8_t>(k % 2 == 0 ? value : value << 4);
        q.dequantized[static_cast<size_t>(n) * in + k] = (value - zero) * scale;
      }
    }
  return q;
}

TestArtifactBuilder::TestArtifactBuilder() {
  artifact_.schema_version = kSchemaVersion;
  artifact_.producer = "qtc runtime tests";
  artifact_.config = std::make_unique<fb::ModelConfigT>();
  artifact_.plan = std::make_unique<fb::PlanT>();
  artifact_.kv_cache = std::make_unique<fb::KvCacheSpecT>();
  fb::ModelConfigT &c = *artifact_.config;
  c.architecture = "LlamaForCausalLM";
  c.rms_norm_eps = 1e-5f;
  c.rope_theta = 10000.0f;
  c.max_positions = 256;
}

int TestArtifactBuilder::addTensor(const std::string &name, fb::DType dtype,
                                   std::vector<int64_t> shape, const void *bytes, size_t size) {
  auto info = std::make_unique<fb::TensorInfoT>();
  info->name = name;
  info->dtype = dtype;
  info->shape = std::move(shape);
  info->offset = alignUp(weights_.size(), kWeightsAlignment);
  info->size = size;
  weights_.resize(info->offset, 0);
  const auto *p = static_cast<const uint8_t *>(bytes);
  weights_.insert(weights_.end(), p, p + size);
  artifact_.tensors.push_back(std::move(info));
  return static_cast<int>(artifact_.tensors.size()) - 1;
}

int TestArtifactBuilder::addF32(const std::string &name, std::vector<int64_t> shape,
                                const std::vector<float> &values) {
  return addTensor(name, fb::DType::F32, std::move(shape), values.data(),
                   values.size() * sizeof(float));
}

int TestArtifactBuilder::addF16(const std::string &name, std::vector<int64_t> shape,
                                const std::vector<float> &values) {
  std::vector<uint16_t> half(values.size());
  for (size_t i = 0; i < values.size(); ++i)
    half[i] = floatToHalf(values[i]);
  return addTensor(name, fb::DType::F16, std::move(shape), half.data(),
                   half.size() * sizeof(uint16_t));
}

int TestArtifactBuilder::addSlot(const std::string &name, int width,
                                 fb::ActivationQuant activation) {
  auto slot = std::make_unique<fb::SlotT>();
  slot->name = name;
  slot->width = width;
  slot->activation = activation;
  plan().slots.push_back(std::move(slot));
  return static_cast<int>(plan().slots.size()) - 1;
}

fb::StepT &TestArtifactBuilder::addStep(fb::StepKind kind, std::vector<int32_t> inputs,
                                        std::vector<int32_t> outputs,
                                        std::vector<int32_t> weights) {
  auto step = std::make_unique<fb::StepT>();
  step->kind = kind;
  step->inputs = std::move(inputs);
  step->outputs = std::move(outputs);
  step->weights = std::move(weights);
  plan().steps.push_back(std::move(step));
  return *plan().steps.back();
}

fb::StepT &TestArtifactBuilder::addDenseLinear(int input, int residual, int output, int weight,
                                               int in, int out) {
  std::vector<int32_t> inputs = {input};
  if (residual >= 0)
    inputs.push_back(residual);
  fb::StepT &step = addStep(fb::StepKind::Linear, inputs, {output}, {weight});
  step.format = fb::WeightFormat::Dense;
  step.in_features = in;
  step.out_features = out;
  return step;
}

fb::StepT &TestArtifactBuilder::addInt4Linear(int input, int residual, int output,
                                              const std::string &name, const Int4Weights &w,
                                              int in, int out, int groupSize, bool symmetric) {
  const int groups = in / groupSize;
  int data = addTensor(name + ".qweight", fb::DType::U8, {out, in / 2}, w.data.data(),
                       w.data.size());
  int scales = addF16(name + ".scales", {out, groups}, w.scales);
  int zeros = symmetric ? -1 : addF16(name + ".zeros", {out, groups}, w.zeros);
  std::vector<int32_t> inputs = {input};
  if (residual >= 0)
    inputs.push_back(residual);
  std::vector<int32_t> weights = {data, scales};
  if (!symmetric)
    weights.push_back(zeros);
  fb::StepT &step = addStep(fb::StepKind::Linear, inputs, {output}, weights);
  step.format = fb::WeightFormat::Int4Group;
  step.in_features = in;
  step.out_features = out;
  step.group_size = groupSize;
  step.symmetric = symmetric;
  return step;
}

// The table with weights_size set to `weights`'s size.
static void copyWithWeightsSize(const fb::ArtifactT &artifact, const std::vector<uint8_t> &weights,
                                fb::ArtifactT &copy) {
  // ArtifactT holds unique_ptrs; round-trip through a buffer to copy it.
  flatbuffers::FlatBufferBuilder fbb;
  fbb.Finish(fb::Artifact::Pack(fbb, &artifact), fb::ArtifactIdentifier());
  fb::GetArtifact(fbb.GetBufferPointer())->UnPackTo(&copy);
  copy.weights_size = weights.size();
}

std::vector<uint8_t> TestArtifactBuilder::build() const {
  fb::ArtifactT copy;
  copyWithWeightsSize(artifact_, weights_, copy);
  return serializeArtifact(copy, weights_);
}

std::vector<uint8_t> TestArtifactBuilder::buildWithoutWeights() const {
  fb::ArtifactT copy;
  copyWithWeightsSize(artifact_, weights_, copy);
  std::vector<uint8_t> file = serializeArtifact(copy, {});
  uint64_t tableSize = 0;
  for (int i = 7; i >= 0; --i)
    tableSize = (tableSize << 8) | file[8 + i];
  file.resize(kArtifactHeaderSize + tableSize); // drop the padding before the section
  return file;
}

StatusOr<std::unique_ptr<Artifact>> TestArtifactBuilder::load() const {
  return Artifact::fromBytes(build(), "test.qtc");
}

bool TestArtifactBuilder::writeTo(const std::string &path) const {
  std::vector<uint8_t> bytes = build();
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char *>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  return static_cast<bool>(out);
}

std::vector<float> randomValues(std::mt19937 &rng, size_t count, float scale) {
  std::uniform_real_distribution<float> dist(-scale, scale);
  std::vector<float> values(count);
  for (float &v : values)
    v = dist(rng);
  return values;
}

} // namespace qtc::rt::test
