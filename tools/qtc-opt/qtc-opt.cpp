//===- qtc-opt.cpp - qtc's mlir-opt driver --------------------------------===//
//
// Registers qtc's dialects and passes and the upstream dialects qtc lowers
// through, for lit tests and pass development.
//
//===----------------------------------------------------------------------===//

#include "qtc/InitAllDialects.h"
#ifdef QTC_HAVE_TRANSFORMS
#include "dialects/tfm/TfmDialect.h"
#include "qtc/Chain/Plan.h"
#include "qtc/Import/Import.h"
#include "qtc/Import/OnnxImport.h"
#include "qtc/Transforms/Passes.h"
#include "qtc/Transforms/WeightContext.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/raw_ostream.h"
#endif

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"

#ifdef QTC_HAVE_TRANSFORMS
// Passes that read weights (quantizers, calibration) find them through the
// tfm dialect's weight context; this gives them the bytes of the model the
// input IR was imported from (`qtc import MODEL`).
static llvm::cl::opt<std::string> weightsPath(
    "qtc-weights", llvm::cl::value_desc("MODEL"),
    llvm::cl::desc("Model (.onnx or checkpoint folder) whose weights the "
                   "input's tfm.weight handles name"));

namespace {
struct ModelWeights {
  mlir::MLIRContext importContext;
  qtc::ImportedModel model;
  std::unique_ptr<qtc::WeightContext> context;
};

// Imports --qtc-weights once, the first time a context loads the tfm dialect.
qtc::WeightContext *modelWeights() {
  static std::unique_ptr<ModelWeights> loaded = []() -> std::unique_ptr<ModelWeights> {
    if (weightsPath.empty())
      return nullptr;
    auto w = std::make_unique<ModelWeights>();
    mlir::FailureOr<qtc::ImportedModel> model =
        qtc::importModel(w->importContext, weightsPath);
    if (mlir::failed(model)) {
      llvm::errs() << "qtc-opt: cannot load the weights of '" << weightsPath << "'\n";
      std::exit(1);
    }
    w->model = std::move(*model);
    w->context = std::make_unique<qtc::WeightContext>(w->model.weights);
    return w;
  }();
  return loaded ? loaded->context.get() : nullptr;
}
} // namespace
#endif

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
#ifdef QTC_HAVE_TRANSFORMS
  registry.addExtension(+[](mlir::MLIRContext *, qtc::tfm::TfmDialect *tfm) {
    tfm->setWeightContext(modelWeights());
  });
#endif
  qtc::registerAllDialects(registry);
  registry.insert<mlir::func::FuncDialect, mlir::arith::ArithDialect,
                  mlir::math::MathDialect, mlir::tensor::TensorDialect,
                  mlir::memref::MemRefDialect, mlir::vector::VectorDialect,
                  mlir::scf::SCFDialect, mlir::gpu::GPUDialect,
                  mlir::NVVM::NVVMDialect, mlir::nvgpu::NVGPUDialect,
                  mlir::LLVM::LLVMDialect>();
  mlir::registerCanonicalizerPass();
  mlir::registerCSEPass();
#ifdef QTC_HAVE_TRANSFORMS
  qtc::registerQTCPasses();
  qtc::registerQTCOnnxPasses();
  qtc::registerPlanPipeline();
  qtc::registerOnnxPipelines();
#endif
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "qtc optimizer driver\n", registry));
}
