//===- RoundToNearest.cpp - Quantize weights by round-to-nearest ----------===//

#include "QuantizeTargets.h"

#include "qtc/Quant/Fp8Channel.h"
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
                  ArrayRef<double>) -> FailureOr<QuantizedWeight> {
      auto done = [&](auto q) -> FailureOr<QuantizedWeight> {
        if (!q) {
          qnt::QuantizeOp op = t.op;
          return op.emitError("quantizing '")
                 << t.weightName << "': " << llvm::toString(q.takeError());
        }
        return QuantizedWeight(std::move(*q));
      };
      if (t.how.kind == WeightQuantization::Kind::Fp8Channel)
        return done(quant::quantizeFp8ChannelRtn(w.values, w.shape[0], w.shape[1]));
      return done(quant::quantizeIntGroupRtn(w.values, w.shape[0], w.shape[1],
                                             t.how.grid));
    };
    if (failed(quantizeTargets(getOperation(), "qtc-rtn", "rtn", rtn)))
      signalPassFailure();
  }
};

} // namespace
} // namespace qtc
