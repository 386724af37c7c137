//===- OnnxBindModel.cpp - The raised decoder as tfm.model ----------------===//
//
// qtc-onnx-bind-model: the decoder findRaisedDecoder recognizes in @main is
// re-created inside tfm.model in the canonical order, with f32 activations,
// weights bound by role and the configuration read off the raised ops.
//
//===----------------------------------------------------------------------===//

#include "qtc/Import/OnnxImport.h"

#include "DecoderWeightNames.h"
#include "OnnxBindConfig.h"
#include "OnnxBindStructure.h"
#include "OnnxBindWeights.h"
#include "OnnxRaiseSupport.h"
#include "dialects/onnx/OnnxOps.h"
#include "dialects/tfm/TfmOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/StringMap.h"

namespace qtc {
#define GEN_PASS_DEF_ONNXBINDMODEL
#include "qtc/Import/Passes.h.inc"
} // namespace qtc

using namespace mlir;
using namespace qtc;
using namespace qtc::tfm;

namespace {

/// What the pass binds: tfm.model's weights and where their bytes are.
class ModelBuilder {
public:
  ModelBuilder(ModuleOp module, RaisedDecoder &decoder,
               WeightStore *store)
      : builder(module.getContext()), decoder(decoder), store(store) {}

  LogicalResult build(ModuleOp module, StringRef name,
                      StringRef configJson);

private:
  RankedTensorType activation(int64_t width) {
    return RankedTensorType::get({ShapedType::kDynamic, width},
                                 builder.getF32Type());
  }
  FailureOr<Value> weight(StringRef name, Value w, Operation *user,
                          ArrayRef<int64_t> permutation = {});
  FailureOr<Value> rmsNorm(RmsNormOp raised, Value input, StringRef name);
  FailureOr<Value> linear(LinearOp raised, Value input, int64_t layer,
                          LinearRole role, ArrayRef<int64_t> permutation = {});
  FailureOr<Value> layer(RaisedLayer l, int64_t index, Value input,
                         Value positions);
  LogicalResult registerWeights();

