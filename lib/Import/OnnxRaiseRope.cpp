//===- OnnxRaiseRope.cpp - Rotary position embeddings to tfm --------------===//
//
// x * cos + rotate_half(x) * sin on a per-head view of a projection becomes
// tfm.rope on the projection. cos and sin are whatever the graph computes
// them from (constant tables gathered by position ids, inv_freq x positions,
// casts): they are evaluated at probe lengths (OnnxProbe.h) and must be
// cos/sin(position * f_i) in the rotate-half layout, with f_i =
// theta^(-2i/head_dim) divided by a linear factor or scaled as llama3
// (OnnxRopeFit.h).
//
//===----------------------------------------------------------------------===//

#include "OnnxHeads.h"
#include "OnnxProbe.h"
#include "OnnxRaiseSupport.h"
#include "OnnxRopeFit.h"
#include "qtc/Import/OnnxImport.h"

#include "dialects/onnx/OnnxOps.h"
#include "dialects/tfm/TfmOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <cmath>

namespace qtc {
#define GEN_PASS_DEF_ONNXRAISEROPE
#include "qtc/Import/Passes.h.inc"
} // namespace qtc

using namespace mlir;
using namespace qtc;
using namespace qtc::onnxir;

namespace {

// Two lengths and a shifted start, so a table indexed by something other
// than the token positions does not pass by accident.
constexpr ProbePoint kProbes[] = {{13, 0}, {6, 0}, {7, 5}};

std::optional<SmallVector<int64_t>> intsOf(Value v) {
  ElementsAttr attr = constantOf(v);
  auto dense = dyn_cast_or_null<DenseIntElementsAttr>(attr);
  if (!dense)
    return std::nullopt;
  SmallVector<int64_t> out;
  for (APInt i : dense.getValues<APInt>())
    out.push_back(i.getSExtValue());
  return out;
}

/// The source and [start, end) of a unit-step Slice of the last axis.
std::optional<std::pair<int64_t, int64_t>> lastAxisSlice(Value v, Value &x) {
  auto slice = v.getDefiningOp<SliceOp>();
  if (!slice)
    return std::nullopt;
  auto type = cast<RankedTensorType>(slice.getInput().getType());
  int64_t last = type.getRank() - 1, size = type.getShape().back();
  auto starts = intsOf(slice.getStarts()), ends = intsOf(slice.getEnds());
  auto axes = intsOf(slice.getAxes()), steps = intsOf(slice.getSteps());
  if (!starts || !ends || !axes || !steps || starts->size() != 1 ||
      ((*axes)[0] != last && (*axes)[0] != -1) || (*steps)[0] != 1 ||
      ShapedType::isDynamic(size))
    return std::nullopt;
  auto clamp = [&](int64_t i) {
    if (i < 0)
      i += size;
    return std::clamp<int64_t>(i, 0, size);
  };
  x = slice.getInput();
  return std::pair(clamp((*starts)[0]), clamp((*ends)[0]));
}

/// The halves [0, D/2) and [D/2, D) of the last axis of `x` that `lo` and
/// `hi` are (Slices or one Split): x, or null.
Value halvesOf(Value lo, Value hi) {
  if (auto split = lo.getDefiningOp<SplitOp>()) {
    auto type = cast<RankedTensorType>(split.getInput().getType());
    int64_t axis = split.getAxis();
    if (split.getNumResults() != 2 || lo != split.getResult(0) ||
        hi != split.getResult(1) ||
        (axis != -1 && axis != type.getRank() - 1) ||
        split.getSizes()[0] != split.getSizes()[1])
      return {};
    return split.getInput();
  }
  Value x, y;
  auto a = lastAxisSlice(lo, x), b = lastAxisSlice(hi, y);
  if (!a || !b || x != y)
    return {};
  int64_t size = cast<RankedTensorType>(x.getType()).getShape().back();
  if (size % 2 != 0 || *a != std::pair<int64_t, int64_t>(0, size / 2) ||
      *b != std::pair<int64_t, int64_t>(size / 2, size))
    return {};
  return x;
}

/// rotate_half(x) = Concat(-x[D/2:], x[:D/2]) on the last axis: x, or null.
Value rotateHalfOf(Value v) {
  auto concat = v.getDefiningOp<ConcatOp>();
  if (!concat || concat.getInputs().size() != 2)
    return {};
  auto type = cast<RankedTensorType>(concat.getType());
  if (concat.getAxis() != -1 && concat.getAxis() != type.getRank() - 1)
    return {};
  auto neg = concat.getInputs()[0].getDefiningOp<NegOp>();
  if (!neg)
    return {};
  return halvesOf(concat.getInputs()[1], neg.getInput());
}

/// The source of `v` = x[start::2] on the last axis (to its end), or null.
Value everyOther(Value v, int64_t start) {
  auto slice = v ? v.getDefiningOp<SliceOp>() : SliceOp();
  if (!slice)
    return {};
  auto type = cast<RankedTensorType>(slice.getInput().getType());
  int64_t last = type.getRank() - 1, size = type.getShape().back();
  auto starts = intsOf(slice.getStarts()), ends = intsOf(slice.getEnds());
  auto axes = intsOf(slice.getAxes()), steps = intsOf(slice.getSteps());
  if (!starts || !ends || !axes || !steps || starts->size() != 1 ||
      ((*axes)[0] != last && (*axes)[0] != -1) || (*steps)[0] != 2 ||
      (*starts)[0] != start || ShapedType::isDynamic(size) || (*ends)[0] < size)
    return {};
  return slice.getInput();
}

/// `u` = Unsqueeze(y) on a new last axis: y, or null.
Value unsqueezedLast(Value u) {
  auto op = u ? u.getDefiningOp<UnsqueezeOp>() : UnsqueezeOp();
  if (!op || op.getAxes().size() != 1)
    return {};
  int64_t rank = cast<RankedTensorType>(op.getType()).getRank();
  int64_t axis = op.getAxes()[0];
  return axis == -1 || axis == rank - 1 ? op.getInput() : Value();
}

/// GPT-J's rotate_every_two(x) = flatten(stack(-x[1::2], x[0::2]), -2):
/// Reshape(Concat(Unsqueeze(-x[1::2]), Unsqueeze(x[0::2])) on a new last
/// axis) back to x's shape (the Neg before or after its Unsqueeze): x, or
/// null.
Value rotateEveryTwoOf(Value v) {
  auto reshape = v.getDefiningOp<ReshapeOp>();
  auto concat = reshape ? reshape.getInput().getDefiningOp<ConcatOp>() : ConcatOp();
  if (!concat || concat.getInputs().size() != 2)
    return {};
  int64_t rank = cast<RankedTensorType>(concat.getType()).getRank();
  if (concat.getAxis() != -1 && concat.getAxis() != rank - 1)
    return {};
  Value a = concat.getInputs()[0], b = concat.getInputs()[1];
  Value negated;
  if (auto neg = a.getDefiningOp<NegOp>())
    negated = unsqueezedLast(neg.getInput());
  else if (Value u = unsqueezedLast(a))
    if (auto neg = u.getDefiningOp<NegOp>())
      negated = neg.getInput();
  Value x = everyOther(negated, 1), y = everyOther(unsqueezedLast(b), 0);
  if (!x || x != y)
    return {};
  auto xType = cast<RankedTensorType>(x.getType());
  auto rType = cast<RankedTensorType>(reshape.getType());
  if (xType.getRank() != rType.getRank() ||
      xType.getShape().back() != rType.getShape().back() ||
      xType.getShape().back() % 2 != 0)
    return {};
  return x;
}

/// The [positions, head_dim] rows of a probed cos or sin table that
/// broadcasts against a head view ([1, H, T, D] or [1, T, H, D]).
std::optional<std::vector<double>> tableRows(const ProbedValue &table,
                                             const HeadView &view,
                                             int64_t tokens) {
  if (table.shape.size() > 4)
    return std::nullopt;
  SmallVector<int64_t, 4> shape(4 - table.shape.size(), 1);
  shape.append(table.shape.begin(), table.shape.end());
  int64_t tokenAxis = view.headsFirst ? 2 : 1;
  for (int64_t d = 0; d < 4; ++d) {
    int64_t expected = d == 3 ? view.headDim : d == tokenAxis ? tokens : 1;
    if (shape[d] != expected)
      return std::nullopt;
  }
  return table.values;
}

double tolerance(Type elementType) {
  unsigned mantissa = cast<FloatType>(elementType).getFPMantissaWidth();
  return std::max(1e-4, 4.0 * std::ldexp(1.0, -int(mantissa)));
}

struct ProbedTables {
  ProbePoint at;
  std::vector<double> cos, sin;
};

/// The frequency that column j of a table rotates by: f_{j mod D/2}
/// (rotate-half) or f_{j / 2} (interleaved pairs).
int64_t frequencyOf(int64_t j, int64_t headDim, bool interleaved) {
  return interleaved ? j / 2 : j % (headDim / 2);
}

/// Whether every table is cos/sin(position * f_{frequencyOf(j)}).
bool tablesFollow(ArrayRef<double> f, int64_t headDim, bool interleaved,
                  ArrayRef<ProbedTables> tables, double tol) {
  for (const ProbedTables &t : tables)
    for (int64_t p = 0; p < t.at.tokens; ++p)
      for (int64_t j = 0; j < headDim; ++j) {
        double angle = double(t.at.firstPosition + p) *
                       f[frequencyOf(j, headDim, interleaved)];
        int64_t k = p * headDim + j;
        if (std::fabs(t.cos[k] - std::cos(angle)) > tol ||
            std::fabs(t.sin[k] - std::sin(angle)) > tol)
          return false;
      }
  return true;
}

/// The RoPE parameters (fitRopeFrequencies) whose frequencies are the
/// tables' to the precision the exporter stored them in (f32, f16 or bf16: transformers keeps inv_freq in the model's dtype).
/// The first probe starts at position 0.
FailureOr<RopeFit> fitTables(ArrayRef<ProbedTables> tables, int64_t headDim,
                             bool interleaved, double tol) {
  int64_t half = headDim / 2;
  const ProbedTables &first = tables.front();
  int64_t last = first.at.tokens - 1;
  if (half < 1 || first.at.firstPosition != 0 || last < 1)
    return failure();
  // Position 1 holds the frequencies; the last position refines them.
  std::vector<double> f(half);
  for (int64_t i = 0; i < half; ++i) {
    int64_t column = interleaved ? 2 * i : i;
    double coarse =
        std::atan2(first.sin[headDim + column], first.cos[headDim + column]);
    double wrapped = std::atan2(first.sin[last * headDim + column],
                                first.cos[last * headDim + column]);
    double turns = std::round((last * coarse - wrapped) / (2 * M_PI));
    f[i] = (wrapped + 2 * M_PI * turns) / double(last);
    if (!(f[i] > 0))
      return failure();
  }
  if (!tablesFollow(f, headDim, interleaved, tables, tol))
    return failure();
  double slack = 2 * tol / double(last);
  for (double precision : {std::ldexp(1.0, -20), std::ldexp(1.0, -10),
                           std::ldexp(1.0, -8)}) {
    FailureOr<RopeFit> fit = fitRopeFrequencies(
        f, headDim, [&](double expected, double actual) {
          return std::fabs(expected - actual) <= precision * expected + slack;
        });
    if (succeeded(fit))
      return fit;
  }
  return failure();
}

/// Where tfm.rope reads positions from: the graph's position_ids when the
/// tables read them, else a `positions` argument added to the function
/// (the tables follow the token index, which is the position of each token
/// of a sequence that starts at 0; the runtime supplies the positions).
Value positionsFor(PatternRewriter &rewriter, func::FuncOp func,
                   bool fromPositionIds) {
  Block &entry = func.getBody().front();
  auto type = RankedTensorType::get({ShapedType::kDynamic},
                                    rewriter.getI64Type());
  StringRef wanted = fromPositionIds ? "position_ids" : "positions";
  for (BlockArgument arg : entry.getArguments()) {
    if (onnxInputName(arg) != wanted)
      continue;
    auto argType = dyn_cast<RankedTensorType>(arg.getType());
    if (!argType || !argType.getElementType().isInteger(64))
      return {};
    if (argType.getRank() == 1)
      return arg;
    if (argType.getRank() != 2 || argType.getDimSize(0) != 1)
      return {};
    for (Operation *user : arg.getUsers())
      if (auto collapse = dyn_cast<tensor::CollapseShapeOp>(user))
        if (collapse.getType() == type)
          return collapse;
    OpBuilder::InsertionGuard guard(rewriter);
    rewriter.setInsertionPointToStart(&entry);
    return tensor::CollapseShapeOp::create(
        rewriter, func.getLoc(), type, arg,
        ArrayRef<ReassociationIndices>{{0, 1}});
  }
  if (fromPositionIds)
    return {};
  auto names = func->getAttrOfType<ArrayAttr>("onnx.input_names");
  SmallVector<Attribute> newNames(names ? names.getValue()
                                        : ArrayRef<Attribute>());
  newNames.resize(entry.getNumArguments(), rewriter.getStringAttr(""));
  newNames.push_back(rewriter.getStringAttr("positions"));
  if (failed(func.insertArgument(entry.getNumArguments(), type, {},
                                 func.getLoc())))
    return {};
  func->setAttr("onnx.input_names", rewriter.getArrayAttr(newNames));
  return entry.getArguments().back();
}

struct RotateHalfPattern : OpRewritePattern<AddOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(AddOp add, PatternRewriter &rewriter) const override {
    auto type = dyn_cast<RankedTensorType>(add.getType());
    if (!type || type.getRank() != 4 || !isa<FloatType>(type.getElementType()))
      return failure();
    auto lhs = add.getLhs().getDefiningOp<MulOp>();
    auto rhs = add.getRhs().getDefiningOp<MulOp>();
    if (!lhs || !rhs)
      return failure();
    Value x, cos, sin;
    for (auto [plain, rotated] : {std::pair(lhs, rhs), std::pair(rhs, lhs)}) {
      for (int k = 0; k < 2 && !x; ++k) {
        Value source = rotateHalfOf(rotated->getOperand(k));
        if (!source)
          continue;
        for (int j = 0; j < 2; ++j)
          if (plain->getOperand(j) == source) {
            x = source;
            cos = plain->getOperand(1 - j);
            sin = rotated->getOperand(1 - k);
          }
      }
    }
    bool interleaved = false;
    for (auto [plain, rotated] : {std::pair(lhs, rhs), std::pair(rhs, lhs)})
      for (int k = 0; k < 2 && !x; ++k)
        if (Value source = rotateEveryTwoOf(rotated->getOperand(k)))
          for (int j = 0; j < 2; ++j)
            if (plain->getOperand(j) == source) {
              x = source;
              cos = plain->getOperand(1 - j);
              sin = rotated->getOperand(1 - k);
              interleaved = true;
            }
    if (!x)
      return rewriter.notifyMatchFailure(
          add, "not x * cos + rotate_half(x) * sin or its interleaved form");
    std::optional<HeadView> view = matchHeadView(x);
    if (!view || x.getType() != add.getType())
      return rewriter.notifyMatchFailure(add, "x is not a per-head view");

