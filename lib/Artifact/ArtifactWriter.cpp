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
#include "llvm/Support/Format.h"
#include "llvm/Support/ThreadPool.h"
#include "llvm/Support/Threading.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <cstring>
#include <deque>
#include <future>
#include <optional>
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
    cursor += t.byteSize();
  }
  layout.size = rt::alignUp(cursor, rt::kWeightsAlignment);
  return layout;
}

// Produced tensors are computed in chunks of about this size, this many
// chunks per thread ahead of the one being written: production on every
// core overlaps the disk, and memory stays a few chunks whatever the model.
constexpr uint64_t kChunkBytes = 16ull << 20;
constexpr unsigned kChunksAheadPerThread = 2;

// One piece of the section, in order: zero padding, a view, or a chunk of a
// produced tensor.
struct Piece {
  const Tensor *tensor = nullptr; // null: `size` zero bytes
  uint64_t offset = 0;            // within the tensor
  uint64_t size = 0;
};

std::vector<Piece> sectionPieces(const std::vector<Tensor> &tensors,
                                 const SectionLayout &layout) {
  std::vector<Piece> pieces;
  uint64_t written = 0;
  auto padTo = [&](uint64_t to) {
    if (to > written)
      pieces.push_back({nullptr, 0, to - written});
    written = std::max(written, to);
  };
  for (size_t i = 0; i < tensors.size(); ++i) {
    const Tensor &t = tensors[i];
    padTo(layout.offsets[i]);
    uint64_t size = t.byteSize();
    uint64_t step = size;
    if (t.produce) {
      uint64_t granule = std::max<uint64_t>(t.granule, 1);
      step = std::max<uint64_t>(kChunkBytes / granule, 1) * granule;
    }
    for (uint64_t at = 0; at < size; at += step)
      pieces.push_back({&t, at, std::min(step, size - at)});
    written += size;
  }
  padTo(layout.size);
  return pieces;
}

// "N of M GB" lines while a large section is streamed: one per tenth.
class SectionProgress {
public:
  SectionProgress(llvm::raw_ostream *os, StringRef what, uint64_t total)
      : os(total >= (1ull << 30) ? os : nullptr), what(what), total(total),
        start(std::chrono::steady_clock::now()) {}
  void advance(uint64_t bytes) {
    done += bytes;
    if (!os || done * 10 / total == shown)
      return;
    shown = done * 10 / total;
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    *os << llvm::format("      %s: %.2f of %.2f GB, %.1f s (%.0f MB/s)\n", what.c_str(),
                        done / 1e9, total / 1e9, s, done / 1e6 / std::max(s, 1e-9));
    os->flush();
  }

private:
  llvm::raw_ostream *os;
  std::string what;
  uint64_t total, done = 0, shown = 0;
  std::chrono::steady_clock::time_point start;
};

// Calls `sink` with the weights section's bytes in order: each view where
// it is, each produced tensor chunk by chunk as the thread pool computes
// it, and the zero padding between them. The first error (a producer's, or
// the sink's) stops the stream.
llvm::Error streamSection(const std::vector<Tensor> &tensors, const SectionLayout &layout,
                          llvm::function_ref<llvm::Error(const uint8_t *, size_t)> sink,
                          SectionProgress *progress = nullptr) {
  static const uint8_t zeros[rt::kWeightsAlignment] = {};
  std::vector<Piece> pieces = sectionPieces(tensors, layout);
  bool anyProduced = llvm::any_of(pieces, [](const Piece &p) {
    return p.tensor && p.tensor->produce;
  });
  std::optional<llvm::DefaultThreadPool> pool;
  unsigned ahead = 1;
  if (anyProduced) {
    pool.emplace(llvm::hardware_concurrency());
    ahead = pool->getMaxConcurrency() * kChunksAheadPerThread;
  }

  struct InFlight {
    const Piece *piece;
    std::vector<uint8_t> buffer;
    std::string error;
    std::shared_future<void> done;
  };
  std::deque<std::unique_ptr<InFlight>> queue;
  size_t next = 0;
  auto submit = [&] {
    auto slot = std::make_unique<InFlight>();
    slot->piece = &pieces[next++];
    if (slot->piece->tensor && slot->piece->tensor->produce) {
      InFlight *s = slot.get();
      s->buffer.resize(s->piece->size);
      s->done = pool->async([s] {
        if (llvm::Error e = s->piece->tensor->produce(s->piece->offset, s->buffer))
          s->error = llvm::toString(std::move(e));
      });
    }
    queue.push_back(std::move(slot));
  };
  llvm::Error failure = llvm::Error::success();
  while (!failure && (next < pieces.size() || !queue.empty())) {
    while (next < pieces.size() && queue.size() < ahead)
      submit();
    std::unique_ptr<InFlight> slot = std::move(queue.front());
    queue.pop_front();
    const Piece &piece = *slot->piece;
    if (slot->done.valid())
      slot->done.wait();
    if (!slot->error.empty()) {
      failure = llvm::createStringError(slot->error);
    } else if (!piece.tensor) {
      for (uint64_t left = piece.size; left && !failure;) {
        size_t n = std::min<uint64_t>(left, sizeof(zeros));
        failure = sink(zeros, n);
        left -= n;
      }
    } else if (piece.tensor->produce) {
      failure = sink(slot->buffer.data(), slot->buffer.size());
    } else {
      failure = sink(piece.tensor->bytes.data() + piece.offset, piece.size);
    }
    if (progress)
      progress->advance(piece.size);
  }
  // Chunks still being produced read the queue's buffers.
  for (std::unique_ptr<InFlight> &slot : queue)
    if (slot->done.valid())
      slot->done.wait();
  return failure;
}

