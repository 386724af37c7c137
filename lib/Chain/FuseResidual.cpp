//===- FuseResidual.cpp - A residual add into its linear's epilogue -------===//

#include "qtc/Chain/Plan.h"

#include "dialects/chain/ChainOps.h"
#include "qtc/Transforms/Passes.h"

#include "mlir/IR/Builders.h"

namespace qtc {
#define GEN_PASS_DEF_CHAINFUSERESIDUAL
#include "qtc/Transforms/Passes.h.inc"
} // namespace qtc

using namespace mlir;

namespace qtc {
namespace {

// The linear behind `v` if the add is its only reader and it has no
// epilogue yet.
chain::LinearOp fusable(Value v) {
  auto l = v.getDefiningOp<chain::LinearOp>();
  if (!l || !v.hasOneUse() || l.getResidual())
    return nullptr;
  return l;
}

struct ChainFuseResidualPass
    : public impl::ChainFuseResidualBase<ChainFuseResidualPass> {
  void runOnOperation() override {
    if (failed(forEachPlan(getOperation(), fuseResidual)))
      signalPassFailure();
  }
};

} // namespace

LogicalResult fuseResidual(chain::PlanOp plan) {
  SmallVector<chain::AddOp> adds(plan.getBlock().getOps<chain::AddOp>());
  for (chain::AddOp add : adds) {
    Value residual = add.getLhs();
    chain::LinearOp linear = fusable(add.getRhs());
    if (!linear) {
      residual = add.getRhs();
      linear = fusable(add.getLhs());
    }
    if (!linear)
      continue;
    // The linear moves to the add, where the residual is available too.
    linear->moveBefore(add);
    linear.getResidualMutable().assign(residual);
    add.replaceAllUsesWith(linear.getResult());
    add.erase();
  }
  return success();
}

} // namespace qtc
