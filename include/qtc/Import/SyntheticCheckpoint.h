//===- SyntheticCheckpoint.h - Checkpoints of random weights ---*- C++ -*-===//
//
// `qtc synth` writes a checkpoint a Hugging Face loader (and qtc's importer)
// takes as it takes a real one, at a real model's size, with random weights:
// config.json, the safetensors shards and model.safetensors.index.json laid
// out as transformers' save_pretrained lays them out. It is how models too
// large to carry around are compiled and benchmarked. Planning (which
// tensors, which shard) is separate from writing, so `--list` reports the
// plan without touching the disk.
//
//===----------------------------------------------------------------------===//

#ifndef QTC_IMPORT_SYNTHETICCHECKPOINT_H
#define QTC_IMPORT_SYNTHETICCHECKPOINT_H

#include "qtc/Import/SafetensorsWriter.h"
#include "qtc/Import/WeightStore.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Support/LLVM.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"

#include <cstdint>
#include <string>
#include <vector>

namespace llvm {
class raw_ostream;
} // namespace llvm

namespace qtc {

/// transformers' default `max_shard_size` ("5GB").
inline constexpr uint64_t kDefaultMaxShardBytes = 5'000'000'000ull;

struct SyntheticCheckpointOptions {
  /// A preset name (syntheticCheckpointPresets()) or the path of an HF
  /// config.json whose dimensions are used.
  std::string config;
  /// F16 or BF16.
  DType dtype = DType::F16;
  uint64_t maxShardBytes = kDefaultMaxShardBytes;
  uint64_t seed = 0;
  /// Overrides num_hidden_layers when positive.
  int64_t layers = 0;
};

/// One tensor to write and how its values are drawn.
struct SyntheticTensor {
  SafetensorsTensorSpec spec;
  float mean = 0.0f;
  float stddev = 0.0f;
  /// The random stream its values come from (seed and name).
  uint64_t streamKey = 0;
  uint64_t byteSize = 0;
};

struct SyntheticShard {
  std::string fileName;
  /// Indices into SyntheticCheckpoint::tensors, in data order.
  std::vector<size_t> tensors;
  uint64_t dataBytes = 0;
  /// Header block plus data: the size of the file on disk.
  uint64_t fileBytes = 0;
};

struct SyntheticCheckpoint {
  /// The preset name or the config file, for messages.
  std::string source;
  /// One line: architecture and dimensions.
  std::string description;
  /// config.json as it will be written.
  llvm::json::Object config;
  DType dtype = DType::F16;
  /// Every tensor, in the order transformers' state dict lists them.
  std::vector<SyntheticTensor> tensors;
  /// One shard means a single model.safetensors and no index.
  std::vector<SyntheticShard> shards;
  uint64_t parameters = 0;
  /// Tensor bytes in all (the index's metadata.total_size).
  uint64_t dataBytes = 0;
};

/// The presets `config` may name.
llvm::ArrayRef<llvm::StringLiteral> syntheticCheckpointPresets();

/// Resolves `options.config` (a preset, else a config.json read with the HF
/// importer's parser) and plans tensors and shards. Diagnostics name the
/// preset, or the config file and field.
mlir::FailureOr<SyntheticCheckpoint>
planSyntheticCheckpoint(mlir::MLIRContext &context,
                        const SyntheticCheckpointOptions &options);

/// Prints what `--list` shows: the model, tensor, parameter and byte counts,
/// and each file with its size.
void printSyntheticCheckpoint(const SyntheticCheckpoint &checkpoint,
                              llvm::raw_ostream &os);

/// Writes `checkpoint` into `dir` (created if missing): config.json, the
/// shards, streamed piece by piece from two buffers on all cores, then the
/// index. Shard files of an earlier save in `dir` that this one does not
/// write are removed, as save_pretrained removes them, so the folder holds
/// one checkpoint. `progress`, when set, gets a line per shard that updates
/// as tensors are written. Diagnostics name the file that failed.
mlir::LogicalResult writeSyntheticCheckpoint(mlir::MLIRContext &context,
                                             const SyntheticCheckpoint &checkpoint,
                                             llvm::StringRef dir,
                                             llvm::raw_ostream *progress);

/// A shard size as transformers writes max_shard_size: bytes, or a number
/// with KB/MB/GB (powers of 1000) or KiB/MiB/GiB (powers of 1024).
llvm::Expected<uint64_t> parseShardSize(llvm::StringRef text);

} // namespace qtc

#endif // QTC_IMPORT_SYNTHETICCHECKPOINT_H
