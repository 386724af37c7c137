//===- OnnxProbe.cpp - Values that depend only on the sequence length -----===//

#include "OnnxProbe.h"

#include "dialects/onnx/OnnxOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/DenseMap.h"

using namespace mlir;
using namespace qtc;

namespace {

// Subgraphs of masks and tables are shallow; deeper means an activation path.
constexpr int kMaxDepth = 200;

enum class InputRole { TokenIds, AttentionMask, PositionIds };

InputRole roleOf(StringRef name) {
  if (name == "position_ids")
    return InputRole::PositionIds;
  if (name == "attention_mask")
    return InputRole::AttentionMask;
  return InputRole::TokenIds;
}

struct Prober {
  ProbePoint at;
  bool readsPositions = false;
  llvm::DenseMap<Value, Attribute> known;

  // A graph input as a constant at the probe length: a dynamic leading dim
  // of a rank >= 2 input is the batch (1), every other dynamic dim the length.
  Attribute argument(BlockArgument arg) {
    auto type = dyn_cast<RankedTensorType>(arg.getType());
    if (!type || !isa<func::FuncOp>(arg.getOwner()->getParentOp()))
      return {};
    auto et = dyn_cast<IntegerType>(type.getElementType());
    if (!et || et.getWidth() < 32)
      return {};
    SmallVector<int64_t> shape = probeDims(type);
    auto staticType = RankedTensorType::get(shape, et);
    InputRole role = roleOf(onnxInputName(arg));
    if (role == InputRole::PositionIds)
      readsPositions = true;
    int64_t count = staticType.getNumElements();
    if (count > onnxir::kMaxFoldElements)
      return {};
    int64_t last = shape.empty() ? 1 : shape.back();
    SmallVector<APInt> values;
    for (int64_t k = 0; k < count; ++k) {
      int64_t v = role == InputRole::AttentionMask ? 1
                  : role == InputRole::PositionIds ? at.firstPosition + k % last
                                                   : 0;
      values.push_back(APInt(et.getWidth(), uint64_t(v), /*isSigned=*/true));
    }
    return DenseElementsAttr::get(staticType, values);
  }

  // The dims of any value at the probe length (an activation's values are
  // not needed for its shape): dynamic dims as for graph inputs.
  SmallVector<int64_t> probeDims(RankedTensorType type) {
    SmallVector<int64_t> shape;
    for (auto [d, size] : llvm::enumerate(type.getShape()))
      shape.push_back(!ShapedType::isDynamic(size) ? size
                      : (d == 0 && type.getRank() >= 2) ? 1
                                                        : at.tokens);
    return shape;
  }

  Attribute shapeOf(onnxir::ShapeOp op, int depth) {
    SmallVector<int64_t> dims;
    if (auto value = dyn_cast_or_null<ElementsAttr>(eval(op.getInput(), depth + 1)))
      dims.assign(value.getShapedType().getShape().begin(),
                  value.getShapedType().getShape().end());
    else if (auto type = dyn_cast<RankedTensorType>(op.getInput().getType()))
      dims = probeDims(type);
    else
      return {};
    int64_t rank = dims.size();
    auto clamp = [&](int64_t x) {
      if (x < 0)
        x += rank;
      return std::min(std::max<int64_t>(x, 0), rank);
    };
    int64_t start = clamp(op.getStart());
    int64_t end = op.getEnd() ? clamp(*op.getEnd()) : rank;
    SmallVector<int64_t> entries(dims.begin() + start,
                                 dims.begin() + std::max(start, end));
    auto type = RankedTensorType::get({int64_t(entries.size())},
                                      IntegerType::get(op.getContext(), 64));
    return DenseIntElementsAttr::get(type, entries);
  }

  Attribute eval(Value v, int depth) {
    if (auto found = known.find(v); found != known.end())
      return found->second;
    Attribute result = compute(v, depth);
    known[v] = result;
    return result;
  }

  Attribute compute(Value v, int depth) {
    Attribute constant;
    if (matchPattern(v, m_Constant(&constant)))
      return constant;
    if (auto arg = dyn_cast<BlockArgument>(v))
      return argument(arg);
    Operation *op = v.getDefiningOp();
    if (depth > kMaxDepth || !isa<onnxir::OnnxDialect>(op->getDialect()))
      return {};
    if (auto shape = dyn_cast<onnxir::ShapeOp>(op))
      return shapeOf(shape, depth);
    SmallVector<Attribute> operands;
    for (Value operand : op->getOperands()) {
      Attribute attr = eval(operand, depth + 1);
      if (!attr && !isa<NoneType>(operand.getType()))
        return {};
      operands.push_back(attr);
    }
    // Folders only read the constants; the one that edits in place (two
    // Transposes composed) makes the same rewrite canonicalize does.
    SmallVector<OpFoldResult> results;
    if (failed(op->fold(operands, results)) ||
        results.size() != op->getNumResults())
      return {};
    OpFoldResult folded = results[cast<OpResult>(v).getResultNumber()];
    if (auto attr = dyn_cast<Attribute>(folded))
      return attr;
    // A folder that forwards an operand (a no-op reshape or expand).
    Value forwarded = cast<Value>(folded);
    return forwarded == v ? Attribute() : eval(forwarded, depth + 1);
  }
};

} // namespace

StringRef qtc::onnxInputName(BlockArgument arg) {
  auto func = dyn_cast<func::FuncOp>(arg.getOwner()->getParentOp());
  if (!func)
    return "";
  auto names = func->getAttrOfType<ArrayAttr>("onnx.input_names");
  if (!names || arg.getArgNumber() >= names.size())
    return "";
  auto name = dyn_cast<StringAttr>(names[arg.getArgNumber()]);
  return name ? name.getValue() : "";
}

std::optional<ProbedValue> qtc::probeValue(Value v, ProbePoint at) {
  Prober prober{at};
  auto elements = dyn_cast_or_null<DenseElementsAttr>(prober.eval(v, 0));
  if (!elements)
    return std::nullopt;
  ProbedValue probed;
  auto type = cast<ShapedType>(elements.getType());
  probed.shape.assign(type.getShape().begin(), type.getShape().end());
  probed.elementType = type.getElementType();
  probed.readsPositions = prober.readsPositions;
  if (isa<FloatType>(probed.elementType)) {
    for (APFloat f : elements.getValues<APFloat>()) {
      bool lost;
      f.convert(APFloat::IEEEdouble(), APFloat::rmNearestTiesToEven, &lost);
      probed.values.push_back(f.convertToDouble());
    }
  } else if (auto it = dyn_cast<IntegerType>(probed.elementType)) {
    for (APInt i : elements.getValues<APInt>())
      probed.values.push_back(it.getWidth() == 1 ? double(i.getZExtValue())
                                                 : double(i.getSExtValue()));
  } else {
    return std::nullopt;
  }
  return probed;
}
