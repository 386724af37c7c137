//===- OnnxEvaluatorIndexing.cpp - Shapes and indices of evaluated tensors ===//

#include "OnnxConstantEvaluator.h"
#include "OnnxEvaluatorOps.h"

using namespace qtc;

namespace qtc::eval {

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

llvm::SmallVector<int64_t, 4> unflatten(int64_t flat,
                                        llvm::ArrayRef<int64_t> shape) {
  llvm::SmallVector<int64_t, 4> index(shape.size());
  for (int64_t d = static_cast<int64_t>(shape.size()) - 1; d >= 0; --d) {
    index[d] = shape[d] ? flat % shape[d] : 0;
    flat = shape[d] ? flat / shape[d] : 0;
  }
  return index;
}

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

llvm::Expected<llvm::SmallVector<int64_t, 4>> intsOf(const HostTensor *tensor,
                                                     llvm::StringRef what) {
  if (!tensor)
    return fail("missing input '" + what + "'");
  llvm::SmallVector<int64_t, 4> values;
  for (int64_t i = 0, e = tensor->numElements(); i < e; ++i)
    values.push_back(tensor->intAt(i));
  return values;
}

llvm::Expected<double> scalarOf(const HostTensor *tensor,
                                llvm::StringRef what) {
  if (!tensor || tensor->numElements() != 1)
    return fail("input '" + what + "' must be a scalar");
  return tensor->floatAt(0);
}

int64_t wrap(uint64_t value) { return static_cast<int64_t>(value); }

} // namespace qtc::eval
