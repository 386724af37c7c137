//===- GatherLogitRows.cpp - Gather the logit rows early ------------------===//

#include "qtc/Chain/Plan.h"

#include "dialects/chain/ChainOps.h"
#include "qtc/Transforms/Passes.h"

#include "mlir/IR/Builders.h"

namespace qtc {
#define GEN_PASS_DEF_CHAINGATHERLOGITROWS
#include "qtc/Transforms/Passes.h.inc"
} // namespace qtc

using namespace mlir;

namespace qtc {
namespace {

// Ops that compute each row from the same row of one operand only: they
// give the same rows whether the gather runs before or after them.
bool isRowWise(Operation *op) {
  if (auto l = dyn_cast<chain::LinearOp>(op))
    return !l.getResidual();
  return isa<chain::RmsNormOp, chain::SwigluOp>(op);
}

struct ChainGatherLogitRowsPass
    : public impl::ChainGatherLogitRowsBase<ChainGatherLogitRowsPass> {
  void runOnOperation() override {
    if (failed(forEachPlan(getOperation(), gatherLogitRows)))
      signalPassFailure();
  }
};

} // namespace

LogicalResult gatherLogitRows(chain::PlanOp plan) {
  SmallVector<chain::GatherRowsOp> gathers(
      plan.getBlock().getOps<chain::GatherRowsOp>());
  for (chain::GatherRowsOp gather : gathers) {
    // gather(f(x)) -> f(gather(x)), while f is row-wise and read only here.
    while (true) {
      Value in = gather.getInput();
      Operation *producer = in.getDefiningOp();
      if (!producer || !in.hasOneUse() || !isRowWise(producer))
        break;
      Value x = producer->getOperand(0);
      OpBuilder b(producer);
      auto earlier = b.create<chain::GatherRowsOp>(
          gather.getLoc(),
          chain::LogitRowsType::get(b.getContext(), chain::rowWidth(x.getType())),
          x, nullptr);
      producer->setOperand(0, earlier.getResult());
      producer->getResult(0).setType(chain::LogitRowsType::get(
          b.getContext(), chain::rowWidth(in.getType())));
      gather.replaceAllUsesWith(producer->getResult(0));
      gather.erase();
      gather = earlier;
    }
  }
  return success();
}

} // namespace qtc
