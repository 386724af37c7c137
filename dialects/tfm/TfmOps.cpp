//===- TfmOps.cpp - tfm operation verifiers -------------------------------===//

#include "dialects/tfm/TfmOps.h"

#include "dialects/SizeDiagnostics.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"

using namespace mlir;
using namespace qtc;
using namespace qtc::tfm;

namespace {

RankedTensorType tensorType(Value value) {
  return cast<RankedTensorType>(value.getType());
}

LogicalResult expectPositive(Operation *op, StringRef what, float value) {
  if (value > 0.0f)
    return success();
  return op->emitOpError() << what << " must be positive (got " << value
                           << ")";
}

/// Checks y[T, out] = x[T, in] W[out, in]^T (+ b[out]).
LogicalResult verifyProjection(Operation *op, Value input, Value weight,
                               Value bias, Value result) {
  auto x = tensorType(input), w = tensorType(weight), y = tensorType(result);
  if (failed(expectSize(op, "weight input width", w.getDimSize(1),
                        "the input width", x.getDimSize(1))) ||
      failed(expectSize(op, "result width", y.getDimSize(1),
                        "the weight output width", w.getDimSize(0))) ||
      failed(expectSize(op, "result rows", y.getDimSize(0), "the input rows",
                        x.getDimSize(0))))
    return failure();
  if (bias)
    return expectSize(op, "bias length", tensorType(bias).getDimSize(0),
                      "the weight output width", w.getDimSize(0));
  return success();
}

/// Checks a per-feature parameter of a normalisation against the input width.
LogicalResult verifyNormParameter(Operation *op, StringRef what, Value param,
                                  Value input) {
  return expectSize(op, what, tensorType(param).getDimSize(0),
                    "the input width", tensorType(input).getDimSize(1));
}

} // namespace

//===----------------------------------------------------------------------===//
// ModelOp
//===----------------------------------------------------------------------===//

void ModelOp::getAsmBlockArgumentNames(Region &region,
                                       OpAsmSetValueNameFn setNameFn) {
  if (region.empty() || region.front().getNumArguments() != 2)
    return;
  setNameFn(region.front().getArgument(0), "ids");
  setNameFn(region.front().getArgument(1), "positions");
}

void ModelOp::build(OpBuilder &builder, OperationState &state, StringRef name,
                    ModelConfigAttr config) {
  state.addAttribute(getSymNameAttrName(state.name),
                     builder.getStringAttr(name));
  state.addAttribute(getConfigAttrName(state.name), config);
  auto tokenVector = RankedTensorType::get({ShapedType::kDynamic},
                                           builder.getI64Type());
  Region *body = state.addRegion();
  Block &entry = body->emplaceBlock();
  entry.addArgument(tokenVector, state.location);
  entry.addArgument(tokenVector, state.location);
}

LogicalResult ModelOp::verify() {
  Block &block = getBodyBlock();
  auto tokenVector = RankedTensorType::get(
      {ShapedType::kDynamic}, IntegerType::get(getContext(), 64));
  if (block.getNumArguments() != 2 ||
      llvm::any_of(block.getArgumentTypes(),
                   [&](Type type) { return type != tokenVector; }))
    return emitOpError("body must take two arguments (ids, positions) of type "
                       "tensor<?xi64>");

  auto output = block.empty() ? OutputOp() : dyn_cast<OutputOp>(block.back());
  if (!output)
    return emitOpError("body must end in tfm.output");
  if (output.getResults().size() != 1)
    return emitOpError("must return exactly one value, the logits (got ")
           << output.getResults().size() << ")";
  auto logits = tensorType(output.getResults().front());
  if (logits.getRank() != 2 || !isa<FloatType>(logits.getElementType()))
    return emitOpError("logits must be a [tokens, vocab_size] float tensor "
                       "(got ")
           << logits << ")";
  return expectSize(*this, "logits width", logits.getDimSize(1), "vocab_size",
                    getConfig().getVocabSize());
}

//===----------------------------------------------------------------------===//
// Weights, embedding, normalisation
//===----------------------------------------------------------------------===//

void WeightOp::getAsmResultNames(OpAsmSetValueNameFn setNameFn) {
  setNameFn(getResult(), getName());
}

LogicalResult WeightOp::verify() {
  if (getName().empty())
    return emitOpError("weight name must not be empty");
  return success();
}

LogicalResult EmbeddingOp::verify() {
  auto table = getTable().getType(), result = getResult().getType();
  if (failed(expectSize(*this, "result rows", result.getDimSize(0),
                        "the number of ids", getIds().getType().getDimSize(0))))
    return failure();
  return expectSize(*this, "result width", result.getDimSize(1),
                    "the embedding width", table.getDimSize(1));
}

LogicalResult RmsNormOp::verify() {
  if (failed(verifyNormParameter(*this, "weight length", getWeight(),
                                 getInput())))
    return failure();
  return expectPositive(*this, "epsilon", getEpsilon().convertToFloat());
}

