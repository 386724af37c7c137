//===- OnnxImport.h - The structural ONNX importer's stages -----*- C++ -*-===//
//
// ONNX import in stages, each visible as IR (docs/onnx-import.md):
//
//   importOnnxNodes             the file, one `onnx.node` per node
//   qtc-onnx-specialize-batch   a symbolic batch dimension fixed to 1
//   qtc-onnx-strip-kv-cache     past key/value inputs, present outputs removed
//   qtc-onnx-convert-nodes      typed onnx ops per operator and opset range
//   canonicalize                constant and shape subgraphs folded
//   qtc-onnx-raise-*            decompositions raised to tfm ops
//   qtc-onnx-bind-model         the raised decoder as tfm.model
//
//===----------------------------------------------------------------------===//

#ifndef QTC_IMPORT_ONNXIMPORT_H
#define QTC_IMPORT_ONNXIMPORT_H

#include "qtc/Import/WeightStore.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Support/LLVM.h"

namespace qtc {

/// Reads the ONNX model at `path` (binary protobuf, or protobuf text format
/// when the name ends in `.onnxtxt`) into a module holding `func.func @main`:
/// one argument per graph input, one `onnx.node` per node in graph order,
/// one `onnx.Constant` per initializer or Constant node before its first
/// user. Float initializers stay in `weights` (the constants view them); the
/// module must not outlive it. The default-domain opset is the module's
/// `onnx.opset` attribute.
mlir::FailureOr<mlir::OwningOpRef<mlir::ModuleOp>>
importOnnxNodes(mlir::MLIRContext &context, llvm::StringRef path,
                WeightStore &weights);

#define GEN_PASS_DECL
#include "qtc/Import/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "qtc/Import/Passes.h.inc"

/// The stages after importOnnxNodes up to tfm ops in @main: conversion,
/// canonicalization and every raising pass.
void buildOnnxRaisePipeline(mlir::OpPassManager &pm);

/// qtc-onnx-bind-model registering each bound weight in `weights` under its
/// Hugging Face name (transposed where the graph holds it as [in, out]);
/// `weights` must hold the bytes the module's constants view. Without a
/// store (qtc-opt) only the IR is produced.
std::unique_ptr<mlir::Pass>
createOnnxBindModel(const OnnxBindModelOptions &options,
                    WeightStore *weights);

/// The whole structural import after importOnnxNodes: the raise pipeline,
/// then the binding to tfm.model (on a module-level pass manager).
void buildOnnxImportPipeline(mlir::OpPassManager &pm,
                             const OnnxBindModelOptions &options,
                             WeightStore *weights);

/// Registers `qtc-onnx-raise` (buildOnnxRaisePipeline) and `qtc-onnx-import`
/// (buildOnnxImportPipeline without a weight store) as named pipelines.
void registerOnnxPipelines();

} // namespace qtc

#endif // QTC_IMPORT_ONNXIMPORT_H
