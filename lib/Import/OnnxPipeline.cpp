//===- OnnxPipeline.cpp - The ONNX importer's pipelines and small passes -===//

#include "qtc/Import/OnnxImport.h"

#include "OnnxRaiseSupport.h"
#include "dialects/onnx/OnnxOps.h"
#include "dialects/tfm/TfmOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

namespace qtc {
#define GEN_PASS_DEF_ONNXCHECKRAISED
#define GEN_PASS_DEF_ONNXSPECIALIZEBATCH
#include "qtc/Import/Passes.h.inc"
} // namespace qtc

using namespace mlir;
using namespace qtc;

namespace {

struct OnnxCheckRaisedPass
    : qtc::impl::OnnxCheckRaisedBase<OnnxCheckRaisedPass> {
  void runOnOperation() override {
    constexpr int kReported = 10;
    int count = 0;
    getOperation().walk([&](Operation *op) {
      if (!isa<onnxir::OnnxDialect>(op->getDialect()) ||
          isa<onnxir::ConstantOp, onnxir::AbsentOp>(op))
        return;
      // A raised linear's [out, in] view of an [in, out] initializer: the
      // weight binding reads through it.
      if (auto t = dyn_cast<onnxir::TransposeOp>(op))
        if (constantOf(t.getInput()))
          return;
      // The feature permutations around an interleaved rope.
      if (auto g = dyn_cast<onnxir::GatherOp>(op))
        if (constantOf(g.getIndices()) &&
            (g.getData().getDefiningOp<tfm::RopeOp>() ||
             llvm::any_of(g->getUsers(),
                          [](Operation *u) { return isa<tfm::RopeOp>(u); })))
          return;
      if (count++ < kReported)
        op->emitError() << "cannot raise ONNX node " << describeNode(op)
                        << " to tfm: it is not part of a recognized pattern";
    });
    if (count > kReported)
      getOperation().emitError()
          << (count - kReported) << " more ONNX node(s) are not raised";
    if (count)
      signalPassFailure();
  }
};

struct OnnxSpecializeBatchPass
    : qtc::impl::OnnxSpecializeBatchBase<OnnxSpecializeBatchPass> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (func.getBody().empty())
      return;
    Block &entry = func.getBody().front();
    for (BlockArgument arg : entry.getArguments()) {
      auto type = dyn_cast<RankedTensorType>(arg.getType());
      if (!type || type.getRank() < 2 || !type.isDynamicDim(0))
        continue;
      SmallVector<int64_t> shape(type.getShape());
      shape[0] = 1;
      arg.setType(type.clone(shape));
    }
    func.setFunctionType(FunctionType::get(
        func.getContext(), entry.getArgumentTypes(),
        func.getFunctionType().getResults()));
  }
};

} // namespace

void qtc::buildOnnxRaisePipeline(OpPassManager &pm) {
  OpPassManager &func = pm.nest<func::FuncOp>();
  func.addPass(createOnnxSpecializeBatch());
  func.addPass(createOnnxStripKvCache());
  func.addPass(createOnnxConvertNodes());
  func.addPass(createCanonicalizerPass());
  func.addPass(createOnnxRaiseNorms());
  // Before linears: a RoPE table gathered by position ids is not an
  // embedding, and the probes read it at the ONNX level.
  func.addPass(createOnnxRaiseRope());
  func.addPass(createOnnxRaiseAttention());
  func.addPass(createOnnxRaiseLinears());
  func.addPass(createOnnxRaiseMlp());
  func.addPass(createCanonicalizerPass());
}

void qtc::buildOnnxImportPipeline(OpPassManager &pm,
                                  const OnnxBindModelOptions &options,
                                  WeightStore *weights) {
  buildOnnxRaisePipeline(pm);
  pm.addPass(createOnnxBindModel(options, weights));
}

void qtc::registerOnnxPipelines() {
  PassPipelineRegistration<>(
      "qtc-onnx-raise",
      "The structural ONNX importer up to raised tfm ops in @main: "
      "conversion, canonicalization and the raising passes",
      [](OpPassManager &pm) { buildOnnxRaisePipeline(pm); });
  PassPipelineRegistration<>(
      "qtc-onnx-import",
      "qtc-onnx-raise followed by qtc-onnx-bind-model with its default "
      "options: an imported ONNX module to tfm.model (IR only; run the "
      "passes by name to give the binding a config.json)",
      [](OpPassManager &pm) {
        buildOnnxImportPipeline(pm, OnnxBindModelOptions(),
                                /*weights=*/nullptr);
      });
}
