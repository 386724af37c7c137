//===- OnnxRaiseMlp.cpp - SwiGLU, SiLU and GELU to tfm --------------------===//

#include "OnnxRaiseSupport.h"
#include "qtc/Import/OnnxImport.h"

#include "dialects/onnx/OnnxOps.h"
#include "dialects/tfm/TfmOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <cmath>

namespace qtc {
#define GEN_PASS_DEF_ONNXRAISEMLP
#include "qtc/Import/Passes.h.inc"
} // namespace qtc

using namespace mlir;
using namespace qtc;
using namespace qtc::onnxir;

namespace {

bool near(double value, double expected) {
  return std::fabs(value - expected) <= 1e-3 * std::fabs(expected);
}

/// Splits `factors` into constant scalars (multiplied into `scale`) and the rest.
SmallVector<Value> splitConstants(ArrayRef<Value> factors, double &scale) {
  SmallVector<Value> rest;
  scale = 1.0;
  for (Value f : factors) {
    if (std::optional<double> c = scalarOf(f))
      scale *= *c;
    else
      rest.push_back(f);
  }
  return rest;
}

/// 1 + f(...): the argument of `f`'s op.
template <typename FnOp> Value onePlus(Value v) {
  auto add = v.getDefiningOp<AddOp>();
  if (!add)
    return {};
  for (auto [a, b] : {std::pair(add.getLhs(), add.getRhs()),
                      std::pair(add.getRhs(), add.getLhs())}) {
    std::optional<double> one = scalarOf(a);
    if (one && *one == 1.0)
      if (auto fn = b.template getDefiningOp<FnOp>())
        return fn.getInput();
  }
  return {};
}

/// Whether `v` is x * c with `c` ~ `expected` (x / (1 / c) too).
bool isScaled(Value v, Value x, double expected) {
  if (auto div = v.getDefiningOp<DivOp>()) {
    std::optional<double> c = scalarOf(div.getRhs());
    return div.getLhs() == x && c && near(1.0 / *c, expected);
  }
  SmallVector<Value> factors;
  collectFactors(v, factors);
  double scale;
  SmallVector<Value> rest = splitConstants(factors, scale);
  return rest.size() == 1 && rest[0] == x && near(scale, expected);
}

/// Whether `v` is sqrt(2/pi) * (x + 0.044715 x^3).
bool isTanhArgument(Value v, Value x) {
  SmallVector<Value> factors;
  collectFactors(v, factors);
  double scale;
  SmallVector<Value> rest = splitConstants(factors, scale);
  if (rest.size() != 1 || !near(scale, std::sqrt(2.0 / M_PI)))
    return false;
  auto add = rest[0].getDefiningOp<AddOp>();
  if (!add)
    return false;
  Value cubic = add.getLhs() == x ? add.getRhs() : add.getLhs();
  if (add.getLhs() != x && add.getRhs() != x)
    return false;
  SmallVector<Value> terms;
  collectFactors(cubic, terms);
  double c;
  SmallVector<Value> xs = splitConstants(terms, c);
  if (!near(c, 0.044715))
    return false;
  if (xs.size() == 3)
    return llvm::all_of(xs, [&](Value t) { return t == x; });
  if (xs.size() == 1)
    if (auto pow = xs[0].getDefiningOp<PowOp>()) {
      std::optional<double> e = scalarOf(pow.getRhs());
      return pow.getLhs() == x && e && *e == 3.0;
    }
  return false;
}

// The tfm op on [tokens, features] operands, reshaped back to `like`.
template <typename TfmOp>
Value elementwise(PatternRewriter &rewriter, Location loc, Type like,
                  ValueRange operands, ArrayRef<NamedAttribute> attrs = {}) {
  SmallVector<Value, 2> tokens;
  for (Value v : operands)
    tokens.push_back(toTokens(rewriter, loc, v));
  Value y = TfmOp::create(rewriter, loc, TypeRange{tokens[0].getType()},
                          ValueRange(tokens), attrs)
                ->getResult(0);
  return fromTokens(rewriter, loc, y, like);
}

// silu(g) * u, and silu(g) alone when no gated product follows.
struct SwigluPattern : OpRewritePattern<MulOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(MulOp mul, PatternRewriter &rewriter) const override {
    if (!isTokenActivation(mul.getResult()))
      return failure();
    SmallVector<Value> factors;
    collectFactors(mul.getResult(), factors);
    Value gate, up;
    SmallVector<Value> rest;
    for (Value f : factors) {
      auto sigmoid = f.getDefiningOp<SigmoidOp>();
      if (!gate && sigmoid) {
        gate = sigmoid.getInput();
        continue;
      }
      rest.push_back(f);
    }
    if (!gate)
      return failure();
    auto self = llvm::find(rest, gate);
    if (self == rest.end())
      return failure();
    rest.erase(self);
    Location loc = mul.getLoc();
    auto type = mul.getType();
    if (rest.empty()) {
      // A gated product will take this one whole.
      if (mul->hasOneUse() && isa<MulOp>(*mul->getUsers().begin()))
        return failure();
      rewriter.replaceOp(mul, elementwise<tfm::SiluOp>(rewriter, loc, type, {gate}));
      return success();
    }
    if (rest.size() != 1)
      return failure();
    up = rest[0];
    if (gate.getType() != type || up.getType() != type || !isTokenActivation(up))
      return failure();
    rewriter.replaceOp(mul, elementwise<tfm::SwigluOp>(rewriter, loc, type, {gate, up}));
    return success();
  }
};

