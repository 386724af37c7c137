//===- OnnxRaiseLinears.cpp - Weight products and lookups to tfm ----------===//

#include "OnnxRaiseSupport.h"
#include "qtc/Import/OnnxImport.h"

#include "dialects/onnx/OnnxOps.h"
#include "dialects/tfm/TfmOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace qtc {
#define GEN_PASS_DEF_ONNXRAISELINEARS
#include "qtc/Import/Passes.h.inc"
} // namespace qtc

using namespace mlir;
using namespace qtc;
using namespace qtc::onnxir;

namespace {

/// The weight [out, in] of a product with `b` ([in, out], or [out, in] when
/// `transposed`): the initializer itself where the graph transposes it,
/// else an onnx.Transpose of it.
Value weightOf(PatternRewriter &rewriter, Location loc, Value b,
               bool transposed) {
  auto type = dyn_cast<RankedTensorType>(b.getType());
  if (!type || type.getRank() != 2 || !type.hasStaticShape() ||
      !isa<FloatType>(type.getElementType()))
    return {};
  if (transposed)
    return constantOf(b) ? b : Value();
  if (auto t = b.getDefiningOp<TransposeOp>())
    if (constantOf(t.getInput()) && t.getPerm() == ArrayRef<int64_t>{1, 0})
      return t.getInput();
  if (!constantOf(b))
    return {};
  auto flipped = RankedTensorType::get({type.getDimSize(1), type.getDimSize(0)},
                                       type.getElementType());
  return TransposeOp::create(rewriter, loc, flipped, b,
                             rewriter.getDenseI64ArrayAttr({1, 0}));
}

/// The constant [out] bias of `add`, the other operand being `product`.
Value biasOf(AddOp add, Value product, int64_t out) {
  Value other = add.getLhs() == product ? add.getRhs() : add.getLhs();
  auto type = dyn_cast<RankedTensorType>(other.getType());
  if (!constantOf(other) || !type || type.getRank() != 1 ||
      type.getDimSize(0) != out)
    return {};
  return other;
}

Value linear(PatternRewriter &rewriter, Location loc, Value x, Value weight,
             Value bias, Type like) {
  Value tokens = toTokens(rewriter, loc, x);
  auto wType = cast<RankedTensorType>(weight.getType());
  auto tType = cast<RankedTensorType>(tokens.getType());
  auto type = RankedTensorType::get({tType.getDimSize(0), wType.getDimSize(0)},
                                    tType.getElementType());
  Value y = tfm::LinearOp::create(rewriter, loc, type, tokens, weight, bias);
  return fromTokens(rewriter, loc, y, like);
}

struct MatMulPattern : OpRewritePattern<MatMulOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(MatMulOp op, PatternRewriter &rewriter) const override {
    if (!isTokenActivation(op.getLhs()) || !isTokenActivation(op.getResult()))
      return failure();
    Location loc = op.getLoc();
    auto bType = dyn_cast<RankedTensorType>(op.getRhs().getType());
    if (!bType || bType.getRank() != 2)
      return failure();
    Value weight = weightOf(rewriter, loc, op.getRhs(), /*transposed=*/false);
    if (!weight)
      return failure();
    Operation *replaced = op;
    Value bias;
    if (op->hasOneUse())
      if (auto add = dyn_cast<AddOp>(*op->getUsers().begin()))
        if ((bias = biasOf(add, op.getResult(), bType.getDimSize(1))))
          replaced = add;
    rewriter.replaceOp(replaced, linear(rewriter, loc, op.getLhs(), weight, bias,
                                        replaced->getResult(0).getType()));
    return success();
  }
};

struct GemmPattern : OpRewritePattern<GemmOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(GemmOp op, PatternRewriter &rewriter) const override {
    if (op.getTransA() || op.getAlpha().convertToFloat() != 1.0f ||
        op.getBeta().convertToFloat() != 1.0f || !isTokenActivation(op.getA()))
      return rewriter.notifyMatchFailure(op, "not x W^T + b");
    Location loc = op.getLoc();
    Value weight = weightOf(rewriter, loc, op.getB(), op.getTransB() != 0);
    if (!weight)
      return rewriter.notifyMatchFailure(op, "B is not a constant matrix");
    Value bias;
    if (Value c = op.getC()) {
      auto type = dyn_cast<RankedTensorType>(c.getType());
      int64_t out = cast<RankedTensorType>(weight.getType()).getDimSize(0);
      if (!constantOf(c) || !type || type.getRank() != 1 || type.getDimSize(0) != out)
        return rewriter.notifyMatchFailure(op, "C is not a constant [out] bias");
      bias = c;
    }
    rewriter.replaceOp(op, linear(rewriter, loc, op.getA(), weight, bias, op.getType()));
    return success();
  }
};

/// Whether `ids` are token ids as a graph takes them: an integer graph input,
/// reshaped or cast between integer types on the way; not indices the graph
/// computes (a Range, an ArgMax, a folded constant).
bool isGraphIds(Value ids) {
  while (Operation *op = ids.getDefiningOp()) {
    if (isa<ReshapeOp, SqueezeOp, UnsqueezeOp, CastOp>(op) &&
        isa<IntegerType>(getElementTypeOrSelf(op->getOperand(0).getType()))) {
      ids = op->getOperand(0);
      continue;
    }
    return false;
  }
  return isa<IntegerType>(getElementTypeOrSelf(ids.getType()));
}

struct EmbeddingPattern : OpRewritePattern<GatherOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(GatherOp op, PatternRewriter &rewriter) const override {
    auto table = dyn_cast<RankedTensorType>(op.getData().getType());
    auto ids = dyn_cast<RankedTensorType>(op.getIndices().getType());
    if (op.getAxis() != 0 || !constantOf(op.getData()) || !table ||
        table.getRank() != 2 || !isa<FloatType>(table.getElementType()) || !ids ||
        !(ids.getRank() == 1 || (ids.getRank() == 2 && ids.getDimSize(0) == 1)))
      return failure();
    if (!isGraphIds(op.getIndices()))
      return rewriter.notifyMatchFailure(op, "the indices are computed, not token ids");
    Location loc = op.getLoc();
    Value flat = op.getIndices();
    if (ids.getRank() == 2)
      flat = tensor::CollapseShapeOp::create(
          rewriter, loc, RankedTensorType::get({ids.getDimSize(1)}, ids.getElementType()),
          flat, ArrayRef<ReassociationIndices>{{0, 1}});
    auto flatType = cast<RankedTensorType>(flat.getType());
    auto type = RankedTensorType::get({flatType.getDimSize(0), table.getDimSize(1)},
                                      table.getElementType());
    Value x = tfm::EmbeddingOp::create(rewriter, loc, type, op.getData(), flat);
    rewriter.replaceOp(op, fromTokens(rewriter, loc, x, op.getType()));
    return success();
  }
};

struct OnnxRaiseLinearsPass
    : qtc::impl::OnnxRaiseLinearsBase<OnnxRaiseLinearsPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<MatMulPattern, GemmPattern, EmbeddingPattern>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
