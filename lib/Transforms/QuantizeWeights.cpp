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

  // The encoding of a layer with `in` inputs whose group is `group` (`in`:
  // one scale per output row).
  FailureOr<qnt::EncodingAttr> encoding(MLIRContext *ctx, int64_t group, int64_t in) {
    Type f16 = Float16Type::get(ctx), f32 = Float32Type::get(ctx);
    auto granularity = group == in && groupSize == 0 ? qnt::Granularity::per_channel
                                                     : qnt::Granularity::per_group;
    int64_t groupAttr = granularity == qnt::Granularity::per_group ? group : 0;
    if (format == "fp8")
      return qnt::EncodingAttr::get(ctx, qnt::Format::f8e4m3,
                                    qnt::Granularity::per_channel, 0, /*axis=*/1,
                                    /*symmetric=*/true, f32, Type(), DenseF32ArrayAttr());
    qnt::Format f;
    if (format == "int3")
      f = symmetric ? qnt::Format::i3 : qnt::Format::u3;
    else if (format == "int4")
      f = symmetric ? qnt::Format::i4 : qnt::Format::u4;
    else if (format == "int8" && symmetric)
      f = qnt::Format::i8;
    else
      return failure();
    return qnt::EncodingAttr::get(ctx, f, granularity, groupAttr, /*axis=*/1,
                                  symmetric, /*scale_type=*/f16,
                                  /*zero_type=*/symmetric ? Type() : f16,
                                  /*lut=*/DenseF32ArrayAttr());
  }

  LogicalResult rewrite(Operation *op, Value input, Value weight, Value bias) {
    auto weightOp = weight.getDefiningOp<tfm::WeightOp>();
    if (!weightOp)
      return success(); // computed weights stay dense
    auto type = cast<RankedTensorType>(weight.getType());
    int64_t in = type.getShape()[1];
    std::optional<int64_t> group =
        format == "fp8" ? in : groupForInputs(in, groupSize, smallerGroups);
    if (!group)
      return op->emitError("group size ")
             << static_cast<int64_t>(groupSize) << " does not divide the "
             << in << " input features of '" << weightOp.getName() << "'";
    if (format != "int8" && format != "fp8" && in % 2 != 0)
      return op->emitError("'")
             << weightOp.getName() << "' has " << in << " input features; "
             << format << " codes are stored two to a byte, so the count must be even";
    FailureOr<qnt::EncodingAttr> enc = encoding(op->getContext(), *group, in);
    if (failed(enc))
      return failure();
    OpBuilder b(op);
    auto qtype = qnt::WeightType::get(op->getContext(), type.getShape(),
                                      type.getElementType(), *enc);
    Value q = qnt::QuantizeOp::create(b, op->getLoc(), qtype, weight);
    Value y = qnt::QLinearOp::create(b, op->getLoc(), op->getResult(0).getType(),
                                     input, q, bias,
                                     /*input_encoding=*/qnt::EncodingAttr());
    op->getResult(0).replaceAllUsesWith(y);
    op->erase();
    return success();
  }

  void runOnOperation() override {
    if (format != "int3" && format != "int4" && format != "int8" && format != "fp8") {
      getOperation()->emitError("qtc-quantize-weights: unsupported format '")
          << format << "' (supported: int3, int4, int8, fp8)";
      return signalPassFailure();
    }
    if (format == "int8" && !symmetric) {
      getOperation()->emitError("qtc-quantize-weights: int8 weights are "
                                "symmetric only (symmetric=false is int3/int4)");
      return signalPassFailure();
    }
    // Nibble-packed codes need even groups; a byte each takes any group.
    bool nibbles = format == "int3" || format == "int4";
    if (format != "fp8" &&
        (groupSize < 0 || (groupSize > 0 && nibbles && groupSize % 2 != 0))) {
      getOperation()->emitError("qtc-quantize-weights: group-size must be 0 (one "
                                "scale per row) or positive")
          << (nibbles ? " and even" : "") << " for " << format << ", got "
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
