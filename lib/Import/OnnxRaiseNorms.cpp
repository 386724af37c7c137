//===- OnnxRaiseNorms.cpp - RMSNorm and LayerNorm to tfm ------------------===//

#include "OnnxRaiseSupport.h"
#include "qtc/Import/OnnxImport.h"

#include "dialects/onnx/OnnxOps.h"
#include "dialects/tfm/TfmOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"


namespace qtc {
#define GEN_PASS_DEF_ONNXRAISENORMS
#include "qtc/Import/Passes.h.inc"
} // namespace qtc

using namespace mlir;
using namespace qtc;
using namespace qtc::onnxir;

namespace {

bool sameActivation(Value a, Value b) {
  return a == b || (skipCasts(a) == skipCasts(b) && a.getType() == b.getType());
}

/// The constant 1-D weight of `features` entries `v` is (through Casts).
Value weightOf(Value v, int64_t features) {
  Value w = skipCasts(v);
  ElementsAttr attr = constantOf(w);
  auto type = dyn_cast<RankedTensorType>(w.getType());
  if (!attr || !type || type.getRank() != 1 ||
      type.getDimSize(0) != features || !isa<FloatType>(type.getElementType()))
    return {};
  return w;
}

/// `v + eps` with mean(x^2) over the last axis: the epsilon, with `x`.
std::optional<double> matchMeanSquare(Value v, Value &x) {
  auto add = v.getDefiningOp<AddOp>();
  if (!add)
    return std::nullopt;
  Value mean = add.getLhs();
  std::optional<double> eps = scalarOf(add.getRhs());
  if (!eps) {
    mean = add.getRhs();
    eps = scalarOf(add.getLhs());
  }
  auto reduce = mean.getDefiningOp<ReduceMeanOp>();
  if (!eps || !reduce || !reduce.getKeepdims())
    return std::nullopt;
  auto type = cast<RankedTensorType>(reduce.getInput().getType());
  if (reduce.getAxes().size() != 1 || reduce.getAxes()[0] != type.getRank() - 1)
    return std::nullopt;
  Value square = reduce.getInput();
  if (auto pow = square.getDefiningOp<PowOp>()) {
    std::optional<double> exponent = scalarOf(pow.getRhs());
    if (!exponent || *exponent != 2.0)
      return std::nullopt;
    x = pow.getLhs();
  } else if (auto mul = square.getDefiningOp<MulOp>()) {
    if (!sameActivation(mul.getLhs(), mul.getRhs()))
      return std::nullopt;
    x = mul.getLhs();
  } else {
    return std::nullopt;
  }
  return eps;
}

/// `r` = 1 / sqrt(mean(x^2) + eps) in one of its spellings.
std::optional<double> matchInverseRms(Value r, Value &x) {
  if (auto recip = r.getDefiningOp<ReciprocalOp>())
    if (auto sqrt = recip.getInput().getDefiningOp<SqrtOp>())
      return matchMeanSquare(sqrt.getInput(), x);
  if (auto div = r.getDefiningOp<DivOp>()) {
    std::optional<double> one = scalarOf(div.getLhs());
    if (one && *one == 1.0)
      if (auto sqrt = div.getRhs().getDefiningOp<SqrtOp>())
        return matchMeanSquare(sqrt.getInput(), x);
  }
  if (auto pow = r.getDefiningOp<PowOp>()) {
    std::optional<double> exponent = scalarOf(pow.getRhs());
    if (exponent && *exponent == -0.5)
      return matchMeanSquare(pow.getLhs(), x);
  }
  return std::nullopt;
}

/// `n` = x / rms(x), possibly cast: the epsilon, with `x`.
std::optional<double> matchNormalized(Value n, Value &x) {
  n = skipCasts(n);
  if (auto div = n.getDefiningOp<DivOp>()) {
    auto sqrt = div.getRhs().getDefiningOp<SqrtOp>();
    Value squared;
    if (!sqrt)
      return std::nullopt;
    std::optional<double> eps = matchMeanSquare(sqrt.getInput(), squared);
    if (!eps || !sameActivation(squared, div.getLhs()))
      return std::nullopt;
    x = div.getLhs();
    return eps;
  }
  SmallVector<Value> factors;
  collectFactors(n, factors);
  if (factors.size() != 2)
    return std::nullopt;
  for (int k = 0; k < 2; ++k) {
    Value squared;
    std::optional<double> eps = matchInverseRms(factors[k], squared);
    if (eps && sameActivation(squared, factors[1 - k])) {
      x = factors[1 - k];
      return eps;
    }
  }
  return std::nullopt;
}

/// Builds the tfm op on [tokens, features] and restores `like`'s type.
Value restore(PatternRewriter &rewriter, Location loc, Value result, Type like) {
  auto target = cast<RankedTensorType>(like);
  auto type = cast<RankedTensorType>(result.getType());
  if (type.getElementType() != target.getElementType())
    result = CastOp::create(rewriter, loc, type.clone(target.getElementType()),
                            result);
  return fromTokens(rewriter, loc, result, like);
}

// w * (x / rms(x)) in every order and spelling.
struct RmsNormPattern : OpRewritePattern<MulOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(MulOp mul, PatternRewriter &rewriter) const override {
    if (!isTokenActivation(mul.getResult()))
      return failure();
    int64_t features = cast<RankedTensorType>(mul.getType()).getShape().back();
    SmallVector<Value> factors;
    collectFactors(mul.getResult(), factors);
    Value weight;
    SmallVector<Value> rest;
    for (Value f : factors) {
      if (!weight && (weight = weightOf(f, features)))
        continue;
      rest.push_back(f);
    }
    if (!weight)
      return failure();
    Value x;
    std::optional<double> eps;
    if (rest.size() == 1) {
      eps = matchNormalized(rest[0], x);
    } else if (rest.size() == 2) {
      for (int k = 0; k < 2 && !eps; ++k) {
        Value squared;
        eps = matchInverseRms(rest[k], squared);
        if (eps && sameActivation(squared, rest[1 - k]))
          x = rest[1 - k];
        else
          eps.reset();
      }
    }
    if (!eps || !isTokenActivation(x))
      return failure();
    Location loc = mul.getLoc();
    Value tokens = toTokens(rewriter, loc, x);
    Value norm = tfm::RmsNormOp::create(rewriter, loc, tokens.getType(), tokens,
                                        weight, rewriter.getF32FloatAttr(*eps));
    rewriter.replaceOp(mul, restore(rewriter, loc, norm, mul.getType()));
    return success();
  }
};

