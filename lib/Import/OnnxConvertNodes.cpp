//===- OnnxConvertNodes.cpp - onnx.node -> typed onnx ops -----------------===//
//
// torch-mlir's TorchOnnxToTorch in spirit: one small entry per operator and
// opset range, in a table. Each entry reads its node the way that opset
// defines it and builds the typed op with an inferred result type; ops are
// folded as they are built, so a shape subgraph is constant by the time its
// users are converted.
//
//===----------------------------------------------------------------------===//

#include "qtc/Import/OnnxImport.h"

#include "OnnxConvertSupport.h"
#include "dialects/onnx/OnnxOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/IR/TypeUtilities.h"

namespace qtc {
#define GEN_PASS_DEF_ONNXCONVERTNODES
#include "qtc/Import/Passes.h.inc"
} // namespace qtc

using namespace mlir;
using namespace qtc;
using namespace qtc::onnxir;
using namespace qtc::onnxconvert;

namespace {

// What a conversion sees (Node, dimsOf, tensor, build, ...) is in
// OnnxConvertSupport.h.

std::optional<SmallVector<int64_t>> constInts(Value v) {
  if (!v)
    return std::nullopt;
  Attribute attr;
  if (!matchPattern(v, m_Constant(&attr)))
    return std::nullopt;
  auto elements = dyn_cast<DenseIntElementsAttr>(attr);
  if (!elements)
    return std::nullopt;
  SmallVector<int64_t> out;
  for (APInt i : elements.getValues<APInt>())
    out.push_back(i.getSExtValue());
  return out;
}

/// The entries of a 1-D i64 value that are known: constants, static dims of
/// a Shape and what Concat/Unsqueeze/Squeeze/Cast/Gather make of them;
/// kDyn for an entry the graph computes.
std::optional<Dims> partialInts(Value v, int depth = 0) {
  if (!v || depth > 16)
    return std::nullopt;
  if (auto ints = constInts(v))
    return Dims(ints->begin(), ints->end());
  Operation *def = v.getDefiningOp();
  if (!def)
    return std::nullopt;
  if (auto shape = dyn_cast<ShapeOp>(def)) {
    std::optional<Dims> dims = dimsOf(shape.getInput());
    if (!dims)
      return std::nullopt;
    int64_t rank = dims->size();
    auto clamp = [&](int64_t x) {
      if (x < 0)
        x += rank;
      return std::min(std::max<int64_t>(x, 0), rank);
    };
    int64_t start = clamp(shape.getStart());
    int64_t end = shape.getEnd() ? clamp(*shape.getEnd()) : rank;
    return Dims(dims->begin() + start, dims->begin() + std::max(start, end));
  }
  if (auto concat = dyn_cast<ConcatOp>(def)) {
    Dims out;
    for (Value part : concat.getInputs()) {
      std::optional<Dims> p = partialInts(part, depth + 1);
      if (!p)
        return std::nullopt;
      out.append(p->begin(), p->end());
    }
    return out;
  }
  if (isa<UnsqueezeOp, SqueezeOp, CastOp, ReshapeOp>(def))
    return partialInts(def->getOperand(0), depth + 1);
  if (auto slice = dyn_cast<SliceOp>(def)) {
    // TorchScript's reshape targets: Concat(Shape(x)[0:2], [heads, dim]).
    std::optional<Dims> data = partialInts(slice.getInput(), depth + 1);
    auto starts = constInts(slice.getStarts()), ends = constInts(slice.getEnds());
    auto axes = constInts(slice.getAxes()), steps = constInts(slice.getSteps());
    if (!data || !starts || !ends || !axes || !steps || starts->size() != 1 ||
        (*axes)[0] != 0 || (*steps)[0] != 1)
      return std::nullopt;
    int64_t size = data->size();
    auto clamp = [&](int64_t x) {
      if (x < 0)
        x += size;
      return std::min(std::max<int64_t>(x, 0), size);
    };
    int64_t start = clamp((*starts)[0]), end = clamp((*ends)[0]);
    return Dims(data->begin() + start, data->begin() + std::max(start, end));
  }
  if (auto gather = dyn_cast<GatherOp>(def)) {
    std::optional<Dims> data = partialInts(gather.getData(), depth + 1);
    std::optional<SmallVector<int64_t>> idx = constInts(gather.getIndices());
    if (!data || !idx)
      return std::nullopt;
    Dims out;
    for (int64_t i : *idx) {
      if (i < 0)
        i += data->size();
      if (i < 0 || i >= int64_t(data->size()))
        return std::nullopt;
      out.push_back((*data)[i]);
    }
    return out;
  }
  // A computed size: the value's length is known, its entries are not.
  if (std::optional<Dims> dims = dimsOf(v))
    if (dims->size() <= 1 && !ShapedType::isDynamic(dims->empty() ? 1 : (*dims)[0]))
      return Dims(dims->empty() ? 1 : (*dims)[0], kDyn);
  return std::nullopt;
}

std::optional<Dims> broadcastDims(ArrayRef<int64_t> a, ArrayRef<int64_t> b) {
  size_t rank = std::max(a.size(), b.size());
  Dims out(rank);
  for (size_t d = 0; d < rank; ++d) {
    int64_t x = d < rank - a.size() ? 1 : a[d - (rank - a.size())];
    int64_t y = d < rank - b.size() ? 1 : b[d - (rank - b.size())];
    if (x == 1)
      out[d] = y;
    else if (y == 1)
      out[d] = x;
    else if (x == kDyn)
      out[d] = y;
    else if (y == kDyn || x == y)
      out[d] = x;
    else
      return std::nullopt;
  }
  return out;
}

std::optional<int64_t> normAxis(int64_t axis, int64_t rank) {
  if (axis < -rank || axis >= rank)
    return std::nullopt;
  return axis < 0 ? axis + rank : axis;
}

// `axes` (negative ones counting from the end) as a mask over `rank`
// dimensions; an axis out of range or given twice is an error on `n`.
FailureOr<SmallVector<bool>> axisMask(Node &n, ArrayRef<int64_t> axes,
                                      int64_t rank) {
  SmallVector<bool> mask(rank, false);
  for (int64_t a : axes) {
    std::optional<int64_t> axis = normAxis(a, rank);
    if (!axis || mask[*axis])
      return n.error() << "axis " << a << " is out of range or repeated",
             failure();
    mask[*axis] = true;
  }
  return mask;
}

// The dimensions a mask marks, in increasing order.
SmallVector<int64_t> maskedAxes(ArrayRef<bool> mask) {
  SmallVector<int64_t> axes;
  for (auto [d, marked] : llvm::enumerate(mask))
    if (marked)
      axes.push_back(d);
  return axes;
}


//===----------------------------------------------------------------------===//
// Conversions
//===----------------------------------------------------------------------===//

template <typename OpTy> Result unary(Node &n) {
  Value x = n.input(0);
  return one(build<OpTy>(n, x.getType(), x));
}

template <typename OpTy> Result binary(Node &n) {
  Value a = n.input(0), b = n.input(1);
  std::optional<Dims> da = dimsOf(a), db = dimsOf(b);
  if (!da || !db)
    return n.error() << "needs ranked operands", failure();
  std::optional<Dims> shape = broadcastDims(*da, *db);
  if (!shape)
    return n.error() << "operands " << a.getType() << " and " << b.getType()
                     << " do not broadcast",
           failure();
  if (elementOf(a) != elementOf(b))
    return n.error() << "operands have different element types", failure();
  bool boolean = std::is_same_v<OpTy, EqualOp> || std::is_same_v<OpTy, LessOp> ||
                 std::is_same_v<OpTy, LessOrEqualOp> ||
                 std::is_same_v<OpTy, GreaterOp> ||
                 std::is_same_v<OpTy, GreaterOrEqualOp> ||
                 std::is_same_v<OpTy, AndOp> || std::is_same_v<OpTy, OrOp> ||
                 std::is_same_v<OpTy, XorOp>;
  Type et = boolean ? n.b.getI1Type() : elementOf(a);
  return one(build<OpTy>(n, tensor(*shape, et), a, b));
}

// Max/Min take any number of operands; exporters give two.
template <typename OpTy> Result variadicBinary(Node &n) {
  if (n.numInputs() == 1)
    return one(n.input(0));
  if (n.numInputs() != 2)
    return n.error() << "takes " << n.numInputs()
                     << " operands; only one or two are converted",
           failure();
  return binary<OpTy>(n);
}

Result identity(Node &n) { return one(n.input(0)); }

Result castNode(Node &n) {
  std::optional<int64_t> to = n.intAttr("to");
  Type et;
  switch (to.value_or(-1)) {
  case 1: et = n.b.getF32Type(); break;
  case 2: et = n.b.getIntegerType(8, false); break;
  case 3: et = n.b.getIntegerType(8); break;
  case 6: et = n.b.getIntegerType(32); break;
  case 7: et = n.b.getIntegerType(64); break;
  case 9: et = n.b.getI1Type(); break;
  case 10: et = n.b.getF16Type(); break;
  case 11: et = n.b.getF64Type(); break;
  case 16: et = n.b.getBF16Type(); break;
  default:
    return n.error() << "casts to ONNX element type " << to.value_or(-1)
                     << ", which is not converted",
           failure();
  }
  Value x = n.input(0);
  auto type = cast<ShapedType>(x.getType()).clone(et);
  return one(build<CastOp>(n, type, x));
}

Result softmax(Node &n) {
  Value x = n.input(0);
  std::optional<Dims> dims = dimsOf(x);
  if (!dims)
    return n.error() << "needs a ranked operand", failure();
  int64_t rank = dims->size();
  int64_t axis = n.intAttr("axis", n.opset < 13 ? 1 : -1);
  std::optional<int64_t> a = normAxis(axis, rank);
  if (!a)
    return n.error() << "axis " << axis << " is out of range", failure();
  // Before opset 13 the axes from `axis` on were flattened into one.
  if (n.opset < 13 && *a != rank - 1)
    return n.error() << "opset " << n.opset
                     << " softmax over more than the last axis is not converted",
           failure();
  return one(build<SoftmaxOp>(n, x.getType(), x, n.b.getI64IntegerAttr(*a)));
}

Result gelu(Node &n) {
  Value x = n.input(0);
  StringRef approximate = n.stringAttr("approximate", "none");
  if (approximate != "none" && approximate != "tanh")
    return n.error() << "approximate = \"" << approximate << "\"", failure();
  return one(build<GeluOp>(n, x.getType(), x, n.b.getStringAttr(approximate)));
}

Result cumSum(Node &n) {
  Value x = n.input(0), axis = n.input(1);
  if (!axis)
    return n.error() << "has no axis", failure();
  return one(build<CumSumOp>(n, x.getType(), x, axis,
                             n.b.getI64IntegerAttr(n.intAttr("exclusive", 0)),
                             n.b.getI64IntegerAttr(n.intAttr("reverse", 0))));
}

Result where(Node &n) {
  Value c = n.input(0), x = n.input(1), y = n.input(2);
  std::optional<Dims> dc = dimsOf(c), dx = dimsOf(x), dy = dimsOf(y);
  if (!dc || !dx || !dy)
    return n.error() << "needs ranked operands", failure();
  std::optional<Dims> s = broadcastDims(*dc, *dx);
  if (s)
    s = broadcastDims(*s, *dy);
  if (!s)
    return n.error() << "operands do not broadcast", failure();
  return one(build<WhereOp>(n, tensor(*s, elementOf(x)), c, x, y));
}

Result shape(Node &n) {
  Value x = n.input(0);
  std::optional<Dims> dims = dimsOf(x);
  if (!dims)
    return n.error() << "needs a ranked operand", failure();
  int64_t rank = dims->size();
  auto clamp = [&](int64_t v) {
    if (v < 0)
      v += rank;
    return std::min(std::max<int64_t>(v, 0), rank);
  };
  int64_t start = clamp(n.intAttr("start", 0));
  std::optional<int64_t> endAttr = n.intAttr("end");
  int64_t end = endAttr ? clamp(*endAttr) : rank;
  IntegerAttr endValue = endAttr ? n.b.getI64IntegerAttr(*endAttr) : IntegerAttr();
  return one(build<ShapeOp>(n, tensor({std::max<int64_t>(end - start, 0)},
                                      n.b.getI64Type()),
                            x, n.b.getI64IntegerAttr(n.intAttr("start", 0)),
                            endValue));
}

Result reshape(Node &n) {
  Value x = n.input(0), target = n.input(1);
  std::optional<Dims> in = dimsOf(x);
  std::optional<Dims> t = partialInts(target);
  if (!in || !t)
    return n.error() << "the target shape's length is unknown", failure();
  bool allowZero = n.intAttr("allowzero", 0) != 0;
  Dims out;
  int64_t inferred = -1, known = 1;
  bool allKnown = llvm::none_of(*in, ShapedType::isDynamic);
  for (size_t d = 0; d < t->size(); ++d) {
    int64_t v = (*t)[d];
    if (v == 0 && !allowZero) {
      if (d >= in->size())
        return n.error() << "copies dimension " << d << " of a rank-"
                         << in->size() << " input",
               failure();
      v = (*in)[d];
    }
    if (v == -1) {
      if (inferred >= 0)
        return n.error() << "has two -1 sizes", failure();
      inferred = d;
      out.push_back(kDyn);
      continue;
    }
    if (v < 0 && v != kDyn)
      return n.error() << "reshapes to size " << v, failure();
    if (v == kDyn)
      allKnown = false;
    else
      known *= v;
    out.push_back(v);
  }
  if (inferred >= 0 && allKnown && known > 0) {
    int64_t count = 1;
    for (int64_t d : *in)
      count *= d;
    out[inferred] = count / known;
  }
  Value shapeValue = target;
  if (elementOf(target) != n.b.getI64Type())
    return n.error() << "target shape is not i64", failure();
  return one(build<ReshapeOp>(n, tensor(out, elementOf(x)), x, shapeValue,
                              n.b.getI64IntegerAttr(allowZero)));
}

Result transpose(Node &n) {
  Value x = n.input(0);
  std::optional<Dims> dims = dimsOf(x);
  if (!dims)
    return n.error() << "needs a ranked operand", failure();
  int64_t rank = dims->size();
  SmallVector<int64_t> perm;
  if (auto attr = n.intsAttr("perm"))
    perm = *attr;
  else
    for (int64_t d = rank - 1; d >= 0; --d)
      perm.push_back(d);
  if (int64_t(perm.size()) != rank)
    return n.error() << "perm has " << perm.size() << " entries for rank "
                     << rank,
           failure();
  Dims out;
  SmallVector<bool> seen(rank, false);
  for (int64_t p : perm) {
    if (p < 0 || p >= rank || seen[p])
      return n.error() << "perm is not a permutation", failure();
    seen[p] = true;
    out.push_back((*dims)[p]);
  }
  return one(build<TransposeOp>(n, tensor(out, elementOf(x)), x,
                                n.b.getDenseI64ArrayAttr(perm)));
}

// Axes: an attribute before opset 13 (18 for reductions), an input after.
std::optional<SmallVector<int64_t>> axesOf(Node &n, int64_t inputSince,
                                           unsigned inputIndex) {
  if (n.opset >= inputSince) {
    Value axes = n.input(inputIndex);
    if (!axes)
      return SmallVector<int64_t>();
    return constInts(axes);
  }
  return n.intsAttr("axes").value_or(SmallVector<int64_t>());
}

Result unsqueeze(Node &n) {
  Value x = n.input(0);
  std::optional<Dims> dims = dimsOf(x);
  std::optional<SmallVector<int64_t>> axes = axesOf(n, 13, 1);
  if (!dims || !axes || axes->empty())
    return n.error() << "needs a ranked operand and constant axes", failure();
  int64_t rank = dims->size() + axes->size();
  FailureOr<SmallVector<bool>> inserted = axisMask(n, *axes, rank);
  if (failed(inserted))
    return failure();
  Dims out;
  size_t next = 0;
  for (int64_t d = 0; d < rank; ++d)
    out.push_back((*inserted)[d] ? 1 : (*dims)[next++]);
  return one(build<UnsqueezeOp>(n, tensor(out, elementOf(x)), x,
                                n.b.getDenseI64ArrayAttr(maskedAxes(*inserted))));
}

Result squeeze(Node &n) {
  Value x = n.input(0);
  std::optional<Dims> dims = dimsOf(x);
  std::optional<SmallVector<int64_t>> axes = axesOf(n, 13, 1);
  if (!dims || !axes)
    return n.error() << "needs a ranked operand and constant axes", failure();
  int64_t rank = dims->size();
  SmallVector<bool> removed(rank, false);
  SmallVector<int64_t> normalized;
  if (axes->empty()) {
    for (int64_t d = 0; d < rank; ++d) {
      if (ShapedType::isDynamic((*dims)[d]))
        return n.error() << "squeezes every size-1 dimension of " << x.getType()
                         << ", whose computed sizes are unknown",
               failure();
      if ((*dims)[d] == 1)
        removed[d] = true, normalized.push_back(d);
    }
  }
  for (int64_t a : *axes) {
    std::optional<int64_t> axis = normAxis(a, rank);
    if (!axis || removed[*axis] || ((*dims)[*axis] != 1 && (*dims)[*axis] != kDyn))
      return n.error() << "axis " << a << " is not a size-1 dimension of "
                       << x.getType(),
             failure();
    removed[*axis] = true;
    normalized.push_back(*axis);
  }
  llvm::sort(normalized);
  Dims out;
  for (int64_t d = 0; d < rank; ++d)
    if (!removed[d])
      out.push_back((*dims)[d]);
  return one(build<SqueezeOp>(n, tensor(out, elementOf(x)), x,
                              n.b.getDenseI64ArrayAttr(normalized)));
}

Result concat(Node &n) {
  SmallVector<Value> inputs;
  for (unsigned i = 0; i < n.numInputs(); ++i)
    if (Value v = n.input(i))
      inputs.push_back(v);
  if (inputs.empty())
    return n.error() << "has no operands", failure();
  std::optional<Dims> first = dimsOf(inputs[0]);
  if (!first)
    return n.error() << "needs ranked operands", failure();
  int64_t rank = first->size();
  std::optional<int64_t> axis = normAxis(n.intAttr("axis", 0), rank);
  if (!axis)
    return n.error() << "axis is out of range", failure();
  Dims out = *first;
  out[*axis] = 0;
  for (Value v : inputs) {
    std::optional<Dims> d = dimsOf(v);
    if (!d || int64_t(d->size()) != rank || elementOf(v) != elementOf(inputs[0]))
      return n.error() << "operands differ in rank or element type", failure();
    for (int64_t k = 0; k < rank; ++k) {
      if (k == *axis)
        out[k] = (out[k] == kDyn || (*d)[k] == kDyn) ? kDyn : out[k] + (*d)[k];
      else if (out[k] == kDyn)
        out[k] = (*d)[k];
    }
  }
  return one(build<ConcatOp>(n, tensor(out, elementOf(inputs[0])), inputs,
                             n.b.getI64IntegerAttr(*axis)));
}

Result slice(Node &n) {
  Value x = n.input(0), starts = n.input(1), ends = n.input(2);
  std::optional<Dims> dims = dimsOf(x);
  std::optional<Dims> startsLen = starts ? dimsOf(starts) : std::nullopt;
  if (!dims || !startsLen || startsLen->size() != 1 ||
      ShapedType::isDynamic((*startsLen)[0]) || !ends)
    return n.error() << "needs a ranked operand and 1-D starts and ends",
           failure();
  int64_t count = (*startsLen)[0];
  Type indexType = elementOf(starts);
  auto indexConst = [&](ArrayRef<int64_t> values) {
    auto type = tensor({int64_t(values.size())}, indexType);
    SmallVector<APInt> ints;
    for (int64_t v : values)
      ints.push_back(APInt(indexType.getIntOrFloatBitWidth(), uint64_t(v), true,
                           true));
    return ConstantOp::create(n.b, n.loc(), type,
                              DenseElementsAttr::get(type, ints))
        .getResult();
  };
  Value axes = n.input(3), steps = n.input(4);
  if (!axes)
    axes = indexConst(llvm::to_vector(llvm::seq<int64_t>(0, count)));
  if (!steps)
    steps = indexConst(SmallVector<int64_t>(count, 1));
  Dims out = *dims;
  std::optional<SmallVector<int64_t>> s = constInts(starts), e = constInts(ends),
                                      a = constInts(axes), st = constInts(steps);
  int64_t rank = dims->size();
  if (a) {
    for (size_t j = 0; j < a->size(); ++j) {
      std::optional<int64_t> axis = normAxis((*a)[j], rank);
      if (!axis)
        return n.error() << "axis " << (*a)[j] << " is out of range", failure();
      int64_t dim = (*dims)[*axis];
      if (!s || !e || !st || dim == kDyn || (*st)[j] == 0) {
        // A slice of a computed size from 0 to the end keeps it.
        if (s && e && st && (*s)[j] == 0 && (*st)[j] == 1 &&
            (*e)[j] >= (int64_t(1) << 31))
          continue;
        out[*axis] = kDyn;
        continue;
      }
      int64_t step = (*st)[j];
      auto clampIndex = [&](int64_t v, int64_t lo, int64_t hi) {
        if (v < 0)
          v = v <= INT64_MIN + dim ? INT64_MIN : v + dim;
        return std::min(std::max(v, lo), hi);
      };
      int64_t b = step > 0 ? clampIndex((*s)[j], 0, dim) : clampIndex((*s)[j], -1, dim - 1);
      int64_t en = step > 0 ? clampIndex((*e)[j], 0, dim) : clampIndex((*e)[j], -1, dim - 1);
      int64_t len = step > 0 ? (en - b + step - 1) / step : (b - en - step - 1) / (-step);
      out[*axis] = std::max<int64_t>(len, 0);
    }
  } else {
    out.assign(rank, kDyn);
  }
  if (elementOf(ends) != indexType || elementOf(axes) != indexType ||
      elementOf(steps) != indexType)
    return n.error() << "starts, ends, axes and steps differ in type", failure();
  return one(build<SliceOp>(n, tensor(out, elementOf(x)), x, starts, ends,
                            axes, steps));
}

Result gather(Node &n) {
  Value data = n.input(0), indices = n.input(1);
  std::optional<Dims> d = dimsOf(data), i = dimsOf(indices);
  if (!d || !i)
    return n.error() << "needs ranked operands", failure();
  std::optional<int64_t> axis = normAxis(n.intAttr("axis", 0), d->size());
  if (!axis)
    return n.error() << "axis is out of range", failure();
  Dims out(d->begin(), d->begin() + *axis);
  out.append(i->begin(), i->end());
  out.append(d->begin() + *axis + 1, d->end());
  return one(build<GatherOp>(n, tensor(out, elementOf(data)), data, indices,
                             n.b.getI64IntegerAttr(*axis)));
}

Result gatherND(Node &n) {
  Value data = n.input(0), indices = n.input(1);
  std::optional<Dims> d = dimsOf(data), i = dimsOf(indices);
  int64_t b = n.intAttr("batch_dims", 0);
  if (!d || !i || i->empty() || ShapedType::isDynamic(i->back()) ||
      b + i->back() > int64_t(d->size()))
    return n.error() << "needs ranked operands and a static index depth",
           failure();
  Dims out(i->begin(), i->end() - 1);
  out.append(d->begin() + b + i->back(), d->end());
  return one(build<GatherNDOp>(n, tensor(out, elementOf(data)), data, indices,
                               n.b.getI64IntegerAttr(b)));
}

Result tile(Node &n) {
  Value x = n.input(0), repeats = n.input(1);
  std::optional<Dims> d = dimsOf(x), r = partialInts(repeats);
  if (!d || !r || r->size() != d->size())
    return n.error() << "needs one repeat count per dimension", failure();
  Dims out;
  for (auto [size, times] : llvm::zip(*d, *r)) {
    if (times != kDyn && times < 0)
      return n.error() << "repeats a dimension " << times << " times", failure();
    out.push_back(ShapedType::isDynamic(size) || times == kDyn ? kDyn : size * times);
    if (times == 1)
      out.back() = size;
  }
  if (elementOf(repeats) != n.b.getI64Type())
    return n.error() << "repeats are not i64", failure();
  return one(build<TileOp>(n, tensor(out, elementOf(x)), x, repeats));
}

Result expand(Node &n) {
  Value x = n.input(0), target = n.input(1);
  std::optional<Dims> d = dimsOf(x), t = partialInts(target);
  if (!d || !t)
    return n.error() << "the target shape's length is unknown", failure();
  // A target size of 1 keeps the input's, a computed one may be anything.
  size_t rank = std::max(d->size(), t->size());
  Dims out(rank);
  for (size_t k = 0; k < rank; ++k) {
    int64_t x = k < rank - d->size() ? 1 : (*d)[k - (rank - d->size())];
    int64_t y = k < rank - t->size() ? 1 : (*t)[k - (rank - t->size())];
    if (y == 1 || y == x)
      out[k] = x;
    else if (x == 1)
      out[k] = y;
    else if (y == kDyn)
      out[k] = x;
    else if (x == kDyn)
      out[k] = y;
    else
      return n.error() << "cannot expand " << x << " to " << y, failure();
  }
  return one(build<ExpandOp>(n, tensor(out, elementOf(x)), x, target));
}

Result range(Node &n) {
  Value start = n.input(0), limit = n.input(1), delta = n.input(2);
  if (!start || !limit || !delta)
    return n.error() << "needs start, limit and delta", failure();
  return one(build<RangeOp>(n, tensor({kDyn}, elementOf(start)), start, limit,
                            delta));
}

Result constantOfShape(Node &n) {
  Value target = n.input(0);
  std::optional<Dims> t = partialInts(target);
  if (!t)
    return n.error() << "the shape's length is unknown", failure();
  ElementsAttr value;
  if (auto attr = dyn_cast_or_null<ElementsAttr>(n.op.getAttrs().get("value")))
    value = attr;
  else {
    auto type = tensor({1}, n.b.getF32Type());
    value = DenseElementsAttr::get(type, 0.0f);
  }
  Type et = cast<ShapedType>(value.getType()).getElementType();
  return one(build<ConstantOfShapeOp>(n, tensor(*t, et), target, value));
}

Result trilu(Node &n) {
  Value x = n.input(0), k = n.input(1);
  if (!k)
    k = ConstantOp::create(n.b, n.loc(), tensor({}, n.b.getI64Type()),
                           DenseElementsAttr::get(tensor({}, n.b.getI64Type()),
                                                  int64_t(0)));
  return one(build<TriluOp>(n, x.getType(), x, k,
                            n.b.getI64IntegerAttr(n.intAttr("upper", 1))));
}

Result split(Node &n) {
  Value x = n.input(0);
  std::optional<Dims> d = dimsOf(x);
  if (!d)
    return n.error() << "needs a ranked operand", failure();
  std::optional<int64_t> axis = normAxis(n.intAttr("axis", 0), d->size());
  if (!axis)
    return n.error() << "axis is out of range", failure();
  unsigned outputs = n.op.getNumResults();
  std::optional<SmallVector<int64_t>> sizes;
  if (n.opset >= 13) {
    if (Value s = n.input(1))
      sizes = constInts(s);
  } else {
    sizes = n.intsAttr("split");
  }
  if (!sizes || sizes->empty()) {
    int64_t dim = (*d)[*axis];
    if (ShapedType::isDynamic(dim))
      return n.error() << "splits a computed size without stated sizes",
             failure();
    int64_t piece = (dim + outputs - 1) / outputs;
    sizes = SmallVector<int64_t>();
    for (unsigned k = 0; k < outputs; ++k)
      sizes->push_back(std::min(piece, dim - piece * int64_t(k)));
  }
  if (sizes->size() != outputs)
    return n.error() << sizes->size() << " sizes for " << outputs << " outputs",
           failure();
  SmallVector<Type> types;
  for (int64_t s : *sizes) {
    Dims out = *d;
    out[*axis] = s;
    types.push_back(tensor(out, elementOf(x)));
  }
  auto op = SplitOp::create(n.b, n.loc(), types, x,
                            n.b.getI64IntegerAttr(*axis),
                            n.b.getDenseI64ArrayAttr(*sizes));
  return SmallVector<Value>(op.getResults());
}

template <typename OpTy> Result reduce(Node &n, int64_t axesInputSince) {
  Value x = n.input(0);
  std::optional<Dims> d = dimsOf(x);
  std::optional<SmallVector<int64_t>> axes = axesOf(n, axesInputSince, 1);
  if (!d || !axes)
    return n.error() << "needs a ranked operand and constant axes", failure();
  int64_t rank = d->size();
  if (axes->empty()) {
    if (n.intAttr("noop_with_empty_axes", 0))
      return one(x);
    axes = llvm::to_vector(llvm::seq<int64_t>(0, rank));
  }
  FailureOr<SmallVector<bool>> reduced = axisMask(n, *axes, rank);
  if (failed(reduced))
    return failure();
  bool keep = n.intAttr("keepdims", 1) != 0;
  Dims out;
  for (int64_t k = 0; k < rank; ++k) {
    if (!(*reduced)[k])
      out.push_back((*d)[k]);
    else if (keep)
      out.push_back(1);
  }
  return one(build<OpTy>(n, tensor(out, elementOf(x)), x,
                         n.b.getDenseI64ArrayAttr(maskedAxes(*reduced)),
                         n.b.getI64IntegerAttr(keep)));
}

Result matMul(Node &n) {
  Value a = n.input(0), b = n.input(1);
  std::optional<Dims> da = dimsOf(a), db = dimsOf(b);
  if (!da || !db || da->empty() || db->empty())
    return n.error() << "needs ranked operands", failure();
  Dims as = *da, bs = *db;
  bool aVec = as.size() == 1, bVec = bs.size() == 1;
  if (aVec)
    as.insert(as.begin(), 1);
  if (bVec)
    bs.push_back(1);
  int64_t k1 = as.back(), k2 = bs[bs.size() - 2];
  if (k1 != kDyn && k2 != kDyn && k1 != k2)
    return n.error() << "contracts " << k1 << " with " << k2, failure();
  std::optional<Dims> batch = broadcastDims(ArrayRef<int64_t>(as).drop_back(2),
                                            ArrayRef<int64_t>(bs).drop_back(2));
  if (!batch || elementOf(a) != elementOf(b))
    return n.error() << "operands " << a.getType() << " and " << b.getType()
                     << " do not multiply",
           failure();
  Dims out = *batch;
  if (!aVec)
    out.push_back(as[as.size() - 2]);
  if (!bVec)
    out.push_back(bs.back());
  return one(build<MatMulOp>(n, tensor(out, elementOf(a)), a, b));
}

Result gemm(Node &n) {
  Value a = n.input(0), b = n.input(1), c = n.input(2);
  std::optional<Dims> da = dimsOf(a), db = dimsOf(b);
  if (!da || !db || da->size() != 2 || db->size() != 2)
    return n.error() << "needs 2-D operands", failure();
  bool ta = n.intAttr("transA", 0), tb = n.intAttr("transB", 0);
  int64_t m = ta ? (*da)[1] : (*da)[0], nn = tb ? (*db)[0] : (*db)[1];
  auto op = GemmOp::create(n.b, n.loc(), tensor({m, nn}, elementOf(a)), a, b, c,
                           n.b.getF32FloatAttr(n.floatAttr("alpha", 1.0f)),
                           n.b.getF32FloatAttr(n.floatAttr("beta", 1.0f)),
                           n.b.getI64IntegerAttr(ta), n.b.getI64IntegerAttr(tb));
  return one(op.getResult());
}

Result attention(Node &n) {
  if (n.input(4) || n.input(5))
    return n.error() << "has past key/value inputs, which are not converted",
           failure();
  for (unsigned r = 1; r < n.op.getNumResults(); ++r)
    if (!n.op.getResult(r).use_empty())
      return n.error() << "its present key/value or score outputs are used, "
                          "which is not converted",
             failure();
  Value q = n.input(0), k = n.input(1), v = n.input(2);
  std::optional<Dims> dq = dimsOf(q), dk = dimsOf(k), dv = dimsOf(v);
  if (!dq || !dk || !dv || dq->size() != dk->size() || dq->size() != dv->size() ||
      (dq->size() != 3 && dq->size() != 4))
    return n.error() << "needs Q, K and V of one rank, 3 or 4", failure();
  int64_t qHeads = n.intAttr("q_num_heads", 0), kvHeads = n.intAttr("kv_num_heads", 0);
  Dims out = *dq;
  if (dq->size() == 4) {
    out[3] = (*dv)[3];
  } else {
    if (qHeads <= 0 || kvHeads <= 0)
      return n.error() << "3-D inputs need q_num_heads and kv_num_heads", failure();
    out[2] = ShapedType::isDynamic((*dv)[2]) ? kDyn : (*dv)[2] / kvHeads * qHeads;
  }
  FloatAttr scale;
  if (auto a = dyn_cast_or_null<FloatAttr>(n.op.getAttrs().get("scale")))
    scale = n.b.getF32FloatAttr(float(a.getValueAsDouble()));
  auto op = AttentionOp::create(
      n.b, n.loc(), tensor(out, elementOf(q)), q, k, v, n.input(3),
      n.b.getI64IntegerAttr(n.intAttr("is_causal", 0)),
      n.b.getI64IntegerAttr(qHeads), n.b.getI64IntegerAttr(kvHeads), scale,
      n.b.getF32FloatAttr(n.floatAttr("softcap", 0.0f)));
  SmallVector<Value> results{op.getResult()};
  for (unsigned r = 1; r < n.op.getNumResults(); ++r)
    results.push_back(Value());
  return results;
}

Result layerNorm(Node &n) {
  for (unsigned r = 1; r < n.op.getNumResults(); ++r)
    if (!n.op.getResult(r).use_empty())
      return n.error() << "its mean and inverse standard deviation outputs are "
                          "used, which is not converted",
             failure();
  Value x = n.input(0);
  auto op = LayerNormalizationOp::create(
      n.b, n.loc(), x.getType(), x, n.input(1), n.input(2),
      n.b.getI64IntegerAttr(n.intAttr("axis", -1)),
      n.b.getF32FloatAttr(n.floatAttr("epsilon", 1e-5f)));
  SmallVector<Value> results{op.getResult()};
  for (unsigned r = 1; r < n.op.getNumResults(); ++r)
    results.push_back(Value());
  return results;
}

Result simplifiedLayerNorm(Node &n) {
  for (unsigned r = 1; r < n.op.getNumResults(); ++r)
    if (!n.op.getResult(r).use_empty())
      return n.error() << "its inverse standard deviation output is used, "
                          "which is not converted",
             failure();
  Value x = n.input(0);
  auto op = SimplifiedLayerNormalizationOp::create(
      n.b, n.loc(), x.getType(), x, n.input(1),
      n.b.getI64IntegerAttr(n.intAttr("axis", -1)),
      n.b.getF32FloatAttr(n.floatAttr("epsilon", 1e-5f)));
  SmallVector<Value> results{op.getResult()};
  for (unsigned r = 1; r < n.op.getNumResults(); ++r)
    results.push_back(Value());
  return results;
}

// onnxruntime's fusion of a residual Add with the RMSNorm after it: output
// 0 normalizes input + skip (+ bias), output 3 is that sum (the residual
// stream the next block adds to). The statistics outputs are not converted.
Result skipSimplifiedLayerNorm(Node &n) {
  for (unsigned r = 1; r < 3 && r < n.op.getNumResults(); ++r)
    if (!n.op.getResult(r).use_empty())
      return n.error() << "its mean or inverse standard deviation output is "
                          "used, which is not converted",
             failure();
  Value x = n.input(0), skip = n.input(1), gamma = n.input(2), bias = n.input(3);
  if (!x || !skip || !gamma || x.getType() != skip.getType())
    return n.error() << "needs an input and a skip of the same type and a "
                        "gamma",
           failure();
  Value sum = build<AddOp>(n, x.getType(), x, skip);
  if (bias)
    sum = build<AddOp>(n, x.getType(), sum, bias);
  auto op = SimplifiedLayerNormalizationOp::create(
      n.b, n.loc(), x.getType(), sum, gamma, n.b.getI64IntegerAttr(-1),
      n.b.getF32FloatAttr(n.floatAttr("epsilon", 1e-12f)));
  SmallVector<Value> results{op.getResult(), Value(), Value(), sum};
  results.resize(n.op.getNumResults());
  return results;
}

// Dropout at inference passes its input through (its mask output unused).
Result dropout(Node &n) {
  for (unsigned r = 1; r < n.op.getNumResults(); ++r)
    if (!n.op.getResult(r).use_empty())
      return n.error() << "its mask output is used", failure();
  SmallVector<Value> results{n.input(0)};
  for (unsigned r = 1; r < n.op.getNumResults(); ++r)
    results.push_back(Value());
  return results;
}

//===----------------------------------------------------------------------===//
// The table
//===----------------------------------------------------------------------===//

struct Conversion {
  StringLiteral domain;
  StringLiteral opType;
  int64_t minOpset;
  int64_t maxOpset;
  /// Inputs the node must have (omitted optional ones count).
  unsigned minInputs;
  Result (*convert)(Node &);
};

constexpr int64_t kAny = 1000;

// clang-format off
const Conversion kConversions[] = {
    {"", "Identity", 1, kAny, 1, identity},
    {"", "Dropout", 1, kAny, 1, dropout},
    {"", "Cast", 6, kAny, 1, castNode},
    {"", "Neg", 6, kAny, 1, unary<NegOp>},
    {"", "Abs", 6, kAny, 1, unary<AbsOp>},
    {"", "Sqrt", 6, kAny, 1, unary<SqrtOp>},
    {"", "Reciprocal", 6, kAny, 1, unary<ReciprocalOp>},
    {"", "Exp", 6, kAny, 1, unary<ExpOp>},
    {"", "Log", 6, kAny, 1, unary<LogOp>},
    {"", "Sin", 7, kAny, 1, unary<SinOp>},
    {"", "Cos", 7, kAny, 1, unary<CosOp>},
    {"", "Tanh", 6, kAny, 1, unary<TanhOp>},
    {"", "Erf", 9, kAny, 1, unary<ErfOp>},
    {"", "Sigmoid", 6, kAny, 1, unary<SigmoidOp>},
    {"", "Relu", 6, kAny, 1, unary<ReluOp>},
    {"", "Floor", 6, kAny, 1, unary<FloorOp>},
    {"", "Ceil", 6, kAny, 1, unary<CeilOp>},
    {"", "Not", 1, kAny, 1, unary<NotOp>},
    {"", "Gelu", 20, kAny, 1, gelu},
    {"", "Add", 7, kAny, 2, binary<AddOp>},
    {"", "Sub", 7, kAny, 2, binary<SubOp>},
    {"", "Mul", 7, kAny, 2, binary<MulOp>},
    {"", "Div", 7, kAny, 2, binary<DivOp>},
    {"", "Pow", 7, kAny, 2, binary<PowOp>},
    {"", "Max", 8, kAny, 1, variadicBinary<MaxOp>},
    {"", "Min", 8, kAny, 1, variadicBinary<MinOp>},
    {"", "Equal", 7, kAny, 2, binary<EqualOp>},
    {"", "Less", 7, kAny, 2, binary<LessOp>},
    {"", "LessOrEqual", 12, kAny, 2, binary<LessOrEqualOp>},
    {"", "Greater", 7, kAny, 2, binary<GreaterOp>},
    {"", "GreaterOrEqual", 12, kAny, 2, binary<GreaterOrEqualOp>},
    {"", "And", 7, kAny, 2, binary<AndOp>},
    {"", "Or", 7, kAny, 2, binary<OrOp>},
    {"", "Xor", 7, kAny, 2, binary<XorOp>},
    {"", "Where", 9, kAny, 3, where},
    {"", "Softmax", 1, 12, 1, softmax},
    {"", "Softmax", 13, kAny, 1, softmax},
    {"", "CumSum", 11, kAny, 2, cumSum},
    {"", "Shape", 1, kAny, 1, shape},
    {"", "Reshape", 5, kAny, 2, reshape},
    {"", "Transpose", 1, kAny, 1, transpose},
    {"", "Unsqueeze", 1, 12, 1, unsqueeze},
    {"", "Unsqueeze", 13, kAny, 2, unsqueeze},
    {"", "Squeeze", 1, 12, 1, squeeze},
    {"", "Squeeze", 13, kAny, 1, squeeze},
    {"", "Concat", 4, kAny, 1, concat},
    {"", "Slice", 10, kAny, 3, slice},
    {"", "Gather", 1, kAny, 2, gather},
    {"", "GatherND", 12, kAny, 2, gatherND},
    {"", "Expand", 8, kAny, 2, expand},
    {"", "Tile", 6, kAny, 2, tile},
    {"", "Range", 11, kAny, 3, range},
    {"", "ConstantOfShape", 9, kAny, 1, constantOfShape},
    {"", "Trilu", 14, kAny, 1, trilu},
    {"", "Split", 2, 12, 1, split},
    {"", "Split", 13, kAny, 1, split},
    {"", "ReduceMean", 1, 17, 1, [](Node &n) { return reduce<ReduceMeanOp>(n, 18); }},
    {"", "ReduceMean", 18, kAny, 1, [](Node &n) { return reduce<ReduceMeanOp>(n, 18); }},
    {"", "ReduceSum", 1, 12, 1, [](Node &n) { return reduce<ReduceSumOp>(n, 13); }},
    {"", "ReduceSum", 13, kAny, 1, [](Node &n) { return reduce<ReduceSumOp>(n, 13); }},
    {"", "ReduceMax", 1, 17, 1, [](Node &n) { return reduce<ReduceMaxOp>(n, 18); }},
    {"", "ReduceMax", 18, kAny, 1, [](Node &n) { return reduce<ReduceMaxOp>(n, 18); }},
    {"", "MatMul", 1, kAny, 2, matMul},
    {"", "Gemm", 7, kAny, 2, gemm},
    {"", "LayerNormalization", 17, kAny, 2, layerNorm},
    {"", "Attention", 23, kAny, 3, attention},
    {"", "SimplifiedLayerNormalization", 1, kAny, 2, simplifiedLayerNorm},
    {"com.microsoft", "SimplifiedLayerNormalization", 1, kAny, 2, simplifiedLayerNorm},
    {"com.microsoft", "SkipSimplifiedLayerNormalization", 1, kAny, 3, skipSimplifiedLayerNorm},
    {"com.microsoft", "GroupQueryAttention", 1, kAny, 1, groupQueryAttention},
    {"com.microsoft", "MultiHeadAttention", 1, kAny, 1, multiHeadAttention},
    {"com.microsoft", "RotaryEmbedding", 1, kAny, 4, rotaryEmbedding},
};
// clang-format on

const Conversion *lookupConversion(StringRef domain, StringRef opType,
                                   int64_t opset) {
  if (domain == "ai.onnx")
    domain = "";
  for (const Conversion &c : kConversions)
    if (c.domain == domain && c.opType == opType && opset >= c.minOpset &&
        opset <= c.maxOpset)
      return &c;
  return nullptr;
}

struct OnnxConvertNodesPass
    : qtc::impl::OnnxConvertNodesBase<OnnxConvertNodesPass> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    auto module = func->getParentOfType<ModuleOp>();
    int64_t opset = 0;
    if (module)
      if (auto attr = module->getAttrOfType<IntegerAttr>("onnx.opset"))
        opset = attr.getInt();
    if (opset == 0) {
      func.emitError("the module states no ONNX opset (onnx.opset)");
      return signalPassFailure();
    }
    OpBuilder builder(func.getContext());
    SmallVector<NodeOp> nodes;
    func.walk([&](NodeOp op) { nodes.push_back(op); });
    for (NodeOp op : nodes) {
      builder.setInsertionPoint(op);
      Node node(op, opset, builder);
      const Conversion *conversion =
          lookupConversion(op.getDomain(), op.getOpType(), opset);
      if (!conversion) {
        node.error() << "no conversion for " << node.qualifiedType()
                     << " at opset " << opset;
        return signalPassFailure();
      }
      bool ready = node.numInputs() >= conversion->minInputs;
      for (unsigned i = 0; i < conversion->minInputs && ready; ++i)
        ready = bool(node.input(i));
      if (!ready) {
        node.error() << "needs at least " << conversion->minInputs << " inputs";
        return signalPassFailure();
      }
      for (Value operand : op.getOperands())
        if (isa<ValueType>(operand.getType())) {
          node.error() << "reads a value of unknown type";
          return signalPassFailure();
        }
      Result results = conversion->convert(node);
      if (failed(results))
        return signalPassFailure();
      for (auto [old, replacement] : llvm::zip(op.getResults(), *results)) {
        if (!replacement)
          continue;
        old.replaceAllUsesWith(replacement);
      }
      op.erase();
    }
    // Drop the placeholders of omitted inputs; the result types follow.
    func.walk([](AbsentOp op) {
      if (op->use_empty())
        op->erase();
    });
    auto ret = cast<func::ReturnOp>(func.getBody().front().getTerminator());
    func.setFunctionType(FunctionType::get(func.getContext(),
                                           func.getArgumentTypes(),
                                           ret.getOperandTypes()));
  }
};

} // namespace

Value qtc::onnxconvert::fold(Node &n, Operation *op) {
  // Fold as built: constant operands give constants, a no-op gives its input.
  SmallVector<OpFoldResult> folded;
  if (succeeded(op->fold(folded)) && folded.size() == 1) {
    if (auto v = dyn_cast<Value>(folded[0])) {
      if (v != op->getResult(0) && v.getType() == op->getResult(0).getType()) {
        op->erase();
        return v;
      }
      return op->getResult(0);
    }
    // A folded value may know sizes the inferred type left `?`; users are
    // converted after it and infer from the refined type.
    Type type = op->getResult(0).getType();
    auto elements = dyn_cast<ElementsAttr>(cast<Attribute>(folded[0]));
    if (elements && succeeded(verifyCompatibleShape(elements.getType(), type)))
      type = elements.getType();
    if (Operation *c = op->getDialect()->materializeConstant(
            n.b, cast<Attribute>(folded[0]), type, op->getLoc())) {
      op->erase();
      return c->getResult(0);
    }
  }
  return op->getResult(0);
}
