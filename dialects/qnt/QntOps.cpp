//===- QntOps.cpp - qnt operation verifiers -------------------------------===//

#include "dialects/qnt/QntOps.h"

#include "dialects/SizeDiagnostics.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"
#include "llvm/Support/MathExtras.h"

using namespace mlir;
using namespace qtc;
using namespace qtc::qnt;

namespace {

/// quantize and dequantize keep the shape and the original element type.
LogicalResult verifySameWeight(Operation *op, RankedTensorType tensor,
                               WeightType weight) {
  if (tensor.getShape() != weight.getShape())
    return op->emitOpError("quantized weight shape (")
           << weight.getOutFeatures() << "x" << weight.getInFeatures()
           << ") must equal the tensor shape (" << tensor << ")";
  if (tensor.getElementType() != weight.getElementType())
    return op->emitOpError("quantized weight element type (")
           << weight.getElementType()
           << ") must equal the tensor element type ("
           << tensor.getElementType() << ")";
  return success();
}

/// Checks an encoding against the tensor it applies to, prefixing its
/// messages with `role` ("key encoding: ...").
LogicalResult verifyEncodingForShape(Operation *op, StringRef role,
                                     EncodingAttr encoding,
                                     ArrayRef<int64_t> shape) {
  return encoding.verifyForShape(
      [&] { return op->emitOpError() << role << " encoding: "; }, shape);
}

/// Shared by kv_store and kv_load: [tokens, channels] keys and values of one
/// layer, encoded by the scheme.
LogicalResult verifyKvAccess(Operation *op, int64_t layer,
                             KvSchemeAttr scheme, RankedTensorType key,
                             RankedTensorType value) {
  if (layer < 0)
    return op->emitOpError("layer must be non-negative (got ") << layer << ")";
  if (failed(expectSize(op, "value rows", value.getDimSize(0), "key rows",
                        key.getDimSize(0))) ||
      failed(verifyEncodingForShape(op, "key", scheme.getKey(),
                                    key.getShape())))
    return failure();
  return verifyEncodingForShape(op, "value", scheme.getValue(),
                                value.getShape());
}

} // namespace

//===----------------------------------------------------------------------===//
// Weights
//===----------------------------------------------------------------------===//

LogicalResult QuantizeOp::verify() {
  return verifySameWeight(*this, getInput().getType(), getResult().getType());
}

LogicalResult QuantizedWeightOp::verify() {
  if (getName().empty())
    return emitOpError("name must not be empty");
  if (getMethod().empty())
    return emitOpError("method must not be empty");
  if (getMaxAbsError().convertToFloat() < 0)
    return emitOpError("max_abs_error must be non-negative");
  WeightType type = getResult().getType();
  return verifyEncodingForShape(*this, "weight", type.getEncoding(),
                                type.getShape());
}

LogicalResult DequantizeOp::verify() {
  return verifySameWeight(*this, getResult().getType(), getInput().getType());
}

LogicalResult QLinearOp::verify() {
  auto input = getInput().getType(), result = getResult().getType();
  WeightType weight = getWeight().getType();
  EncodingAttr encoding = weight.getEncoding();
  if (encoding.getGranularity() != Granularity::per_tensor &&
      encoding.getAxis() != 1)
    return emitOpError("weight scales must span the input dimension "
                       "(encoding axis 1, got ")
           << encoding.getAxis() << ")";
  if (failed(expectSize(*this, "weight input width", weight.getInFeatures(),
                        "the input width", input.getDimSize(1))) ||
      failed(expectSize(*this, "result width", result.getDimSize(1),
                        "the weight output width", weight.getOutFeatures())) ||
      failed(expectSize(*this, "result rows", result.getDimSize(0),
                        "the input rows", input.getDimSize(0))))
    return failure();
  if (getBias())
    return expectSize(*this, "bias length", getBias().getType().getDimSize(0),
                      "the weight output width", weight.getOutFeatures());
  return success();
}

