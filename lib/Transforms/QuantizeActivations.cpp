//===- QuantizeActivations.cpp - Per-token input quantization (W8A8) ------===//

#include "qtc/Transforms/Passes.h"

#include "dialects/qnt/QntDialect.h"
#include "dialects/qnt/QntOps.h"
#include "dialects/qnt/QntTypes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"

namespace qtc {
#define GEN_PASS_DEF_QUANTIZEACTIVATIONS
#include "qtc/Transforms/Passes.h.inc"
} // namespace qtc

using namespace mlir;

namespace qtc {
namespace {

struct QuantizeActivationsPass
    : public impl::QuantizeActivationsBase<QuantizeActivationsPass> {
  using QuantizeActivationsBase::QuantizeActivationsBase;

  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    if (format != "int8" && format != "fp8") {
      getOperation()->emitError("qtc-quantize-activations: unsupported format '")
          << format << "' (supported: int8, fp8)";
      return signalPassFailure();
    }
    qnt::Format codes = format == "int8" ? qnt::Format::i8 : qnt::Format::f8e4m3;
    auto encoding = qnt::EncodingAttr::get(
        ctx, codes, qnt::Granularity::per_token, /*group_size=*/0, /*axis=*/1,
        /*symmetric=*/true, Float32Type::get(ctx), Type(), DenseF32ArrayAttr());
    WalkResult walk = getOperation().walk([&](qnt::QLinearOp op) {
      qnt::EncodingAttr w = op.getWeight().getType().getEncoding();
      // The row scale of x and of W factor out of the sum only when each
      // spans a whole row of its operand.
      if (w.getFormat() != codes || w.getGranularity() != qnt::Granularity::per_channel) {
        std::string name = "this linear";
        if (auto q = op.getWeight().getDefiningOp<qnt::QuantizedWeightOp>())
          name = ("'" + q.getName() + "'").str();
        else if (auto q = op.getWeight().getDefiningOp<qnt::QuantizeOp>())
          name = "the weight of this linear";
        op.emitError("qtc-quantize-activations: ")
            << format << " activations need " << format
            << " weights with one scale per output row (per_channel); " << name
            << " is " << w;
        return WalkResult::interrupt();
      }
      op.setInputEncodingAttr(encoding);
      return WalkResult::advance();
    });
    if (walk.wasInterrupted())
      signalPassFailure();
  }
};

} // namespace
} // namespace qtc
