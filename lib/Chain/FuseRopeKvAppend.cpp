//===- FuseRopeKvAppend.cpp - RoPE of q and k into the KV-cache append ----===//

#include "qtc/Chain/Plan.h"

#include "dialects/chain/ChainOps.h"
#include "qtc/Transforms/Passes.h"

#include "mlir/IR/Builders.h"

namespace qtc {
#define GEN_PASS_DEF_CHAINFUSEROPEKVAPPEND
#include "qtc/Transforms/Passes.h.inc"
} // namespace qtc

using namespace mlir;

namespace qtc {
namespace {

// The rope behind `v` if it rotates `heads` heads of `headDim` and `v` has
// no other reader.
chain::RopeOp soleRope(Value v, int64_t heads, int64_t headDim) {
  auto rope = v.getDefiningOp<chain::RopeOp>();
  if (!rope || !v.hasOneUse() || rope.getHeads() != heads ||
      rope.getHeadDim() != headDim)
    return nullptr;
  return rope;
}

struct ChainFuseRopeKvAppendPass
    : public impl::ChainFuseRopeKvAppendBase<ChainFuseRopeKvAppendPass> {
  void runOnOperation() override {
    if (failed(forEachPlan(getOperation(), fuseRopeKvAppend)))
      signalPassFailure();
  }
};

} // namespace

LogicalResult fuseRopeKvAppend(chain::PlanOp plan) {
  SmallVector<chain::KvAppendOp> appends(plan.getBlock().getOps<chain::KvAppendOp>());
  for (chain::KvAppendOp append : appends) {
    auto concat = append.getQkv().getDefiningOp<chain::ConcatOp>();
    if (!concat || !concat->hasOneUse() || concat.getInputs().size() != 3)
      continue;
    chain::RopeOp q = soleRope(concat.getInputs()[0], append.getHeads(),
                               append.getHeadDim());
    chain::RopeOp k = soleRope(concat.getInputs()[1], append.getKvHeads(),
                               append.getHeadDim());
    if (!q || !k)
      continue;
    concat->setOperand(0, q.getInput());
    concat->setOperand(1, k.getInput());
    q.erase();
    k.erase();
    OpBuilder b(append);
    auto fused = b.create<chain::RopeKvAppendOp>(
        append.getLoc(), append.getType(), append->getOperands(),
        append->getAttrs());
    append.replaceAllUsesWith(fused.getResult());
    append.erase();
  }
  return success();
}

} // namespace qtc
