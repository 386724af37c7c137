//===- OnnxKvCache.cpp - Past key/value inputs become the runtime's cache -===//
//
// qtc-onnx-strip-kv-cache (include/qtc/Import/Passes.td): a decoder exported
// with past key/value inputs and present outputs is imported as the step
// without a past, the runtime's paged cache taking their place.
//
//===----------------------------------------------------------------------===//

#include "qtc/Import/OnnxImport.h"

#include "OnnxRaiseSupport.h"
#include "dialects/onnx/OnnxOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/BitVector.h"
#include "llvm/ADT/SetVector.h"

namespace qtc {
#define GEN_PASS_DEF_ONNXSTRIPKVCACHE
#include "qtc/Import/Passes.h.inc"
} // namespace qtc

using namespace mlir;
using namespace qtc;

namespace {

using onnxir::NodeOp;

bool isNode(Operation *op, StringRef type, StringRef domain = "") {
  auto node = dyn_cast_or_null<NodeOp>(op);
  return node && node.getOpType() == type && node.getDomain() == domain;
}

int64_t intAttrOf(NodeOp node, StringRef name, int64_t fallback) {
  if (auto a = dyn_cast_or_null<IntegerAttr>(node.getAttrs().get(name)))
    return a.getInt();
  return fallback;
}

/// The present output an attention op (onnxruntime's fused ones, opset 23's
/// Attention) returns for its past operand `index`, or -1 when `index` is
/// not a past operand.
int presentOfPast(NodeOp node, unsigned index) {
  if (isNode(node, "GroupQueryAttention", "com.microsoft"))
    return index == 3 || index == 4 ? int(index) - 2 : -1;
  if (isNode(node, "MultiHeadAttention", "com.microsoft"))
    return index == 6 || index == 7 ? int(index) - 5 : -1;
  // Opset 23's Attention(Q, K, V, attn_mask, past_key, past_value).
  if (isNode(node, "Attention"))
    return index == 4 || index == 5 ? int(index) - 3 : -1;
  return -1;
}

bool returned(Value v) {
  return llvm::any_of(v.getUsers(),
                      [](Operation *u) { return isa<func::ReturnOp>(u); });
}

std::string inputName(func::FuncOp func, unsigned index) {
  auto names = func->getAttrOfType<ArrayAttr>("onnx.input_names");
  if (names && index < names.size())
    if (auto s = dyn_cast<StringAttr>(names[index]))
      return s.str();
  return "#" + std::to_string(index);
}

struct OnnxStripKvCachePass
    : qtc::impl::OnnxStripKvCacheBase<OnnxStripKvCachePass> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (func.getBody().empty())
      return;
    Block &entry = func.getBody().front();
    auto ret = dyn_cast<func::ReturnOp>(entry.getTerminator());
    if (!ret)
      return;
    // Graph outputs that are Identity copies (a present named apart from
    // the Concat that makes it): the return reads the copied value, as
    // conversion would leave it.
    llvm::SetVector<Operation *> copies;
    for (OpOperand &result : ret->getOpOperands())
      while (isNode(result.get().getDefiningOp(), "Identity") &&
             result.get().getDefiningOp()->getNumOperands() == 1) {
        Operation *copy = result.get().getDefiningOp();
        copies.insert(copy);
        result.set(copy->getOperand(0));
      }
    // Copies of copies: erased once nothing reads them, in any order.
    SmallVector<Operation *> unread(copies.begin(), copies.end());
    for (bool erased = true; erased;) {
      erased = false;
      for (Operation *&copy : unread)
        if (copy && copy->use_empty()) {
          copy->erase();
          copy = nullptr;
          erased = true;
        }
    }
    llvm::BitVector pastArgs(entry.getNumArguments());
    llvm::SetVector<Value> presents;
    for (BlockArgument arg : entry.getArguments())
      if (failed(strip(func, arg, pastArgs, presents)))
        return signalPassFailure();
    if (pastArgs.none())
      return;

    // Results: the present outputs go; nothing else reads them now.
    SmallVector<Value> results;
    for (Value r : ret.getOperands())
      if (!presents.contains(r))
        results.push_back(r);
    OpBuilder b(ret);
    func::ReturnOp::create(b, ret.getLoc(), results);
    ret.erase();
    for (Value p : presents)
      if (Operation *def = p.getDefiningOp())
        if (def->use_empty() && isNode(def, "Concat"))
          def->erase();

