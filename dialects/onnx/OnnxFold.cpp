//===- OnnxFold.cpp - Folders of the typed onnx ops -----------------------===//
//
// Constant and shape subgraphs (positions, causal masks, RoPE tables,
// reshape targets) fold through these: every operand a constant, the
// result at most kMaxFoldElements. Values are computed in int64 or double
// whatever their element type and written back in the result's type.
// Graphs are untrusted input: every index is checked, and a folder that
// meets something it cannot compute declines instead of failing.
//
//===----------------------------------------------------------------------===//

#include "dialects/onnx/OnnxOps.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/APFloat.h"
#include "llvm/ADT/STLExtras.h"

#include <cmath>
#include <cstring>
#include <numeric>
#include <optional>
#include <vector>

using namespace mlir;
using namespace qtc::onnxir;

namespace {

using Shape = SmallVector<int64_t, 4>;

/// A constant's elements, row-major.
struct Lit {
  Shape shape;
  bool isFloat = false;
  std::vector<double> f;
  std::vector<int64_t> i;

  int64_t size() const { return isFloat ? f.size() : i.size(); }
  double get(int64_t k) const { return isFloat ? f[k] : double(i[k]); }
  int64_t getInt(int64_t k) const {
    if (!isFloat)
      return i[k];
    double v = f[k];
    if (!(v == v))
      return 0;
    if (v >= 9.2e18)
      return INT64_MAX;
    if (v <= -9.2e18)
      return INT64_MIN;
    return int64_t(v);
  }
  static Lit zeros(const Shape &shape, bool isFloat) {
    Lit lit;
    lit.shape = shape;
    lit.isFloat = isFloat;
    int64_t n = 1;
    for (int64_t d : shape)
      n *= d;
    if (isFloat)
      lit.f.assign(n, 0.0);
    else
      lit.i.assign(n, 0);
    return lit;
  }
  void set(int64_t k, double v) { f[k] = v; }
  void copyFrom(int64_t k, const Lit &other, int64_t from) {
    if (isFloat)
      f[k] = other.get(from);
    else
      i[k] = other.getInt(from);
  }
};

std::optional<int64_t> elementCount(ArrayRef<int64_t> shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0 || __builtin_mul_overflow(n, d, &n) || n > kMaxFoldElements)
      return std::nullopt;
  }
  return n;
}

double toDouble(APFloat value) {
  bool lost;
  value.convert(APFloat::IEEEdouble(), APFloat::rmNearestTiesToEven, &lost);
  return value.convertToDouble();
}

bool isFloatType(Type type) { return isa<FloatType>(type); }

int64_t intOf(const APInt &value, Type type) {
  if (type.isInteger(1) || type.isUnsignedInteger())
    return int64_t(value.getZExtValue());
  return value.getSExtValue();
}

// Decodes one element of a dense_resource blob.
std::optional<double> decodeFloat(const char *p, Type type) {
  if (type.isF32()) {
    float v;
    std::memcpy(&v, p, 4);
    return v;
  }
  if (type.isF64()) {
    double v;
    std::memcpy(&v, p, 8);
    return v;
  }
  if (auto ft = dyn_cast<FloatType>(type)) {
    unsigned bits = ft.getWidth();
    if (bits != 16 && bits != 8)
      return std::nullopt;
    uint64_t raw = 0;
    std::memcpy(&raw, p, bits / 8);
    return toDouble(APFloat(ft.getFloatSemantics(), APInt(bits, raw)));
  }
  return std::nullopt;
}

std::optional<Lit> readLit(Attribute attr) {
  auto elements = dyn_cast_or_null<ElementsAttr>(attr);
  if (!elements)
    return std::nullopt;
  auto type = cast<ShapedType>(elements.getType());
  if (!type.hasStaticShape())
    return std::nullopt;
  std::optional<int64_t> count = elementCount(type.getShape());
  if (!count)
    return std::nullopt;
  Type et = type.getElementType();
  Lit lit;
  lit.shape.assign(type.getShape().begin(), type.getShape().end());
  lit.isFloat = isFloatType(et);
  if (!lit.isFloat && !isa<IntegerType>(et))
    return std::nullopt;
  if (auto dense = dyn_cast<DenseIntOrFPElementsAttr>(attr)) {
    if (lit.isFloat)
      for (APFloat v : dense.getValues<APFloat>())
        lit.f.push_back(toDouble(v));
    else
      for (APInt v : dense.getValues<APInt>())
        lit.i.push_back(intOf(v, et));
    return lit;
  }
  auto resource = dyn_cast<DenseResourceElementsAttr>(attr);
  if (!resource)
    return std::nullopt;
  AsmResourceBlob *blob = resource.getRawHandle().getBlob();
  if (!blob)
    return std::nullopt;
  ArrayRef<char> data = blob->getData();
  unsigned width = et.getIntOrFloatBitWidth();
  size_t bytes = width == 1 ? 1 : width / 8;
  if (width % 8 != 0 && width != 1)
    return std::nullopt;
  if (data.size() != size_t(*count) * bytes)
    return std::nullopt;
  for (int64_t k = 0; k < *count; ++k) {
    const char *p = data.data() + k * bytes;
    if (lit.isFloat) {
      std::optional<double> v = decodeFloat(p, et);
      if (!v)
        return std::nullopt;
      lit.f.push_back(*v);
    } else {
      uint64_t raw = 0;
      std::memcpy(&raw, p, bytes);
      APInt value(width, raw, /*isSigned=*/false, /*implicitTrunc=*/true);
      lit.i.push_back(intOf(value, et));
    }
  }
  return lit;
}

