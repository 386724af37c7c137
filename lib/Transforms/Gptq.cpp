//===- Gptq.cpp - Quantize weights with GPTQ ------------------------------===//

#include "QuantizeTargets.h"

#include "qtc/Quant/Gptq.h"
#include "qtc/Transforms/Passes.h"
#include "qtc/Transforms/WeightContext.h"

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
    FailureOr<WeightContext *> weights =
        WeightContext::require(getOperation(), "qtc-gptq");
    if (failed(weights))
      return signalPassFailure();
    FailureOr<SmallVector<QuantizeTarget>> targets =
        collectQuantizeTargets(getOperation(), "qtc-gptq");
    if (failed(targets))
      return signalPassFailure();

    // q, k and v (gate and up) read one input and come one after another:
    // keep the last Hessian rather than rebuilding it for each.
    const quant::ActivationStatistics *hessianOf = nullptr;
    std::vector<double> hessian;
    for (QuantizeTarget &t : *targets) {
      const quant::ActivationStatistics *stats =
          (*weights)->inputStatistics(t.weightName);
      if (!stats || stats->rows() == 0) {
        t.op.emitError("qtc-gptq: no calibration statistics for the input of '")
            << t.weightName << "'; run qtc-calibrate first";
        return signalPassFailure();
      }
      FailureOr<WeightMatrix> w =
          readWeight((*weights)->store(), t.weightName, t.op.getLoc());
      if (failed(w))
        return signalPassFailure();
      if (stats->width() != w->shape[1]) {
        t.op.emitError("qtc-gptq: calibration statistics of '")
            << t.weightName << "' are " << stats->width()
            << " channels wide; the weight has " << w->shape[1] << " inputs";
        return signalPassFailure();
      }
      if (stats != hessianOf) {
        hessian = stats->gram();
        hessianOf = stats;
      }
      quant::GptqOptions options;
      options.grid = t.grid;
      options.dampening = dampening;
      options.blockSize = blockSize;
      options.actOrder = actOrder;
      llvm::Expected<quant::Int4GroupWeight> q = quant::quantizeInt4GroupGptq(
          w->values, w->shape[0], w->shape[1], hessian, options);
      if (!q) {
        t.op.emitError("qtc-gptq: quantizing '")
            << t.weightName << "': " << llvm::toString(q.takeError());
        return signalPassFailure();
      }
      if (failed(materializeQuantized(t, *w, *q, "gptq", stats, **weights)))
        return signalPassFailure();
    }
  }
};

} // namespace
} // namespace qtc
