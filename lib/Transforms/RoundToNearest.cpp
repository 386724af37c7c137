//===- RoundToNearest.cpp - Quantize weights by round-to-nearest ----------===//

#include "QuantizeTargets.h"

#include "qtc/Quant/RoundToNearest.h"
#include "qtc/Transforms/Passes.h"
#include "qtc/Transforms/WeightContext.h"

namespace qtc {
#define GEN_PASS_DEF_ROUNDTONEAREST
#include "qtc/Transforms/Passes.h.inc"
} // namespace qtc

using namespace mlir;

namespace qtc {
namespace {

struct RoundToNearestPass
    : public impl::RoundToNearestBase<RoundToNearestPass> {
  void runOnOperation() override {
    FailureOr<WeightContext *> weights =
        WeightContext::require(getOperation(), "qtc-rtn");
    if (failed(weights))
      return signalPassFailure();
    FailureOr<SmallVector<QuantizeTarget>> targets =
        collectQuantizeTargets(getOperation(), "qtc-rtn");
    if (failed(targets))
      return signalPassFailure();
    for (QuantizeTarget &t : *targets) {
      FailureOr<WeightMatrix> w =
          readWeight((*weights)->store(), t.weightName, t.op.getLoc());
      if (failed(w))
        return signalPassFailure();
      llvm::Expected<quant::Int4GroupWeight> q = quant::quantizeInt4GroupRtn(
          w->values, w->shape[0], w->shape[1], t.grid);
      if (!q) {
        t.op.emitError("quantizing '")
            << t.weightName << "': " << llvm::toString(q.takeError());
        return signalPassFailure();
      }
      if (failed(materializeQuantized(t, *w, *q, "rtn",
                                      (*weights)->inputStatistics(t.weightName),
                                      **weights)))
        return signalPassFailure();
    }
  }
};

} // namespace
} // namespace qtc
