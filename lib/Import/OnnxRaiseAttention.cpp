//===- OnnxRaiseAttention.cpp - Scaled dot-product attention to tfm -------===//
//
// softmax(scale * Q K^T + mask) V on per-head views of three projections,
// merged back to [1, T, heads * head_dim], becomes tfm.attention on the
// projections. The scale may sit on the scores (Mul or Div) or on q and k;
// grouped key/value heads may be repeated by Unsqueeze + Expand (or Concat
// of copies) + Reshape; the mask is whatever the graph builds (Trilu,
// Where over a Range comparison, a constant, Expand of a mask, the
// attention_mask padding path): it is evaluated at probe lengths and must
// be causal or let every pair through.
//
//===----------------------------------------------------------------------===//

#include "OnnxHeads.h"
#include "OnnxProbe.h"
#include "OnnxRaiseSupport.h"
#include "qtc/Import/OnnxImport.h"

#include "dialects/onnx/OnnxOps.h"
#include "dialects/tfm/TfmOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <cmath>

namespace qtc {
#define GEN_PASS_DEF_ONNXRAISEATTENTION
#include "qtc/Import/Passes.h.inc"
} // namespace qtc

using namespace mlir;
using namespace qtc;
using namespace qtc::onnxir;

namespace {

constexpr ProbePoint kProbes[] = {{13, 0}, {6, 0}};
// A masked score: exporters use -inf, the dtype's lowest or -1e4..-1e9.
constexpr double kMaskedBelow = -1e4;

bool isLastAxis(int64_t axis, Value v) {
  return axis == -1 || axis == cast<RankedTensorType>(v.getType()).getRank() - 1;
}

/// `v` with scalar Mul/Div factors (into `scale`) and Casts stripped.
Value stripScale(Value v, double &scale) {
  for (int guard = 0; guard < 8; ++guard) {
    if (auto cast = v.getDefiningOp<CastOp>()) {
      v = cast.getInput();
      continue;
    }
    if (auto mul = v.getDefiningOp<MulOp>()) {
      if (std::optional<double> c = scalarOf(mul.getRhs())) {
        scale *= *c;
        v = mul.getLhs();
        continue;
      }
      if (std::optional<double> c = scalarOf(mul.getLhs())) {
        scale *= *c;
        v = mul.getRhs();
        continue;
      }
    }
    if (auto div = v.getDefiningOp<DivOp>())
      if (std::optional<double> c = scalarOf(div.getRhs()); c && *c != 0.0) {
        scale /= *c;
        v = div.getLhs();
        continue;
      }
    break;
  }
  return v;
}

/// Key/value heads repeated for grouped-query attention, [1, G*r, S, D]
/// from [1, G, S, D] by Unsqueeze(2) + Expand (or Tile of the new axis, or
/// Concat of r copies) + Reshape: the unrepeated heads, or `v` itself.
Value unrepeat(Value v) {
  auto reshape = v.getDefiningOp<ReshapeOp>();
  if (!reshape)
    return v;
  Value repeated = reshape.getInput();
  auto type = cast<RankedTensorType>(repeated.getType());
  if (type.getRank() != 5)
    return v;
  Value single;
  if (auto expand = repeated.getDefiningOp<ExpandOp>()) {
    single = expand.getInput();
  } else if (auto tile = repeated.getDefiningOp<TileOp>()) {
    // Only the new axis may be repeated.
    auto repeats = constantOf(tile.getRepeats());
    auto dense = dyn_cast_or_null<DenseIntElementsAttr>(repeats);
    if (!dense || dense.getNumElements() != 5)
      return v;
    for (auto [d, r] : llvm::enumerate(dense.getValues<APInt>()))
      if (d != 2 && r.getSExtValue() != 1)
        return v;
    single = tile.getInput();
  } else if (auto concat = repeated.getDefiningOp<ConcatOp>()) {
    if (concat.getAxis() != 2 ||
        !llvm::all_equal(concat.getInputs()))
      return v;
    single = concat.getInputs()[0];
  } else {
    return v;
  }
  auto unsqueeze = single.getDefiningOp<UnsqueezeOp>();
  if (!unsqueeze || unsqueeze.getAxes() != ArrayRef<int64_t>{2})
    return v;
  auto in = cast<RankedTensorType>(unsqueeze.getInput().getType());
  auto out = cast<RankedTensorType>(reshape.getType());
  if (in.getRank() != 4 || out.getRank() != 4 || type.getDimSize(1) != in.getDimSize(1) ||
      ShapedType::isDynamic(type.getDimSize(2)) ||
      out.getDimSize(1) != in.getDimSize(1) * type.getDimSize(2) ||
      out.getDimSize(3) != in.getDimSize(3))
    return v;
  return unsqueeze.getInput();
}

/// K^T [1, G, D, S] as a head view of the key projection (Transpose of
/// [1, G, S, D], or one Transpose [0, 2, 3, 1] of [1, S, G, D]).
std::optional<HeadView> keyView(Value kt, double &scale) {
  kt = stripScale(kt, scale);
  auto t = kt.getDefiningOp<TransposeOp>();
  if (!t)
    return std::nullopt;
  if (t.getPerm() == ArrayRef<int64_t>{0, 1, 3, 2}) {
    std::optional<HeadView> view =
        matchHeadView(unrepeat(stripScale(t.getInput(), scale)));
    if (view && view->headsFirst)
      return view;
    return std::nullopt;
  }
  if (t.getPerm() == ArrayRef<int64_t>{0, 2, 3, 1}) {
    std::optional<HeadView> view = matchHeadView(t.getInput());
    if (view && !view->headsFirst)
      return view;
  }
  return std::nullopt;
}

/// The [T, S] visibility of a probed mask broadcast against the scores, or
/// nullopt when it varies across heads or batch.
std::optional<std::vector<bool>> visibility(const ProbedValue &mask,
                                            int64_t tokens, bool additive,
                                            bool visibleWhenTrue) {
  int64_t count = tokens * tokens;
  if (mask.shape.size() < 2 || mask.shape[mask.shape.size() - 1] != tokens ||
      mask.shape[mask.shape.size() - 2] != tokens || mask.size() != count)
    return std::nullopt;
  std::vector<bool> visible(count);
  for (int64_t k = 0; k < count; ++k) {
    double m = mask.values[k];
    if (additive) {
      if (m != 0.0 && !(m <= kMaskedBelow))
        return std::nullopt;
      visible[k] = m == 0.0;
    } else {
      visible[k] = (m != 0.0) == visibleWhenTrue;
    }
  }
  return visible;
}

struct MaskTerm {
  Value value;
  bool additive = true;
  bool visibleWhenTrue = true;
};

/// Strips additive masks and Where selections from the scores.
Value stripMasks(Value s, SmallVectorImpl<MaskTerm> &masks) {
  for (int guard = 0; guard < 8; ++guard) {
    s = skipCasts(s);
    if (auto add = s.getDefiningOp<AddOp>()) {
      auto probes = [](Value v) { return probeValue(v, kProbes[0]).has_value(); };
      if (probes(add.getRhs())) {
        masks.push_back({add.getRhs()});
        s = add.getLhs();
        continue;
      }
      if (probes(add.getLhs())) {
        masks.push_back({add.getLhs()});
        s = add.getRhs();
        continue;
      }
    }
    if (auto where = s.getDefiningOp<WhereOp>()) {
      std::optional<double> fillX = scalarOf(where.getX());
      std::optional<double> fillY = scalarOf(where.getY());
      if (fillY && *fillY <= kMaskedBelow) {
        masks.push_back({where.getCondition(), false, true});
        s = where.getX();
        continue;
      }
      if (fillX && *fillX <= kMaskedBelow) {
        masks.push_back({where.getCondition(), false, false});
        s = where.getY();
        continue;
      }
    }
    break;
  }
  return s;
}

enum class MaskKind { None, Causal, Other };

/// The visibility the masks (and `causal`, the opset-23 attribute) give
/// together at every probe length.
MaskKind classifyMasks(ArrayRef<MaskTerm> masks, bool causalToo = false) {
  MaskKind kind = MaskKind::None;
  for (ProbePoint at : kProbes) {
    int64_t t = at.tokens;
    std::vector<bool> visible(t * t, true);
    if (causalToo)
      for (int64_t i = 0; i < t; ++i)
        for (int64_t j = i + 1; j < t; ++j)
          visible[i * t + j] = false;
    for (const MaskTerm &term : masks) {
      std::optional<ProbedValue> probed = probeValue(term.value, at);
      if (!probed)
        return MaskKind::Other;
      // Leading dims must be 1: one mask for every head of one sequence.
      auto v = visibility(*probed, t, term.additive, term.visibleWhenTrue);
      if (!v)
        return MaskKind::Other;
      for (int64_t k = 0; k < t * t; ++k)
        visible[k] = visible[k] && (*v)[k];
    }
    bool causal = true, all = true;
    for (int64_t i = 0; i < t; ++i)
      for (int64_t j = 0; j < t; ++j) {
        causal &= visible[i * t + j] == (j <= i);
        all &= visible[i * t + j];
      }
    MaskKind here = all ? MaskKind::None : causal ? MaskKind::Causal : MaskKind::Other;
    if (here == MaskKind::Other || (at.tokens != kProbes[0].tokens && here != kind))
      return MaskKind::Other;
    kind = here;
  }
  return kind;
}

Value createAttention(PatternRewriter &rewriter, Location loc, Value q, Value k,
                      Value v, int64_t heads, int64_t kvHeads, int64_t headDim,
                      bool causal, double scale) {
  return tfm::AttentionOp::create(
      rewriter, loc, q.getType(), q, k, v, /*mask=*/Value(),
      rewriter.getI64IntegerAttr(heads), rewriter.getI64IntegerAttr(kvHeads),
      rewriter.getI64IntegerAttr(headDim),
      causal ? rewriter.getUnitAttr() : UnitAttr(),
      rewriter.getF32FloatAttr(float(scale)), IntegerAttr());
}

struct AttentionPattern : OpRewritePattern<ReshapeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ReshapeOp merge, PatternRewriter &rewriter) const override {
    if (!isTokenActivation(merge.getResult()))
      return failure();
    auto transpose = merge.getInput().getDefiningOp<TransposeOp>();
    if (!transpose || transpose.getPerm() != ArrayRef<int64_t>{0, 2, 1, 3})
      return failure();
    auto pv = transpose.getInput().getDefiningOp<MatMulOp>();
    if (!pv)
      return failure();
    auto softmax = skipCasts(pv.getLhs()).getDefiningOp<SoftmaxOp>();
    if (!softmax || !isLastAxis(softmax.getAxis(), softmax.getInput()))
      return rewriter.notifyMatchFailure(merge, "not softmax(...) V");

