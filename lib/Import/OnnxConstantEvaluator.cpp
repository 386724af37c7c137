//===- OnnxConstantEvaluator.cpp - Evaluates shape-only subgraphs ---------===//

#include "OnnxConstantEvaluator.h"

#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringSwitch.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <numeric>

using namespace qtc;

namespace {

using Inputs = llvm::ArrayRef<const HostTensor *>;
using OpResult = llvm::Expected<HostTensor>;

llvm::Error fail(const llvm::Twine &message) {
  return llvm::createStringError(message.str());
}

std::string shapeText(llvm::ArrayRef<int64_t> shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

llvm::Expected<int64_t> checkedCount(llvm::ArrayRef<int64_t> shape) {
  int64_t count = 1;
  for (int64_t dim : shape) {
    if (dim < 0)
      return fail("negative dimension in " + shapeText(shape));
    if (__builtin_mul_overflow(count, dim, &count) ||
        count > OnnxConstantEvaluator::kMaxElements)
      return fail("tensor of shape " + shapeText(shape) +
                  " is larger than the evaluator allows");
  }
  return count;
}

llvm::Expected<HostTensor> makeTensor(DType dtype,
                                      llvm::ArrayRef<int64_t> shape) {
  llvm::Expected<int64_t> count = checkedCount(shape);
  if (!count)
    return count.takeError();
  return HostTensor::zeros(dtype, shape);
}

// Row-major multi-index <-> flat index.
llvm::SmallVector<int64_t, 4> unflatten(int64_t flat,
                                        llvm::ArrayRef<int64_t> shape) {
  llvm::SmallVector<int64_t, 4> index(shape.size());
  for (int64_t d = static_cast<int64_t>(shape.size()) - 1; d >= 0; --d) {
    index[d] = shape[d] ? flat % shape[d] : 0;
    flat = shape[d] ? flat / shape[d] : 0;
  }
  return index;
}

// The flat index into `shape` of output multi-index `index` under numpy
// broadcasting (`shape` is right-aligned with the output's rank).
int64_t broadcastFlat(llvm::ArrayRef<int64_t> index,
                      llvm::ArrayRef<int64_t> shape) {
  int64_t offset = static_cast<int64_t>(index.size() - shape.size());
  int64_t flat = 0;
  for (size_t d = 0; d < shape.size(); ++d)
    flat = flat * shape[d] + (shape[d] == 1 ? 0 : index[offset + d]);
  return flat;
}

llvm::Expected<llvm::SmallVector<int64_t, 4>>
broadcastShapes(llvm::ArrayRef<llvm::ArrayRef<int64_t>> shapes) {
  size_t rank = 0;
  for (llvm::ArrayRef<int64_t> shape : shapes)
    rank = std::max(rank, shape.size());
  llvm::SmallVector<int64_t, 4> result(rank, 1);
  for (llvm::ArrayRef<int64_t> shape : shapes) {
    size_t offset = rank - shape.size();
    for (size_t d = 0; d < shape.size(); ++d) {
      int64_t &out = result[offset + d];
      if (shape[d] == out || shape[d] == 1)
        continue;
      if (out != 1)
        return fail("shapes do not broadcast: " + shapeText(shape));
      out = shape[d];
    }
  }
  return result;
}

int64_t normalizeAxis(int64_t axis, int64_t rank) {
  return axis < 0 ? axis + rank : axis;
}

llvm::Expected<llvm::SmallVector<int64_t, 4>>
intsOf(const HostTensor *tensor, llvm::StringRef what) {
  if (!tensor)
    return fail("missing input '" + what + "'");
  llvm::SmallVector<int64_t, 4> values;
  for (int64_t i = 0, e = tensor->numElements(); i < e; ++i)
    values.push_back(tensor->intAt(i));
  return values;
}

llvm::Expected<double> scalarOf(const HostTensor *tensor, llvm::StringRef what) {
  if (!tensor || tensor->numElements() != 1)
    return fail("input '" + what + "' must be a scalar");
  return tensor->floatAt(0);
}

// Element-wise ops over broadcast operands.
OpResult elementwise(Inputs inputs, DType resultType,
                     const std::function<double(llvm::ArrayRef<double>)> &f,
                     const std::function<int64_t(llvm::ArrayRef<int64_t>)> &g) {
  llvm::SmallVector<llvm::ArrayRef<int64_t>, 3> shapes;
  for (const HostTensor *input : inputs) {
    if (!input)
      return fail("missing operand");
    shapes.push_back(input->shape);
  }
  auto shape = broadcastShapes(shapes);
  if (!shape)
    return shape.takeError();
  auto result = makeTensor(resultType, *shape);
  if (!result)
    return result.takeError();
  bool floatMath = llvm::any_of(
      inputs, [](const HostTensor *input) { return input->isFloat(); });
  llvm::SmallVector<double, 3> fargs(inputs.size());
  llvm::SmallVector<int64_t, 3> iargs(inputs.size());
  for (int64_t i = 0, e = result->numElements(); i < e; ++i) {
    auto index = unflatten(i, *shape);
    for (size_t k = 0; k < inputs.size(); ++k) {
      int64_t at = broadcastFlat(index, inputs[k]->shape);
      fargs[k] = inputs[k]->floatAt(at);
      iargs[k] = inputs[k]->isFloat() ? 0 : inputs[k]->intAt(at);
    }
    if (result->isFloat())
      result->floats[i] = floatMath ? f(fargs) : static_cast<double>(g(iargs));
    else
      result->ints[i] = floatMath ? saturatingToInt64(f(fargs)) : g(iargs);
  }
  return result;
}

// Integer arithmetic wraps (as ONNX runtimes do) instead of overflowing.
int64_t wrap(uint64_t value) { return static_cast<int64_t>(value); }

OpResult binaryArith(Inputs in, char op) {
  if (in.size() < 2 || !in[0] || !in[1])
    return fail("expected two operands");
  DType type = in[0]->dtype;
  if (op == '/' && !in[0]->isFloat())
    for (int64_t v : in[1]->ints)
      if (v == 0)
        return fail("integer division by zero");
  return elementwise(
      in.take_front(2), type,
      [op](llvm::ArrayRef<double> a) {
        switch (op) {
        case '+':
          return a[0] + a[1];
        case '-':
          return a[0] - a[1];
        case '*':
          return a[0] * a[1];
        case '/':
          return a[0] / a[1];
        default:
          return std::pow(a[0], a[1]);
        }
      },
      [op](llvm::ArrayRef<int64_t> a) -> int64_t {
        switch (op) {
        case '+':
          return wrap(uint64_t(a[0]) + uint64_t(a[1]));
        case '-':
          return wrap(uint64_t(a[0]) - uint64_t(a[1]));
        case '*':
          return wrap(uint64_t(a[0]) * uint64_t(a[1]));
        case '/':
          return a[1] == -1 ? wrap(0 - uint64_t(a[0])) : a[0] / a[1];
        default:
          return saturatingToInt64(std::pow(double(a[0]), double(a[1])));
        }
      });
}

OpResult compare(Inputs in, llvm::StringRef op) {
  if (in.size() != 2 || !in[0] || !in[1])
    return fail("expected two operands");
  auto cmp = [op](auto a, auto b) {
    if (op == "Equal")
      return a == b;
    if (op == "Less")
      return a < b;
    if (op == "LessOrEqual")
      return a <= b;
    if (op == "Greater")
      return a > b;
    return a >= b;
  };
  return elementwise(
      in, DType::Bool,
      [&](llvm::ArrayRef<double> a) { return double(cmp(a[0], a[1])); },
      [&](llvm::ArrayRef<int64_t> a) { return int64_t(cmp(a[0], a[1])); });
}

OpResult logical(Inputs in, llvm::StringRef op) {
  for (const HostTensor *input : in)
    if (!input || input->isFloat())
      return fail("logical ops take bool operands");
  return elementwise(
      in, DType::Bool, [](llvm::ArrayRef<double>) { return 0.0; },
      [op](llvm::ArrayRef<int64_t> a) -> int64_t {
        if (op == "Not")
          return !a[0];
        if (op == "And")
          return a[0] && a[1];
        if (op == "Or")
          return a[0] || a[1];
        return bool(a[0]) != bool(a[1]);
      });
}

OpResult minMax(Inputs in, bool isMax) {
  if (in.empty() || !in[0])
    return fail("expected operands");
  return elementwise(
      in, in[0]->dtype,
      [isMax](llvm::ArrayRef<double> a) {
        return isMax ? *std::max_element(a.begin(), a.end())
                     : *std::min_element(a.begin(), a.end());
      },
      [isMax](llvm::ArrayRef<int64_t> a) {
        return isMax ? *std::max_element(a.begin(), a.end())
                     : *std::min_element(a.begin(), a.end());
      });
}

OpResult unary(Inputs in, llvm::StringRef op) {
  if (in.empty() || !in[0])
    return fail("expected an operand");
  std::function<double(double)> f =
      llvm::StringSwitch<std::function<double(double)>>(op)
          .Case("Cos", [](double x) { return std::cos(x); })
          .Case("Sin", [](double x) { return std::sin(x); })
          .Case("Neg", [](double x) { return -x; })
          .Case("Abs", [](double x) { return std::fabs(x); })
          .Case("Sqrt", [](double x) { return std::sqrt(x); })
          .Case("Reciprocal", [](double x) { return 1.0 / x; })
          .Case("Exp", [](double x) { return std::exp(x); })
          .Case("Floor", [](double x) { return std::floor(x); })
          .Case("Ceil", [](double x) { return std::ceil(x); })
          .Default([](double x) { return x; });
  return elementwise(
      in.take_front(1), in[0]->dtype,
      [&](llvm::ArrayRef<double> a) { return f(a[0]); },
      [&](llvm::ArrayRef<int64_t> a) -> int64_t {
        if (op == "Neg")
          return wrap(0 - uint64_t(a[0]));
        if (op == "Abs")
          return a[0] < 0 ? wrap(0 - uint64_t(a[0])) : a[0];
        return a[0];
      });
}

OpResult where(Inputs in) {
  if (in.size() != 3 || !in[0] || !in[1] || !in[2])
    return fail("expected three operands");
  return elementwise(
      in, in[1]->dtype,
      [](llvm::ArrayRef<double> a) { return a[0] != 0.0 ? a[1] : a[2]; },
      [](llvm::ArrayRef<int64_t> a) { return a[0] ? a[1] : a[2]; });
}

std::optional<DType> castTarget(int64_t onnxType) {
  switch (onnxType) {
  case 1:
    return DType::F32;
  case 2:
    return DType::U8;
  case 3:
    return DType::I8;
  case 5:
    return DType::I16;
  case 6:
    return DType::I32;
  case 7:
    return DType::I64;
  case 9:
    return DType::Bool;
  case 10:
    return DType::F16;
  case 11:
    return DType::F64;
  case 16:
    return DType::BF16;
  default:
    return std::nullopt;
  }
}

OpResult cast(const OnnxNode &node, Inputs in) {
  std::optional<DType> target = castTarget(node.intAttribute("to", 0));
  if (!target || !in[0])
    return fail("unsupported Cast target type " +
                std::to_string(node.intAttribute("to", 0)));
  auto result = makeTensor(*target, in[0]->shape);
  if (!result)
    return result.takeError();
  for (int64_t i = 0, e = result->numElements(); i < e; ++i) {
    if (result->isFloat())
      result->floats[i] = in[0]->floatAt(i);
    else if (*target == DType::Bool)
      result->ints[i] = in[0]->floatAt(i) != 0.0;
    else
      result->ints[i] = in[0]->intAt(i);
  }
  return result;
}

// Copies `index`-selected elements of `source` into a new tensor.
OpResult gatherElements(const HostTensor &source,
                        llvm::ArrayRef<int64_t> shape,
                        const std::function<int64_t(int64_t)> &sourceIndex) {
  auto result = makeTensor(source.dtype, shape);
  if (!result)
    return result.takeError();
  for (int64_t i = 0, e = result->numElements(); i < e; ++i) {
    int64_t from = sourceIndex(i);
    if (result->isFloat())
      result->floats[i] = source.floats[from];
    else
      result->ints[i] = source.ints[from];
  }
  return result;
}

OpResult reshape(const OnnxNode &node, Inputs in) {
  auto target = intsOf(in.size() > 1 ? in[1] : nullptr, "shape");
  if (!target)
    return target.takeError();
  if (!in[0])
    return fail("missing data");
  bool allowZero = node.intAttribute("allowzero", 0) != 0;
  llvm::SmallVector<int64_t, 4> shape;
  int64_t known = 1, inferred = -1;
  for (size_t d = 0; d < target->size(); ++d) {
    int64_t dim = (*target)[d];
    if (dim == 0 && !allowZero) {
      if (d >= in[0]->shape.size())
        return fail("Reshape copies a dimension the input lacks");
      dim = in[0]->shape[d];
    }
    if (dim == -1) {
      if (inferred >= 0)
        return fail("Reshape with two -1 dimensions");
      inferred = d;
      shape.push_back(1);
      continue;
    }
    if (dim < 0)
      return fail("Reshape to negative dimension");
    if (__builtin_mul_overflow(known, dim, &known))
      return fail("Reshape target is too large");
    shape.push_back(dim);
  }
  int64_t count = in[0]->numElements();
  if (inferred >= 0) {
    if (known == 0 || count % known != 0)
      return fail("Reshape cannot infer the -1 dimension");
    shape[inferred] = count / known;
  } else if (known != count) {
    return fail("Reshape from " + shapeText(in[0]->shape) + " to " +
                shapeText(shape) + " changes the element count");
  }
  HostTensor result = *in[0];
  result.shape = shape;
  return result;
}

OpResult transpose(const OnnxNode &node, Inputs in) {
  const HostTensor &x = *in[0];
  int64_t rank = x.shape.size();
  llvm::SmallVector<int64_t, 4> perm(rank);
  if (auto attr = node.intsAttribute("perm"))
    perm = *attr;
  else
    for (int64_t d = 0; d < rank; ++d)
      perm[d] = rank - 1 - d;
  if (static_cast<int64_t>(perm.size()) != rank)
    return fail("Transpose perm does not match the rank");
  llvm::SmallVector<int64_t, 4> sortedPerm(perm);
  llvm::sort(sortedPerm);
  for (int64_t d = 0; d < rank; ++d)
    if (sortedPerm[d] != d)
      return fail("Transpose perm is not a permutation");
  llvm::SmallVector<int64_t, 4> shape(rank);
  for (int64_t d = 0; d < rank; ++d) {
    if (perm[d] < 0 || perm[d] >= rank)
      return fail("Transpose perm out of range");
    shape[d] = x.shape[perm[d]];
  }
  return gatherElements(x, shape, [&](int64_t i) {
    auto index = unflatten(i, shape);
    llvm::SmallVector<int64_t, 4> from(rank);
    for (int64_t d = 0; d < rank; ++d)
      from[perm[d]] = index[d];
    int64_t flat = 0;
    for (int64_t d = 0; d < rank; ++d)
      flat = flat * x.shape[d] + from[d];
    return flat;
  });
}

OpResult unsqueeze(Inputs in) {
  auto axes = intsOf(in.size() > 1 ? in[1] : nullptr, "axes");
  if (!axes)
    return axes.takeError();
  HostTensor result = *in[0];
  int64_t rank = result.shape.size() + axes->size();
  llvm::SmallVector<int64_t, 4> sorted;
  for (int64_t axis : *axes)
    sorted.push_back(normalizeAxis(axis, rank));
  llvm::sort(sorted);
  for (int64_t axis : sorted) {
    if (axis < 0 || axis > static_cast<int64_t>(result.shape.size()))
      return fail("Unsqueeze axis out of range");
    result.shape.insert(result.shape.begin() + axis, 1);
  }
  return result;
}

OpResult squeeze(Inputs in) {
  HostTensor result = *in[0];
  int64_t rank = result.shape.size();
  llvm::SmallVector<bool, 4> drop(rank, false);
  if (in.size() > 1 && in[1]) {
    auto axes = intsOf(in[1], "axes");
    if (!axes)
      return axes.takeError();
    for (int64_t axis : *axes) {
      axis = normalizeAxis(axis, rank);
      if (axis < 0 || axis >= rank || result.shape[axis] != 1)
        return fail("Squeeze axis is not a unit dimension");
      drop[axis] = true;
    }
  } else {
    for (int64_t d = 0; d < rank; ++d)
      drop[d] = result.shape[d] == 1;
  }
  llvm::SmallVector<int64_t, 4> shape;
  for (int64_t d = 0; d < rank; ++d)
    if (!drop[d])
      shape.push_back(result.shape[d]);
  result.shape = shape;
  return result;
}

OpResult concat(const OnnxNode &node, Inputs in) {
  if (in.empty() || !in[0])
    return fail("Concat needs operands");
  int64_t rank = in[0]->shape.size();
  int64_t axis = normalizeAxis(node.intAttribute("axis", 0), rank);
  if (axis < 0 || axis >= rank)
    return fail("Concat axis out of range");
  llvm::SmallVector<int64_t, 4> shape(in[0]->shape);
  shape[axis] = 0;
  for (const HostTensor *part : in) {
    if (!part || static_cast<int64_t>(part->shape.size()) != rank)
      return fail("Concat operands differ in rank");
    for (int64_t d = 0; d < rank; ++d)
      if (d != axis && part->shape[d] != shape[d])
        return fail("Concat operands differ outside the axis");
    shape[axis] += part->shape[axis];
  }
  auto result = makeTensor(in[0]->dtype, shape);
  if (!result)
    return result.takeError();
  for (int64_t i = 0, e = result->numElements(); i < e; ++i) {
    auto index = unflatten(i, shape);
    for (const HostTensor *part : in) {
      if (index[axis] >= part->shape[axis]) {
        index[axis] -= part->shape[axis];
        continue;
      }
      int64_t flat = 0;
      for (int64_t d = 0; d < rank; ++d)
        flat = flat * part->shape[d] + index[d];
      if (result->isFloat())
        result->floats[i] = part->floatAt(flat);
      else
        result->ints[i] = part->intAt(flat);
      break;
    }
  }
  return result;
}

OpResult slice(Inputs in) {
  if (in.size() < 3 || !in[0])
    return fail("Slice needs data, starts and ends");
  const HostTensor &x = *in[0];
  int64_t rank = x.shape.size();
  auto starts = intsOf(in[1], "starts");
  if (!starts)
    return starts.takeError();
  auto ends = intsOf(in[2], "ends");
  if (!ends)
    return ends.takeError();
  llvm::SmallVector<int64_t, 4> axes, steps(starts->size(), 1);
  if (in.size() > 3 && in[3]) {
    auto given = intsOf(in[3], "axes");
    if (!given)
      return given.takeError();
    axes = *given;
  } else {
    for (size_t i = 0; i < starts->size(); ++i)
      axes.push_back(i);
  }
  if (in.size() > 4 && in[4]) {
    auto given = intsOf(in[4], "steps");
    if (!given)
      return given.takeError();
    steps = *given;
  }
  if (axes.size() != starts->size() || ends->size() != starts->size() ||
      steps.size() != starts->size())
    return fail("Slice parameter lengths differ");

  llvm::SmallVector<int64_t, 4> begin(rank, 0), step(rank, 1), shape(x.shape);
  for (size_t i = 0; i < axes.size(); ++i) {
    int64_t axis = normalizeAxis(axes[i], rank);
    if (axis < 0 || axis >= rank || steps[i] == 0)
      return fail("Slice axis out of range or zero step");
    int64_t dim = x.shape[axis];
    auto clampIndex = [&](int64_t value, int64_t lo, int64_t hi) {
      if (value < 0)
        value = value < -dim ? lo : value + dim;
      return std::clamp(value, lo, hi);
    };
    int64_t s, e;
    if (steps[i] > 0) {
      s = clampIndex((*starts)[i], 0, dim);
      e = clampIndex((*ends)[i], 0, dim);
    } else {
      s = clampIndex((*starts)[i], -1, dim - 1);
      e = clampIndex((*ends)[i], -1, dim - 1);
    }
    int64_t count =
        steps[i] > 0 ? std::max<int64_t>(0, (e - s + steps[i] - 1) / steps[i])
                     : std::max<int64_t>(0, (s - e - steps[i] - 1) / -steps[i]);
    begin[axis] = s;
    step[axis] = steps[i];
    shape[axis] = count;
  }
  return gatherElements(x, shape, [&](int64_t i) {
    auto index = unflatten(i, shape);
    int64_t flat = 0;
    for (int64_t d = 0; d < rank; ++d)
      flat = flat * x.shape[d] + begin[d] + index[d] * step[d];
    return flat;
  });
}

OpResult gather(const OnnxNode &node, Inputs in) {
  if (in.size() != 2 || !in[0] || !in[1])
    return fail("Gather needs data and indices");
  const HostTensor &x = *in[0], &indices = *in[1];
  int64_t rank = x.shape.size();
  int64_t axis = normalizeAxis(node.intAttribute("axis", 0), rank);
  if (axis < 0 || axis >= rank)
    return fail("Gather axis out of range");
  llvm::SmallVector<int64_t, 4> shape(x.shape.begin(), x.shape.begin() + axis);
  shape.append(indices.shape.begin(), indices.shape.end());
  shape.append(x.shape.begin() + axis + 1, x.shape.end());
  int64_t indexRank = indices.shape.size();
  for (int64_t i = 0, e = indices.numElements(); i < e; ++i) {
    int64_t at = indices.intAt(i);
    if (at < -x.shape[axis] || at >= x.shape[axis])
      return fail("Gather index out of range");
  }
  return gatherElements(x, shape, [&](int64_t i) {
    auto index = unflatten(i, shape);
    llvm::SmallVector<int64_t, 4> indexPos(index.begin() + axis,
                                           index.begin() + axis + indexRank);
    int64_t flatIndex = 0;
    for (int64_t d = 0; d < indexRank; ++d)
      flatIndex = flatIndex * indices.shape[d] + indexPos[d];
    int64_t at = indices.intAt(flatIndex);
    if (at < 0)
      at += x.shape[axis];
    int64_t flat = 0;
    for (int64_t d = 0; d < rank; ++d) {
      int64_t coord = d < axis    ? index[d]
                      : d == axis ? at
                                  : index[d - 1 + indexRank];
      flat = flat * x.shape[d] + coord;
    }
    return flat;
  });
}

OpResult gatherND(const OnnxNode &node, Inputs in) {
  if (in.size() != 2 || !in[0] || !in[1])
    return fail("GatherND needs data and indices");
  if (node.intAttribute("batch_dims", 0) != 0)
    return fail("GatherND with batch_dims is not supported");
  const HostTensor &x = *in[0], &indices = *in[1];
  if (indices.shape.empty())
    return fail("GatherND indices must have rank >= 1");
  int64_t depth = indices.shape.back();
  int64_t rank = x.shape.size();
  if (depth > rank)
    return fail("GatherND index depth exceeds the data rank");
  llvm::SmallVector<int64_t, 4> shape(indices.shape.begin(),
                                      indices.shape.end() - 1);
  shape.append(x.shape.begin() + depth, x.shape.end());
  int64_t tail = 1;
  for (int64_t d = depth; d < rank; ++d)
    tail *= x.shape[d];
  for (int64_t i = 0, e = indices.numElements(); i < e; ++i) {
    int64_t d = i % depth, at = indices.intAt(i);
    if (at < -x.shape[d] || at >= x.shape[d])
      return fail("GatherND index out of range");
  }
  return gatherElements(x, shape, [&](int64_t i) {
    int64_t tuple = i / tail, within = i % tail;
    int64_t flat = 0;
    for (int64_t d = 0; d < depth; ++d) {
      int64_t at = indices.intAt(tuple * depth + d);
      flat = flat * x.shape[d] + (at < 0 ? at + x.shape[d] : at);
    }
    return flat * tail + within;
  });
}

OpResult expand(Inputs in) {
  auto target = intsOf(in.size() > 1 ? in[1] : nullptr, "shape");
  if (!target)
    return target.takeError();
  if (!in[0])
    return fail("missing data");
  auto shape = broadcastShapes({llvm::ArrayRef<int64_t>(in[0]->shape),
                                llvm::ArrayRef<int64_t>(*target)});
  if (!shape)
    return shape.takeError();
  const HostTensor &x = *in[0];
  return gatherElements(x, *shape, [&](int64_t i) {
    return broadcastFlat(unflatten(i, *shape), x.shape);
  });
}

OpResult range(Inputs in) {
  if (in.size() != 3)
    return fail("Range needs start, limit and delta");
  auto start = scalarOf(in[0], "start");
  if (!start)
    return start.takeError();
  auto limit = scalarOf(in[1], "limit");
  if (!limit)
    return limit.takeError();
  auto delta = scalarOf(in[2], "delta");
  if (!delta)
    return delta.takeError();
  if (*delta == 0.0)
    return fail("Range with zero delta");
  double steps = std::ceil((*limit - *start) / *delta);
  if (!(steps <= double(OnnxConstantEvaluator::kMaxElements)))
    return fail("Range is longer than the evaluator allows");
  int64_t count = steps > 0 ? static_cast<int64_t>(steps) : 0;
  auto result = makeTensor(in[0]->dtype, {count});
  if (!result)
    return result.takeError();
  for (int64_t i = 0; i < count; ++i) {
    if (result->isFloat())
      result->floats[i] = *start + i * *delta;
    else
      result->ints[i] = wrap(uint64_t(in[0]->intAt(0)) +
                             uint64_t(i) * uint64_t(in[2]->intAt(0)));
  }
  return result;
}

OpResult cumSum(const OnnxNode &node, Inputs in) {
  if (in.size() != 2 || !in[0])
    return fail("CumSum needs data and axis");
  auto axisValue = scalarOf(in[1], "axis");
  if (!axisValue)
    return axisValue.takeError();
  const HostTensor &x = *in[0];
  int64_t rank = x.shape.size();
  int64_t axis = normalizeAxis(saturatingToInt64(*axisValue), rank);
  if (axis < 0 || axis >= rank)
    return fail("CumSum axis out of range");
  bool exclusive = node.intAttribute("exclusive", 0) != 0;
  bool reverse = node.intAttribute("reverse", 0) != 0;
  HostTensor result = HostTensor::zeros(x.dtype, x.shape);
  int64_t inner = 1;
  for (int64_t d = axis + 1; d < rank; ++d)
    inner *= x.shape[d];
  int64_t length = x.shape[axis];
  int64_t outer = length ? x.numElements() / (length * inner) : 0;
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t n = 0; n < inner; ++n) {
      double fsum = 0;
      int64_t isum = 0;
      for (int64_t k = 0; k < length; ++k) {
        int64_t pos = reverse ? length - 1 - k : k;
        int64_t flat = (o * length + pos) * inner + n;
        if (exclusive) {
          if (x.isFloat())
            result.floats[flat] = fsum;
          else
            result.ints[flat] = isum;
        }
        fsum += x.floatAt(flat);
        isum = x.isFloat() ? 0 : wrap(uint64_t(isum) + uint64_t(x.ints[flat]));
        if (!exclusive) {
          if (x.isFloat())
            result.floats[flat] = fsum;
          else
            result.ints[flat] = isum;
        }
      }
    }
  return result;
}

OpResult matMul(Inputs in) {
  if (in.size() != 2 || !in[0] || !in[1])
    return fail("MatMul needs two operands");
  const HostTensor &a = *in[0], &b = *in[1];
  if (a.shape.size() < 2 || b.shape.size() < 2)
    return fail("MatMul of vectors is not supported");
  int64_t m = a.shape[a.shape.size() - 2], k = a.shape.back(),
          n = b.shape.back();
  if (b.shape[b.shape.size() - 2] != k)
    return fail("MatMul inner dimensions differ");
  llvm::ArrayRef<int64_t> aBatch(a.shape.begin(), a.shape.end() - 2),
      bBatch(b.shape.begin(), b.shape.end() - 2);
  auto batch = broadcastShapes({aBatch, bBatch});
  if (!batch)
    return batch.takeError();
  llvm::SmallVector<int64_t, 4> shape(*batch);
  shape.push_back(m);
  shape.push_back(n);
  auto result = makeTensor(a.dtype, shape);
  if (!result)
    return result.takeError();
  int64_t batches = 1;
  for (int64_t dim : *batch)
    batches *= dim;
  for (int64_t t = 0; t < batches; ++t) {
    auto index = unflatten(t, *batch);
    int64_t aBase = broadcastFlat(index, aBatch) * m * k;
    int64_t bBase = broadcastFlat(index, bBatch) * k * n;
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double sum = 0;
        for (int64_t p = 0; p < k; ++p)
          sum += a.floatAt(aBase + i * k + p) * b.floatAt(bBase + p * n + j);
        int64_t flat = (t * m + i) * n + j;
        if (result->isFloat())
          result->floats[flat] = sum;
        else
          result->ints[flat] = saturatingToInt64(sum);
      }
  }
  return result;
}

