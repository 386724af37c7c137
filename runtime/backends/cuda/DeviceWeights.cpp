//===- DeviceWeights.cpp - An artifact's weights in device memory ---------===//

#include "DeviceWeights.h"

#include "qtc/rt/ArtifactFormat.h"
#include "qtc/rt/Float16.h"

#include <cstring>

namespace qtc::rt::cuda {
namespace {

bool isFloat(fb::DType d) {
  return d == fb::DType::F32 || d == fb::DType::F16 || d == fb::DType::BF16;
}

// Bytes the tensor takes on the device (`asStored`: copied as is).
size_t deviceBytes(const fb::TensorInfo &t, bool asStored) {
  if (asStored || !isFloat(t.dtype()) || t.dtype() == fb::DType::F16)
    return t.size();
  size_t elems = t.dtype() == fb::DType::F32 ? t.size() / 4 : t.size() / 2;
  return elems * 2;
}

std::vector<uint8_t> toHalf(const fb::TensorInfo &t, const uint8_t *data) {
  std::vector<uint8_t> out(deviceBytes(t, false));
  uint16_t *dst = reinterpret_cast<uint16_t *>(out.data());
  if (t.dtype() == fb::DType::F32) {
    for (size_t i = 0, n = t.size() / 4; i < n; ++i) {
      float f;
      std::memcpy(&f, data + 4 * i, 4);
      dst[i] = floatToHalf(f);
    }
  } else { // bf16
    for (size_t i = 0, n = t.size() / 2; i < n; ++i) {
      uint16_t b;
      std::memcpy(&b, data + 2 * i, 2);
      dst[i] = floatToHalf(bf16ToFloat(b));
    }
  }
  return out;
}

} // namespace

Status DeviceWeights::upload(const DriverApi &api, const Artifact &artifact) {
  const int numTensors = artifact.numTensors();
  std::vector<bool> used(numTensors, false), asStored(numTensors, false);
  for (const fb::Step *step : *artifact.plan().steps()) {
    if (!step->weights())
      continue;
    for (int w : *step->weights())
      if (w >= 0 && w < numTensors)
        used[w] = true;
    // Fp8Channel kernels read their row scales as f32 (KernelAbi.h).
    if (step->kind() == fb::StepKind::Linear &&
        step->format() == fb::WeightFormat::Fp8Channel && step->weights()->size() > 1) {
      int scales = step->weights()->Get(1);
      if (scales >= 0 && scales < numTensors)
        asStored[scales] = true;
    }
  }

  offsets_.assign(numTensors, kUnused);
  size_t total = 0;
  for (int i = 0; i < numTensors; ++i) {
    if (!used[i])
      continue;
    offsets_[i] = total;
    total = alignUp(total + deviceBytes(artifact.tensor(i), asStored[i]), kWeightsAlignment);
  }
  StatusOr<DeviceMemory> memory = DeviceMemory::allocate(api, total, "weights");
  if (!memory.isOk())
    return memory.status();
  memory_ = std::move(*memory);
  // Dummy weights are generated here, one tensor at a time, into `scratch`;
  // cuMemcpyHtoD returns once the bytes are copied, so it is reused.
  std::vector<uint8_t> scratch;
  for (int i = 0; i < numTensors; ++i) {
    if (!used[i])
      continue;
    const fb::TensorInfo &t = artifact.tensor(i);
    const uint8_t *data = artifact.tensorBytes(i, scratch);
    CUdeviceptr dst = memory_.get() + offsets_[i];
    if (!asStored[i] && isFloat(t.dtype()) && t.dtype() != fb::DType::F16) {
      std::vector<uint8_t> half = toHalf(t, data);
      QTC_CU(api, cuMemcpyHtoD(dst, half.data(), half.size()));
    } else {
      QTC_CU(api, cuMemcpyHtoD(dst, data, t.size()));
    }
  }
  return Status::ok();
}

} // namespace qtc::rt::cuda
