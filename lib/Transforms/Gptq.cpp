//===- Gptq.cpp - Quantize weights with GPTQ ------------------------------===//

#include "QuantizeTargets.h"

#include "qtc/Quant/Gptq.h"
#include "qtc/Transforms/Passes.h"

namespace qtc {
#define GEN_PASS_DEF_GPTQ
#include "qtc/Transforms/Passes.h.inc"
} // namespace qtc

using namespace mlir;

namespace qtc {
namespace {

struct GptqPass : public impl::GptqBase<GptqPass> {
  using GptqBase::GptqBase;

  void runOnOperation() override {
    if (dampening < 0 || blockSize <= 0) {
      getOperation()->emitError("qtc-gptq: dampening must be non-negative and "
                                "block-size positive");
      return signalPassFailure();
    }
    auto gptq = [&](const QuantizeTarget &t, const WeightMatrix &w,
                    ArrayRef<double> hessian) -> FailureOr<QuantizedWeight> {
      qnt::QuantizeOp op = t.op;
      if (t.how.kind != WeightQuantization::Kind::IntGroup)
        return op.emitError("qtc-gptq: '")
               << t.weightName << "' is fp8; GPTQ computes integer grids "
                                  "(round fp8 weights with qtc-rtn)";
      if (hessian.empty())
        return op.emitError("qtc-gptq: no calibration statistics for the input of '")
               << t.weightName << "'; run qtc-calibrate first";
      quant::GptqOptions options;
      options.grid = t.how.grid;
      options.dampening = dampening;
      options.blockSize = blockSize;
      options.actOrder = actOrder;
      llvm::Expected<quant::IntGroupWeight> q = quant::quantizeIntGroupGptq(
          w.values, w.shape[0], w.shape[1], hessian, options);
      if (!q)
        return op.emitError("qtc-gptq: quantizing '")
               << t.weightName << "': " << llvm::toString(q.takeError());
      return QuantizedWeight(std::move(*q));
    };
    if (failed(quantizeTargets(getOperation(), "qtc-gptq", "gptq", gptq)))
      signalPassFailure();
  }
};

} // namespace
} // namespace qtc