LogicalResult LayerNormOp::verify() {
  if (failed(verifyNormParameter(*this, "weight length", getWeight(),
                                 getInput())))
    return failure();
  if (getBias() && failed(verifyNormParameter(*this, "bias length", getBias(),
                                              getInput())))
    return failure();
  return expectPositive(*this, "epsilon", getEpsilon().convertToFloat());
}

//===----------------------------------------------------------------------===//
// Projections
//===----------------------------------------------------------------------===//

LogicalResult LinearOp::verify() {
  return verifyProjection(*this, getInput(), getWeight(), getBias(),
                          getResult());
}

LogicalResult LmHeadOp::verify() {
  return verifyProjection(*this, getInput(), getWeight(), Value(), getResult());
}

LogicalResult MatmulOp::verify() {
  auto lhs = getLhs().getType(), rhs = getRhs().getType(),
       result = getResult().getType();
  int64_t rank = lhs.getRank();
  if (rank < 2 || rhs.getRank() != rank || result.getRank() != rank)
    return emitOpError("operands and result must have the same rank, at "
                       "least 2");
  for (int64_t dim = 0; dim + 2 < rank; ++dim) {
    int64_t l = lhs.getDimSize(dim), r = rhs.getDimSize(dim),
            o = result.getDimSize(dim);
    if (!sizesAgree(l, r) || !sizesAgree(l, o) || !sizesAgree(r, o))
      return emitOpError("batch dimension ")
             << dim << " disagrees: lhs " << sizeText(l) << ", rhs "
             << sizeText(r) << ", result " << sizeText(o);
  }
  if (failed(expectSize(*this, "lhs columns", lhs.getDimSize(rank - 1),
                        "rhs rows", rhs.getDimSize(rank - 2))) ||
      failed(expectSize(*this, "result rows", result.getDimSize(rank - 2),
                        "lhs rows", lhs.getDimSize(rank - 2))))
    return failure();
  return expectSize(*this, "result columns", result.getDimSize(rank - 1),
                    "rhs columns", rhs.getDimSize(rank - 1));
}

//===----------------------------------------------------------------------===//
// Attention
//===----------------------------------------------------------------------===//

LogicalResult RopeOp::verify() {
  int64_t headDim = getHeadDim();
  if (headDim <= 0 || headDim % 2 != 0)
    return emitOpError("head_dim must be positive and even (got ")
           << headDim << ")";
  auto input = getInput().getType();
  int64_t width = input.getDimSize(1);
  if (!ShapedType::isDynamic(width) && width % headDim != 0)
    return emitOpError("input width (")
           << width << ") must be a multiple of head_dim (" << headDim << ")";
  if (failed(expectPositive(*this, "theta", getTheta().convertToFloat())))
    return failure();
  return expectSize(*this, "positions length",
                    getPositions().getType().getDimSize(0), "the input rows",
                    input.getDimSize(0));
}

LogicalResult AttentionOp::verify() {
  int64_t numHeads = getNumHeads(), numKvHeads = getNumKvHeads(),
          headDim = getHeadDim();
  if (numHeads <= 0 || numKvHeads <= 0 || headDim <= 0)
    return emitOpError("num_heads, num_kv_heads and head_dim must be positive");
  if (numHeads % numKvHeads != 0)
    return emitOpError("num_heads (")
           << numHeads << ") must be a multiple of num_kv_heads ("
           << numKvHeads << ")";

  auto query = getQuery().getType(), key = getKey().getType(),
       value = getValue().getType();
  if (failed(expectSize(*this, "query width", query.getDimSize(1),
                        "num_heads * head_dim", numHeads * headDim)) ||
      failed(expectSize(*this, "key width", key.getDimSize(1),
                        "num_kv_heads * head_dim", numKvHeads * headDim)) ||
      failed(expectSize(*this, "value width", value.getDimSize(1),
                        "num_kv_heads * head_dim", numKvHeads * headDim)) ||
      failed(expectSize(*this, "value rows", value.getDimSize(0), "key rows",
                        key.getDimSize(0))))
    return failure();

  if (failed(expectPositive(*this, "scale", getScale().convertToFloat())))
    return failure();
  if (std::optional<int64_t> window = getSlidingWindow(); window && *window <= 0)
    return emitOpError("sliding_window must be positive (got ")
           << *window << ")";

  if (!getMask())
    return success();
  auto mask = getMask().getType();
  if (failed(expectSize(*this, "mask rows", mask.getDimSize(0), "query rows",
                        query.getDimSize(0))))
    return failure();
  return expectSize(*this, "mask columns", mask.getDimSize(1), "key rows",
                    key.getDimSize(0));
}

LogicalResult SoftmaxOp::verify() {
  // I64Attr reads back as uint64_t; negative axes are errors, not wrap-arounds.
  int64_t rank = getInput().getType().getRank();
  auto axis = static_cast<int64_t>(getAxis());
  if (axis < 0 || axis >= rank)
    return emitOpError("axis (") << axis << ") must be in [0, " << rank << ")";
  return success();
}

#define GET_OP_CLASSES
#include "dialects/tfm/TfmOps.cpp.inc"