OpResult trilu(const OnnxNode &node, Inputs in) {
  if (in.empty() || !in[0] || in[0]->shape.size() < 2)
    return fail("Trilu needs a matrix");
  int64_t k = 0;
  if (in.size() > 1 && in[1]) {
    auto value = scalarOf(in[1], "k");
    if (!value)
      return value.takeError();
    k = saturatingToInt64(*value);
  }
  bool upper = node.intAttribute("upper", 1) != 0;
  HostTensor result = *in[0];
  int64_t rows = result.shape[result.shape.size() - 2],
          cols = result.shape.back();
  for (int64_t i = 0, e = result.numElements(); i < e; ++i) {
    int64_t col = i % cols, row = (i / cols) % rows;
    bool keep = upper ? col - row >= k : col - row <= k;
    if (keep)
      continue;
    if (result.isFloat())
      result.floats[i] = 0;
    else
      result.ints[i] = 0;
  }
  return result;
}

OpResult constantOfShape(const OnnxNode &node, Inputs in) {
  auto shape = intsOf(in.empty() ? nullptr : in[0], "shape");
  if (!shape)
    return shape.takeError();
  HostTensor fill = HostTensor::zeros(DType::F32, {1});
  if (const OnnxAttribute *value = node.attribute("value")) {
    if (!value->tensor)
      return fail("ConstantOfShape value must be a tensor");
    auto decoded = decodeHostTensor(*value->tensor, 1);
    if (!decoded)
      return decoded.takeError();
    fill = std::move(*decoded);
  }
  auto result = makeTensor(fill.dtype, *shape);
  if (!result)
    return result.takeError();
  if (result->isFloat())
    std::fill(result->floats.begin(), result->floats.end(), fill.floatAt(0));
  else
    std::fill(result->ints.begin(), result->ints.end(), fill.intAt(0));
  return result;
}

