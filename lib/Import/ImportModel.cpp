//===- ImportModel.cpp - Importer entry point
//------------------------------===//

#include "qtc/Import/Import.h"

#include "dialects/tfm/TfmDialect.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Location.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

using namespace mlir;

void qtc::registerImportDialects(MLIRContext &context) {
  context.getOrLoadDialect<tfm::TfmDialect>();
}

FailureOr<qtc::ImportedModel> qtc::importModel(MLIRContext &context,
                                               StringRef path) {
  if (llvm::sys::fs::is_directory(path))
    return importHuggingFace(context, path);
  if (llvm::sys::path::extension(path).equals_insensitive(".onnx"))
    return importOnnx(context, path);
  return emitError(FileLineColLoc::get(&context, path, 0, 0))
         << "expected a Hugging Face checkpoint folder or an .onnx file";
}
