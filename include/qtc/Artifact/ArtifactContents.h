//===- ArtifactContents.h - What the compiler puts in a .qtc artifact -----===//
//
// A plain in-memory form of an artifact, filled by the pipeline (plan
// builder, kernel generation, numerics) and serialized by writeArtifact()
// with the runtime's FlatBuffers schema (runtime/schema/artifact.fbs).
//
// Tensor bytes are views, not copies: they point where the weight packer
// left them (the compiler's WeightStore), or are produced piece by piece
// when written (packed weights converted straight from the memory-mapped
// checkpoint), so a 13 GB model is never held in memory whole.
//
//===----------------------------------------------------------------------===//
#ifndef QTC_ARTIFACT_ARTIFACTCONTENTS_H
#define QTC_ARTIFACT_ARTIFACTCONTENTS_H

#include "qtc/rt/artifact_generated.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace qtc::artifact {

namespace fb = ::qtc::rt::fb;

struct Tensor {
  std::string name;
  fb::DType dtype = fb::DType::F16;
  std::vector<int64_t> shape;
  // Memory that ArtifactContents::weightStorage (or whoever filled the
  // contents) keeps alive.
  llvm::ArrayRef<uint8_t> bytes;
  // Or, when set, the tensor's `producedSize` bytes are computed: `produce`
  // fills [offset, offset + out.size()), both multiples of `granule`, from
  // any thread (what it reads, weightStorage keeps alive).
  std::function<llvm::Error(uint64_t offset, llvm::MutableArrayRef<uint8_t> out)> produce;
  uint64_t producedSize = 0;
  uint64_t granule = 1;

  uint64_t byteSize() const { return produce ? producedSize : bytes.size(); }
};

struct Slot {
  std::string name;
  int width = 0;
  // Quantized rows (artifact.fbs ActivationQuant) or None.
  fb::ActivationQuant activation = fb::ActivationQuant::None;
};

struct Step {
  fb::StepKind kind = fb::StepKind::Add;
  std::vector<int> inputs, outputs, weights;
  int layer = -1;
  fb::WeightFormat format = fb::WeightFormat::Dense;
  int inFeatures = 0, outFeatures = 0, groupSize = 0;
  bool symmetric = true;
  fb::ActivationQuant activation = fb::ActivationQuant::None;
  float epsilon = 0.0f;
  std::vector<int> kernelIds, decodeKernelIds; // parallel to targets
};

struct Kernel {
  std::string name, target, ptx;
  int blockX = 0, blockY = 1, sharedBytes = 0, tileM = 1, tileN = 1, splitK = 1;
  bool programmaticLaunch = false;
};

struct ModelConfig {
  std::string architecture;
  int vocabSize = 0, hiddenSize = 0, numLayers = 0, numHeads = 0,
      numKvHeads = 0, headDim = 0, intermediateSize = 0, maxPositions = 0;
  float rmsNormEps = 1e-5f, ropeTheta = 10000.0f;
  fb::RopeScaling ropeScaling = fb::RopeScaling::None;
  float ropeFactor = 1.0f, ropeLowFreqFactor = 1.0f, ropeHighFreqFactor = 4.0f;
  int ropeOriginalMaxPositions = 0;
  int bosTokenId = -1, eosTokenId = -1;
};

struct LayerNumerics {
  std::string name, format;
  std::string method; // the quantizer: "rtn", "gptq"
  float sqnrDb = 0.0f, maxAbsError = 0.0f;
  // Output SQNR over the calibration activations; NaN when uncalibrated.
  float outputSqnrDb = std::numeric_limits<float>::quiet_NaN();
  // The stored weight: shape, bits per value, group, bytes with scales/zeros.
  int outFeatures = 0, inFeatures = 0, bits = 0, groupSize = 0;
  uint64_t bytes = 0;
};

struct ArtifactContents {
  // Owns what the tensors' bytes view (the compile's WeightStore), so the
  // contents may outlive the function that made them.
  std::shared_ptr<const void> weightStorage;
  std::string producer, recipe;
  ModelConfig config;
  std::vector<Tensor> tensors;
  std::vector<Slot> slots;
  std::vector<Step> steps;
  int logitsSlot = -1;
  // Plan.argmax_kernel_ids: the argmax_rows kernel over the logits per
  // target, parallel to targets (-1: none for that target).
  std::vector<int> argmaxKernelIds;
  std::vector<std::string> targets;
  std::vector<Kernel> kernels;
  int kvBlockSize = 16;
  fb::KvDType kvDType = fb::KvDType::F16;
  // The rest of KvCacheSpec (runtime/schema/artifact.fbs): integer caches'
  // key granularity, zero points, window and sinks; fp8 scales per layer and
  // kv head (empty: scale 1).
  fb::KvGranularity kvKeyGranularity = fb::KvGranularity::PerToken;
  bool kvKeySymmetric = false, kvValueSymmetric = false;
  int kvResidualWindow = 0, kvSinkTokens = 0;
  std::vector<float> kvKeyScales, kvValueScales;
  std::vector<uint8_t> tokenizerModel;
  std::vector<LayerNumerics> numerics;
  // Compiler side only, not serialized: per step index, the weight names of
  // the linears a Linear step computes (q, k and v of a fused step), so that
  // what the runtime observes of a step maps back to the IR's linears.
  std::map<int, std::vector<std::string>> linearWeightsOfStep;
};

} // namespace qtc::artifact

#endif // QTC_ARTIFACT_ARTIFACTCONTENTS_H
