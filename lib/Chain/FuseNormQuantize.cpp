//===- FuseNormQuantize.cpp - The quantization of a norm's rows into it ---===//
//
// quantize_rows(rms_norm(x)) -> rms_norm(x) writing quantized rows, when the
// quantization is the norm's only reader: one kernel normalizes each row
// and writes its codes and scale, instead of writing f16 rows that another
// kernel reads back to quantize. (A norm with other readers keeps its rows,
// and the quantization stays its own step.)
//
//===----------------------------------------------------------------------===//

#include "qtc/Chain/Plan.h"

#include "dialects/chain/ChainOps.h"
#include "qtc/Transforms/Passes.h"

namespace qtc {
#define GEN_PASS_DEF_CHAINFUSENORMQUANTIZE
#include "qtc/Transforms/Passes.h.inc"
} // namespace qtc

using namespace mlir;

namespace qtc {
namespace {

struct ChainFuseNormQuantizePass
    : public impl::ChainFuseNormQuantizeBase<ChainFuseNormQuantizePass> {
  void runOnOperation() override {
    if (failed(forEachPlan(getOperation(), fuseNormQuantize)))
      signalPassFailure();
  }
};

} // namespace

LogicalResult fuseNormQuantize(chain::PlanOp plan) {
  SmallVector<chain::QuantizeRowsOp> quantizes(
      plan.getBlock().getOps<chain::QuantizeRowsOp>());
  for (chain::QuantizeRowsOp quantize : quantizes) {
    auto norm = quantize.getInput().getDefiningOp<chain::RmsNormOp>();
    if (!norm || !norm.getResult().hasOneUse())
      continue;
    norm.getResult().setType(quantize.getResult().getType());
    quantize.replaceAllUsesWith(norm.getResult());
    quantize.erase();
  }
  return success();
}

} // namespace qtc
