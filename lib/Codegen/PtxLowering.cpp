//===- PtxLowering.cpp - gpu.module to PTX text, in process ---------------===//

#include "PtxLowering.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Pipelines/Passes.h"
#include "mlir/Pass/PassManager.h"

using namespace mlir;

namespace qtc::codegen {

FailureOr<std::string> lowerToPtx(ModuleOp module, StringRef chip,
                                  StringRef features) {
  PassManager pm(module->getContext());
  gpu::GPUToNVVMPipelineOptions options;
  options.cubinChip = chip.str();
  options.cubinFeatures = features.str();
  options.cubinFormat = "isa";
  options.kernelUseBarePtrCallConv = true;
  options.optLevel = 3;
  gpu::buildLowerToNVVMPassPipeline(pm, options);
  if (failed(pm.run(module)))
    return failure();

  for (auto binary : module.getOps<gpu::BinaryOp>()) {
    for (Attribute attr : binary.getObjects()) {
      if (auto object = dyn_cast<gpu::ObjectAttr>(attr))
        if (object.getFormat() == gpu::CompilationTarget::Assembly)
          return object.getObject().str();
    }
  }
  return emitError(module.getLoc())
         << "PTX lowering produced no gpu.binary with an assembly object";
}

int ptxIsaVersion(StringRef features) {
  size_t at = features.find("+ptx");
  int version = 0;
  if (at == StringRef::npos ||
      features.drop_front(at + 4).consumeInteger(10, version))
    return 0;
  return version;
}

} // namespace qtc::codegen
