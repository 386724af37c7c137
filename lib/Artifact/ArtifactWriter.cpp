//===- ArtifactWriter.cpp - Serialize ArtifactContents to a .qtc file -----===//

#include "qtc/Artifact/ArtifactWriter.h"

#include "qtc/rt/ArtifactFormat.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

namespace qtc::artifact {

namespace {

// Places every tensor at a kWeightsAlignment-aligned offset of the weights
// section; returns the section's total size.
uint64_t layoutTensors(const std::vector<Tensor> &tensors,
                       std::vector<uint64_t> &offsets) {
  uint64_t cursor = 0;
  offsets.clear();
  for (const Tensor &t : tensors) {
    cursor = rt::alignUp(cursor, rt::kWeightsAlignment);
    offsets.push_back(cursor);
    cursor += t.bytes.size();
  }
  return rt::alignUp(cursor, rt::kWeightsAlignment);
}

flatbuffers::Offset<fb::ModelConfig>
buildConfig(flatbuffers::FlatBufferBuilder &b, const ModelConfig &c) {
  auto arch = b.CreateString(c.architecture);
  fb::ModelConfigBuilder cb(b);
  cb.add_architecture(arch);
  cb.add_vocab_size(c.vocabSize);
  cb.add_hidden_size(c.hiddenSize);
  cb.add_num_layers(c.numLayers);
  cb.add_num_heads(c.numHeads);
  cb.add_num_kv_heads(c.numKvHeads);
  cb.add_head_dim(c.headDim);
  cb.add_intermediate_size(c.intermediateSize);
  cb.add_rms_norm_eps(c.rmsNormEps);
  cb.add_rope_theta(c.ropeTheta);
  cb.add_rope_scaling(c.ropeScaling);
  cb.add_rope_factor(c.ropeFactor);
  cb.add_rope_low_freq_factor(c.ropeLowFreqFactor);
  cb.add_rope_high_freq_factor(c.ropeHighFreqFactor);
  cb.add_rope_original_max_positions(c.ropeOriginalMaxPositions);
  cb.add_max_positions(c.maxPositions);
  cb.add_bos_token_id(c.bosTokenId);
  cb.add_eos_token_id(c.eosTokenId);
  return cb.Finish();
}

flatbuffers::Offset<fb::Plan> buildPlan(flatbuffers::FlatBufferBuilder &b,
                                        const ArtifactContents &c) {
  std::vector<flatbuffers::Offset<fb::Slot>> slots;
  for (const Slot &s : c.slots)
    slots.push_back(fb::CreateSlotDirect(b, s.name.c_str(), s.width));
  std::vector<flatbuffers::Offset<fb::Step>> steps;
  for (const Step &s : c.steps) {
    steps.push_back(fb::CreateStepDirect(
        b, s.kind, &s.inputs, &s.outputs, &s.weights, s.layer, s.format,
        s.inFeatures, s.outFeatures, s.groupSize, s.symmetric, s.epsilon,
        &s.kernelIds, &s.decodeKernelIds, s.activation));
  }
  return fb::CreatePlanDirect(b, &slots, &steps, /*input_ids_slot=*/-1,
                              c.logitsSlot, &c.argmaxKernelIds);
}

} // namespace

void serializeArtifact(const ArtifactContents &c, llvm::raw_ostream &os) {
  std::vector<uint64_t> offsets;
  uint64_t weightsSize = layoutTensors(c.tensors, offsets);

  flatbuffers::FlatBufferBuilder b(1 << 20);
  std::vector<flatbuffers::Offset<fb::TensorInfo>> tensors;
  for (size_t i = 0; i < c.tensors.size(); ++i) {
    const Tensor &t = c.tensors[i];
    tensors.push_back(fb::CreateTensorInfoDirect(
        b, t.name.c_str(), t.dtype, &t.shape, offsets[i], t.bytes.size()));
  }
  auto plan = buildPlan(b, c);
  auto config = buildConfig(b, c.config);

  std::vector<flatbuffers::Offset<flatbuffers::String>> targets;
  for (const std::string &t : c.targets)
    targets.push_back(b.CreateString(t));
  std::vector<flatbuffers::Offset<fb::Kernel>> kernels;
  for (const Kernel &k : c.kernels)
    kernels.push_back(fb::CreateKernelDirect(
        b, k.name.c_str(), k.target.c_str(), k.ptx.c_str(), k.blockX,
        k.blockY, k.sharedBytes, k.tileM, k.tileN, k.splitK, k.programmaticLaunch));
  auto kv = fb::CreateKvCacheSpec(b, c.config.numLayers, c.config.numKvHeads,
                                  c.config.headDim, c.kvBlockSize, c.kvDType);
  std::vector<flatbuffers::Offset<fb::LayerNumerics>> numerics;
  for (const LayerNumerics &n : c.numerics)
    numerics.push_back(fb::CreateLayerNumericsDirect(
        b, n.name.c_str(), n.format.c_str(), n.sqnrDb, n.maxAbsError,
        n.method.empty() ? nullptr : n.method.c_str(), n.outputSqnrDb,
        n.outFeatures, n.inFeatures, n.bits, n.groupSize, n.bytes));

  auto root = fb::CreateArtifact(
      b, rt::kSchemaVersion, b.CreateString(c.producer),
      b.CreateString(c.recipe), config, b.CreateVector(tensors), plan,
      b.CreateVector(targets), b.CreateVector(kernels), kv,
      b.CreateVector(c.tokenizerModel), b.CreateVector(numerics),
      weightsSize);
  fb::FinishArtifactBuffer(b, root);

  os.write(rt::kArtifactMagic, sizeof(rt::kArtifactMagic));
  uint64_t fbSize = b.GetSize();
  char sizeBytes[8];
  for (int i = 0; i < 8; ++i)
    sizeBytes[i] = static_cast<char>((fbSize >> (8 * i)) & 0xff);
  os.write(sizeBytes, 8);
  os.write(reinterpret_cast<const char *>(b.GetBufferPointer()), fbSize);

  uint64_t written = rt::kArtifactHeaderSize + fbSize;
  auto pad = [&](uint64_t to) {
    for (; written < to; ++written)
      os << '\0';
  };
  uint64_t sectionStart = rt::alignUp(written, rt::kWeightsAlignment);
  pad(sectionStart);
  for (size_t i = 0; i < c.tensors.size(); ++i) {
    pad(sectionStart + offsets[i]);
    os.write(reinterpret_cast<const char *>(c.tensors[i].bytes.data()),
             c.tensors[i].bytes.size());
    written += c.tensors[i].bytes.size();
  }
  pad(sectionStart + weightsSize);
}

LogicalResult writeArtifact(const ArtifactContents &c, StringRef path,
                            Location loc) {
  std::string error;
  auto out = mlir::openOutputFile(path, &error);
  if (!out)
    return emitError(loc) << "cannot open '" << path << "': " << error;
  serializeArtifact(c, out->os());
  if (out->os().has_error())
    return emitError(loc) << "error writing '" << path
                          << "': " << out->os().error().message();
  out->keep();
  return success();
}

} // namespace qtc::artifact
