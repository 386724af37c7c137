//===- OnnxOps.cpp - onnx operation verifiers -----------------------------===//

#include "dialects/onnx/OnnxOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/TypeUtilities.h"

using namespace mlir;
using namespace qtc::onnxir;

#define GET_OP_CLASSES
#include "dialects/onnx/OnnxOps.cpp.inc"

bool qtc::onnxir::isNamedWeight(Attribute value) {
  return isa_and_nonnull<DenseResourceElementsAttr>(value);
}

namespace {

// Unary ops keep the shape; all but Cast and Not keep the element type.
LogicalResult verifyUnary(Operation *op, bool sameElementType) {
  auto input = cast<ShapedType>(op->getOperand(0).getType());
  auto result = cast<ShapedType>(op->getResult(0).getType());
  if (failed(verifyCompatibleShape(input, result)))
    return op->emitOpError("result shape ")
           << result << " differs from the operand's " << input;
  if (sameElementType && input.getElementType() != result.getElementType())
    return op->emitOpError("result element type differs from the operand's");
  return success();
}

// Broadcasting: the result has the larger rank.
LogicalResult verifyBinary(Operation *op) {
  auto lhs = cast<ShapedType>(op->getOperand(0).getType());
  auto rhs = cast<ShapedType>(op->getOperand(1).getType());
  auto result = cast<ShapedType>(op->getResult(0).getType());
  if (lhs.hasRank() && rhs.hasRank() && result.hasRank() &&
      result.getRank() != std::max(lhs.getRank(), rhs.getRank()))
    return op->emitOpError("result rank ")
           << result.getRank() << " is not the broadcast rank "
           << std::max(lhs.getRank(), rhs.getRank());
  return success();
}

} // namespace

#define QTC_UNARY_VERIFIER(Op, Same)                                           \
  LogicalResult Op::verify() { return verifyUnary(*this, Same); }
QTC_UNARY_VERIFIER(NegOp, true)
QTC_UNARY_VERIFIER(AbsOp, true)
QTC_UNARY_VERIFIER(SqrtOp, true)
QTC_UNARY_VERIFIER(ReciprocalOp, true)
QTC_UNARY_VERIFIER(ExpOp, true)
QTC_UNARY_VERIFIER(LogOp, true)
QTC_UNARY_VERIFIER(SinOp, true)
QTC_UNARY_VERIFIER(CosOp, true)
QTC_UNARY_VERIFIER(TanhOp, true)
QTC_UNARY_VERIFIER(ErfOp, true)
QTC_UNARY_VERIFIER(SigmoidOp, true)
QTC_UNARY_VERIFIER(ReluOp, true)
QTC_UNARY_VERIFIER(FloorOp, true)
QTC_UNARY_VERIFIER(CeilOp, true)
QTC_UNARY_VERIFIER(NotOp, true)
QTC_UNARY_VERIFIER(CastOp, false)
#undef QTC_UNARY_VERIFIER

#define QTC_BINARY_VERIFIER(Op)                                                \
  LogicalResult Op::verify() { return verifyBinary(*this); }
QTC_BINARY_VERIFIER(AddOp)
QTC_BINARY_VERIFIER(SubOp)
QTC_BINARY_VERIFIER(MulOp)
QTC_BINARY_VERIFIER(DivOp)
QTC_BINARY_VERIFIER(PowOp)
QTC_BINARY_VERIFIER(MaxOp)
QTC_BINARY_VERIFIER(MinOp)
QTC_BINARY_VERIFIER(EqualOp)
QTC_BINARY_VERIFIER(LessOp)
QTC_BINARY_VERIFIER(LessOrEqualOp)
QTC_BINARY_VERIFIER(GreaterOp)
QTC_BINARY_VERIFIER(GreaterOrEqualOp)
QTC_BINARY_VERIFIER(AndOp)
QTC_BINARY_VERIFIER(OrOp)
QTC_BINARY_VERIFIER(XorOp)
#undef QTC_BINARY_VERIFIER

LogicalResult SplitOp::verify() {
  if (getSizes().size() != getNumResults())
    return emitOpError("has ") << getSizes().size() << " sizes for "
                               << getNumResults() << " results";
  return success();
}
