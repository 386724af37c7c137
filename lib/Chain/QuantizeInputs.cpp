//===- QuantizeInputs.cpp - A linear's input quantization as its own op ---===//
//
// A linear with an `input_encoding` (W8A8, FP8) multiplies codes: the
// quantization of its input rows becomes a `chain.quantize_rows` in front
// of it, shared by every linear that reads the same rows the same way, so
// that the GEMM reads one-byte codes and the producer of the rows can take
// the quantization over (qtc-chain-fuse-norm-quantize).
//
//===----------------------------------------------------------------------===//

#include "qtc/Chain/Plan.h"

#include "dialects/chain/ChainOps.h"
#include "qtc/Transforms/Passes.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/DenseMap.h"

namespace qtc {
#define GEN_PASS_DEF_CHAINQUANTIZEINPUTS
#include "qtc/Transforms/Passes.h.inc"
} // namespace qtc

using namespace mlir;

namespace qtc {
namespace {

struct ChainQuantizeInputsPass
    : public impl::ChainQuantizeInputsBase<ChainQuantizeInputsPass> {
  void runOnOperation() override {
    if (failed(forEachPlan(getOperation(), quantizeInputs)))
      signalPassFailure();
  }
};

} // namespace

LogicalResult quantizeInputs(chain::PlanOp plan) {
  llvm::DenseMap<std::pair<Value, Attribute>, Value> quantized;
  SmallVector<chain::LinearOp> linears(plan.getBlock().getOps<chain::LinearOp>());
  for (chain::LinearOp linear : linears) {
    qnt::EncodingAttr encoding = linear.getInputEncodingAttr();
    Value x = linear.getInput();
    if (!encoding || chain::rowEncoding(x.getType()))
      continue;
    if (!isa<chain::TokensType>(x.getType()))
      return linear.emitError("quantized activations are per token; this linear reads ")
             << x.getType();
    if (!chain::isRowQuantization(encoding))
      return linear.emitError("the runtime quantizes a linear's input rows as int8 or "
                              "f8e4m3 codes per token with f32 scales, not ")
             << encoding;
    Value &q = quantized[{x, encoding}];
    if (!q) {
      OpBuilder b(plan.getContext());
      if (Operation *producer = x.getDefiningOp())
        b.setInsertionPointAfter(producer);
      else
        b.setInsertionPointToStart(&plan.getBlock());
      auto type = chain::QuantizedTokensType::get(plan.getContext(),
                                                  chain::rowWidth(x.getType()), encoding);
      q = b.create<chain::QuantizeRowsOp>(linear.getLoc(), type, x, nullptr).getResult();
    }
    linear.getInputMutable().assign(q);
  }
  return success();
}

} // namespace qtc
