//===- HFCheckpointImporter.cpp - Hugging Face checkpoint folders ---------===//
//
// config.json gives the architecture; the safetensors files (one, or shards
// listed by model.safetensors.index.json) are memory-mapped into the
// WeightStore and the canonical graph is emitted from the config.
//
//===----------------------------------------------------------------------===//

#include "HFCheckpointConfig.h"
#include "TfmModelEmitter.h"
#include "qtc/Import/Import.h"
#include "qtc/Import/Safetensors.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Location.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

using namespace mlir;
using namespace qtc;

namespace {

std::string joinPath(StringRef dir, StringRef file) {
  llvm::SmallString<256> path(dir);
  llvm::sys::path::append(path, file);
  return std::string(path);
}

// Shard names come from the index file; only plain file names inside the
// checkpoint folder are accepted.
bool isPlainFileName(StringRef name) {
  return !name.empty() && name != "." && name != ".." &&
         name.find_first_of("/\\") == StringRef::npos;
}

/// Loads the shards listed by `indexPath` into `store`; records which file
/// holds each tensor in `tensorFiles`.
LogicalResult loadShardedCheckpoint(MLIRContext &context, StringRef dir,
                                    StringRef indexPath, WeightStore &store,
                                    llvm::StringMap<std::string> &tensorFiles) {
  Location indexLoc = FileLineColLoc::get(&context, indexPath, 0, 0);
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> buffer =
      llvm::MemoryBuffer::getFile(indexPath, /*IsText=*/true);
  if (!buffer)
    return emitError(indexLoc)
           << "cannot open: " << buffer.getError().message();
  llvm::Expected<llvm::json::Value> json =
      llvm::json::parse((*buffer)->getBuffer());
  if (!json)
    return emitError(indexLoc)
           << "index is not valid JSON: " << llvm::toString(json.takeError());
  const llvm::json::Object *root = json->getAsObject();
  const llvm::json::Object *weightMap =
      root ? root->getObject("weight_map") : nullptr;
  if (!weightMap)
    return emitError(indexLoc) << "index has no 'weight_map' object";

  // Sorted so shards load (and diagnose) in a deterministic order.
  std::vector<std::string> shards;
  llvm::StringSet<> seen;
  for (const auto &[tensor, file] : *weightMap) {
    std::optional<StringRef> name = file.getAsString();
    if (!name || !isPlainFileName(*name))
      return emitError(indexLoc)
             << "weight_map entry for '" << tensor.str()
             << "' must name a file inside the checkpoint folder";
    if (seen.insert(*name).second)
      shards.push_back(name->str());
  }
  llvm::sort(shards);

  for (const std::string &shard : shards) {
    std::string shardPath = joinPath(dir, shard);
    FailureOr<std::vector<std::string>> names =
        addSafetensorsFile(context, shardPath, store);
    if (failed(names))
      return failure();
    for (const std::string &name : *names)
      tensorFiles[name] = shardPath;
  }

  for (const auto &[tensor, file] : *weightMap) {
    auto found = tensorFiles.find(tensor.str());
    std::string expected = joinPath(dir, *file.getAsString());
    if (found == tensorFiles.end() || found->second != expected)
      return emitError(indexLoc)
             << "weight_map places '" << tensor.str() << "' in "
             << *file.getAsString() << ", which does not contain it";
  }
  return success();
}

} // namespace

FailureOr<ImportedModel> qtc::importHuggingFace(MLIRContext &context,
                                                StringRef dir) {
  registerImportDialects(context);
  Location dirLoc = FileLineColLoc::get(&context, dir, 0, 0);
  if (!llvm::sys::fs::is_directory(dir))
    return emitError(dirLoc) << "not a checkpoint folder";

  FailureOr<TransformerConfig> config =
      readHFConfig(context, joinPath(dir, "config.json"));
  if (failed(config))
    return failure();

  ImportedModel model;
  llvm::StringMap<std::string> tensorFiles;
  std::string indexPath = joinPath(dir, "model.safetensors.index.json");
  std::string singlePath = joinPath(dir, "model.safetensors");
  std::string missingTensorFile;
  if (llvm::sys::fs::exists(indexPath)) {
    if (failed(loadShardedCheckpoint(context, dir, indexPath, model.weights,
                                     tensorFiles)))
      return failure();
    missingTensorFile = indexPath;
  } else if (llvm::sys::fs::exists(singlePath)) {
    FailureOr<std::vector<std::string>> names =
        addSafetensorsFile(context, singlePath, model.weights);
    if (failed(names))
      return failure();
    for (const std::string &name : *names)
      tensorFiles[name] = singlePath;
    missingTensorFile = singlePath;
  } else {
    return emitError(dirLoc)
           << "no model.safetensors or model.safetensors.index.json";
  }

  EmitterLocations locations{
      /*weight=*/
      [&](StringRef name) -> Location {
        auto found = tensorFiles.find(name);
        StringRef file = found == tensorFiles.end()
                             ? StringRef(missingTensorFile)
                             : StringRef(found->second);
        return NameLoc::get(StringAttr::get(&context, name),
                            FileLineColLoc::get(&context, file, 0, 0));
      },
      /*op=*/
      [&](StringRef key) -> Location {
        return NameLoc::get(StringAttr::get(&context, key), dirLoc);
      },
      /*model=*/dirLoc};
  llvm::SmallString<256> realDir;
  if (llvm::sys::fs::real_path(dir, realDir))
    realDir = dir;
  FailureOr<OwningOpRef<ModuleOp>> module =
      emitTfmModel(context, modelSymbolName(llvm::sys::path::filename(realDir)),
                   *config, model.weights, locations);
  if (failed(module))
    return failure();
  model.module = std::move(*module);
  return model;
}
