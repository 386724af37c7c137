//===- OnnxEvaluatorLayoutOps.cpp - Data-movement evaluator kernels -------===//

#include "OnnxConstantEvaluator.h"
#include "OnnxEvaluatorOps.h"

#include "llvm/ADT/STLExtras.h"

#include <algorithm>
#include <cmath>
#include <functional>

using namespace qtc;
using namespace qtc::eval;

namespace {

// Copies `index`-selected elements of `source` into a new tensor.
OpResult gatherElements(const HostTensor &source, llvm::ArrayRef<int64_t> shape,
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

} // namespace

OpResult qtc::eval::reshape(const OnnxNode &node, Inputs in) {
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

OpResult qtc::eval::transpose(const OnnxNode &node, Inputs in) {
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

OpResult qtc::eval::unsqueeze(Inputs in) {
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

OpResult qtc::eval::squeeze(Inputs in) {
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

OpResult qtc::eval::concat(const OnnxNode &node, Inputs in) {
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

OpResult qtc::eval::slice(Inputs in) {
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

OpResult qtc::eval::gather(const OnnxNode &node, Inputs in) {
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

OpResult qtc::eval::gatherND(const OnnxNode &node, Inputs in) {
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

OpResult qtc::eval::expand(Inputs in) {
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

OpResult qtc::eval::range(Inputs in) {
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

OpResult qtc::eval::cumSum(const OnnxNode &node, Inputs in) {
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

OpResult qtc::eval::matMul(Inputs in) {
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

OpResult qtc::eval::trilu(const OnnxNode &node, Inputs in) {
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

OpResult qtc::eval::constantOfShape(const OnnxNode &node, Inputs in) {
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