// Writes `lit` as a constant of `elementType` (null when too large).
Attribute writeLit(const Lit &lit, Type elementType) {
  std::optional<int64_t> count = elementCount(lit.shape);
  if (!count || *count != lit.size())
    return {};
  auto type = RankedTensorType::get(lit.shape, elementType);
  if (auto ft = dyn_cast<FloatType>(elementType)) {
    SmallVector<APFloat> values;
    values.reserve(*count);
    for (int64_t k = 0; k < *count; ++k) {
      APFloat v(lit.get(k));
      bool lost;
      v.convert(ft.getFloatSemantics(), APFloat::rmNearestTiesToEven, &lost);
      values.push_back(v);
    }
    return DenseElementsAttr::get(type, values);
  }
  auto it = dyn_cast<IntegerType>(elementType);
  if (!it)
    return {};
  if (it.getWidth() == 1) {
    SmallVector<bool> values;
    for (int64_t k = 0; k < *count; ++k)
      values.push_back(lit.get(k) != 0.0);
    return DenseElementsAttr::get(type, values);
  }
  SmallVector<APInt> values;
  values.reserve(*count);
  for (int64_t k = 0; k < *count; ++k)
    values.push_back(APInt(it.getWidth(), uint64_t(lit.getInt(k)),
                           /*isSigned=*/true, /*implicitTrunc=*/true));
  return DenseElementsAttr::get(type, values);
}

Type resultElementType(Operation *op, unsigned index = 0) {
  return cast<ShapedType>(op->getResult(index).getType()).getElementType();
}

Shape unflatten(int64_t flat, ArrayRef<int64_t> shape) {
  Shape index(shape.size());
  for (int64_t d = int64_t(shape.size()) - 1; d >= 0; --d) {
    int64_t extent = shape[d] == 0 ? 1 : shape[d];
    index[d] = flat % extent;
    flat /= extent;
  }
  return index;
}

int64_t flatten(ArrayRef<int64_t> index, ArrayRef<int64_t> shape) {
  int64_t flat = 0;
  for (size_t d = 0; d < shape.size(); ++d)
    flat = flat * shape[d] + index[d];
  return flat;
}

// The flat index into `shape` (right-aligned, broadcast) of `index`.
int64_t broadcastFlat(ArrayRef<int64_t> index, ArrayRef<int64_t> shape) {
  size_t offset = index.size() - shape.size();
  int64_t flat = 0;
  for (size_t d = 0; d < shape.size(); ++d)
    flat = flat * shape[d] + (shape[d] == 1 ? 0 : index[offset + d]);
  return flat;
}

std::optional<Shape> broadcast(ArrayRef<int64_t> a, ArrayRef<int64_t> b) {
  size_t rank = std::max(a.size(), b.size());
  Shape out(rank);
  for (size_t d = 0; d < rank; ++d) {
    int64_t x = d < rank - a.size() ? 1 : a[d - (rank - a.size())];
    int64_t y = d < rank - b.size() ? 1 : b[d - (rank - b.size())];
    if (x != y && x != 1 && y != 1)
      return std::nullopt;
    out[d] = x == 1 ? y : x;
  }
  return out;
}

std::optional<int64_t> normalizeAxis(int64_t axis, int64_t rank) {
  if (axis < -rank || axis >= rank)
    return std::nullopt;
  return axis < 0 ? axis + rank : axis;
}

// Element-wise over broadcast operands; `fn` sees doubles or int64s.
template <typename FloatFn, typename IntFn>
OpFoldResult foldBroadcast(Operation *op, ArrayRef<Attribute> operands,
                           FloatFn floatFn, IntFn intFn) {
  SmallVector<Lit, 3> lits;
  for (Attribute attr : operands) {
    std::optional<Lit> lit = readLit(attr);
    if (!lit)
      return {};
    lits.push_back(std::move(*lit));
  }
  Shape shape = lits[0].shape;
  for (size_t k = 1; k < lits.size(); ++k) {
    std::optional<Shape> merged = broadcast(shape, lits[k].shape);
    if (!merged)
      return {};
    shape = *merged;
  }
  if (!elementCount(shape))
    return {};
  bool anyFloat = llvm::any_of(lits, [](const Lit &l) { return l.isFloat; });
  Type et = resultElementType(op);
  Lit result = Lit::zeros(shape, isFloatType(et));
  for (int64_t k = 0, e = result.size(); k < e; ++k) {
    Shape index = unflatten(k, shape);
    SmallVector<int64_t, 3> at;
    for (const Lit &l : lits)
      at.push_back(broadcastFlat(index, l.shape));
    std::optional<double> value;
    if (anyFloat) {
      SmallVector<double, 3> args;
      for (size_t j = 0; j < lits.size(); ++j)
        args.push_back(lits[j].get(at[j]));
      value = floatFn(args);
    } else {
      SmallVector<int64_t, 3> args;
      for (size_t j = 0; j < lits.size(); ++j)
        args.push_back(lits[j].i[at[j]]);
      std::optional<int64_t> v = intFn(args);
      if (!v)
        return {};
      if (!result.isFloat) {
        result.i[k] = *v;
        continue;
      }
      value = double(*v);
    }
    if (!value)
      return {};
    if (result.isFloat)
      result.f[k] = *value;
    else {
      Lit tmp;
      tmp.isFloat = true;
      tmp.f = {*value};
      result.i[k] = tmp.getInt(0);
    }
  }
  return writeLit(result, et);
}

