//===- LowerToChain.cpp - tfm.model -> chain.plan, op by op ---------------===//

#include "qtc/Chain/Plan.h"

#include "dialects/chain/ChainOps.h"
#include "dialects/qnt/QntOps.h"
#include "dialects/tfm/TfmOps.h"
#include "qtc/Transforms/Passes.h"
#include "qtc/Transforms/WeightContext.h"

#include "mlir/IR/Builders.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/DenseMap.h"

#include <cmath>

namespace qtc {
#define GEN_PASS_DEF_LOWERTOCHAIN
#include "qtc/Transforms/Passes.h.inc"
} // namespace qtc

using namespace mlir;

namespace qtc {
namespace {

int64_t featureWidth(Value v) {
  return cast<RankedTensorType>(v.getType()).getShape().back();
}

// The name of the tfm.weight behind `v`, or nullopt.
std::optional<StringRef> weightName(Value v) {
  if (auto w = v.getDefiningOp<tfm::WeightOp>())
    return w.getName();
  return std::nullopt;
}

class ChainLowering {
public:
  ChainLowering(tfm::ModelOp model, OpBuilder &builder)
      : model(model), b(builder), ctx(model.getContext()) {}

  LogicalResult run();

private:
  LogicalResult lower(Operation *op);
  LogicalResult lowerLinear(Operation *op, Value input, Value weight,
                            Value bias);
  LogicalResult lowerAttention(tfm::AttentionOp op);
  FailureOr<Value> mapped(Value v, Operation *user);
  Type tokens(int64_t width) { return chain::TokensType::get(ctx, width); }