    SmallVector<MaskTerm> masks;
    double scale = 1.0;
    Value scores = stripScale(stripMasks(softmax.getInput(), masks), scale);
    auto qk = scores.getDefiningOp<MatMulOp>();
    if (!qk)
      return rewriter.notifyMatchFailure(merge, "scores are not Q K^T");
    std::optional<HeadView> q = matchHeadView(stripScale(qk.getLhs(), scale));
    std::optional<HeadView> k = keyView(qk.getRhs(), scale);
    std::optional<HeadView> v = matchHeadView(unrepeat(skipCasts(pv.getRhs())));
    if (!q || !k || !v || !q->headsFirst || !v->headsFirst ||
        k->heads != v->heads || k->headDim != q->headDim ||
        v->headDim != q->headDim || q->heads % k->heads != 0)
      return rewriter.notifyMatchFailure(merge, "q, k, v are not per-head projections");
    int64_t merged = cast<RankedTensorType>(merge.getType()).getShape().back();
    if (merged != q->heads * q->headDim)
      return rewriter.notifyMatchFailure(merge, "heads are not merged back");

    MaskKind mask = classifyMasks(masks);
    if (mask == MaskKind::Other)
      return rewriter.notifyMatchFailure(merge, "the mask is neither causal nor empty");

    Location loc = merge.getLoc();
    Value qt = toTokens(rewriter, loc, q->tokens);
    Value kt = toTokens(rewriter, loc, k->tokens);
    Value vt = toTokens(rewriter, loc, v->tokens);
    auto outType = cast<RankedTensorType>(merge.getType());
    if (cast<RankedTensorType>(qt.getType()).getElementType() != outType.getElementType())
      return rewriter.notifyMatchFailure(merge, "attention changes the element type");
    Value attention = createAttention(rewriter, loc, qt, kt, vt, q->heads, k->heads,
                                      q->headDim, mask == MaskKind::Causal, scale);
    rewriter.replaceOp(merge, fromTokens(rewriter, loc, attention, outType));
    return success();
  }
};

