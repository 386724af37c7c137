//===- qtc-translate.cpp - ONNX files to the onnx dialect -----------------===//
//
//   qtc-translate --import-onnx model.onnx     one onnx.node per node
//
// The weight store behind the constants lives as long as the tool.
//
//===----------------------------------------------------------------------===//

#include "qtc/Import/OnnxImport.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Tools/mlir-translate/MlirTranslateMain.h"
#include "mlir/Tools/mlir-translate/Translation.h"
#include "llvm/Support/SourceMgr.h"

#include <deque>

int main(int argc, char **argv) {
  static std::deque<qtc::WeightStore> stores;
  mlir::TranslateToMLIRRegistration importOnnx(
      "import-onnx", "ONNX model (.onnx, .onnxtxt) to onnx.node ops",
      [](llvm::SourceMgr &sourceMgr,
         mlir::MLIRContext *context) -> mlir::OwningOpRef<mlir::Operation *> {
        llvm::StringRef path =
            sourceMgr.getMemoryBuffer(sourceMgr.getMainFileID())
                ->getBufferIdentifier();
        auto module = qtc::importOnnxNodes(*context, path, stores.emplace_back());
        if (mlir::failed(module))
          return nullptr;
        return mlir::OwningOpRef<mlir::Operation *>(module->release());
      },
      [](mlir::DialectRegistry &) {});
  return mlir::failed(mlir::mlirTranslateMain(argc, argv, "qtc translation driver"));
}