  OpBuilder builder;
  RaisedDecoder &decoder;
  WeightStore *store;
  llvm::StringMap<Value> weights;
  /// The model's RoPE and sliding window (BoundConfig).
  int64_t slidingWindow = 0, slidingWindowFirstLayer = 0;
  FloatAttr ropeTheta;
  RopeScalingAttr ropeScaling;
  /// Name -> source, in the order the weights were created.
  SmallVector<std::pair<std::string, WeightSource>> sources;
};

FailureOr<Value> ModelBuilder::weight(StringRef name, Value w,
                                      Operation *user,
                                      ArrayRef<int64_t> permutation) {
  FailureOr<WeightSource> source = weightSourceOf(w, user);
  if (failed(source))
    return failure();
  source->permutation.assign(permutation.begin(), permutation.end());
  auto cached = weights.find(name);
  if (cached != weights.end())
    return cached->second;
  auto type = cast<RankedTensorType>(w.getType());
  Value v = WeightOp::create(builder, source->constant.getLoc(), type, name)
                .getResult();
  weights[name] = v;
  sources.push_back({name.str(), *source});
  return v;
}

FailureOr<Value> ModelBuilder::rmsNorm(RmsNormOp raised, Value input,
                                       StringRef name) {
  FailureOr<Value> w = weight(name, raised.getWeight(), raised);
  if (failed(w))
    return failure();
  return RmsNormOp::create(builder, raised.getLoc(), input.getType(), input,
                           *w, raised.getEpsilonAttr())
      .getResult();
}

FailureOr<Value> ModelBuilder::linear(LinearOp raised, Value input,
                                      int64_t layer, LinearRole role,
                                      ArrayRef<int64_t> permutation) {
  FailureOr<Value> w = weight(linearWeightName(layer, role),
                              raised.getWeight(), raised, permutation);
  if (failed(w))
    return failure();
  Value bias;
  if (raised.getBias()) {
    FailureOr<Value> b = weight(linearBiasName(layer, role), raised.getBias(),
                                raised, permutation);
    if (failed(b))
      return failure();
    bias = *b;
  }
  int64_t width = cast<ShapedType>(raised.getType()).getDimSize(1);
  return LinearOp::create(builder, raised.getLoc(), activation(width), input,
                          *w, bias)
      .getResult();
}

FailureOr<Value> ModelBuilder::layer(RaisedLayer l, int64_t index,
                                     Value input, Value positions) {
  FailureOr<Value> n1 = rmsNorm(l.inputNorm, input, inputNormWeightName(index));
  if (failed(n1))
    return failure();
  // Interleaved RoPE: the q/k rows permuted into rotate-half order.
  FailureOr<Value> q =
      linear(l.query, *n1, index, LinearRole::Query, l.queryPermutation);
  FailureOr<Value> k =
      succeeded(q)
          ? linear(l.key, *n1, index, LinearRole::Key, l.keyPermutation)
          : FailureOr<Value>(failure());
  FailureOr<Value> v = succeeded(k)
                           ? linear(l.value, *n1, index, LinearRole::Value)
                           : FailureOr<Value>(failure());
  if (failed(v))
    return failure();
  auto rope = [&](RopeOp raised, Value x) {
    return RopeOp::create(builder, raised.getLoc(), x.getType(), x, positions,
                          raised.getHeadDimAttr(), ropeTheta, ropeScaling)
        .getResult();
  };
  Value qr = rope(l.queryRope, *q);
  Value kr = rope(l.keyRope, *k);
  AttentionOp a = l.attention;
  IntegerAttr window = a.getSlidingWindowAttr();
  if (slidingWindow > 0 && index >= slidingWindowFirstLayer) {
    if (window && window.getInt() != slidingWindow)
      return a.emitError() << "cannot bind the raised decoder to tfm.model: "
                           << describeNode(a) << " has a sliding window of "
                           << window.getInt()
                           << " but config.json beside the model says "
                           << slidingWindow;
    window = builder.getI64IntegerAttr(slidingWindow);
  }
  Value attended =
      AttentionOp::create(builder, a.getLoc(), qr.getType(), qr, kr, *v,
                          /*mask=*/Value(), a.getNumHeadsAttr(),
                          a.getNumKvHeadsAttr(), a.getHeadDimAttr(),
                          a.getCausalAttr(), a.getScaleAttr(), window)
          .getResult();
  FailureOr<Value> o = linear(l.output, attended, index, LinearRole::Output);
  if (failed(o))
    return failure();
  Value mid = AddOp::create(builder, l.output.getLoc(), input.getType(), input,
                            *o)
                  .getResult();
  FailureOr<Value> n2 = rmsNorm(l.postAttentionNorm, mid,
                                postAttentionNormWeightName(index));
  if (failed(n2))
    return failure();
  FailureOr<Value> gate = linear(l.gate, *n2, index, LinearRole::Gate);
  FailureOr<Value> up = succeeded(gate)
                            ? linear(l.up, *n2, index, LinearRole::Up)
                            : FailureOr<Value>(failure());
  if (failed(up))
    return failure();
  Value gated = SwigluOp::create(builder, l.swiglu.getLoc(), gate->getType(),
                                 *gate, *up)
                    .getResult();
  FailureOr<Value> down = linear(l.down, gated, index, LinearRole::Down);
  if (failed(down))
    return failure();
  return AddOp::create(builder, l.down.getLoc(), mid.getType(), mid, *down)
      .getResult();
}

LogicalResult ModelBuilder::registerWeights() {
  if (!store)
    return success();
  for (const auto &[name, source] : sources)
    if (failed(registerBoundWeight(*store, name, source)))
      return failure();
  return success();
}

LogicalResult ModelBuilder::build(ModuleOp module, StringRef name,
                                  StringRef configJson) {
  Location loc = module.getLoc();
  FailureOr<BoundConfig> bound = bindModelConfig(decoder, loc, configJson);
  if (failed(bound))
    return failure();
  ropeTheta = bound->ropeTheta;
  ropeScaling = bound->ropeScaling;
  slidingWindow = bound->slidingWindow;
  slidingWindowFirstLayer = bound->slidingWindowFirstLayer;
  ModelConfigAttr cfg = bound->config;
  builder.setInsertionPointToEnd(module.getBody());
  auto model = ModelOp::create(builder, loc, name, cfg);
  builder.setInsertionPointToStart(&model.getBodyBlock());

  int64_t hidden = cfg.getHiddenSize();
  EmbeddingOp e = decoder.embedding;
  FailureOr<Value> table = weight(kEmbedTokensWeight, e.getTable(), e);
  if (failed(table))
    return failure();
  Value x = EmbeddingOp::create(builder, e.getLoc(), activation(hidden), *table,
                                model.getIds())
                .getResult();
  for (auto [index, l] : llvm::enumerate(decoder.layers)) {
    FailureOr<Value> next = layer(l, index, x, model.getPositions());
    if (failed(next))
      return failure();
    x = *next;
  }
  FailureOr<Value> normed = rmsNorm(decoder.finalNorm, x, kFinalNormWeight);
  if (failed(normed))
    return failure();
  StringRef headName = cfg.getTieWordEmbeddings() ? StringRef(kEmbedTokensWeight)
                                                   : StringRef(kLmHeadWeight);
  LinearOp h = decoder.head;
  if (h.getBias())
    return h.emitError() << "cannot bind the raised decoder to tfm.model: "
                         << describeNode(h) << " (the lm_head) has a bias";
  FailureOr<Value> head = weight(headName, h.getWeight(), h);
  if (failed(head))
    return failure();
  Value logits = LmHeadOp::create(builder, h.getLoc(),
                                  activation(cfg.getVocabSize()), *normed,
                                  *head)
                     .getResult();
  OutputOp::create(builder, h.getLoc(), ValueRange{logits});
  if (failed(verify(model)))
    return failure();
  return registerWeights();
}

/// The ops raising left at the ONNX level that the binding does not take:
/// everything but constants, the weight Transposes, and the residual Adds
/// and activation Casts the structure accounts for.
LogicalResult checkRaised(func::FuncOp main) {
  constexpr int kReported = 10;
  int count = 0;
  main.walk([&](Operation *op) {
    if (!isa<onnxir::OnnxDialect>(op->getDialect()) ||
        isa<onnxir::ConstantOp, onnxir::AbsentOp, onnxir::AddOp,
            onnxir::CastOp>(op))
      return;
    if (auto t = dyn_cast<onnxir::TransposeOp>(op))
      if (constantOf(t.getInput()))
        return;
    // Interleaved RoPE's feature permutations around a rope, which the
    // structure checks.
    if (auto g = dyn_cast<onnxir::GatherOp>(op); g && constantOf(g.getIndices()))
      return;
    // Reshapes of integer inputs: the token ids' way to the embedding,
    // which checkInputs follows (checkBound names any other).
    if (isa<onnxir::ReshapeOp, onnxir::SqueezeOp, onnxir::UnsqueezeOp>(op) &&
        isa<IntegerType>(getElementTypeOrSelf(op->getOperand(0).getType())))
      return;
    if (count++ < kReported)
      op->emitError() << "cannot raise ONNX node " << describeNode(op)
                      << " to tfm: it is not part of a recognized pattern";
  });
  if (count > kReported)
    main.emitError() << (count - kReported)
                     << " more ONNX node(s) are not raised";
  return failure(count > 0);
}

/// Every op of @main outside the decoder's structure is an error.
LogicalResult checkBound(func::FuncOp main, RaisedDecoder &decoder) {
  bool ok = true;
  for (Operation &op : main.getBody().front()) {
    if (decoder.ops.contains(&op) ||
        isa<onnxir::ConstantOp, arith::ConstantOp, tensor::DimOp>(op))
      continue;
    if (auto t = dyn_cast<onnxir::TransposeOp>(op);
        t && constantOf(t.getInput()))
      continue;
    op.emitError() << "cannot bind the raised decoder to tfm.model: "
                   << describeNode(&op) << " is not part of the decoder";
    ok = false;
  }
  return success(ok);
}

struct OnnxBindModelPass : qtc::impl::OnnxBindModelBase<OnnxBindModelPass> {
  OnnxBindModelPass(OnnxBindModelOptions options, WeightStore *store)
      : OnnxBindModelBase(std::move(options)), store(store) {}
  using OnnxBindModelBase::OnnxBindModelBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto main = module.lookupSymbol<func::FuncOp>("main");
    if (!main || main.getBody().getBlocks().size() != 1) {
      module.emitError() << "qtc-onnx-bind-model: no raised func.func @main";
      return signalPassFailure();
    }
    if (failed(checkRaised(main)))
      return signalPassFailure();
    FailureOr<RaisedDecoder> decoder = findRaisedDecoder(main);
    if (failed(decoder) || failed(checkInputs(*decoder)) ||
        failed(checkBound(main, *decoder)) ||
        failed(ModelBuilder(module, *decoder, store)
                   .build(module, modelName, configJson)))
      return signalPassFailure();
    main.erase();
    for (NamedAttribute attr : llvm::to_vector(module->getAttrs()))
      if (attr.getName().strref().starts_with("onnx."))
        module->removeAttr(attr.getName());
  }

