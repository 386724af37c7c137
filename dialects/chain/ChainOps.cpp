//===- ChainOps.cpp - chain op verification -------------------------------===//

#include "dialects/chain/ChainOps.h"

#include "mlir/IR/Builders.h"

using namespace mlir;
using namespace qtc::chain;

#define GET_OP_CLASSES
#include "dialects/chain/ChainOps.cpp.inc"

namespace {

// `symbol`, when set, must name a chain.tensor of the enclosing plan.
LogicalResult verifyTensorUse(Operation *op, SymbolTableCollection &symbols,
                              FlatSymbolRefAttr symbol, StringRef role) {
  if (!symbol)
    return success();
  auto plan = op->getParentOfType<PlanOp>();
  if (!plan)
    return op->emitOpError("must be inside a chain.plan");
  if (!symbols.lookupSymbolIn<TensorOp>(plan, symbol))
    return op->emitOpError("'") << role << "' names " << symbol
                                << ", which is not a chain.tensor of the plan";
  return success();
}

// The q|k|v width of an attention layer's rows.
LogicalResult verifyAttentionShape(Operation *op, int64_t width, int64_t heads,
                                   int64_t kvHeads, int64_t headDim) {
  if (heads <= 0 || kvHeads <= 0 || headDim <= 0 || heads % kvHeads != 0)
    return op->emitOpError("needs positive heads, kv_heads and head_dim with "
                           "kv_heads dividing heads (got ")
           << heads << "/" << kvHeads << "x" << headDim << ")";
  int64_t expected = (heads + 2 * kvHeads) * headDim;
  if (width != expected)
    return op->emitOpError("q|k|v rows must be (heads + 2 * kv_heads) * "
                           "head_dim = ")
           << expected << " wide (got " << width << ")";
  return success();
}

} // namespace

LogicalResult PlanOp::verify() {
  Block &block = getBlock();
  if (block.empty() || !isa<ReturnOp>(block.back()))
    return emitOpError("must end in chain.return");
  std::optional<ArrayRef<int64_t>> widths = getSlotWidths();
  std::optional<ArrayAttr> names = getSlotNames();
  if (widths.has_value() != names.has_value() ||
      (widths && widths->size() != names->size()))
    return emitOpError("slot_widths and slot_names come together, one entry "
                       "per slot");
  if (std::optional<ArrayAttr> encodings = getSlotEncodings()) {
    if (!widths || encodings->size() != widths->size())
      return emitOpError("slot_encodings needs one entry per slot");
    for (Attribute a : *encodings)
      if (!isa<UnitAttr>(a) && !isRowQuantization(dyn_cast<qtc::qnt::EncodingAttr>(a)))
        return emitOpError("slot_encodings entries are unit or a per-token row "
                           "quantization, got ")
               << a;
  }
  return success();
}

LogicalResult RmsNormOp::verify() {
  Type in = getInput().getType(), out = getResult().getType();
  if (in == out)
    return success();
  if (isa<TokensType>(in) && isa<QuantizedTokensType>(out) && rowWidth(in) == rowWidth(out))
    return success();
  return emitOpError("result must have the input's type, or be quantized token rows of its "
                     "width");
}

LogicalResult QuantizeRowsOp::verify() {
  if (rowWidth(getInput().getType()) != rowWidth(getResult().getType()))
    return emitOpError("result rows must be as wide as the input's");
  return success();
}

LogicalResult EmbeddingOp::verifySymbolUses(SymbolTableCollection &symbols) {
  return verifyTensorUse(*this, symbols, getTableAttr(), "table");
}

LogicalResult RmsNormOp::verifySymbolUses(SymbolTableCollection &symbols) {
  return verifyTensorUse(*this, symbols, getWeightAttr(), "weight");
}

int64_t LinearOp::getOutFeatures() {
  int64_t sum = 0;
  for (int64_t r : getRows())
    sum += r;
  return sum;
}