OpResult dispatch(const OnnxNode &node, Inputs in) {
  llvm::StringRef op = node.opType;
  if (op == "Add")
    return binaryArith(in, '+');
  if (op == "Sub")
    return binaryArith(in, '-');
  if (op == "Mul")
    return binaryArith(in, '*');
  if (op == "Div")
    return binaryArith(in, '/');
  if (op == "Pow")
    return binaryArith(in, '^');
  if (op == "Equal" || op == "Less" || op == "LessOrEqual" ||
      op == "Greater" || op == "GreaterOrEqual")
    return compare(in, op);
  if (op == "And" || op == "Or" || op == "Xor" || op == "Not")
    return logical(in, op);
  if (op == "Max" || op == "Min")
    return minMax(in, op == "Max");
  if (op == "Cos" || op == "Sin" || op == "Neg" || op == "Abs" ||
      op == "Sqrt" || op == "Reciprocal" || op == "Exp" || op == "Floor" ||
      op == "Ceil")
    return unary(in, op);
  if (op == "Identity")
    return *in[0];
  if (op == "Where")
    return where(in);
  if (op == "Cast")
    return cast(node, in);
  if (op == "Reshape")
    return reshape(node, in);
  if (op == "Transpose")
    return transpose(node, in);
  if (op == "Unsqueeze")
    return unsqueeze(in);
  if (op == "Squeeze")
    return squeeze(in);
  if (op == "Concat")
    return concat(node, in);
  if (op == "Slice")
    return slice(in);
  if (op == "Gather")
    return gather(node, in);
  if (op == "GatherND")
    return gatherND(node, in);
  if (op == "Expand")
    return expand(in);
  if (op == "Range")
    return range(in);
  if (op == "CumSum")
    return cumSum(node, in);
  if (op == "MatMul")
    return matMul(in);
  if (op == "Trilu")
    return trilu(node, in);
  if (op == "ConstantOfShape")
    return constantOfShape(node, in);
  return fail("op " + node.opType + " cannot be evaluated");
}

} // namespace

