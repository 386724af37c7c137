//===- OnnxConvertSupport.h - What a node conversion sees -------*- C++ -*-===//
//
// The view of an onnx.node that the conversions of qtc-onnx-convert-nodes
// read (OnnxConvertNodes.cpp: the default domain's operators and the table;
// OnnxConvertMicrosoft.cpp: onnxruntime's com.microsoft fused ops), and the
// fold-as-built helper they build typed ops with.
//
//===----------------------------------------------------------------------===//

#ifndef QTC_LIB_IMPORT_ONNXCONVERTSUPPORT_H
#define QTC_LIB_IMPORT_ONNXCONVERTSUPPORT_H

#include "dialects/onnx/OnnxOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"

#include <optional>
#include <string>

namespace qtc::onnxconvert {

using namespace mlir;
using namespace qtc::onnxir;

constexpr int64_t kDyn = ShapedType::kDynamic;
using Dims = SmallVector<int64_t, 4>;

//===----------------------------------------------------------------------===//
// What a conversion sees
//===----------------------------------------------------------------------===//

class Node {
public:
  Node(NodeOp op, int64_t opset, OpBuilder &b) : op(op), opset(opset), b(b) {}

  mutable NodeOp op;
  int64_t opset;
  OpBuilder &b;

  Location loc() const { return op.getLoc(); }
  StringRef type() const { return op.getOpType(); }

  /// The `i`-th input, or null when omitted (absent or past the end).
  Value input(unsigned i) const {
    if (i >= op.getNumOperands())
      return {};
    Value v = op.getOperand(i);
    return isa<NoneType>(v.getType()) ? Value() : v;
  }
  unsigned numInputs() const { return op.getNumOperands(); }

  std::optional<int64_t> intAttr(StringRef name) const {
    if (auto a = dyn_cast_or_null<IntegerAttr>(op.getAttrs().get(name)))
      return a.getInt();
    return std::nullopt;
  }
  int64_t intAttr(StringRef name, int64_t fallback) const {
    return intAttr(name).value_or(fallback);
  }
  float floatAttr(StringRef name, float fallback) const {
    if (auto a = dyn_cast_or_null<FloatAttr>(op.getAttrs().get(name)))
      return float(a.getValueAsDouble());
    return fallback;
  }
  std::optional<SmallVector<int64_t>> intsAttr(StringRef name) const {
    auto a = dyn_cast_or_null<ArrayAttr>(op.getAttrs().get(name));
    if (!a)
      return std::nullopt;
    SmallVector<int64_t> out;
    for (Attribute e : a)
      if (auto i = dyn_cast<IntegerAttr>(e))
        out.push_back(i.getInt());
    return out;
  }
  StringRef stringAttr(StringRef name, StringRef fallback) const {
    if (auto a = dyn_cast_or_null<StringAttr>(op.getAttrs().get(name)))
      return a.getValue();
    return fallback;
  }

  InFlightDiagnostic error() const {
    return mlir::emitError(loc())
           << "ONNX node '" << nodeName() << "' (" << qualifiedType() << "): ";
  }
  std::string nodeName() const {
    if (auto name = dyn_cast<NameLoc>(loc()))
      return name.getName().str();
    return "<unnamed>";
  }
  std::string qualifiedType() const {
    return (op.getDomain().empty() ? "" : op.getDomain().str() + ".") +
           type().str();
  }
};

/// A static tensor type's dims, or null for an unranked one.
inline std::optional<Dims> dimsOf(Value v) {
  auto type = dyn_cast<RankedTensorType>(v.getType());
  if (!type)
    return std::nullopt;
  return Dims(type.getShape());
}

inline Type elementOf(Value v) { return cast<ShapedType>(v.getType()).getElementType(); }

inline RankedTensorType tensor(ArrayRef<int64_t> dims, Type et) {
  return RankedTensorType::get(dims, et);
}

/// `op` folded as it is built: a constant or the value it folds to replaces
/// it (and it is erased), else its result.
Value fold(Node &n, Operation *op);

template <typename OpTy, typename... Args>
Value build(Node &n, Args &&...args) {
  auto op = OpTy::create(n.b, n.loc(), std::forward<Args>(args)...);
  return fold(n, op);
}

using Result = FailureOr<SmallVector<Value>>;
inline Result one(Value v) { return SmallVector<Value>{v}; }

// onnxruntime's com.microsoft fused ops (OnnxConvertMicrosoft.cpp).
Result groupQueryAttention(Node &n);
Result multiHeadAttention(Node &n);
Result rotaryEmbedding(Node &n);

} // namespace qtc::onnxconvert

#endif // QTC_LIB_IMPORT_ONNXCONVERTSUPPORT_H
