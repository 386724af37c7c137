//===- HostWeights.cpp - f32 copies of an artifact's weights --------------===//

#include "HostWeights.h"

#include "qtc/rt/Float16.h"
#include "qtc/rt/Float8.h"

#include <cstring>

namespace qtc::rt::host {

std::vector<float> decodeFloatTensor(const Artifact &artifact, int tensorIndex) {
  const fb::TensorInfo &info = artifact.tensor(tensorIndex);
  std::vector<uint8_t> scratch; // dummy weights only
  const uint8_t *bytes = artifact.tensorBytes(tensorIndex, scratch);
  size_t count = 1;
  for (int64_t dim : *info.shape())
    count *= static_cast<size_t>(dim);
  std::vector<float> values(count);
  switch (info.dtype()) {
  case fb::DType::F32:
    std::memcpy(values.data(), bytes, count * sizeof(float));
    break;
  case fb::DType::F16:
  case fb::DType::BF16: {
    bool isHalf = info.dtype() == fb::DType::F16;
    for (size_t i = 0; i < count; ++i) {
      uint16_t raw;
      std::memcpy(&raw, bytes + 2 * i, sizeof(raw));
      values[i] = isHalf ? halfToFloat(raw) : bf16ToFloat(raw);
    }
    break;
  }
  default:
    // The verifier admits only float dtypes where this is called.
    values.clear();
    break;
  }
  return values;
}

std::vector<float> dequantizeLinearWeight(const Artifact &artifact, const fb::Step &step) {
  const int out = step.out_features(), in = step.in_features();
  const int dataIndex = step.weights()->Get(0);
  if (step.format() == fb::WeightFormat::Dense)
    return decodeFloatTensor(artifact, dataIndex);

  const int group = step.group_size();
  const int groupsPerRow = in / group;
  std::vector<float> scales = decodeFloatTensor(artifact, step.weights()->Get(1));
  std::vector<uint8_t> scratch; // dummy weights only
  const uint8_t *data = artifact.tensorBytes(dataIndex, scratch);
  std::vector<float> w(static_cast<size_t>(out) * in);
  if (step.format() == fb::WeightFormat::Fp8Channel) {
    for (int n = 0; n < out; ++n)
      for (int k = 0; k < in; ++k) {
        size_t at = static_cast<size_t>(n) * in + k;
        w[at] = e4m3ToFloat(data[at]) * scales[n];
      }
    return w;
  }
  if (step.format() == fb::WeightFormat::Int8Group) {
    for (int n = 0; n < out; ++n)
      for (int k = 0; k < in; ++k) {
        size_t at = static_cast<size_t>(n) * in + k;
        float q = static_cast<float>(static_cast<int8_t>(data[at]));
        w[at] = q * scales[static_cast<size_t>(n) * groupsPerRow + k / group];
      }
    return w;
  }
  std::vector<float> zeros;
  if (!step.symmetric())
    zeros = decodeFloatTensor(artifact, step.weights()->Get(2));
  for (int n = 0; n < out; ++n) {
    const uint8_t *row = data + static_cast<size_t>(n) * (in / 2);
    for (int k = 0; k < in; ++k) {
      uint8_t byte = row[k / 2];
      int q = (k % 2 == 0) ? (byte & 0x0f) : (byte >> 4);
      size_t g = static_cast<size_t>(n) * groupsPerRow + k / group;
      float zero = step.symmetric() ? 8.0f : zeros[g];
      w[static_cast<size_t>(n) * in + k] = (static_cast<float>(q) - zero) * scales[g];
    }
  }
  return w;
}

} // namespace qtc::rt::host
