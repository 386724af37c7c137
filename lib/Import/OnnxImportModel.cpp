//===- OnnxImportModel.cpp - ONNX models to the canonical tfm graph -------===//
//
// importOnnx: importOnnxNodes (one onnx.node per node), then
// buildOnnxImportPipeline (conversion, folding, raising, binding to
// tfm.model). A config.json beside the model supplies what a graph cannot
// state (architecture, maximum context, token ids) and is checked against
// it.
//
//===----------------------------------------------------------------------===//

#include "TfmModelEmitter.h"
#include "qtc/Import/Import.h"
#include "qtc/Import/OnnxImport.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

using namespace mlir;
using namespace qtc;

FailureOr<ImportedModel> qtc::importOnnx(MLIRContext &context, StringRef path) {
  registerImportDialects(context);
  context.loadDialect<func::FuncDialect, tensor::TensorDialect,
                      arith::ArithDialect>();
  ImportedModel model;
  FailureOr<OwningOpRef<ModuleOp>> module =
      importOnnxNodes(context, path, model.weights);
  if (failed(module))
    return failure();

  StringRef parent = llvm::sys::path::parent_path(path);
  llvm::SmallString<256> folder;
  if (llvm::sys::fs::real_path(parent.empty() ? "." : parent, folder))
    folder = parent;
  llvm::SmallString<256> configPath(folder);
  llvm::sys::path::append(configPath, "config.json");
  OnnxBindModelOptions options;
  options.modelName = modelSymbolName(llvm::sys::path::filename(folder));
  options.configJson = std::string(configPath);

  PassManager pm(&context, ModuleOp::getOperationName());
  buildOnnxImportPipeline(pm, options, &model.weights);
  if (failed(pm.run(**module)))
    return failure();
  model.module = std::move(*module);
  return model;
}
