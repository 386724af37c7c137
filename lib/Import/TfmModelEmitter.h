//===- TfmModelEmitter.h - Builds the canonical tfm graph -------*- C++ -*-===//

#ifndef QTC_LIB_IMPORT_TFMMODELEMITTER_H
#define QTC_LIB_IMPORT_TFMMODELEMITTER_H

#include "TransformerConfig.h"
#include "qtc/Import/WeightStore.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "mlir/Support/LLVM.h"

#include <functional>

namespace qtc {

/// Where the importer's sources are, for diagnostics and op locations.
struct EmitterLocations {
  /// The source of weight `name` (its file, tensor or ONNX initializer).
  std::function<mlir::Location(llvm::StringRef name)> weight;
  /// The source of the op computing `key`: "model.embed_tokens",
  /// "model.layers.3.input_layernorm", "model.layers.3.self_attn.q_proj",
  /// "model.layers.3.self_attn.rope_q" / "rope_k", "model.layers.3.self_attn",
  /// "model.layers.3.residual_attn" / "residual_mlp", "model.layers.3.mlp",
  /// "model.norm", "lm_head".
  std::function<mlir::Location(llvm::StringRef key)> op;
  /// The model as a whole.
  mlir::Location model;
};

/// Emits `tfm.model @symName` for `config` (docs/contracts.md section 1),
/// with one `tfm.weight` per tensor of `weights`, created right before its
/// first user. Missing weights and weights whose shape disagrees with
/// `config` are diagnostics at their `locations.weight`.
mlir::FailureOr<mlir::OwningOpRef<mlir::ModuleOp>>
emitTfmModel(mlir::MLIRContext &context, llvm::StringRef symName,
             const TransformerConfig &config, const WeightStore &weights,
             const EmitterLocations &locations);

/// A symbol name for a model stored under `path`: its folder's name with
/// characters outside [A-Za-z0-9_] replaced by '_'.
std::string modelSymbolName(llvm::StringRef folder);

} // namespace qtc

#endif // QTC_LIB_IMPORT_TFMMODELEMITTER_H
