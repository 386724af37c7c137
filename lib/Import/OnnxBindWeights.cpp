//===- OnnxBindWeights.cpp - The bound model's weights --------------------===//

#include "OnnxBindWeights.h"

#include "OnnxRaiseSupport.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"

#include <cstring>

using namespace mlir;
using namespace qtc;

namespace {

std::optional<DType> dtypeOf(Type t) {
  if (t.isF32())
    return DType::F32;
  if (t.isF16())
    return DType::F16;
  if (t.isBF16())
    return DType::BF16;
  if (t.isF64())
    return DType::F64;
  return std::nullopt;
}

/// Registers `name` as `source`'s rows in permuted order, produced in row
/// ranges when read (a deferred tensor: a 7B model's q/k weights are not
/// held twice).
bool addPermuted(WeightStore &store, StringRef name, const WeightRef &ref,
                 const WeightSource &source) {
  size_t es = dtypeByteSize(ref.dtype);
  bool matrix = ref.shape.size() == 2;
  int64_t rows = source.transposed ? ref.shape[1] : ref.shape[0];
  int64_t cols = matrix ? (source.transposed ? ref.shape[0] : ref.shape[1]) : 1;
  if ((!matrix && ref.shape.size() != 1) ||
      int64_t(source.permutation.size()) != rows)
    return false;
  for (int64_t from : source.permutation)
    if (from < 0 || from >= rows)
      return false;
  SmallVector<int64_t, 2> shape = matrix ? SmallVector<int64_t, 2>{rows, cols}
                                         : SmallVector<int64_t, 2>{rows};
  DeferredWeight deferred;
  deferred.byteSize = uint64_t(rows * cols) * es;
  deferred.granule = uint64_t(cols) * es;
  const char *in = static_cast<const char *>(ref.data);
  std::vector<int64_t> perm(source.permutation.begin(), source.permutation.end());
  bool transposed = source.transposed;
  deferred.produce = [=](uint64_t offset,
                         MutableArrayRef<uint8_t> out) -> llvm::Error {
    int64_t first = int64_t(offset / (uint64_t(cols) * es));
    int64_t count = int64_t(out.size() / (uint64_t(cols) * es));
    for (int64_t r = 0; r < count; ++r)
      for (int64_t c = 0; c < cols; ++c) {
        int64_t from = perm[first + r];
        int64_t at = transposed ? c * rows + from : from * cols + c;
        std::memcpy(out.data() + size_t(r * cols + c) * es,
                    in + size_t(at) * es, es);
      }
    return llvm::Error::success();
  };
  return store.addDeferred(name, ref.dtype, shape, std::move(deferred));
}

} // namespace

FailureOr<WeightSource> qtc::weightSourceOf(Value w, Operation *user) {
  if (auto c = w.getDefiningOp<onnxir::ConstantOp>())
    return WeightSource{c, false, {}};
  if (auto t = w.getDefiningOp<onnxir::TransposeOp>())
    if (auto c = t.getInput().getDefiningOp<onnxir::ConstantOp>())
      if (t.getPerm() == ArrayRef<int64_t>{1, 0})
        return WeightSource{c, true, {}};
  return user->emitError() << "cannot bind the raised decoder to tfm.model: "
                           << "the weight of " << describeNode(user)
                           << " is not an initializer";
}

LogicalResult qtc::registerBoundWeight(WeightStore &store, StringRef name,
                                       const WeightSource &source) {
  onnxir::ConstantOp constant = source.constant;
  if (store.contains(name))
    return constant.emitError()
           << "two weights of the model are named '" << name << "'";
  auto type = cast<RankedTensorType>(constant.getType());
  std::optional<DType> dtype = dtypeOf(type.getElementType());
  if (!dtype)
    return constant.emitError() << "cannot bind weight '" << name
                                << "': element type " << type.getElementType()
                                << " is not a float type";
  WeightRef ref;
  ref.dtype = *dtype;
  ref.shape.assign(type.getShape().begin(), type.getShape().end());
  Attribute value = constant.getValue();
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(value)) {
    AsmResourceBlob *blob = resource.getRawHandle().getBlob();
    if (!blob)
      return constant.emitError()
             << "cannot bind weight '" << name << "': its bytes are gone";
    ArrayRef<char> bytes = blob->getData();
    ref.data = bytes.data();
    ref.byteSize = bytes.size();
  } else if (auto dense = dyn_cast<DenseElementsAttr>(value)) {
    // Inline (a splat holds one element): the store keeps a full copy.
    ArrayRef<char> raw = dense.getRawData();
    auto bytes = std::make_unique<std::string>();
    if (dense.isSplat())
      for (int64_t i = 0; i < type.getNumElements(); ++i)
        bytes->append(raw.data(), raw.size());
    else
      bytes->assign(raw.data(), raw.size());
    StringRef kept = store.adoptBytes(std::move(bytes));
    ref.data = kept.data();
    ref.byteSize = kept.size();
  } else {
    return constant.emitError() << "cannot bind weight '" << name
                                << "': it is not stored as a dense tensor";
  }
  if (ref.byteSize != size_t(type.getNumElements()) * dtypeByteSize(ref.dtype))
    return constant.emitError() << "cannot bind weight '" << name << "': "
                                << ref.byteSize << " bytes for its type";
  bool added;
  if (!source.permutation.empty()) {
    if (!addPermuted(store, name, ref, source))
      return constant.emitError()
             << "cannot bind weight '" << name
             << "': the row permutation does not fit its shape";
    added = true;
  } else {
    added = source.transposed ? store.addTransposed(name, ref)
                              : store.add(name, ref);
  }
  if (!added)
    return constant.emitError()
           << "two weights of the model are named '" << name << "'";
  return success();
}