// Replaces `op` (of x's type) by tfm.gelu(x) with the given approximation.
void replaceWithGelu(PatternRewriter &rewriter, Operation *op, Value x,
                     tfm::GeluApproximation kind) {
  auto attr = tfm::GeluApproximationAttr::get(op->getContext(), kind);
  rewriter.replaceOp(op, elementwise<tfm::GeluOp>(rewriter, op->getLoc(),
                                                  op->getResult(0).getType(), {x},
                                                  {rewriter.getNamedAttr("approximate", attr)}));
}

// x * 0.5 * (1 + erf(x / sqrt(2))) and the tanh approximation.
struct GeluPattern : OpRewritePattern<MulOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(MulOp mul, PatternRewriter &rewriter) const override {
    if (!isTokenActivation(mul.getResult()))
      return failure();
    SmallVector<Value> factors;
    collectFactors(mul.getResult(), factors);
    double scale;
    SmallVector<Value> rest = splitConstants(factors, scale);
    if (rest.size() != 2 || !near(scale, 0.5))
      return failure();
    for (int k = 0; k < 2; ++k) {
      Value x = rest[k], other = rest[1 - k];
      std::optional<tfm::GeluApproximation> kind;
      if (Value arg = onePlus<ErfOp>(other); arg && isScaled(arg, x, M_SQRT1_2))
        kind = tfm::GeluApproximation::none;
      else if (Value arg = onePlus<TanhOp>(other); arg && isTanhArgument(arg, x))
        kind = tfm::GeluApproximation::tanh;
      if (!kind || x.getType() != mul.getType())
        continue;
      replaceWithGelu(rewriter, mul, x, *kind);
      return success();
    }
    return failure();
  }
};

struct GeluOpPattern : OpRewritePattern<GeluOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(GeluOp op, PatternRewriter &rewriter) const override {
    if (!isTokenActivation(op.getInput()))
      return failure();
    replaceWithGelu(rewriter, op, op.getInput(),
                    op.getApproximate() == "tanh" ? tfm::GeluApproximation::tanh
                                                  : tfm::GeluApproximation::none);
    return success();
  }
};

struct OnnxRaiseMlpPass : qtc::impl::OnnxRaiseMlpBase<OnnxRaiseMlpPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<SwigluPattern, GeluPattern, GeluOpPattern>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