using Args = ArrayRef<double>;
using IntArgs = ArrayRef<int64_t>;

int64_t wrapAdd(int64_t a, int64_t b) { return int64_t(uint64_t(a) + uint64_t(b)); }
int64_t wrapSub(int64_t a, int64_t b) { return int64_t(uint64_t(a) - uint64_t(b)); }
int64_t wrapMul(int64_t a, int64_t b) { return int64_t(uint64_t(a) * uint64_t(b)); }

template <typename Fn>
OpFoldResult foldUnary(Operation *op, Attribute operand, Fn fn) {
  std::optional<Lit> x = readLit(operand);
  if (!x)
    return {};
  Type et = resultElementType(op);
  Lit result = Lit::zeros(x->shape, isFloatType(et));
  for (int64_t k = 0, e = x->size(); k < e; ++k) {
    double v = fn(x->get(k));
    if (result.isFloat)
      result.f[k] = v;
    else {
      Lit tmp;
      tmp.isFloat = true;
      tmp.f = {v};
      result.i[k] = tmp.getInt(0);
    }
  }
  return writeLit(result, et);
}

// Moves elements: result element k comes from source element from(k).
template <typename Fn>
OpFoldResult gatherElements(Operation *op, const Lit &source,
                            ArrayRef<int64_t> shape, Fn from) {
  if (!elementCount(shape))
    return {};
  Lit result = Lit::zeros(Shape(shape.begin(), shape.end()), source.isFloat);
  for (int64_t k = 0, e = result.size(); k < e; ++k) {
    std::optional<int64_t> f = from(k);
    if (!f || *f < 0 || *f >= source.size())
      return {};
    result.copyFrom(k, source, *f);
  }
  return writeLit(result, resultElementType(op));
}

std::optional<SmallVector<int64_t>> intsOf(Attribute attr) {
  std::optional<Lit> lit = readLit(attr);
  if (!lit || lit->isFloat)
    return std::nullopt;
  return SmallVector<int64_t>(lit->i.begin(), lit->i.end());
}

} // namespace

//===----------------------------------------------------------------------===//
// Constants and element-wise ops
//===----------------------------------------------------------------------===//

OpFoldResult ConstantOp::fold(FoldAdaptor) { return getValue(); }

#define QTC_FOLD_UNARY(Op, expr)                                               \
  OpFoldResult Op::fold(FoldAdaptor adaptor) {                                 \
    return foldUnary(*this, adaptor.getInput(), [](double x) { return expr; }); \
  }
QTC_FOLD_UNARY(NegOp, -x)
QTC_FOLD_UNARY(AbsOp, std::fabs(x))
QTC_FOLD_UNARY(SqrtOp, std::sqrt(x))
QTC_FOLD_UNARY(ReciprocalOp, 1.0 / x)
QTC_FOLD_UNARY(ExpOp, std::exp(x))
QTC_FOLD_UNARY(LogOp, std::log(x))
QTC_FOLD_UNARY(SinOp, std::sin(x))
QTC_FOLD_UNARY(CosOp, std::cos(x))
QTC_FOLD_UNARY(TanhOp, std::tanh(x))
QTC_FOLD_UNARY(ErfOp, std::erf(x))
QTC_FOLD_UNARY(SigmoidOp, 1.0 / (1.0 + std::exp(-x)))
QTC_FOLD_UNARY(ReluOp, x > 0 ? x : 0.0)
QTC_FOLD_UNARY(FloorOp, std::floor(x))
QTC_FOLD_UNARY(CeilOp, std::ceil(x))
QTC_FOLD_UNARY(NotOp, x == 0.0 ? 1.0 : 0.0)
#undef QTC_FOLD_UNARY

OpFoldResult CastOp::fold(FoldAdaptor adaptor) {
  if (getInput().getType() == getType())
    return getInput();
  // A weight's precision is what raising reads: keep the cast explicit.
  if (isNamedWeight(adaptor.getInput()))
    return {};
  Type et = getType().getElementType();
  if (et.isInteger(1))
    return foldUnary(*this, adaptor.getInput(),
                     [](double x) { return x != 0.0 ? 1.0 : 0.0; });
  if (isa<IntegerType>(et))
    return foldUnary(*this, adaptor.getInput(),
                     [](double x) { return std::trunc(x); });
  return foldUnary(*this, adaptor.getInput(), [](double x) { return x; });
}

#define QTC_FOLD_BINARY(Op, floatExpr, intExpr)                                \
  OpFoldResult Op::fold(FoldAdaptor adaptor) {                                 \
    return foldBroadcast(                                                      \
        *this, adaptor.getOperands(),                                          \
        [](Args a) -> std::optional<double> { return floatExpr; },            \
        [](IntArgs a) -> std::optional<int64_t> { return intExpr; });         \
  }
QTC_FOLD_BINARY(AddOp, a[0] + a[1], wrapAdd(a[0], a[1]))
QTC_FOLD_BINARY(SubOp, a[0] - a[1], wrapSub(a[0], a[1]))
QTC_FOLD_BINARY(MulOp, a[0] * a[1], wrapMul(a[0], a[1]))
QTC_FOLD_BINARY(DivOp, a[0] / a[1],
                (a[1] == 0 || (a[0] == INT64_MIN && a[1] == -1))
                    ? std::optional<int64_t>()
                    : std::optional<int64_t>(a[0] / a[1]))