// The error of a file stream, cleared.
llvm::Error streamError(llvm::raw_fd_ostream &os) {
  if (!os.has_error())
    return llvm::Error::success();
  std::error_code ec = os.error();
  os.clear_error();
  return llvm::errorCodeToError(ec);
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
    slots.push_back(fb::CreateSlotDirect(b, s.name.c_str(), s.width, s.activation));
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
        b, t.name.c_str(), t.dtype, &t.shape, layout.offsets[i], t.byteSize()));
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
  auto kv = fb::CreateKvCacheSpecDirect(
      b, c.config.numLayers, c.config.numKvHeads, c.config.headDim, c.kvBlockSize, c.kvDType,
      c.kvKeyGranularity, c.kvKeySymmetric, c.kvValueSymmetric, c.kvResidualWindow,
      c.kvSinkTokens, c.kvKeyScales.empty() ? nullptr : &c.kvKeyScales,
      c.kvValueScales.empty() ? nullptr : &c.kvValueScales);
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
// `file`, when given, is `os` as a file, whose write errors stop the stream.
llvm::Error writeSingleFile(const ArtifactContents &c, const SectionLayout &layout,
                            llvm::raw_ostream &os, llvm::raw_fd_ostream *file = nullptr,
                            llvm::raw_ostream *progress = nullptr) {
  uint64_t start = os.tell();
  writeTable(c, layout, nullptr, /*dummyWeights=*/false, os);
  uint64_t tableEnd = os.tell() - start;
  os.write_zeros(rt::alignUp(tableEnd, rt::kWeightsAlignment) - tableEnd);
  SectionProgress shown(progress, "weights", layout.size);
  return streamSection(c.tensors, layout, [&](const uint8_t *data, size_t size) {
    os.write(reinterpret_cast<const char *>(data), size);
    return file ? streamError(*file) : llvm::Error::success();
  }, &shown);
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

// Writes the weights section to `path` unless it already holds it; fills
// `record` (the path still as given). One pass produces the section, hashes
// it and compares it with a file of the same size already at `path`; only
// from the first byte that differs is a new file written (beside `path`,
// starting with the old file's equal prefix), so a recompile of unchanged
// weights reads the old file instead of rewriting it, and no tensor is
// produced twice.
LogicalResult writeWeightsFile(const ArtifactContents &c, const SectionLayout &layout,
                               StringRef path, Location loc, llvm::raw_ostream *progress,
                               WeightsFileRecord &record) {
  record.size = layout.size;
  rt::WeightsChecksum hash;

  // The old file, while it matches what is produced.
  std::optional<llvm::sys::fs::file_t> old;
  uint64_t oldSize = 0;
  if (!llvm::sys::fs::file_size(path, oldSize) && oldSize == layout.size) {
    llvm::Expected<llvm::sys::fs::file_t> file = llvm::sys::fs::openNativeFileForRead(path);
    if (file)
      old = *file;
    else
      llvm::consumeError(file.takeError());
  }
  auto closeOld = [&] {
    if (old)
      llvm::sys::fs::closeFile(*old);
    old.reset();
  };
  std::vector<uint8_t> oldBytes;
  uint64_t matched = 0; // bytes equal to the old file's so far

  std::optional<llvm::sys::fs::TempFile> temp;
  std::optional<llvm::raw_fd_ostream> out;
  auto startNew = [&]() -> llvm::Error {
    llvm::Expected<llvm::sys::fs::TempFile> created =
        llvm::sys::fs::TempFile::create(path + ".tmp-%%%%%%");
    if (!created)
      return llvm::createStringError("cannot create a temporary file beside it: " +
                                     llvm::toString(created.takeError()));
    temp.emplace(std::move(*created));
    out.emplace(temp->FD, /*shouldClose=*/false);
    if (matched == 0)
      return llvm::Error::success();
    // The equal prefix comes from the old file.
    std::vector<char> buffer(4 << 20);
    llvm::Expected<llvm::sys::fs::file_t> again = llvm::sys::fs::openNativeFileForRead(path);
    if (!again)
      return again.takeError();
    for (uint64_t copied = 0; copied < matched;) {
      size_t want = std::min<uint64_t>(buffer.size(), matched - copied);
      llvm::Expected<size_t> n = llvm::sys::fs::readNativeFile(
          *again, llvm::MutableArrayRef<char>(buffer.data(), want));
      if (!n || *n == 0) {
        llvm::sys::fs::closeFile(*again);
        return n ? llvm::createStringError("it shrank while being read") : n.takeError();
      }
      out->write(buffer.data(), *n);
      copied += *n;
    }
    llvm::sys::fs::closeFile(*again);
    return streamError(*out);
  };
  if (!old)
    if (llvm::Error e = startNew()) {
      return emitError(loc) << "cannot write weights file '" << path
                            << "': " << llvm::toString(std::move(e));
    }

  SectionProgress shown(progress, "weights", layout.size);
  llvm::Error error = streamSection(c.tensors, layout, [&](const uint8_t *data, size_t size) -> llvm::Error {
    hash.update(data, size);
    if (old) {
      oldBytes.resize(size);
      size_t got = 0;
      while (got < size) {
        llvm::Expected<size_t> n = llvm::sys::fs::readNativeFile(
            *old, llvm::MutableArrayRef<char>(reinterpret_cast<char *>(oldBytes.data()) + got,
                                              size - got));
        if (!n) {
          llvm::consumeError(n.takeError());
          break;
        }
        if (*n == 0)
          break;
        got += *n;
      }
      if (got == size && std::memcmp(oldBytes.data(), data, size) == 0) {
        matched += size;
        return llvm::Error::success();
      }
      closeOld();
      if (llvm::Error e = startNew())
        return e;
    }
    out->write(reinterpret_cast<const char *>(data), size);
    return streamError(*out);
  }, &shown);
  closeOld();
  if (out)
    out->flush();
  if (!error && out)
    if (std::error_code ec = out->error(); out->has_error()) {
      out->clear_error();
      error = llvm::errorCodeToError(ec);
    }
  if (error) {
    if (out) {
      out->clear_error();
      out.reset();
    }
    if (temp)
      llvm::consumeError(temp->discard());
    return emitError(loc) << "cannot write weights file '" << path
                          << "': " << llvm::toString(std::move(error));
  }
  record.checksum = hash.digest();
  auto describe = [&] {
    return llvm::formatv("{0} bytes, XXH3-64 {1:x16}", record.size, record.checksum).str();
  };
  if (!temp) {
    if (progress)
      *progress << "weights file " << path << " unchanged (" << describe()
                << "): not rewritten\n";
    return success();
  }
  out.reset();
  // Renamed over the target: a reader that has the old file mapped keeps
  // its bytes, and a failed write leaves no torn file.
  if (llvm::Error e = temp->keep(path))
    return emitError(loc) << "cannot write weights file '" << path
                          << "': " << llvm::toString(std::move(e));
  if (progress)
    *progress << "wrote weights file " << path << " (" << describe() << ")\n";
  return success();
}

} // namespace

llvm::Error serializeArtifact(const ArtifactContents &c, llvm::raw_ostream &os) {
  return writeSingleFile(c, layoutTensors(c.tensors), os);
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
  llvm::Error written = llvm::Error::success();
  if (separate || options.dummyWeights)
    writeTable(c, layout, separate ? &record : nullptr, options.dummyWeights, out->os());
  else
    written = writeSingleFile(c, layout, out->os(), &out->os(), options.progress);
  if (!written)
    written = streamError(out->os());
  if (written) {
    out->os().clear_error();
    return emitError(loc) << "cannot write '" << path
                          << "': " << llvm::toString(std::move(written));
  }
  out->keep();
  return success();
}

} // namespace qtc::artifact
