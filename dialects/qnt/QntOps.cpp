//===- QntOps.cpp - qnt operation verifiers -------------------------------===//

#include "dialects/qnt/QntOps.h"

#include "dialects/SizeDiagnostics.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"
#include "llvm/Support/MathExtras.h"

using namespace mlir;
using namespace qtc;
using namespace qtc::qnt;

namespace {

/// quantize keeps the shape and the original element type.
LogicalResult verifySameWeight(Operation *op, RankedTensorType tensor,
                               WeightType weight) {
  if (tensor.getShape() != weight.getShape())
    return op->emitOpError("quantized weight shape (")
           << weight.getOutFeatures() << "x" << weight.getInFeatures()
           << ") must equal the tensor shape (" << tensor << ")";
  if (tensor.getElementType() != weight.getElementType())
    return op->emitOpError("quantized weight element type (")
           << weight.getElementType()
           << ") must equal the tensor element type ("
           << tensor.getElementType() << ")";
  return success();
}

} // namespace

//===----------------------------------------------------------------------===//
// Weights
//===----------------------------------------------------------------------===//

LogicalResult QuantizeOp::verify() {
  return verifySameWeight(*this, getInput().getType(), getResult().getType());
}

LogicalResult QuantizedWeightOp::verify() {
  if (getName().empty())
    return emitOpError("name must not be empty");
  if (getMethod().empty())
    return emitOpError("method must not be empty");
  if (getMaxAbsError().convertToFloat() < 0)
    return emitOpError("max_abs_error must be non-negative");
  WeightType type = getResult().getType();
  return type.getEncoding().verifyForShape(
      [&] { return emitOpError() << "weight encoding: "; }, type.getShape());
}

LogicalResult QLinearOp::verify() {
  auto input = getInput().getType(), result = getResult().getType();
  WeightType weight = getWeight().getType();
  EncodingAttr encoding = weight.getEncoding();
  if (encoding.getGranularity() != Granularity::per_tensor &&
      encoding.getAxis() != 1)
    return emitOpError("weight scales must span the input dimension "
                       "(encoding axis 1, got ")
           << encoding.getAxis() << ")";
  if (failed(expectSize(*this, "weight input width", weight.getInFeatures(),
                        "the input width", input.getDimSize(1))) ||
      failed(expectSize(*this, "result width", result.getDimSize(1),
                        "the weight output width", weight.getOutFeatures())) ||
      failed(expectSize(*this, "result rows", result.getDimSize(0),
                        "the input rows", input.getDimSize(0))))
    return failure();
  if (EncodingAttr act = getInputEncodingAttr()) {
    if (act.getGranularity() != Granularity::per_token ||
        (act.getFormat() != Format::i8 && act.getFormat() != Format::f8e4m3) ||
        !act.getScaleType().isF32() || !act.getSymmetric())
      return emitOpError("input_encoding must be symmetric per_token i8 or "
                         "f8e4m3 with f32 scales, got ")
             << act;
  }
  if (getBias())
    return expectSize(*this, "bias length", getBias().getType().getDimSize(0),
                      "the weight output width", weight.getOutFeatures());
  return success();
}

#define GET_OP_CLASSES
#include "dialects/qnt/QntOps.cpp.inc"