QTC_FOLD_BINARY(PowOp, std::pow(a[0], a[1]),
                a[1] < 0 || a[1] > 62 ? std::optional<int64_t>()
                                      : std::optional<int64_t>(int64_t(
                                            std::pow(double(a[0]), double(a[1])))))
QTC_FOLD_BINARY(MaxOp, std::max(a[0], a[1]), std::max(a[0], a[1]))
QTC_FOLD_BINARY(MinOp, std::min(a[0], a[1]), std::min(a[0], a[1]))
QTC_FOLD_BINARY(EqualOp, a[0] == a[1] ? 1.0 : 0.0, a[0] == a[1])
QTC_FOLD_BINARY(LessOp, a[0] < a[1] ? 1.0 : 0.0, a[0] < a[1])
QTC_FOLD_BINARY(LessOrEqualOp, a[0] <= a[1] ? 1.0 : 0.0, a[0] <= a[1])
QTC_FOLD_BINARY(GreaterOp, a[0] > a[1] ? 1.0 : 0.0, a[0] > a[1])
QTC_FOLD_BINARY(GreaterOrEqualOp, a[0] >= a[1] ? 1.0 : 0.0, a[0] >= a[1])
QTC_FOLD_BINARY(AndOp, (a[0] != 0 && a[1] != 0) ? 1.0 : 0.0,
                (a[0] != 0 && a[1] != 0))
QTC_FOLD_BINARY(OrOp, (a[0] != 0 || a[1] != 0) ? 1.0 : 0.0,
                (a[0] != 0 || a[1] != 0))
QTC_FOLD_BINARY(XorOp, ((a[0] != 0) != (a[1] != 0)) ? 1.0 : 0.0,
                ((a[0] != 0) != (a[1] != 0)))
#undef QTC_FOLD_BINARY

OpFoldResult WhereOp::fold(FoldAdaptor adaptor) {
  return foldBroadcast(
      *this, adaptor.getOperands(),
      [](Args a) -> std::optional<double> { return a[0] != 0 ? a[1] : a[2]; },
      [](IntArgs a) -> std::optional<int64_t> {
        return a[0] != 0 ? a[1] : a[2];
      });
}

OpFoldResult CumSumOp::fold(FoldAdaptor adaptor) {
  std::optional<Lit> x = readLit(adaptor.getInput());
  std::optional<SmallVector<int64_t>> axisValue = intsOf(adaptor.getAxis());
  if (!x || !axisValue || axisValue->size() != 1)
    return {};
  std::optional<int64_t> axis =
      normalizeAxis((*axisValue)[0], int64_t(x->shape.size()));
  if (!axis)
    return {};
  Lit result = Lit::zeros(x->shape, x->isFloat);
  int64_t extent = x->shape[*axis];
  int64_t inner = 1;
  for (size_t d = *axis + 1; d < x->shape.size(); ++d)
    inner *= x->shape[d];
  int64_t outer = extent == 0 ? 0 : x->size() / (extent * inner);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t in = 0; in < inner; ++in) {
      double fsum = 0;
      int64_t isum = 0;
      for (int64_t step = 0; step < extent; ++step) {
        int64_t j = getReverse() ? extent - 1 - step : step;
        int64_t k = (o * extent + j) * inner + in;
        if (getExclusive()) {
          if (result.isFloat)
            result.f[k] = fsum;
          else
            result.i[k] = isum;
        }
        if (x->isFloat)
          fsum += x->f[k];
        else
          isum = wrapAdd(isum, x->i[k]);
        if (!getExclusive()) {
          if (result.isFloat)
            result.f[k] = fsum;
          else
            result.i[k] = isum;
        }
      }
    }
  return writeLit(result, resultElementType(*this));
}

//===----------------------------------------------------------------------===//
// Shapes and data movement
//===----------------------------------------------------------------------===//

// The dimensions Shape selects, clamped as ONNX clamps start and end.
static std::pair<int64_t, int64_t> shapeRange(ShapeOp op, int64_t rank) {
  auto clamp = [&](int64_t v) {
    if (v < 0)
      v += rank;
    return std::min(std::max<int64_t>(v, 0), rank);
  };
  int64_t start = clamp(op.getStart());
  int64_t end = op.getEnd() ? clamp(*op.getEnd()) : rank;
  return {start, std::max(start, end)};
}

OpFoldResult ShapeOp::fold(FoldAdaptor adaptor) {
  ArrayRef<int64_t> dims;
  auto type = cast<ShapedType>(getInput().getType());
  if (auto value = dyn_cast_or_null<ElementsAttr>(adaptor.getInput()))
    dims = cast<ShapedType>(value.getType()).getShape();
  else if (type.hasRank())
    dims = type.getShape();
  else
    return {};
  auto [start, end] = shapeRange(*this, int64_t(dims.size()));
  Lit result = Lit::zeros({end - start}, false);
  for (int64_t d = start; d < end; ++d) {
    if (ShapedType::isDynamic(dims[d]))
      return {};
    result.i[d - start] = dims[d];
  }
  return writeLit(result, resultElementType(*this));
}