// The opset-23 Attention op: on [1, T, heads * head_dim] projections, or on
// head views whose result is merged back by Transpose + Reshape.
struct AttentionOpPattern : OpRewritePattern<AttentionOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(AttentionOp op, PatternRewriter &rewriter) const override {
    if (op.getSoftcap().convertToFloat() != 0.0f)
      return rewriter.notifyMatchFailure(op, "softcap is not supported by tfm.attention");
    SmallVector<MaskTerm> masks;
    if (Value mask = op.getMask()) {
      bool boolean = cast<RankedTensorType>(mask.getType()).getElementType().isInteger(1);
      masks.push_back({mask, !boolean, true});
    }
    MaskKind mask = classifyMasks(masks, op.getIsCausal() != 0);
    if (mask == MaskKind::Other)
      return rewriter.notifyMatchFailure(op, "the mask is neither causal nor empty");
    auto qType = cast<RankedTensorType>(op.getQuery().getType());
    Location loc = op.getLoc();
    Operation *replaced = op;
    Value q, k, v;
    int64_t heads, kvHeads, headDim;
    if (qType.getRank() == 3) {
      heads = op.getQNumHeads();
      kvHeads = op.getKvNumHeads();
      if (!isTokenActivation(op.getQuery()) || !isTokenActivation(op.getKey()) ||
          !isTokenActivation(op.getValue()) || heads <= 0 || kvHeads <= 0 ||
          heads % kvHeads != 0 || qType.getShape().back() % heads != 0)
        return rewriter.notifyMatchFailure(op, "not [1, T, heads * head_dim] operands");
      headDim = qType.getShape().back() / heads;
      q = op.getQuery(), k = op.getKey(), v = op.getValue();
    } else {
      std::optional<HeadView> qv = matchHeadView(op.getQuery());
      std::optional<HeadView> kv = matchHeadView(op.getKey());
      std::optional<HeadView> vv = matchHeadView(op.getValue());
      if (!qv || !kv || !vv || !qv->headsFirst || !kv->headsFirst ||
          !vv->headsFirst || kv->heads != vv->heads || qv->heads % kv->heads != 0 ||
          kv->headDim != qv->headDim || vv->headDim != qv->headDim || !op->hasOneUse())
        return rewriter.notifyMatchFailure(op, "q, k, v are not per-head projections");
      auto transpose = dyn_cast<TransposeOp>(*op->getUsers().begin());
      if (!transpose || transpose.getPerm() != ArrayRef<int64_t>{0, 2, 1, 3} ||
          !transpose->hasOneUse())
        return rewriter.notifyMatchFailure(op, "heads are not merged back");
      auto merge = dyn_cast<ReshapeOp>(*transpose->getUsers().begin());
      if (!merge || !isTokenActivation(merge.getResult()) ||
          cast<RankedTensorType>(merge.getType()).getShape().back() !=
              qv->heads * qv->headDim)
        return rewriter.notifyMatchFailure(op, "heads are not merged back");
      replaced = merge;
      heads = qv->heads, kvHeads = kv->heads, headDim = qv->headDim;
      q = qv->tokens, k = kv->tokens, v = vv->tokens;
      rewriter.setInsertionPoint(merge);
    }
    double scale = op.getScale() ? double(op.getScale()->convertToFloat())
                                 : 1.0 / std::sqrt(double(headDim));
    Value qt = toTokens(rewriter, loc, q), kt = toTokens(rewriter, loc, k);
    Value vt = toTokens(rewriter, loc, v);
    auto outType = replaced->getResult(0).getType();
    if (cast<RankedTensorType>(qt.getType()).getElementType() !=
        cast<RankedTensorType>(outType).getElementType())
      return rewriter.notifyMatchFailure(op, "attention changes the element type");
    Value a = createAttention(rewriter, loc, qt, kt, vt, heads, kvHeads, headDim,
                              mask == MaskKind::Causal, scale);
    rewriter.replaceOp(replaced, fromTokens(rewriter, loc, a, outType));
    return success();
  }
};

struct OnnxRaiseAttentionPass
    : qtc::impl::OnnxRaiseAttentionBase<OnnxRaiseAttentionPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<AttentionPattern, AttentionOpPattern>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