llvm::Error OnnxConstantEvaluator::evaluateNode(const OnnxNode &node) {
  if (!node.domain.empty())
    return fail("op " + node.domain + "." + node.opType +
                " cannot be evaluated");
  if (node.outputs.size() != 1)
    return fail("op " + node.opType + " with several outputs cannot be "
                "evaluated");

  if (node.opType == "Shape" || node.opType == "Size") {
    if (node.inputs.empty())
      return fail("Shape needs an operand");
    llvm::SmallVector<int64_t, 4> dims;
    llvm::StringRef source = node.inputs[0];
    auto input = llvm::find_if(graph.inputs, [&](const OnnxValueInfo &info) {
      return info.name == source;
    });
    if (input != graph.inputs.end()) {
      if (!input->hasShape)
        return fail("graph input '" + source + "' has no shape");
      for (size_t d = 0; d < input->dims.size(); ++d)
        dims.push_back(input->dims[d] >= 0 ? input->dims[d]
                       : d + 1 == input->dims.size() ? sequenceLength
                                                     : 1);
    } else if (graph.isShapeOnly(source)) {
      auto value = evaluate(source);
      if (!value)
        return value.takeError();
      dims = (*value)->shape;
    } else {
      return fail("the shape of activation '" + source +
                  "' is not known to the importer");
    }
    HostTensor result;
    if (node.opType == "Size") {
      int64_t count = 1;
      for (int64_t dim : dims)
        count *= dim;
      result = HostTensor::zeros(DType::I64, {});
      result.ints[0] = count;
    } else {
      int64_t rank = dims.size();
      int64_t start = std::clamp<int64_t>(
          normalizeAxis(node.intAttribute("start", 0), rank), 0, rank);
      int64_t end = std::clamp<int64_t>(
          normalizeAxis(node.intAttribute("end", rank), rank), 0, rank);
      result = HostTensor::zeros(DType::I64, {std::max<int64_t>(0, end - start)});
      for (int64_t d = start; d < end; ++d)
        result.ints[d - start] = dims[d];
    }
    values[node.outputs[0]] = std::move(result);
    return llvm::Error::success();
  }

  llvm::SmallVector<const HostTensor *, 4> inputs;
  for (const std::string &name : node.inputs) {
    if (name.empty()) {
      inputs.push_back(nullptr);
      continue;
    }
    auto value = values.find(name);
    if (value == values.end())
      return fail("operand '" + name + "' was not evaluated");
    inputs.push_back(&value->second);
  }
  // Every op evaluated here requires its first operand.
  if (inputs.empty() || !inputs[0])
    return fail("op " + node.opType + " is missing its first operand");
  OpResult result = dispatch(node, inputs);
  if (!result)
    return result.takeError();
  if (!checkedCount(result->shape))
    return fail("result too large");
  values[node.outputs[0]] = std::move(*result);
  return llvm::Error::success();
}