OpFoldResult ReshapeOp::fold(FoldAdaptor adaptor) {
  // Same type with at most one dynamic dim: the element counts are equal,
  // so the dynamic dims are too.
  if (getInput().getType() == getType() && getType().getNumDynamicDims() <= 1)
    return getInput();
  // Reshape of a Reshape to a target that does not copy the inner shape's
  // dims (no 0 entries): the outer target alone.
  if (auto inner = getInput().getDefiningOp<ReshapeOp>())
    if (std::optional<SmallVector<int64_t>> target = intsOf(adaptor.getShape()))
      if (getAllowzero() || !llvm::is_contained(*target, 0)) {
        getInputMutable().assign(inner.getInput());
        return getResult();
      }
  std::optional<Lit> x = readLit(adaptor.getInput());
  std::optional<SmallVector<int64_t>> target = intsOf(adaptor.getShape());
  if (!x || !target)
    return {};
  Shape shape;
  int64_t known = 1, inferred = -1;
  for (size_t d = 0; d < target->size(); ++d) {
    int64_t dim = (*target)[d];
    if (dim == 0 && !getAllowzero()) {
      if (d >= x->shape.size())
        return {};
      dim = x->shape[d];
    }
    if (dim == -1) {
      if (inferred >= 0)
        return {};
      inferred = d;
      shape.push_back(1);
      continue;
    }
    if (dim < 0 || __builtin_mul_overflow(known, dim, &known))
      return {};
    shape.push_back(dim);
  }
  if (inferred >= 0) {
    if (known == 0 || x->size() % known != 0)
      return {};
    shape[inferred] = x->size() / known;
  } else if (known != x->size()) {
    return {};
  }
  x->shape = shape;
  return writeLit(*x, resultElementType(*this));
}

OpFoldResult TransposeOp::fold(FoldAdaptor adaptor) {
  ArrayRef<int64_t> perm = getPerm();
  if (llvm::equal(perm, llvm::seq<int64_t>(0, perm.size())) &&
      getInput().getType() == getType())
    return getInput();
  // Two transposes compose into one (in place).
  if (auto inner = getInput().getDefiningOp<TransposeOp>()) {
    ArrayRef<int64_t> innerPerm = inner.getPerm();
    if (innerPerm.size() == perm.size()) {
      SmallVector<int64_t> composed;
      for (int64_t p : perm) {
        if (p < 0 || p >= int64_t(innerPerm.size()))
          return {};
        composed.push_back(innerPerm[p]);
      }
      if (llvm::equal(composed, llvm::seq<int64_t>(0, composed.size())) &&
          inner.getInput().getType() == getType())
        return inner.getInput();
      setPerm(composed);
      getInputMutable().assign(inner.getInput());
      return getResult();
    }
  }
  // Raising reads through the transpose of a weight to its initializer.
  if (isNamedWeight(adaptor.getInput()))
    return {};
  std::optional<Lit> x = readLit(adaptor.getInput());
  if (!x || perm.size() != x->shape.size())
    return {};
  int64_t rank = perm.size();
  Shape shape(rank);
  SmallVector<bool> seen(rank, false);
  for (int64_t d = 0; d < rank; ++d) {
    if (perm[d] < 0 || perm[d] >= rank || seen[perm[d]])
      return {};
    seen[perm[d]] = true;
    shape[d] = x->shape[perm[d]];
  }
  return gatherElements(*this, *x, shape, [&](int64_t k) {
    Shape index = unflatten(k, shape);
    Shape from(rank);
    for (int64_t d = 0; d < rank; ++d)
      from[perm[d]] = index[d];
    return std::optional<int64_t>(flatten(from, x->shape));
  });
}

// Unsqueeze and Squeeze change the shape only.
static OpFoldResult foldReshaped(Operation *op, Attribute input,
                                 const std::optional<Shape> &shape) {
  std::optional<Lit> x = readLit(input);
  if (!x || !shape)
    return {};
  x->shape = *shape;
  if (elementCount(*shape) != std::optional<int64_t>(x->size()))
    return {};
  return writeLit(*x, resultElementType(op));
}

OpFoldResult UnsqueezeOp::fold(FoldAdaptor adaptor) {
  std::optional<Lit> x = readLit(adaptor.getInput());
  if (!x)
    return {};
  int64_t rank = x->shape.size() + getAxes().size();
  SmallVector<bool> inserted(rank, false);
  for (int64_t axis : getAxes()) {
    std::optional<int64_t> a = normalizeAxis(axis, rank);
    if (!a || inserted[*a])
      return {};
    inserted[*a] = true;
  }
  Shape shape;
  size_t next = 0;
  for (int64_t d = 0; d < rank; ++d)
    shape.push_back(inserted[d] ? 1 : x->shape[next++]);
  return foldReshaped(*this, adaptor.getInput(), shape);
}

OpFoldResult SqueezeOp::fold(FoldAdaptor adaptor) {
  std::optional<Lit> x = readLit(adaptor.getInput());
  if (!x)
    return {};
  int64_t rank = x->shape.size();
  SmallVector<bool> removed(rank, false);
  for (int64_t axis : getAxes()) {
    std::optional<int64_t> a = normalizeAxis(axis, rank);
    if (!a || x->shape[*a] != 1)
      return {};
    removed[*a] = true;
  }
  Shape shape;
  for (int64_t d = 0; d < rank; ++d)
    if (!removed[d])
      shape.push_back(x->shape[d]);
  return foldReshaped(*this, adaptor.getInput(), shape);
}

