//===- ConcatProjections.cpp - A concat of linears of one input -> one linear -===//

#include "qtc/Chain/Plan.h"

#include "dialects/chain/ChainOps.h"
#include "qtc/Transforms/Passes.h"

#include "mlir/IR/Builders.h"

namespace qtc {
#define GEN_PASS_DEF_CHAINCONCATPROJECTIONS
#include "qtc/Transforms/Passes.h.inc"
} // namespace qtc

using namespace mlir;

namespace qtc {
namespace {

// "dense f16" or the encoding, for messages.
std::string describeEncoding(qnt::EncodingAttr encoding) {
  if (!encoding)
    return "dense f16";
  std::string s;
  llvm::raw_string_ostream os(s);
  os << encoding;
  return s;
}

// The linears behind `concat`'s inputs if every one is a chain.linear that
// only the concat reads, without a residual or packed tensors, all reading
// one input; empty otherwise.
SmallVector<chain::LinearOp> fusableLinears(chain::ConcatOp concat) {
  SmallVector<chain::LinearOp> linears;
  for (Value v : concat.getInputs()) {
    auto l = v.getDefiningOp<chain::LinearOp>();
    if (!l || !v.hasOneUse() || l.getResidual() || l.getWeightAttr() ||
        (!linears.empty() && l.getInput() != linears.front().getInput()))
      return {};
    linears.push_back(l);
  }
  return linears;
}

struct ChainConcatProjectionsPass
    : public impl::ChainConcatProjectionsBase<ChainConcatProjectionsPass> {
  void runOnOperation() override {
    if (failed(forEachPlan(getOperation(), concatProjections)))
      signalPassFailure();
  }
};

} // namespace

LogicalResult concatProjections(chain::PlanOp plan) {
  SmallVector<chain::ConcatOp> concats(plan.getBlock().getOps<chain::ConcatOp>());
  for (chain::ConcatOp concat : concats) {
    SmallVector<chain::LinearOp> linears = fusableLinears(concat);
    if (linears.empty())
      continue;
    chain::LinearOp first = linears.front();
    for (chain::LinearOp l : linears)
      if (l.getEncodingAttr() != first.getEncodingAttr())
        return l.emitError("linears fused into one kernel chain must share "
                           "one weight format; got ")
               << describeEncoding(l.getEncodingAttr()) << " and "
               << describeEncoding(first.getEncodingAttr());
    for (chain::LinearOp l : linears)
      if (l.getInputEncodingAttr() != first.getInputEncodingAttr())
        return l.emitError("linears fused into one kernel chain must quantize "
                           "their shared input one way; got ")
               << describeEncoding(l.getInputEncodingAttr()) << " and "
               << describeEncoding(first.getInputEncodingAttr());

    OpBuilder b(concat);
    SmallVector<Attribute> sources, biases, numerics;
    SmallVector<int64_t> rows;
    bool anyBias = false;
    for (chain::LinearOp l : linears) {
      llvm::append_range(sources, l.getSources());
      llvm::append_range(rows, l.getRows());
      if (std::optional<ArrayAttr> bs = l.getBiases()) {
        anyBias = true;
        llvm::append_range(biases, *bs);
      } else {
        biases.append(l.getSources().size(), b.getStringAttr(""));
      }
      if (std::optional<ArrayAttr> n = l.getNumerics())
        llvm::append_range(numerics, *n);
    }
    auto fused = b.create<chain::LinearOp>(
        concat.getLoc(), concat.getType(), first.getInput(),
        /*residual=*/Value(), b.getArrayAttr(sources),
        b.getDenseI64ArrayAttr(rows), first.getInFeaturesAttr(),
        anyBias ? b.getArrayAttr(biases) : ArrayAttr(),
        first.getEncodingAttr(), first.getInputEncodingAttr(),
        numerics.empty() ? ArrayAttr() : b.getArrayAttr(numerics),
        /*weight=*/nullptr, /*scales=*/nullptr, /*zeros=*/nullptr,
        /*bias=*/nullptr, /*slot=*/nullptr);
    concat.replaceAllUsesWith(fused.getResult());
    concat.erase();
    for (chain::LinearOp l : linears)
      l.erase();
  }
  return success();
}

} // namespace qtc
