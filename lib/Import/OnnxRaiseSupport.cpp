//===- OnnxRaiseSupport.cpp - What the raising patterns share -------------===//

#include "OnnxRaiseSupport.h"

#include "dialects/onnx/OnnxOps.h"

#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"

using namespace mlir;
using namespace qtc;

bool qtc::isTokenActivation(Value x) {
  auto type = dyn_cast<RankedTensorType>(x.getType());
  if (!type || !isa<FloatType>(type.getElementType()))
    return false;
  return type.getRank() == 2 || (type.getRank() == 3 && type.getDimSize(0) == 1);
}

Value qtc::toTokens(OpBuilder &b, Location loc, Value x) {
  if (!isTokenActivation(x))
    return {};
  auto type = cast<RankedTensorType>(x.getType());
  if (type.getRank() == 2)
    return x;
  auto flat = RankedTensorType::get({type.getDimSize(1), type.getDimSize(2)},
                                    type.getElementType());
  return tensor::CollapseShapeOp::create(
      b, loc, flat, x, ArrayRef<ReassociationIndices>{{0, 1}, {2}});
}

Value qtc::fromTokens(OpBuilder &b, Location loc, Value y, Type like) {
  auto target = cast<RankedTensorType>(like);
  auto type = cast<RankedTensorType>(y.getType());
  if (target.getRank() == 2)
    return y;
  auto expanded = RankedTensorType::get(
      {1, type.getDimSize(0), type.getDimSize(1)}, type.getElementType());
  return tensor::ExpandShapeOp::create(
      b, loc, expanded, y, ArrayRef<ReassociationIndices>{{0, 1}, {2}});
}

ElementsAttr qtc::constantOf(Value v) {
  Attribute attr;
  if (!v || !matchPattern(v, m_Constant(&attr)))
    return {};
  return dyn_cast<ElementsAttr>(attr);
}

std::optional<double> qtc::scalarOf(Value v) {
  ElementsAttr attr = constantOf(v);
  if (!attr)
    return std::nullopt;
  auto dense = dyn_cast<DenseElementsAttr>(attr);
  if (!dense || !(dense.isSplat() || dense.getNumElements() == 1))
    return std::nullopt;
  Type et = dense.getElementType();
  if (isa<FloatType>(et)) {
    APFloat f = dense.getSplatValue<APFloat>();
    bool lost;
    f.convert(APFloat::IEEEdouble(), APFloat::rmNearestTiesToEven, &lost);
    return f.convertToDouble();
  }
  if (isa<IntegerType>(et))
    return double(dense.getSplatValue<APInt>().getSExtValue());
  return std::nullopt;
}

Value qtc::skipCasts(Value v) {
  while (auto cast = v.getDefiningOp<onnxir::CastOp>())
    v = cast.getInput();
  return v;
}

std::string qtc::describeNode(Operation *op) {
  std::string name = "<unnamed>";
  if (auto loc = dyn_cast<NameLoc>(op->getLoc()))
    name = loc.getName().str();
  return "'" + name + "' (" + op->getName().stripDialect().str() + ")";
}

void qtc::collectFactors(Value v, SmallVectorImpl<Value> &out, int depth) {
  auto mul = v.getDefiningOp<onnxir::MulOp>();
  if (!mul || depth > 8 || (depth > 0 && !v.hasOneUse())) {
    out.push_back(v);
    return;
  }
  collectFactors(mul.getLhs(), out, depth + 1);
  collectFactors(mul.getRhs(), out, depth + 1);
}