OpFoldResult ConcatOp::fold(FoldAdaptor adaptor) {
  if (getInputs().size() == 1 && getInputs()[0].getType() == getType())
    return getInputs()[0];
  SmallVector<Lit> parts;
  for (Attribute attr : adaptor.getInputs()) {
    std::optional<Lit> lit = readLit(attr);
    if (!lit)
      return {};
    parts.push_back(std::move(*lit));
  }
  int64_t rank = parts[0].shape.size();
  std::optional<int64_t> axis = normalizeAxis(getAxis(), rank);
  if (!axis)
    return {};
  Shape shape = parts[0].shape;
  shape[*axis] = 0;
  for (const Lit &part : parts) {
    if (int64_t(part.shape.size()) != rank)
      return {};
    for (int64_t d = 0; d < rank; ++d)
      if (d != *axis && part.shape[d] != shape[d])
        return {};
    shape[*axis] += part.shape[*axis];
  }
  if (!elementCount(shape))
    return {};
  bool isFloat = isFloatType(resultElementType(*this));
  Lit result = Lit::zeros(shape, isFloat);
  for (int64_t k = 0, e = result.size(); k < e; ++k) {
    Shape index = unflatten(k, shape);
    int64_t along = index[*axis];
    for (const Lit &part : parts) {
      if (along < part.shape[*axis]) {
        index[*axis] = along;
        result.copyFrom(k, part, flatten(index, part.shape));
        break;
      }
      along -= part.shape[*axis];
    }
  }
  return writeLit(result, resultElementType(*this));
}

OpFoldResult SliceOp::fold(FoldAdaptor adaptor) {
  std::optional<Lit> x = readLit(adaptor.getInput());
  std::optional<SmallVector<int64_t>> starts = intsOf(adaptor.getStarts());
  std::optional<SmallVector<int64_t>> ends = intsOf(adaptor.getEnds());
  std::optional<SmallVector<int64_t>> axes = intsOf(adaptor.getAxes());
  std::optional<SmallVector<int64_t>> steps = intsOf(adaptor.getSteps());
  if (!x || !starts || !ends || !axes || !steps ||
      starts->size() != ends->size() || axes->size() != starts->size() ||
      steps->size() != starts->size())
    return {};
  int64_t rank = x->shape.size();
  Shape begin(rank, 0), step(rank, 1), shape = x->shape;
  for (size_t j = 0; j < starts->size(); ++j) {
    std::optional<int64_t> axis = normalizeAxis((*axes)[j], rank);
    int64_t s = (*steps)[j];
    if (!axis || s == 0)
      return {};
    int64_t dim = x->shape[*axis];
    auto clampIndex = [&](int64_t v, int64_t lo, int64_t hi) {
      if (v < 0)
        v = v <= INT64_MIN + dim ? INT64_MIN : v + dim;
      return std::min(std::max(v, lo), hi);
    };
    int64_t b, e;
    if (s > 0) {
      b = clampIndex((*starts)[j], 0, dim);
      e = clampIndex((*ends)[j], 0, dim);
    } else {
      b = clampIndex((*starts)[j], -1, dim - 1);
      e = clampIndex((*ends)[j], -1, dim - 1);
    }
    int64_t count = s > 0 ? (e - b + s - 1) / s : (b - e + (-s) - 1) / (-s);
    begin[*axis] = b;
    step[*axis] = s;
    shape[*axis] = std::max<int64_t>(count, 0);
  }
  return gatherElements(*this, *x, shape, [&](int64_t k) {
    Shape index = unflatten(k, shape);
    for (int64_t d = 0; d < rank; ++d)
      index[d] = begin[d] + index[d] * step[d];
    return std::optional<int64_t>(flatten(index, x->shape));
  });
}

OpFoldResult GatherOp::fold(FoldAdaptor adaptor) {
  std::optional<SmallVector<int64_t>> indices = intsOf(adaptor.getIndices());
  // The constant's own shape: a subgraph evaluated at a probe length
  // (lib/Import/OnnxProbe.h) has static operands behind dynamic types.
  auto indicesAttr = dyn_cast_or_null<ElementsAttr>(adaptor.getIndices());
  auto indicesType = indicesAttr ? cast<ShapedType>(indicesAttr.getType())
                                 : cast<ShapedType>(getIndices().getType());
  if (!indices || !indicesType.hasStaticShape())
    return {};
  // A static entry of a Shape folds although other entries are computed.
  if (auto shapeOp = getData().getDefiningOp<ShapeOp>()) {
    auto type = cast<ShapedType>(shapeOp.getInput().getType());
    if (!type.hasRank() || getAxis() != 0)
      return {};
    auto [start, end] = shapeRange(shapeOp, type.getRank());
    Lit result = Lit::zeros(Shape(indicesType.getShape()), false);
    for (size_t k = 0; k < indices->size(); ++k) {
      int64_t j = (*indices)[k];
      if (j < 0)
        j += end - start;
      if (j < 0 || j >= end - start ||
          ShapedType::isDynamic(type.getDimSize(start + j)))
        return {};
      result.i[k] = type.getDimSize(start + j);
    }
    return writeLit(result, resultElementType(*this));
  }
  std::optional<Lit> data = readLit(adaptor.getData());
  if (!data)
    return {};
  int64_t rank = data->shape.size();
  std::optional<int64_t> axis = normalizeAxis(getAxis(), rank);
  if (!axis)
    return {};
  Shape shape(data->shape.begin(), data->shape.begin() + *axis);
  shape.append(indicesType.getShape().begin(), indicesType.getShape().end());
  shape.append(data->shape.begin() + *axis + 1, data->shape.end());
  int64_t indexRank = indicesType.getRank();
  int64_t extent = data->shape[*axis];
  return gatherElements(*this, *data, shape, [&](int64_t k) -> std::optional<int64_t> {
    Shape index = unflatten(k, shape);
    Shape idx(index.begin() + *axis, index.begin() + *axis + indexRank);
    int64_t j = (*indices)[flatten(idx, indicesType.getShape())];
    if (j < 0)
      j += extent;
    if (j < 0 || j >= extent)
      return std::nullopt;
    Shape from(index.begin(), index.begin() + *axis);
    from.push_back(j);
    from.append(index.begin() + *axis + indexRank, index.end());
    return flatten(from, data->shape);
  });
}