  /// The embedding reads a graph input (the ids) and every rope the same
  /// graph input (the positions).
  LogicalResult checkInputs(RaisedDecoder &decoder) {
    // Through [1, T] -> [T] reshapes and integer casts (int32 ids).
    auto input = [&](Value v) {
      while (Operation *op = v.getDefiningOp()) {
        if (!isa<tensor::CollapseShapeOp, onnxir::CastOp, onnxir::ReshapeOp,
                 onnxir::SqueezeOp, onnxir::UnsqueezeOp>(op) ||
            !isa<IntegerType>(getElementTypeOrSelf(op->getOperand(0).getType())))
          break;
        decoder.ops.insert(op);
        v = op->getOperand(0);
      }
      return dyn_cast<BlockArgument>(v);
    };
    EmbeddingOp e = decoder.embedding;
    if (!input(e.getIds()))
      return e.emitError() << "cannot bind the raised decoder to tfm.model: "
                           << describeNode(e)
                           << " does not look up the graph's token ids";
    BlockArgument positions;
    for (RaisedLayer &l : decoder.layers)
      for (RopeOp r : {l.queryRope, l.keyRope}) {
        BlockArgument p = input(r.getPositions());
        if (!p || (positions && p != positions))
          return r.emitError()
                 << "cannot bind the raised decoder to tfm.model: "
                 << describeNode(r)
                 << " does not rotate by the graph's positions";
        positions = p;
      }
    return success();
  }

  WeightStore *store = nullptr;
};

} // namespace

std::unique_ptr<Pass>
qtc::createOnnxBindModel(const OnnxBindModelOptions &options,
                         WeightStore *weights) {
  return std::make_unique<OnnxBindModelPass>(options, weights);
}
