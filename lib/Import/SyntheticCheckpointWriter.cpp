//===- SyntheticCheckpointWriter.cpp - Writes random-weight checkpoints ---===//
//
// Memory stays bounded whatever the model's size: a shard's data goes out in
// pieces of at most 16 MiB, generated on the thread pool into one of two
// buffers while the other is being written, so generation and the disk
// overlap and the process holds 32 MiB of weights at any time.
//
//===----------------------------------------------------------------------===//

#include "qtc/Import/SyntheticCheckpoint.h"

#include "SyntheticWeights.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Location.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Regex.h"
#include "llvm/Support/ThreadPool.h"
#include "llvm/Support/Threading.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>

using namespace mlir;
using namespace qtc;

namespace {

constexpr uint64_t kPieceBytes = 16ull << 20;
// A piece is generated in parts of this size, so every thread gets work.
constexpr uint64_t kPartBytes = 1ull << 20;

std::string joinPath(llvm::StringRef dir, llvm::StringRef file) {
  llvm::SmallString<256> path(dir);
  llvm::sys::path::append(path, file);
  return std::string(path);
}

double secondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                       start)
      .count();
}

// A shard's line on the terminal, rewritten as its tensors are written.
class ShardProgress {
public:
  ShardProgress(llvm::raw_ostream *os, size_t index, size_t count,
                const SyntheticShard &shard)
      : os(os), index(index), count(count), shard(shard),
        start(std::chrono::steady_clock::now()) {}

  void update(size_t tensorsDone, uint64_t bytesDone) {
    if (!os)
      return;
    // Redrawing costs a write to the terminal; a few per second suffice.
    double now = secondsSince(start);
    if (tensorsDone != shard.tensors.size() && now - lastDraw < 0.2)
      return;
    lastDraw = now;
    *os << llvm::format("\r[%zu/%zu] %s: %zu/%zu tensors, %.2f/%.2f GB",
                        index + 1, count, shard.fileName.c_str(), tensorsDone,
                        shard.tensors.size(), bytesDone / 1e9,
                        shard.dataBytes / 1e9);
    os->flush();
  }

  void finish() {
    if (!os)
      return;
    double seconds = secondsSince(start);
    *os << llvm::format(" in %.1f s (%.0f MB/s)\n", seconds,
                        shard.dataBytes / 1e6 / std::max(seconds, 1e-9));
    os->flush();
  }

private:
  llvm::raw_ostream *os;
  size_t index;
  size_t count;
  const SyntheticShard &shard;
  std::chrono::steady_clock::time_point start;
  double lastDraw = -1.0;
};

// Up to kPieceBytes of one tensor: elements [first, first + count).
struct Piece {
  size_t tensor;
  uint64_t first;
  uint64_t count;
};

std::vector<Piece> piecesOf(const SyntheticCheckpoint &checkpoint,
                            const SyntheticShard &shard) {
  std::vector<Piece> pieces;
  for (size_t index : shard.tensors) {
    const SyntheticTensor &tensor = checkpoint.tensors[index];
    uint64_t elementBytes = dtypeByteSize(tensor.spec.dtype);
    uint64_t elements = tensor.byteSize / elementBytes;
    uint64_t perPiece = kPieceBytes / elementBytes;
    for (uint64_t first = 0; first < elements; first += perPiece)
      pieces.push_back({index, first, std::min(perPiece, elements - first)});
  }
  return pieces;
}

class ShardStreamer {
public:
  ShardStreamer()
      : pool(llvm::hardware_concurrency()), groups{{pool}, {pool}} {
    for (std::vector<uint8_t> &buffer : buffers)
      buffer.resize(kPieceBytes);
  }

  llvm::Error write(const SyntheticCheckpoint &checkpoint,
                    const SyntheticShard &shard, llvm::StringRef path,
                    ShardProgress &progress);

private:
  // Queues the generation of `piece` into buffers[slot].
  void generate(const SyntheticCheckpoint &checkpoint, const Piece &piece,
                int slot);

  llvm::DefaultThreadPool pool;
  std::vector<uint8_t> buffers[2];
  // Declared after the buffers: a group waits for its tasks when destroyed,
  // before the buffers they fill go away.
  llvm::ThreadPoolTaskGroup groups[2];
};

void ShardStreamer::generate(const SyntheticCheckpoint &checkpoint,
                             const Piece &piece, int slot) {
  const SyntheticTensor &tensor = checkpoint.tensors[piece.tensor];
  uint64_t elementBytes = dtypeByteSize(tensor.spec.dtype);
  uint64_t bytes = piece.count * elementBytes;
  uint8_t *buffer = buffers[slot].data();
  for (uint64_t offset = 0; offset < bytes; offset += kPartBytes) {
    uint64_t size = std::min(kPartBytes, bytes - offset);
    groups[slot].async([&tensor, buffer, offset, size, elementBytes,
                        first = piece.first] {
      fillSyntheticElements(tensor.streamKey, {tensor.mean, tensor.stddev},
                            tensor.spec.dtype, first + offset / elementBytes,
                            {buffer + offset, size});
    });
  }
}