  tfm::ModelOp model;
  OpBuilder &b;
  MLIRContext *ctx;
  llvm::DenseMap<Value, Value> values; // tfm value -> chain value
  int64_t layers = 0;
};

FailureOr<Value> ChainLowering::mapped(Value v, Operation *user) {
  if (Value m = values.lookup(v))
    return m;
  return user->emitError("operand is not produced by an op the runtime plan "
                         "can execute");
}

LogicalResult ChainLowering::lowerLinear(Operation *op, Value input,
                                         Value weight, Value bias) {
  FailureOr<Value> x = mapped(input, op);
  if (failed(x))
    return failure();
  std::optional<StringRef> source;
  ArrayRef<int64_t> shape;
  qnt::EncodingAttr encoding, inputEncoding;
  if (auto q = dyn_cast<qnt::QLinearOp>(op))
    inputEncoding = q.getInputEncodingAttr();
  ArrayAttr numerics, biases;
  if (weight.getDefiningOp<qnt::QuantizeOp>())
    return op->emitError("weight is marked for quantization but its values "
                         "were never computed: run a weight quantizer "
                         "(qtc-rtn, qtc-gptq) after qtc-quantize-weights");
  if (auto q = weight.getDefiningOp<qnt::QuantizedWeightOp>()) {
    qnt::WeightType type = q.getResult().getType();
    if (failed(weightLayout(type.getEncoding(), type.getShape()[1], op->getLoc())))
      return failure();
    source = q.getName();
    shape = type.getShape();
    encoding = type.getEncoding();
    FloatAttr outputSqnr;
    if (std::optional<APFloat> o = q.getOutputSqnrDb())
      outputSqnr = b.getF32FloatAttr(o->convertToFloat());
    numerics = b.getArrayAttr(chain::WeightNumericsAttr::get(
        ctx, q.getName(), q.getMethod(), q.getSqnrDbAttr(),
        q.getMaxAbsErrorAttr(), outputSqnr));
  } else if ((source = weightName(weight))) {
    shape = cast<ShapedType>(weight.getType()).getShape();
  } else {
    return op->emitError("linear weight must be a tfm.weight for the runtime "
                         "plan");
  }
  if (bias) {
    std::optional<StringRef> biasName = weightName(bias);
    if (!biasName)
      return op->emitError("linear bias must be a tfm.weight for the runtime "
                           "plan");
    biases = b.getStrArrayAttr({*biasName});
  }
  auto linear = b.create<chain::LinearOp>(
      op->getLoc(), tokens(shape[0]), *x, /*residual=*/Value(),
      b.getStrArrayAttr({*source}), b.getDenseI64ArrayAttr({shape[0]}),
      b.getI64IntegerAttr(shape[1]), biases, encoding, inputEncoding, numerics,
      /*weight=*/nullptr, /*scales=*/nullptr, /*zeros=*/nullptr,
      /*bias=*/nullptr, /*slot=*/nullptr);
  values[op->getResult(0)] = linear.getResult();
  return success();
}

LogicalResult ChainLowering::lowerAttention(tfm::AttentionOp op) {
  tfm::ModelConfigAttr cfg = model.getConfig();
  if (op.getMask())
    return op.emitError("explicit attention masks are not supported by the "
                        "runtime yet; only causal attention");
  if (!op.getCausal())
    return op.emitError("non-causal attention is not supported by the "
                        "runtime's decoder plan");
  if (op.getSlidingWindow())
    return op.emitError("sliding-window attention is not supported by the "
                        "runtime yet");
  if (op.getNumHeads() != cfg.getNumHeads() ||
      op.getNumKvHeads() != cfg.getNumKvHeads() ||
      op.getHeadDim() != cfg.getHeadDim())
    return op.emitError("attention heads (")
           << op.getNumHeads() << "/" << op.getNumKvHeads() << "x"
           << op.getHeadDim() << ") differ from the model config";
  float expectedScale = 1.0f / std::sqrt(static_cast<float>(cfg.getHeadDim()));
  if (std::abs(op.getScale().convertToFloat() - expectedScale) >
      1e-6f * expectedScale)
    return op.emitError("attention scale ")
           << op.getScale().convertToFloat()
           << " is not 1/sqrt(head_dim); the runtime assumes it";

  NamedAttrList attrs;
  attrs.set("layer", b.getI64IntegerAttr(layers++));
  attrs.set("heads", b.getI64IntegerAttr(op.getNumHeads()));
  attrs.set("kv_heads", b.getI64IntegerAttr(op.getNumKvHeads()));
  attrs.set("head_dim", b.getI64IntegerAttr(op.getHeadDim()));
  if (Attribute scheme = op->getAttr(qnt::kKvSchemeAttrName)) {
    if (!isa<qnt::KvSchemeAttr>(scheme))
      return op.emitError("'") << qnt::kKvSchemeAttrName
                               << "' must be a #qnt.kv_scheme";
    attrs.set("kv_scheme", scheme);
  }

  SmallVector<Value> qkv;
  int64_t width = 0;
  for (Value v : {op.getQuery(), op.getKey(), op.getValue()}) {
    FailureOr<Value> m = mapped(v, op);
    if (failed(m))
      return failure();
    qkv.push_back(*m);
    width += chain::rowWidth(m->getType());
  }
  Location loc = op.getLoc();
  auto concat = b.create<chain::ConcatOp>(loc, tokens(width), qkv);
  auto append = b.create<chain::KvAppendOp>(loc, concat.getType(),
                                            concat.getResult(), attrs.getAttrs());
  auto attention = b.create<chain::AttentionOp>(
      loc, tokens(featureWidth(op.getResult())), append.getResult(),
      attrs.getAttrs());
  values[op.getResult()] = attention.getResult();
  return success();
}

LogicalResult ChainLowering::lower(Operation *op) {
  Location loc = op->getLoc();
  // Weights are named at their users.
  if (isa<tfm::WeightOp, qnt::QuantizeOp, qnt::QuantizedWeightOp>(op))
    return success();
  if (auto emb = dyn_cast<tfm::EmbeddingOp>(op)) {
    if (emb.getIds() != model.getBody().front().getArgument(0))
      return op->emitError("embedding ids must be the model's token ids");
    std::optional<StringRef> table = weightName(emb.getTable());
    if (!table)
      return op->emitError("embedding table must be a tfm.weight");
    values[emb.getResult()] = b.create<chain::EmbeddingOp>(
        loc, tokens(featureWidth(emb.getResult())), *table, nullptr, nullptr);
    return success();
  }
  if (auto norm = dyn_cast<tfm::RmsNormOp>(op)) {
    std::optional<StringRef> weight = weightName(norm.getWeight());
    if (!weight)
      return op->emitError("rms_norm weight must be a tfm.weight");
    FailureOr<Value> x = mapped(norm.getInput(), op);
    if (failed(x))
      return failure();
    values[norm.getResult()] = b.create<chain::RmsNormOp>(
        loc, x->getType(), *x, b.getStringAttr(*weight), norm.getEpsilonAttr(), nullptr,
        nullptr);
    return success();
  }
  if (auto l = dyn_cast<tfm::LinearOp>(op))
    return lowerLinear(op, l.getInput(), l.getWeight(), l.getBias());
  if (auto h = dyn_cast<tfm::LmHeadOp>(op))
    return lowerLinear(op, h.getInput(), h.getWeight(), Value());
  if (auto q = dyn_cast<qnt::QLinearOp>(op))
    return lowerLinear(op, q.getInput(), q.getWeight(), q.getBias());
  if (auto rope = dyn_cast<tfm::RopeOp>(op)) {
    tfm::ModelConfigAttr cfg = model.getConfig();
    if (rope.getHeadDim() != cfg.getHeadDim() ||
        rope.getTheta().convertToFloat() != cfg.getRopeTheta().convertToFloat())
      return rope.emitError("RoPE parameters differ from the model config");
    if (rope.getPositions() != model.getBody().front().getArgument(1))
      return rope.emitError("RoPE positions must be the model's positions");
    FailureOr<Value> x = mapped(rope.getInput(), op);
    if (failed(x))
      return failure();
    int64_t width = chain::rowWidth(x->getType());
    if (width % rope.getHeadDim() != 0)
      return rope.emitError("RoPE input width is not a multiple of head_dim");
    values[rope.getResult()] = b.create<chain::RopeOp>(
        loc, x->getType(), *x, b.getI64IntegerAttr(width / rope.getHeadDim()),
        b.getI64IntegerAttr(rope.getHeadDim()), nullptr);
    return success();
  }
  if (auto attn = dyn_cast<tfm::AttentionOp>(op))
    return lowerAttention(attn);
  if (auto swiglu = dyn_cast<tfm::SwigluOp>(op)) {
    FailureOr<Value> gate = mapped(swiglu.getGate(), op);
    FailureOr<Value> up = mapped(swiglu.getUp(), op);
    if (failed(gate) || failed(up))
      return failure();
    int64_t width = featureWidth(swiglu.getResult());
    auto concat = b.create<chain::ConcatOp>(loc, tokens(2 * width),
                                            ValueRange{*gate, *up});
    values[swiglu.getResult()] =
        b.create<chain::SwigluOp>(loc, tokens(width), concat, nullptr);
    return success();
  }
  if (auto add = dyn_cast<tfm::AddOp>(op)) {
    FailureOr<Value> lhs = mapped(add.getLhs(), op);
    FailureOr<Value> rhs = mapped(add.getRhs(), op);
    if (failed(lhs) || failed(rhs))
      return failure();
    if (lhs->getType() != rhs->getType())
      return op->emitError("add of rows of different widths");
    values[add.getResult()] =
        b.create<chain::AddOp>(loc, lhs->getType(), *lhs, *rhs, nullptr);
    return success();
  }
  if (auto output = dyn_cast<tfm::OutputOp>(op)) {
    if (output->getNumOperands() != 1)
      return op->emitError("expected the model to return one logits tensor");
    FailureOr<Value> logits = mapped(output->getOperand(0), op);
    if (failed(logits))
      return failure();
    int64_t width = chain::rowWidth(logits->getType());
    if (width != model.getConfig().getVocabSize())
      return op->emitError("logits are ")
             << width << " wide but the vocabulary has "
             << model.getConfig().getVocabSize() << " tokens";
    auto gathered = b.create<chain::GatherRowsOp>(
        loc, chain::LogitRowsType::get(ctx, width), *logits, nullptr);
    b.create<chain::ReturnOp>(loc, gathered.getResult());
    return success();
  }
  return op->emitError("'") << op->getName()
                            << "' has no kernel chain in the runtime plan yet";
}

LogicalResult ChainLowering::run() {
  Block &body = model.getBody().front();
  if (body.getNumArguments() != 2)
    return model.emitError("expected (token ids, positions) block arguments");
  for (Operation &op : body)
    if (failed(lower(&op)))
      return failure();
  return success();
}

struct LowerToChainPass : public impl::LowerToChainBase<LowerToChainPass> {
  void runOnOperation() override {
    if (failed(lowerToChain(getOperation())))
      signalPassFailure();
  }
};

} // namespace

LogicalResult lowerToChain(ModuleOp module) {
  SmallVector<tfm::ModelOp> models(module.getOps<tfm::ModelOp>());
  if (models.size() != 1)
    return module.emitError("expected exactly one tfm.model, found ")
           << models.size();
  tfm::ModelOp model = models.front();
  OpBuilder b(model);
  auto plan = b.create<chain::PlanOp>(model.getLoc(), model.getSymNameAttr(),
                                      model.getConfigAttr(), nullptr, nullptr, nullptr);
  b.setInsertionPointToStart(&plan.getBody().emplaceBlock());
  if (failed(ChainLowering(model, b).run())) {
    plan.erase();
    return failure();
  }
  model.erase();
  // Graph values nothing reads (an unused RoPE) get no kernel.
  SmallVector<Operation *> ops;
  for (Operation &op : plan.getBlock().without_terminator())
    ops.push_back(&op);
  for (Operation *op : llvm::reverse(ops))
    if (isOpTriviallyDead(op))
      op->erase();
  return success();
}

} // namespace qtc