    SmallVector<ProbedTables> tables;
    bool readsPositions = false;
    double tol = tolerance(type.getElementType());
    for (ProbePoint at : kProbes) {
      std::optional<ProbedValue> c = probeValue(cos, at), s = probeValue(sin, at);
      if (!c || !s)
        return rewriter.notifyMatchFailure(add, "cos/sin do not depend only on positions");
      auto cRows = tableRows(*c, *view, at.tokens);
      auto sRows = tableRows(*s, *view, at.tokens);
      if (!cRows || !sRows)
        return rewriter.notifyMatchFailure(add, "cos/sin are not one row per token");
      readsPositions |= c->readsPositions || s->readsPositions;
      tol = std::max({tol, tolerance(c->elementType), tolerance(s->elementType)});
      tables.push_back({at, std::move(*cRows), std::move(*sRows)});
    }
    // Tables that ignore the position ids can only be checked from 0.
    if (!readsPositions)
      tables.pop_back();
    FailureOr<RopeFit> fit = fitTables(tables, view->headDim, interleaved, tol);
    if (failed(fit))
      return rewriter.notifyMatchFailure(add, "cos/sin follow no theta");

    auto func = add->getParentOfType<func::FuncOp>();
    Value positions = func ? positionsFor(rewriter, func, readsPositions) : Value();
    if (!positions)
      return rewriter.notifyMatchFailure(add, "no i64 positions to rotate by");
    Location loc = add.getLoc();
    Value tokens = toTokens(rewriter, loc, view->tokens);
    tfm::RopeScalingAttr scaling;
    if (fit->scaling == RopeFit::Scaling::Linear)
      scaling = tfm::RopeScalingAttr::get(getContext(), tfm::RopeScalingKind::linear,
                                          APFloat(float(fit->factor)),
                                          APFloat(1.0f), APFloat(4.0f), 0);
    else if (fit->scaling == RopeFit::Scaling::Llama3)
      scaling = tfm::RopeScalingAttr::get(
          getContext(), tfm::RopeScalingKind::llama3, APFloat(float(fit->factor)),
          APFloat(float(fit->lowFreqFactor)), APFloat(float(fit->highFreqFactor)),
          fit->originalMaxPositions);
    // Interleaved pairs (2i, 2i + 1) are rotate-half's (i, i + D/2) after a
    // permutation of each head's features: tfm.rope rotates the permuted
    // projection, and the result is permuted back (the binding moves the
    // permutation into the q/k weights, where attention cancels it).
    SmallVector<int64_t> perm, inverse;
    if (interleaved) {
      int64_t d = view->headDim, width = view->heads * d;
      perm.resize(width);
      inverse.resize(width);
      for (int64_t h = 0; h < view->heads; ++h)
        for (int64_t j = 0; j < d; ++j) {
          int64_t from = j < d / 2 ? 2 * j : 2 * (j - d / 2) + 1;
          perm[h * d + j] = h * d + from;
          inverse[h * d + from] = h * d + j;
        }
    }
    auto permute = [&](Value v, ArrayRef<int64_t> indices) -> Value {
      auto indexType = RankedTensorType::get({int64_t(indices.size())},
                                             rewriter.getI64Type());
      auto attr = DenseIntElementsAttr::get(indexType, indices);
      Value c = ConstantOp::create(rewriter, loc, indexType, attr);
      return GatherOp::create(rewriter, loc, v.getType(), v, c,
                              rewriter.getI64IntegerAttr(1));
    };
    if (interleaved)
      tokens = permute(tokens, perm);
    Value rope = tfm::RopeOp::create(rewriter, loc, tokens.getType(), tokens,
                                     positions,
                                     rewriter.getI64IntegerAttr(view->headDim),
                                     rewriter.getF32FloatAttr(float(fit->theta)),
                                     scaling);
    if (interleaved)
      rope = permute(rope, inverse);
    Value back = fromTokens(rewriter, loc, rope, view->tokens.getType());
    rewriter.replaceOp(add, rebuildHeadView(rewriter, *view, back));
    return success();
  }
};

struct OnnxRaiseRopePass : qtc::impl::OnnxRaiseRopeBase<OnnxRaiseRopePass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<RotateHalfPattern>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
