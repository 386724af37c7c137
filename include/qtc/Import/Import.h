//===- Import.h - Model importers producing the tfm dialect -----*- C++ -*-===//
//
// Both importers return the canonical tfm graph of docs/contracts.md and a
// WeightStore with every weight under its Hugging Face name. Failures are
// reported as MLIR diagnostics on the context (located at the file, the
// config field, the tensor or the ONNX node at fault).
//
//===----------------------------------------------------------------------===//

#ifndef QTC_IMPORT_IMPORT_H
#define QTC_IMPORT_IMPORT_H

#include "qtc/Import/WeightStore.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "mlir/Support/LLVM.h"

namespace qtc {

struct ImportedModel {
  mlir::OwningOpRef<mlir::ModuleOp> module;
  WeightStore weights;
};

/// Loads the dialects the importers create ops of.
void registerImportDialects(mlir::MLIRContext &context);

/// Imports a Hugging Face checkpoint folder: config.json and either
/// model.safetensors or model.safetensors.index.json with its shards.
mlir::FailureOr<ImportedModel> importHuggingFace(mlir::MLIRContext &context,
                                                 llvm::StringRef dir);

/// Imports an ONNX model (opset 13..23): one onnx op per node, raised to tfm
/// ops by passes and bound to tfm.model (docs/onnx-import.md).
/// A config.json beside the model, when present, supplies what the graph
/// cannot state (architecture, maximum context, token ids).
mlir::FailureOr<ImportedModel> importOnnx(mlir::MLIRContext &context,
                                          llvm::StringRef path);

/// Dispatches on the path: a directory is a Hugging Face checkpoint, a
/// `.onnx` file is an ONNX model.
mlir::FailureOr<ImportedModel> importModel(mlir::MLIRContext &context,
                                           llvm::StringRef path);

} // namespace qtc

#endif // QTC_IMPORT_IMPORT_H