llvm::Expected<const HostTensor *>
OnnxConstantEvaluator::evaluate(llvm::StringRef name) {
  auto cached = values.find(name);
  if (cached != values.end())
    return &cached->second;
  if (!graph.isShapeOnly(name))
    return fail("value '" + name + "' depends on the model's activations");

  // Collect the nodes `name` depends on without recursion (a hostile graph
  // may chain thousands of nodes), then run them in graph order.
  llvm::SmallVector<size_t, 16> needed;
  llvm::SmallVector<std::string, 16> worklist = {name.str()};
  llvm::DenseSet<size_t> seen;
  while (!worklist.empty()) {
    std::string value = worklist.pop_back_val();
    if (values.count(value))
      continue;
    if (const OnnxTensorData *data = graph.constant(value)) {
      auto decoded = decodeHostTensor(*data, kMaxElements);
      if (!decoded)
        return decoded.takeError();
      values[value] = std::move(*decoded);
      continue;
    }
    const OnnxNode *node = graph.producer(value);
    if (!node)
      return fail("value '" + value + "' has no producer");
    if (!seen.insert(node->index).second)
      continue;
    needed.push_back(node->index);
    bool isShape = node->opType == "Shape" || node->opType == "Size";
    for (const std::string &input : node->inputs)
      if (!input.empty() && (!isShape || graph.isShapeOnly(input)))
        worklist.push_back(input);
  }
  llvm::sort(needed);
  for (size_t index : needed) {
    const OnnxNode &node = graph.nodes[index];
    if (llvm::Error error = evaluateNode(node))
      return fail("cannot evaluate node '" + node.displayName() + "' (" +
                  node.opType + "): " + llvm::toString(std::move(error)));
  }
  return &values.find(name)->second;
}
