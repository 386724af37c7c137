//===- OnnxHeads.cpp - Per-head views of projections ----------------------===//

#include "OnnxHeads.h"
#include "OnnxRaiseSupport.h"

#include "dialects/onnx/OnnxOps.h"

#include "mlir/IR/IRMapping.h"

using namespace mlir;
using namespace qtc;
using namespace qtc::onnxir;

std::optional<HeadView> qtc::matchHeadView(Value v) {
  HeadView view;
  if (auto t = v.getDefiningOp<TransposeOp>()) {
    if (t.getPerm() != ArrayRef<int64_t>{0, 2, 1, 3})
      return std::nullopt;
    view.transpose = t;
    v = t.getInput();
  } else {
    view.headsFirst = false;
  }
  auto reshape = v.getDefiningOp<ReshapeOp>();
  if (!reshape || !isTokenActivation(reshape.getInput()))
    return std::nullopt;
  auto type = cast<RankedTensorType>(reshape.getType());
  auto in = cast<RankedTensorType>(reshape.getInput().getType());
  if (type.getRank() != 4 || type.getDimSize(0) != 1 ||
      ShapedType::isDynamic(type.getDimSize(2)) ||
      ShapedType::isDynamic(type.getDimSize(3)) ||
      in.getShape().back() != type.getDimSize(2) * type.getDimSize(3) ||
      in.getDimSize(in.getRank() - 2) != type.getDimSize(1))
    return std::nullopt;
  view.reshape = reshape;
  view.tokens = reshape.getInput();
  view.heads = type.getDimSize(2);
  view.headDim = type.getDimSize(3);
  return view;
}

Value qtc::rebuildHeadView(PatternRewriter &rewriter, const HeadView &view,
                           Value tokens) {
  IRMapping mapping;
  mapping.map(view.tokens, tokens);
  Value v = rewriter.clone(*view.reshape, mapping)->getResult(0);
  if (!view.transpose)
    return v;
  mapping.map(view.reshape->getResult(0), v);
  return rewriter.clone(*view.transpose, mapping)->getResult(0);
}