// onnxruntime's normalization ops raise when they normalize the features
// (the last axis) of a [tokens, features] activation.
template <typename NormOp>
LogicalResult checkFeatureNorm(NormOp op, PatternRewriter &rewriter) {
  Value x = op.getInput();
  if (!isTokenActivation(x))
    return rewriter.notifyMatchFailure(op, "not a [tokens, features] activation");
  int64_t rank = cast<RankedTensorType>(x.getType()).getRank();
  if (int64_t axis = op.getAxis(); axis != -1 && axis != rank - 1)
    return rewriter.notifyMatchFailure(op, "normalizes more than the last axis");
  return success();
}

struct SimplifiedLayerNormPattern
    : OpRewritePattern<SimplifiedLayerNormalizationOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(SimplifiedLayerNormalizationOp op,
                                PatternRewriter &rewriter) const override {
    Value x = op.getInput();
    if (failed(checkFeatureNorm(op, rewriter)))
      return failure();
    auto type = cast<RankedTensorType>(x.getType());
    Value weight = weightOf(op.getScale(), type.getShape().back());
    if (!weight)
      return rewriter.notifyMatchFailure(op, "scale is not a constant vector");
    Location loc = op.getLoc();
    Value tokens = toTokens(rewriter, loc, x);
    Value norm = tfm::RmsNormOp::create(rewriter, loc, tokens.getType(), tokens,
                                        weight, op.getEpsilonAttr());
    rewriter.replaceOp(op, restore(rewriter, loc, norm, op.getType()));
    return success();
  }
};

struct LayerNormPattern : OpRewritePattern<LayerNormalizationOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(LayerNormalizationOp op,
                                PatternRewriter &rewriter) const override {
    Value x = op.getInput();
    if (failed(checkFeatureNorm(op, rewriter)))
      return failure();
    auto type = cast<RankedTensorType>(x.getType());
    int64_t features = type.getShape().back();
    Value weight = weightOf(op.getScale(), features);
    Value bias = op.getBias() ? weightOf(op.getBias(), features) : Value();
    if (!weight || (op.getBias() && !bias))
      return rewriter.notifyMatchFailure(op, "scale or bias is not a constant vector");
    Location loc = op.getLoc();
    Value tokens = toTokens(rewriter, loc, x);
    Value norm = tfm::LayerNormOp::create(rewriter, loc, tokens.getType(), tokens,
                                          weight, bias, op.getEpsilonAttr());
    rewriter.replaceOp(op, restore(rewriter, loc, norm, op.getType()));
    return success();
  }
};

struct OnnxRaiseNormsPass : qtc::impl::OnnxRaiseNormsBase<OnnxRaiseNormsPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<RmsNormPattern, SimplifiedLayerNormPattern, LayerNormPattern>(
        &getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