LogicalResult SplitOutliersOp::verify() {
  ArrayRef<int64_t> columns = getColumns();
  auto weight = getWeight().getType();
  if (columns.empty())
    return emitOpError("columns must not be empty");
  for (size_t i = 1; i < columns.size(); ++i)
    if (columns[i] <= columns[i - 1])
      return emitOpError("columns must be strictly increasing (")
             << columns[i] << " follows " << columns[i - 1] << ")";
  int64_t inColumns = weight.getDimSize(1);
  if (columns.front() < 0 ||
      (!ShapedType::isDynamic(inColumns) && columns.back() >= inColumns))
    return emitOpError("columns must lie in [0, ")
           << sizeText(inColumns) << ")";
  if (getDense().getType() != weight)
    return emitOpError("dense result type (")
           << getDense().getType() << ") must equal the weight type ("
           << weight << ")";
  auto expectedOutliers = RankedTensorType::get(
      {weight.getDimSize(0), static_cast<int64_t>(columns.size())},
      weight.getElementType());
  if (getOutliers().getType() != expectedOutliers)
    return emitOpError("outliers type (")
           << getOutliers().getType() << ") must be " << expectedOutliers;
  return success();
}

//===----------------------------------------------------------------------===//
// Rotations
//===----------------------------------------------------------------------===//

LogicalResult HadamardOp::verify() {
  auto input = getInput().getType();
  if (input.getRank() == 0)
    return emitOpError("input must have at least one dimension");
  auto size = static_cast<int64_t>(getSize());
  if (size < 2 || !llvm::isPowerOf2_64(size))
    return emitOpError("size (") << size << ") must be a power of two, at "
                                            "least 2";
  int64_t width = input.getDimSize(input.getRank() - 1);
  if (!ShapedType::isDynamic(width) && width % size != 0)
    return emitOpError("size (")
           << size << ") must divide the last dimension (" << width << ")";
  return success();
}

LogicalResult RotateOp::verify() {
  auto matrix = getMatrix().getType();
  if (!sizesAgree(matrix.getDimSize(0), matrix.getDimSize(1)))
    return emitOpError("rotation matrix must be square (got ")
           << matrix << ")";
  return expectSize(*this, "rotation size", matrix.getDimSize(0),
                    "the input width", getInput().getType().getDimSize(1));
}

//===----------------------------------------------------------------------===//
// Activations
//===----------------------------------------------------------------------===//

LogicalResult QuantizeActOp::verify() {
  auto input = getInput().getType();
  EncodingAttr encoding = getEncoding();
  Granularity granularity = encoding.getGranularity();
  if (granularity == Granularity::per_channel)
    return emitOpError("activations are quantized per_tensor, per_token or "
                       "per_group, not per_channel");
  if (granularity != Granularity::per_tensor) {
    int64_t lastDim = input.getRank() - 1;
    if (encoding.getAxis() != lastDim)
      return emitOpError("per_token and per_group scales span the last "
                         "dimension: encoding axis must be ")
             << lastDim << " (got " << encoding.getAxis() << ")";
    if (failed(verifyEncodingForShape(*this, "activation", encoding,
                                      input.getShape())))
      return failure();
  }
  if (std::optional<APFloat> scale = getScale()) {
    if (granularity != Granularity::per_tensor)
      return emitOpError("a static scale needs per_tensor granularity");
    if (!(scale->convertToFloat() > 0.0f))
      return emitOpError("scale must be positive (got ")
             << scale->convertToFloat() << ")";
  }
  return success();
}

//===----------------------------------------------------------------------===//
// KV cache
//===----------------------------------------------------------------------===//

LogicalResult KvStoreOp::verify() {
  auto key = getKey().getType();
  if (failed(verifyKvAccess(*this, static_cast<int64_t>(getLayer()),
                            getScheme(), key, getValue().getType())))
    return failure();
  return expectSize(*this, "positions length",
                    getPositions().getType().getDimSize(0), "key rows",
                    key.getDimSize(0));
}

LogicalResult KvLoadOp::verify() {
  return verifyKvAccess(*this, static_cast<int64_t>(getLayer()), getScheme(),
                        getKey().getType(), getValue().getType());
}

#define GET_OP_CLASSES
#include "dialects/qnt/QntOps.cpp.inc"