OpFoldResult GatherNDOp::fold(FoldAdaptor adaptor) {
  std::optional<Lit> data = readLit(adaptor.getData());
  std::optional<Lit> indices = readLit(adaptor.getIndices());
  if (!data || !indices || indices->shape.empty())
    return {};
  int64_t b = getBatchDims();
  int64_t r = data->shape.size(), q = indices->shape.size();
  int64_t last = indices->shape.back();
  if (b < 0 || b >= std::min(r, q) || last < 1 || b + last > r)
    return {};
  for (int64_t d = 0; d < b; ++d)
    if (data->shape[d] != indices->shape[d])
      return {};
  Shape shape(indices->shape.begin(), indices->shape.end() - 1);
  shape.append(data->shape.begin() + b + last, data->shape.end());
  int64_t sliceSize = 1;
  for (int64_t d = b + last; d < r; ++d)
    sliceSize *= data->shape[d];
  return gatherElements(*this, *data, shape, [&](int64_t k) -> std::optional<int64_t> {
    int64_t tuple = sliceSize == 0 ? 0 : k / sliceSize;
    int64_t within = sliceSize == 0 ? 0 : k % sliceSize;
    Shape outer = unflatten(tuple, ArrayRef<int64_t>(indices->shape).drop_back());
    Shape from(outer.begin(), outer.begin() + b);
    for (int64_t j = 0; j < last; ++j) {
      int64_t v = indices->i[tuple * last + j];
      int64_t extent = data->shape[b + j];
      if (v < 0)
        v += extent;
      if (v < 0 || v >= extent)
        return std::nullopt;
      from.push_back(v);
    }
    Shape rest = unflatten(within, ArrayRef<int64_t>(data->shape).drop_front(b + last));
    from.append(rest.begin(), rest.end());
    return flatten(from, data->shape);
  });
}

OpFoldResult ExpandOp::fold(FoldAdaptor adaptor) {
  if (getInput().getType() == getType() && getType().hasStaticShape())
    return getInput();
  std::optional<Lit> x = readLit(adaptor.getInput());
  std::optional<SmallVector<int64_t>> target = intsOf(adaptor.getShape());
  if (!x || !target)
    return {};
  std::optional<Shape> shape = broadcast(x->shape, *target);
  if (!shape)
    return {};
  return gatherElements(*this, *x, *shape, [&](int64_t k) {
    return std::optional<int64_t>(broadcastFlat(unflatten(k, *shape), x->shape));
  });
}

OpFoldResult TileOp::fold(FoldAdaptor adaptor) {
  std::optional<Lit> x = readLit(adaptor.getInput());
  std::optional<SmallVector<int64_t>> repeats = intsOf(adaptor.getRepeats());
  if (!x || !repeats || repeats->size() != x->shape.size())
    return {};
  Shape shape;
  for (auto [d, r] : llvm::zip(x->shape, *repeats)) {
    if (r < 0 || (d != 0 && r > kMaxFoldElements))
      return {};
    shape.push_back(d * r);
  }
  if (!elementCount(shape))
    return {};
  return gatherElements(*this, *x, shape, [&](int64_t k) {
    Shape index = unflatten(k, shape);
    for (size_t d = 0; d < index.size(); ++d)
      index[d] %= x->shape[d];
    return std::optional<int64_t>(flatten(index, x->shape));
  });
}

OpFoldResult RangeOp::fold(FoldAdaptor adaptor) {
  std::optional<Lit> start = readLit(adaptor.getStart());
  std::optional<Lit> limit = readLit(adaptor.getLimit());
  std::optional<Lit> delta = readLit(adaptor.getDelta());
  if (!start || !limit || !delta || start->size() != 1 || limit->size() != 1 ||
      delta->size() != 1 || delta->get(0) == 0.0)
    return {};
  double count = std::ceil((limit->get(0) - start->get(0)) / delta->get(0));
  if (!(count < double(kMaxFoldElements)))
    return {};
  int64_t n = std::max<int64_t>(int64_t(count), 0);
  bool isFloat = isFloatType(resultElementType(*this));
  Lit result = Lit::zeros({n}, isFloat);
  for (int64_t k = 0; k < n; ++k) {
    if (isFloat)
      result.f[k] = start->get(0) + double(k) * delta->get(0);
    else
      result.i[k] = wrapAdd(start->getInt(0), wrapMul(k, delta->getInt(0)));
  }
  return writeLit(result, resultElementType(*this));
}

OpFoldResult ConstantOfShapeOp::fold(FoldAdaptor adaptor) {
  std::optional<SmallVector<int64_t>> shape = intsOf(adaptor.getShape());
  std::optional<Lit> value = readLit(getValue());
  if (!shape || !value || value->size() != 1 || !elementCount(*shape))
    return {};
  bool isFloat = isFloatType(resultElementType(*this));
  Lit result = Lit::zeros(Shape(shape->begin(), shape->end()), isFloat);
  for (int64_t k = 0, e = result.size(); k < e; ++k)
    result.copyFrom(k, *value, 0);
  return writeLit(result, resultElementType(*this));
}

