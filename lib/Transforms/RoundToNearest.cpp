//===- RoundToNearest.cpp - Quantize weights by round-to-nearest ----------===//

#include "QuantizeTargets.h"

#include "qtc/Quant/RoundToNearest.h"
#include "qtc/Transforms/Passes.h"

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
    auto rtn = [](const QuantizeTarget &t, const WeightMatrix &w,
                  ArrayRef<double>) -> FailureOr<quant::Int4GroupWeight> {
      llvm::Expected<quant::Int4GroupWeight> q = quant::quantizeInt4GroupRtn(
          w.values, w.shape[0], w.shape[1], t.grid);
      if (!q) {
        qnt::QuantizeOp op = t.op;
        return op.emitError("quantizing '")
               << t.weightName << "': " << llvm::toString(q.takeError());
      }
      return std::move(*q);
    };
    if (failed(quantizeTargets(getOperation(), "qtc-rtn", "rtn", rtn)))
      signalPassFailure();
  }
};

} // namespace
} // namespace qtc