    auto old = func->getAttrOfType<ArrayAttr>("onnx.input_names");
    SmallVector<Attribute> names;
    if (old)
      for (auto [i, name] : llvm::enumerate(old))
        if (i >= pastArgs.size() || !pastArgs[i])
          names.push_back(name);
    if (failed(func.eraseArguments(pastArgs)))
      return signalPassFailure();
    func.setFunctionType(FunctionType::get(&getContext(),
                                           entry.getArgumentTypes(),
                                           ValueRange(results).getTypes()));
    if (old)
      func->setAttr("onnx.input_names", b.getArrayAttr(names));
  }

  /// Rewrites the readers of `arg` when it is a past key/value.
  LogicalResult strip(func::FuncOp func, BlockArgument arg,
                      llvm::BitVector &pastArgs,
                      llvm::SetVector<Value> &presents) {
    // A past is the rank-4 first operand of a two-operand Concat, or a
    // fused attention's past operand, whose concatenation is returned: the
    // present output.
    Operation *evidence = nullptr;
    for (OpOperand &use : arg.getUses()) {
      auto node = dyn_cast<NodeOp>(use.getOwner());
      if (!node)
        continue;
      auto rank4 = dyn_cast<RankedTensorType>(arg.getType());
      if (isNode(node, "Concat") && use.getOperandNumber() == 0 &&
          node.getNumOperands() == 2 && rank4 && rank4.getRank() == 4 &&
          returned(node.getResult(0)))
        evidence = node;
      int present = presentOfPast(node, use.getOperandNumber());
      if (present >= 0 && unsigned(present) < node.getNumResults() &&
          returned(node.getResult(present)))
        evidence = node;
    }
    if (!evidence)
      return success();
    std::string name = inputName(func, arg.getArgNumber());
    auto type = dyn_cast<RankedTensorType>(arg.getType());
    if (!type || type.getRank() != 4 || type.isDynamicDim(1) ||
        type.isDynamicDim(3))
      return evidence->emitError()
             << "ONNX node " << describeNode(evidence)
             << " takes graph input '" << name
             << "' as a past key/value, which must be [batch, kv_heads, "
                "past, head_dim] with static heads and head_dim",
             failure();

    for (OpOperand &use : llvm::make_early_inc_range(arg.getUses())) {
      Operation *user = use.getOwner();
      auto node = dyn_cast<NodeOp>(user);
      unsigned index = use.getOperandNumber();
      if (node && isNode(node, "Concat") && index == 0 &&
          node.getNumOperands() == 2) {
        int64_t axis = intAttrOf(node, "axis", 0);
        if (axis != 2 && axis != -2)
          return node.emitError()
                 << "ONNX node " << describeNode(node) << " concatenates the "
                 << "past key/value '" << name << "' on axis " << axis
                 << "; the runtime's cache grows on the sequence axis (2)",
                 failure();
        Value present = node.getResult(0);
        if (returned(present))
          presents.insert(present);
        Value fresh = node.getOperand(1);
        present.replaceUsesWithIf(fresh, [](OpOperand &o) {
          return !isa<func::ReturnOp>(o.getOwner());
        });
        continue;
      }
      if (node && presentOfPast(node, index) >= 0) {
        OpBuilder b(node);
        use.set(onnxir::AbsentOp::create(b, node.getLoc(), b.getNoneType()));
        unsigned present = presentOfPast(node, index);
        if (present < node.getNumResults() &&
            returned(node.getResult(present)))
          presents.insert(node.getResult(present));
        continue;
      }
      if (node && isNode(node, "Shape")) {
        // The past length the mask and positions are built from: 0.
        SmallVector<int64_t> dims{1, type.getDimSize(1), 0,
                                  type.getDimSize(3)};
        int64_t rank = 4;
        auto clampIndex = [&](int64_t i) {
          return std::clamp<int64_t>(i < 0 ? i + rank : i, 0, rank);
        };
        int64_t start = clampIndex(intAttrOf(node, "start", 0));
        int64_t end = clampIndex(intAttrOf(node, "end", rank));
        SmallVector<int64_t> picked;
        for (int64_t i = start; i < end; ++i)
          picked.push_back(dims[i]);
        OpBuilder b(node);
        auto t = RankedTensorType::get({int64_t(picked.size())},
                                       b.getI64Type());
        auto attr = DenseElementsAttr::get(t, ArrayRef<int64_t>(picked));
        Value c = onnxir::ConstantOp::create(b, node.getLoc(), t,
                                             cast<ElementsAttr>(attr));
        node.getResult(0).replaceAllUsesWith(c);
        node.erase();
        continue;
      }
      InFlightDiagnostic d = user->emitError();
      if (node)
        d << "ONNX node " << describeNode(node);
      else
        d << "'" << user->getName() << "'";
      d << " reads the past key/value '" << name
        << "' other than by a Concat with the new keys or values on the "
           "sequence axis, a fused attention's past operand or its Shape; "
           "the runtime's paged cache replaces that input";
      return failure();
    }
    pastArgs.set(arg.getArgNumber());
    return success();
  }
};

} // namespace