llvm::Error ShardStreamer::write(const SyntheticCheckpoint &checkpoint,
                                 const SyntheticShard &shard,
                                 llvm::StringRef path,
                                 ShardProgress &progress) {
  std::vector<SafetensorsTensorSpec> specs;
  for (size_t index : shard.tensors)
    specs.push_back(checkpoint.tensors[index].spec);
  const std::pair<std::string, std::string> metadata[] = {{"format", "pt"}};
  llvm::Expected<SafetensorsWriter> writer =
      SafetensorsWriter::create(path, specs, metadata);
  if (!writer)
    return writer.takeError();

  std::vector<Piece> pieces = piecesOf(checkpoint, shard);
  size_t tensorsDone = 0;
  uint64_t bytesDone = 0;
  progress.update(0, 0);
  if (!pieces.empty())
    generate(checkpoint, pieces[0], 0);
  for (size_t p = 0; p < pieces.size(); ++p) {
    int slot = p % 2;
    groups[slot].wait();
    if (p + 1 < pieces.size())
      generate(checkpoint, pieces[p + 1], 1 - slot);
    const Piece &piece = pieces[p];
    uint64_t bytes =
        piece.count * dtypeByteSize(checkpoint.tensors[piece.tensor].spec.dtype);
    if (llvm::Error error = writer->write({buffers[slot].data(), bytes})) {
      groups[1 - slot].wait();
      return error;
    }
    bytesDone += bytes;
    if (p + 1 == pieces.size() || pieces[p + 1].tensor != piece.tensor)
      ++tensorsDone;
    progress.update(tensorsDone, bytesDone);
  }
  // Tensors without elements have no piece.
  progress.update(shard.tensors.size(), bytesDone);
  return writer->finish();
}

// Serializes `value` as transformers writes JSON files: sorted keys, an
// indent of 2, a final newline.
llvm::Error writeJsonFile(llvm::StringRef path, llvm::json::Value value) {
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec, llvm::sys::fs::OF_Text);
  if (ec)
    return llvm::createFileError(path, ec);
  os << llvm::formatv("{0:2}", value) << "\n";
  os.close();
  if (os.has_error()) {
    ec = os.error();
    os.clear_error();
    return llvm::createFileError(path, ec);
  }
  return llvm::Error::success();
}

// Weight files of an earlier save that this one does not overwrite: a
// stale index would make the importer ignore a new model.safetensors, and
// stale shards would sit beside the new ones.
llvm::Error removeStaleWeightFiles(llvm::StringRef dir,
                                   const SyntheticCheckpoint &checkpoint) {
  llvm::StringSet<> written;
  for (const SyntheticShard &shard : checkpoint.shards)
    written.insert(shard.fileName);
  if (checkpoint.shards.size() > 1)
    written.insert("model.safetensors.index.json");
  llvm::Regex weightFile(
      "^model(-[0-9]{5}-of-[0-9]{5})?\\.safetensors(\\.index\\.json)?$");

  std::error_code ec;
  for (llvm::sys::fs::directory_iterator it(dir, ec), end; it != end && !ec;
       it.increment(ec)) {
    llvm::StringRef name = llvm::sys::path::filename(it->path());
    if (!weightFile.match(name) || written.contains(name))
      continue;
    if (std::error_code removed = llvm::sys::fs::remove(it->path()))
      return llvm::createFileError(it->path(), removed);
  }
  if (ec)
    return llvm::createFileError(dir, ec);
  return llvm::Error::success();
}

llvm::json::Value indexJson(const SyntheticCheckpoint &checkpoint) {
  llvm::json::Object weightMap;
  for (const SyntheticShard &shard : checkpoint.shards)
    for (size_t index : shard.tensors)
      weightMap[checkpoint.tensors[index].spec.name] = shard.fileName;
  return llvm::json::Object{
      {"metadata",
       llvm::json::Object{
           {"total_parameters", static_cast<int64_t>(checkpoint.parameters)},
           {"total_size", static_cast<int64_t>(checkpoint.dataBytes)}}},
      {"weight_map", std::move(weightMap)}};
}

} // namespace

LogicalResult qtc::writeSyntheticCheckpoint(MLIRContext &context,
                                            const SyntheticCheckpoint &checkpoint,
                                            llvm::StringRef dir,
                                            llvm::raw_ostream *progress) {
  auto fail = [&](llvm::Error error) {
    return emitError(FileLineColLoc::get(&context, dir, 0, 0))
           << llvm::toString(std::move(error));
  };
  if (std::error_code ec = llvm::sys::fs::create_directories(dir))
    return emitError(FileLineColLoc::get(&context, dir, 0, 0))
           << "cannot create the checkpoint folder: " << ec.message();
  if (llvm::Error error = removeStaleWeightFiles(dir, checkpoint))
    return fail(std::move(error));
  if (llvm::Error error = writeJsonFile(joinPath(dir, "config.json"),
                                        llvm::json::Object(checkpoint.config)))
    return fail(std::move(error));

  auto start = std::chrono::steady_clock::now();
  ShardStreamer streamer;
  for (size_t s = 0; s < checkpoint.shards.size(); ++s) {
    const SyntheticShard &shard = checkpoint.shards[s];
    ShardProgress shardProgress(progress, s, checkpoint.shards.size(), shard);
    if (llvm::Error error = streamer.write(
            checkpoint, shard, joinPath(dir, shard.fileName), shardProgress)) {
      if (progress)
        *progress << "\n";
      return fail(std::move(error));
    }
    shardProgress.finish();
  }

  if (checkpoint.shards.size() > 1)
    if (llvm::Error error = writeJsonFile(
            joinPath(dir, "model.safetensors.index.json"), indexJson(checkpoint)))
      return fail(std::move(error));
  if (progress)
    *progress << llvm::formatv("wrote {0}: {1:N} bytes of weights in {2} "
                               "file(s), {3:f1} s\n",
                               dir, checkpoint.dataBytes,
                               checkpoint.shards.size(), secondsSince(start));
  return success();
}