OpFoldResult TriluOp::fold(FoldAdaptor adaptor) {
  std::optional<Lit> x = readLit(adaptor.getInput());
  std::optional<SmallVector<int64_t>> k = intsOf(adaptor.getK());
  if (!x || !k || k->size() != 1 || x->shape.size() < 2)
    return {};
  Lit result = *x;
  int64_t rows = x->shape[x->shape.size() - 2];
  int64_t cols = x->shape.back();
  for (int64_t e = 0, n = x->size(); e < n; ++e) {
    int64_t col = cols == 0 ? 0 : e % cols;
    int64_t row = cols == 0 || rows == 0 ? 0 : (e / cols) % rows;
    bool keep = getUpper() ? col - row >= (*k)[0] : col - row <= (*k)[0];
    if (!keep) {
      if (result.isFloat)
        result.f[e] = 0;
      else
        result.i[e] = 0;
    }
  }
  return writeLit(result, resultElementType(*this));
}

//===----------------------------------------------------------------------===//
// Reductions and products
//===----------------------------------------------------------------------===//

static OpFoldResult foldReduce(Operation *op, Attribute input,
                               ArrayRef<int64_t> axes, bool keepdims,
                               char kind) {
  std::optional<Lit> x = readLit(input);
  if (!x)
    return {};
  int64_t rank = x->shape.size();
  SmallVector<bool> reduced(rank, false);
  for (int64_t axis : axes) {
    std::optional<int64_t> a = normalizeAxis(axis, rank);
    if (!a)
      return {};
    reduced[*a] = true;
  }
  Shape kept;
  for (int64_t d = 0; d < rank; ++d)
    kept.push_back(reduced[d] ? 1 : x->shape[d]);
  std::vector<double> acc(elementCount(kept).value_or(0),
                          kind == 'M' ? -INFINITY : 0.0);
  std::vector<int64_t> counts(acc.size(), 0);
  for (int64_t k = 0, e = x->size(); k < e; ++k) {
    Shape index = unflatten(k, x->shape);
    for (int64_t d = 0; d < rank; ++d)
      if (reduced[d])
        index[d] = 0;
    int64_t j = flatten(index, kept);
    acc[j] = kind == 'M' ? std::max(acc[j], x->get(k)) : acc[j] + x->get(k);
    ++counts[j];
  }
  Shape shape;
  for (int64_t d = 0; d < rank; ++d)
    if (!reduced[d] || keepdims)
      shape.push_back(kept[d]);
  bool isFloat = isFloatType(resultElementType(op));
  Lit result = Lit::zeros(shape, isFloat);
  for (size_t j = 0; j < acc.size(); ++j) {
    double v = kind == 'A' && counts[j] ? acc[j] / counts[j] : acc[j];
    if (isFloat)
      result.f[j] = v;
    else
      result.i[j] = int64_t(v);
  }
  return writeLit(result, resultElementType(op));
}

OpFoldResult ReduceMeanOp::fold(FoldAdaptor adaptor) {
  return foldReduce(*this, adaptor.getInput(), getAxes(), getKeepdims(), 'A');
}
OpFoldResult ReduceSumOp::fold(FoldAdaptor adaptor) {
  return foldReduce(*this, adaptor.getInput(), getAxes(), getKeepdims(), 'S');
}
OpFoldResult ReduceMaxOp::fold(FoldAdaptor adaptor) {
  return foldReduce(*this, adaptor.getInput(), getAxes(), getKeepdims(), 'M');
}

OpFoldResult MatMulOp::fold(FoldAdaptor adaptor) {
  std::optional<Lit> a = readLit(adaptor.getLhs());
  std::optional<Lit> b = readLit(adaptor.getRhs());
  if (!a || !b || a->shape.empty() || b->shape.empty())
    return {};
  Shape as = a->shape, bs = b->shape;
  bool aVector = as.size() == 1, bVector = bs.size() == 1;
  if (aVector)
    as.insert(as.begin(), 1);
  if (bVector)
    bs.push_back(1);
  int64_t m = as[as.size() - 2], k = as.back(), n = bs.back();
  if (bs[bs.size() - 2] != k)
    return {};
  std::optional<Shape> batch = broadcast(ArrayRef<int64_t>(as).drop_back(2),
                                         ArrayRef<int64_t>(bs).drop_back(2));
  if (!batch)
    return {};
  Shape full = *batch;
  full.push_back(m);
  full.push_back(n);
  std::optional<int64_t> count = elementCount(full);
  // Work is m * n * k per batch: bound it like the result.
  if (!count || k > kMaxFoldElements ||
      double(*count) * double(k) > double(kMaxFoldElements) * 64)
    return {};
  bool isFloat = isFloatType(resultElementType(*this));
  Lit result = Lit::zeros(full, isFloat);
  Shape aBatch(ArrayRef<int64_t>(as).drop_back(2));
  Shape bBatch(ArrayRef<int64_t>(bs).drop_back(2));
  for (int64_t e = 0; e < *count; ++e) {
    Shape index = unflatten(e, full);
    int64_t i = index[index.size() - 2], j = index.back();
    Shape bi(index.begin(), index.end() - 2);
    int64_t ab = broadcastFlat(bi, aBatch), bb = broadcastFlat(bi, bBatch);
    double sum = 0;
    for (int64_t t = 0; t < k; ++t)
      sum += a->get((ab * m + i) * k + t) * b->get((bb * k + t) * n + j);
    if (isFloat)
      result.f[e] = sum;
    else
      result.i[e] = int64_t(sum);
  }
  Shape shape = *batch;
  if (!aVector)
    shape.push_back(m);
  if (!bVector)
    shape.push_back(n);
  result.shape = shape;
  return writeLit(result, resultElementType(*this));
}
