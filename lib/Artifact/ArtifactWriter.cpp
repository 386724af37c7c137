//===- ArtifactWriter.cpp - Serialize ArtifactContents to a .qtc file -----===//
//
// Tensor bytes are streamed from where ArtifactContents views them: the
// writer makes no copy of the weights, whichever place the section goes to.
//
//===----------------------------------------------------------------------===//

#include "qtc/Artifact/ArtifactWriter.h"

#include "qtc/rt/ArtifactFormat.h"
#include "qtc/rt/WeightsChecksum.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"

#include <vector>

using namespace mlir;

namespace qtc::artifact {

namespace {

// Where every tensor goes: a kWeightsAlignment-aligned offset of the
// weights section, and the section's total size.
struct SectionLayout {
  std::vector<uint64_t> offsets;
  uint64_t size = 0;
};

SectionLayout layoutTensors(const std::vector<Tensor> &tensors) {
  SectionLayout layout;
  uint64_t cursor = 0;
  for (const Tensor &t : tensors) {
    cursor = rt::alignUp(cursor, rt::kWeightsAlignment);
    layout.offsets.push_back(cursor);
    cursor += t.bytes.size();
  }
  layout.size = rt::alignUp(cursor, rt::kWeightsAlignment);
  return layout;
}

// Calls `piece` with the weights section's bytes in order: each tensor's
// bytes where they are, and the zero padding between them.
void forEachSectionPiece(const std::vector<Tensor> &tensors,
                         const SectionLayout &layout,
                         llvm::function_ref<void(const void *, size_t)> piece) {
  static const char zeros[rt::kWeightsAlignment] = {};
  uint64_t written = 0;
  auto padTo = [&](uint64_t to) {
    while (written < to) {
      size_t n = std::min<uint64_t>(to - written, sizeof(zeros));
      piece(zeros, n);
      written += n;
    }
  };
  for (size_t i = 0; i < tensors.size(); ++i) {
    padTo(layout.offsets[i]);
    piece(tensors[i].bytes.data(), tensors[i].bytes.size());
    written += tensors[i].bytes.size();
  }
  padTo(layout.size);
}

// What Artifact.weights_file records.
struct WeightsFileRecord {
  std::string relativePath;
  uint64_t size = 0, checksum = 0;
};

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

// The header and FlatBuffer of the artifact; the weights section, if it
// is inside, follows at the next kWeightsAlignment boundary.
void writeTable(const ArtifactContents &c, const SectionLayout &layout,
                const WeightsFileRecord *weightsFile, bool dummyWeights,
                llvm::raw_ostream &os) {
  flatbuffers::FlatBufferBuilder b(1 << 20);
  std::vector<flatbuffers::Offset<fb::TensorInfo>> tensors;
  for (size_t i = 0; i < c.tensors.size(); ++i) {
    const Tensor &t = c.tensors[i];
    tensors.push_back(fb::CreateTensorInfoDirect(
        b, t.name.c_str(), t.dtype, &t.shape, layout.offsets[i], t.bytes.size()));
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
  flatbuffers::Offset<fb::WeightsFile> file;
  if (weightsFile)
    file = fb::CreateWeightsFileDirect(b, weightsFile->relativePath.c_str(),
                                       weightsFile->size, weightsFile->checksum);

  auto root = fb::CreateArtifact(
      b, rt::kSchemaVersion, b.CreateString(c.producer),
      b.CreateString(c.recipe), config, b.CreateVector(tensors), plan,
      b.CreateVector(targets), b.CreateVector(kernels), kv,
      b.CreateVector(c.tokenizerModel), b.CreateVector(numerics), layout.size,
      file, dummyWeights);
  fb::FinishArtifactBuffer(b, root);

  os.write(rt::kArtifactMagic, sizeof(rt::kArtifactMagic));
  uint64_t fbSize = b.GetSize();
  char sizeBytes[8];
  for (int i = 0; i < 8; ++i)
    sizeBytes[i] = static_cast<char>((fbSize >> (8 * i)) & 0xff);
  os.write(sizeBytes, 8);
  os.write(reinterpret_cast<const char *>(b.GetBufferPointer()), fbSize);
}

// The table, then the weights section inside the artifact.
void writeSingleFile(const ArtifactContents &c, const SectionLayout &layout,
                     llvm::raw_ostream &os) {
  uint64_t start = os.tell();
  writeTable(c, layout, nullptr, /*dummyWeights=*/false, os);
  uint64_t tableEnd = os.tell() - start;
  os.write_zeros(rt::alignUp(tableEnd, rt::kWeightsAlignment) - tableEnd);
  forEachSectionPiece(c.tensors, layout, [&](const void *data, size_t size) {
    os.write(static_cast<const char *>(data), size);
  });
}

// `target` relative to the directory `base`; both absolute, without dots.
std::string relativeTo(StringRef base, StringRef target) {
  SmallVector<StringRef> from(llvm::sys::path::begin(base), llvm::sys::path::end(base));
  SmallVector<StringRef> to(llvm::sys::path::begin(target), llvm::sys::path::end(target));
  size_t common = 0;
  while (common < from.size() && common < to.size() && from[common] == to[common])
    ++common;
  SmallString<256> relative;
  for (size_t i = common; i < from.size(); ++i)
    llvm::sys::path::append(relative, "..");
  for (size_t i = common; i < to.size(); ++i)
    llvm::sys::path::append(relative, to[i]);
  return std::string(relative);
}

SmallString<256> absolutePath(StringRef path) {
  SmallString<256> absolute(path);
  llvm::sys::fs::make_absolute(absolute);
  llvm::sys::path::remove_dots(absolute, /*remove_dot_dot=*/true);
  return absolute;
}

// Whether the file at `path` holds exactly `size` bytes of checksum
// `checksum`. Read in pieces rather than mapped: the compiler's resident
// memory stays that of the model it holds.
bool fileMatches(StringRef path, uint64_t size, uint64_t checksum) {
  uint64_t actual = 0;
  if (llvm::sys::fs::file_size(path, actual) || actual != size)
    return false;
  llvm::Expected<llvm::sys::fs::file_t> file = llvm::sys::fs::openNativeFileForRead(path);
  if (!file) {
    llvm::consumeError(file.takeError());
    return false;
  }
  rt::WeightsChecksum hash;
  std::vector<char> buffer(4 << 20);
  uint64_t read = 0;
  while (true) {
    llvm::Expected<size_t> n = llvm::sys::fs::readNativeFile(*file, buffer);
    if (!n) {
      llvm::consumeError(n.takeError());
      llvm::sys::fs::closeFile(*file);
      return false;
    }
    if (*n == 0)
      break;
    hash.update(buffer.data(), *n);
    read += *n;
  }
  llvm::sys::fs::closeFile(*file);
  return read == size && hash.digest() == checksum;
}

// Writes the weights section to `path` unless it already holds it; fills
// `record` (the path still as given).
LogicalResult writeWeightsFile(const ArtifactContents &c, const SectionLayout &layout,
                               StringRef path, Location loc, llvm::raw_ostream *progress,
                               WeightsFileRecord &record) {
  rt::WeightsChecksum hash;
  forEachSectionPiece(c.tensors, layout,
                      [&](const void *data, size_t size) { hash.update(data, size); });
  record.size = layout.size;
  record.checksum = hash.digest();
  auto describe = [&] {
    return llvm::formatv("{0} bytes, XXH3-64 {1:x16}", record.size, record.checksum).str();
  };
  if (fileMatches(path, record.size, record.checksum)) {
    if (progress)
      *progress << "weights file " << path << " unchanged (" << describe()
                << "): not rewritten\n";
    return success();
  }
  // Written beside the target and renamed over it: a reader that has the
  // old file mapped keeps its bytes, and a failed write leaves no torn file.
  llvm::Expected<llvm::sys::fs::TempFile> temp =
      llvm::sys::fs::TempFile::create(path + ".tmp-%%%%%%");
  if (!temp)
    return emitError(loc) << "cannot create a temporary file beside weights file '"
                          << path << "': " << llvm::toString(temp.takeError());
  {
    llvm::raw_fd_ostream os(temp->FD, /*shouldClose=*/false);
    forEachSectionPiece(c.tensors, layout, [&](const void *data, size_t size) {
      os.write(static_cast<const char *>(data), size);
    });
    os.flush();
    if (os.has_error()) {
      std::string message = os.error().message();
      os.clear_error();
      llvm::consumeError(temp->discard());
      return emitError(loc) << "error writing weights file '" << path << "': " << message;
    }
  }
  if (llvm::Error error = temp->keep(path))
    return emitError(loc) << "cannot write weights file '" << path
                          << "': " << llvm::toString(std::move(error));
  if (progress)
    *progress << "wrote weights file " << path << " (" << describe() << ")\n";
  return success();
}

} // namespace

void serializeArtifact(const ArtifactContents &c, llvm::raw_ostream &os) {
  writeSingleFile(c, layoutTensors(c.tensors), os);
}

LogicalResult writeArtifact(const ArtifactContents &c, StringRef path,
                            Location loc, const WriteOptions &options) {
  SectionLayout layout = layoutTensors(c.tensors);
  WeightsFileRecord record;
  const bool separate = !options.weightsFilePath.empty();
  if (separate) {
    if (options.dummyWeights)
      return emitError(loc) << "an artifact with dummy weights has no weights file";
    SmallString<256> artifact = absolutePath(path), weights = absolutePath(options.weightsFilePath);
    if (artifact == weights)
      return emitError(loc) << "the weights file '" << options.weightsFilePath
                            << "' is the artifact itself";
    if (failed(writeWeightsFile(c, layout, options.weightsFilePath, loc, options.progress,
                                record)))
      return failure();
    record.relativePath = relativeTo(llvm::sys::path::parent_path(artifact), weights);
  } else if (options.dummyWeights && options.progress) {
    *options.progress << "no weights written (dummy weights): " << layout.size
                      << " bytes of tensors, generated by the runtime at load\n";
  }

  std::string error;
  auto out = mlir::openOutputFile(path, &error);
  if (!out)
    return emitError(loc) << "cannot open '" << path << "': " << error;
  if (separate || options.dummyWeights)
    writeTable(c, layout, separate ? &record : nullptr, options.dummyWeights, out->os());
  else
    writeSingleFile(c, layout, out->os());
  if (out->os().has_error())
    return emitError(loc) << "error writing '" << path
                          << "': " << out->os().error().message();
  out->keep();
  return success();
}

} // namespace qtc::artifact