LogicalResult LinearOp::verify() {
  if (getSources().empty() || getSources().size() != getRows().size())
    return emitOpError("needs one `rows` entry per source weight");
  if (llvm::any_of(getRows(), [](int64_t r) { return r <= 0; }))
    return emitOpError("rows must be positive");
  if (std::optional<ArrayAttr> biases = getBiases())
    if (biases->size() != getSources().size())
      return emitOpError("needs one `biases` entry per source weight");
  if (rowWidth(getInput().getType()) != getInFeatures())
    return emitOpError("input rows are ")
           << rowWidth(getInput().getType()) << " wide but in_features is "
           << getInFeatures();
  if (rowWidth(getResult().getType()) != getOutFeatures())
    return emitOpError("result rows are ")
           << rowWidth(getResult().getType())
           << " wide but the sources' rows sum to " << getOutFeatures();
  Type in = getInput().getType();
  if (qtc::qnt::EncodingAttr quantized = rowEncoding(in)) {
    if (quantized != getInputEncodingAttr())
      return emitOpError("reads rows quantized as ")
             << quantized << " but its input_encoding is "
             << (getInputEncodingAttr() ? Attribute(getInputEncodingAttr()) : Attribute());
    if (!isa<TokensType>(getResult().getType()))
      return emitOpError("quantized token rows give !chain.tokens");
  } else if (in.getTypeID() != getResult().getType().getTypeID()) {
    return emitOpError("input and result must both be !chain.tokens or both "
                       "!chain.logit_rows");
  }
  if (getResidual() && getResidual().getType() != getResult().getType())
    return emitOpError("residual must have the result's type");
  if (qtc::qnt::EncodingAttr enc = getEncodingAttr())
    if (failed(enc.verifyForShape([&] { return emitOpError(); },
                                  {getOutFeatures(), getInFeatures()})))
      return failure();
  return success();
}

LogicalResult LinearOp::verifySymbolUses(SymbolTableCollection &symbols) {
  if (failed(verifyTensorUse(*this, symbols, getWeightAttr(), "weight")) ||
      failed(verifyTensorUse(*this, symbols, getScalesAttr(), "scales")) ||
      failed(verifyTensorUse(*this, symbols, getZerosAttr(), "zeros")) ||
      failed(verifyTensorUse(*this, symbols, getBiasAttr(), "bias")))
    return failure();
  return success();
}

LogicalResult ConcatOp::verify() {
  if (getInputs().size() < 2)
    return emitOpError("concatenates two or more inputs");
  int64_t sum = 0;
  for (Value v : getInputs())
    sum += rowWidth(v.getType());
  if (sum != rowWidth(getResult().getType()))
    return emitOpError("result rows must be ")
           << sum << " wide, the inputs' widths summed";
  return success();
}

LogicalResult RopeOp::verify() {
  if (getHeadDim() <= 0 || getHeadDim() % 2 != 0 || getHeads() <= 0)
    return emitOpError("needs positive heads and an even head_dim");
  if (getHeads() * getHeadDim() != rowWidth(getInput().getType()))
    return emitOpError("rows must be heads * head_dim = ")
           << getHeads() * getHeadDim() << " wide";
  return success();
}

LogicalResult KvAppendOp::verify() {
  return verifyAttentionShape(*this, rowWidth(getQkv().getType()), getHeads(),
                              getKvHeads(), getHeadDim());
}

LogicalResult RopeKvAppendOp::verify() {
  if (getHeadDim() % 2 != 0)
    return emitOpError("RoPE needs an even head_dim");
  return verifyAttentionShape(*this, rowWidth(getQkv().getType()), getHeads(),
                              getKvHeads(), getHeadDim());
}

LogicalResult AttentionOp::verify() {
  if (failed(verifyAttentionShape(*this, rowWidth(getQkv().getType()),
                                  getHeads(), getKvHeads(), getHeadDim())))
    return failure();
  if (rowWidth(getResult().getType()) != getHeads() * getHeadDim())
    return emitOpError("result rows must be heads * head_dim = ")
           << getHeads() * getHeadDim() << " wide";
  return success();
}

LogicalResult SwigluOp::verify() {
  if (getGateUp().getType().getTypeID() != getResult().getType().getTypeID())
    return emitOpError("input and result must be the same kind of rows");
  if (2 * rowWidth(getResult().getType()) != rowWidth(getGateUp().getType()))
    return emitOpError("gate|up rows must be twice the result's width");
  return success();
}

LogicalResult GatherRowsOp::verify() {
  if (rowWidth(getInput().getType()) != rowWidth(getResult().getType()))
    return emitOpError("gathering keeps the row width");
  return success();
}
