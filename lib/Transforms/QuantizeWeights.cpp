//===- QuantizeWeights.cpp - Store linear weights in a quantized encoding -===//

#include "GroupSize.h"

#include "qtc/Transforms/Passes.h"

#include "dialects/qnt/QntDialect.h"
#include "dialects/qnt/QntOps.h"
#include "dialects/qnt/QntTypes.h"
#include "dialects/tfm/TfmOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"

namespace qtc {
#define GEN_PASS_DEF_QUANTIZEWEIGHTS
#include "qtc/Transforms/Passes.h.inc"
} // namespace qtc

using namespace mlir;

namespace qtc {
namespace {

struct QuantizeWeightsPass
    : public impl::QuantizeWeightsBase<QuantizeWeightsPass> {
  using QuantizeWeightsBase::QuantizeWeightsBase;

  FailureOr<qnt::EncodingAttr> encoding(MLIRContext *ctx, int64_t group) {
    if (format != "int4") {
      emitError(UnknownLoc::get(ctx))
          << "qtc-quantize-weights: unsupported format '" << format
          << "' (supported: int4)";
      return failure();
    }
    Type f16 = Float16Type::get(ctx);
    return qnt::EncodingAttr::get(
        ctx, symmetric ? qnt::Format::i4 : qnt::Format::u4,
        qnt::Granularity::per_group, group, /*axis=*/1, symmetric,
        /*scale_type=*/f16, /*zero_type=*/symmetric ? Type() : f16,
        /*lut=*/DenseF32ArrayAttr());
  }

  LogicalResult rewrite(Operation *op, Value input, Value weight, Value bias) {
    auto weightOp = weight.getDefiningOp<tfm::WeightOp>();
    if (!weightOp)
      return success(); // computed weights stay dense
    auto type = cast<RankedTensorType>(weight.getType());
    int64_t in = type.getShape()[1];
    std::optional<int64_t> group = groupForInputs(in, groupSize, smallerGroups);
    if (!group)
      return op->emitError("group size ")
             << static_cast<int64_t>(groupSize) << " does not divide the "
             << in << " input features of '" << weightOp.getName() << "'";
    FailureOr<qnt::EncodingAttr> enc = encoding(op->getContext(), *group);
    if (failed(enc))
      return failure();
    OpBuilder b(op);
    auto qtype = qnt::WeightType::get(op->getContext(), type.getShape(),
                                      type.getElementType(), *enc);
    Value q = qnt::QuantizeOp::create(b, op->getLoc(), qtype, weight);
    Value y = qnt::QLinearOp::create(b, op->getLoc(), op->getResult(0).getType(),
                                     input, q, bias);
    op->getResult(0).replaceAllUsesWith(y);
    op->erase();
    return success();
  }

  void runOnOperation() override {
    if (groupSize <= 0 || groupSize % 2 != 0) {
      getOperation()->emitError("qtc-quantize-weights: group-size must be a "
                                "positive even number, got ")
          << static_cast<int64_t>(groupSize);
      return signalPassFailure();
    }
    SmallVector<Operation *> linears;
    getOperation()->walk([&](Operation *op) {
      if (isa<tfm::LinearOp>(op) || (includeLmHead && isa<tfm::LmHeadOp>(op)))
        linears.push_back(op);
    });
    for (Operation *op : linears) {
      LogicalResult result = success();
      if (auto linear = dyn_cast<tfm::LinearOp>(op))
        result = rewrite(op, linear.getInput(), linear.getWeight(),
                         linear.getBias());
      else if (auto head = dyn_cast<tfm::LmHeadOp>(op))
        result = rewrite(op, head.getInput(), head.getWeight(), Value());
      if (failed(result))
        return signalPassFailure();
    }
  }
};

} // namespace
} // namespace qtc
