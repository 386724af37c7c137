//===- OnnxBindConfig.cpp - The bound model's configuration ---------------===//

#include "OnnxBindConfig.h"

#include "HFCheckpointConfig.h"
#include "OnnxBindWeights.h"
#include "OnnxRaiseSupport.h"
#include "OnnxRopeFit.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/Diagnostics.h"
#include "llvm/Support/FileSystem.h"

#include <cmath>

using namespace mlir;
using namespace qtc;
using namespace qtc::tfm;

namespace {

constexpr int64_t kDefaultMaxPositions = 2048;

RopeFit fitOf(RopeOp r) {
  RopeFit fit;
  fit.theta = r.getTheta().convertToDouble();
  if (RopeScalingAttr s = r.getScalingAttr()) {
    fit.scaling = s.getKind() == RopeScalingKind::linear ? RopeFit::Scaling::Linear
                                                         : RopeFit::Scaling::Llama3;
    fit.factor = s.getFactor().convertToDouble();
    fit.lowFreqFactor = s.getLowFreqFactor().convertToDouble();
    fit.highFreqFactor = s.getHighFreqFactor().convertToDouble();
    fit.originalMaxPositions = s.getOriginalMaxPositions();
  }
  return fit;
}

RopeFit fitOf(const TransformerConfig &c) {
  RopeFit fit;
  fit.theta = c.ropeTheta;
  const RopeScalingConfig &s = c.ropeScaling;
  if (s.kind != RopeScalingConfig::Kind::None) {
    fit.scaling = s.kind == RopeScalingConfig::Kind::Linear
                      ? RopeFit::Scaling::Linear
                      : RopeFit::Scaling::Llama3;
    fit.factor = s.factor;
    fit.lowFreqFactor = s.lowFreqFactor;
    fit.highFreqFactor = s.highFreqFactor;
    fit.originalMaxPositions = s.originalMaxPositions;
  }
  return fit;
}

const char *scalingName(const RopeFit &fit) {
  switch (fit.scaling) {
  case RopeFit::Scaling::None:
    return "none";
  case RopeFit::Scaling::Linear:
    return "linear";
  case RopeFit::Scaling::Llama3:
    return "llama3";
  }
  return "none";
}

/// Fails unless every op in `ops` has the same `attr`, naming the first
/// that differs.
template <typename OpTy, typename Get>
LogicalResult agree(ArrayRef<OpTy> ops, Get get, StringRef what) {
  for (OpTy op : ops.drop_front())
    if (get(op) != get(ops.front()))
      return op.emitError()
             << "cannot bind the raised decoder to tfm.model: "
             << describeNode(op) << " has another " << what << " than "
             << describeNode(ops.front())
             << "; tfm.model states one for every layer";
  return success();
}

} // namespace

FailureOr<BoundConfig> qtc::bindModelConfig(RaisedDecoder &decoder,
                                           Location loc, StringRef configJson) {
  MLIRContext *ctx = loc.getContext();
  Builder builder(ctx);
  BoundConfig bound;
  SmallVector<RmsNormOp> norms{decoder.finalNorm};
  SmallVector<RopeOp> ropes;
  SmallVector<AttentionOp> attentions;
  SmallVector<LinearOp> gates;
  bool qkvBias = false, outputBias = false;
  for (RaisedLayer &l : decoder.layers) {
    norms.append({l.inputNorm, l.postAttentionNorm});
    ropes.append({l.queryRope, l.keyRope});
    attentions.push_back(l.attention);
    gates.push_back(l.gate);
    qkvBias |= bool(l.query.getBias());
    outputBias |= bool(l.output.getBias());
  }
  auto dim = [](Value v, unsigned i) {
    return cast<ShapedType>(v.getType()).getDimSize(i);
  };
  if (failed(agree<RmsNormOp>(norms, [](RmsNormOp n) { return n.getEpsilon(); },
                              "epsilon")) ||
      failed(agree<RopeOp>(ropes, [](RopeOp r) {
        return std::make_tuple(r.getHeadDim(), r.getTheta(),
                               r.getScalingAttr());
      }, "RoPE")) ||
      failed(agree<AttentionOp>(attentions, [](AttentionOp a) {
        return std::make_tuple(a.getNumHeads(), a.getNumKvHeads(),
                               a.getHeadDim(), a.getScale());
      }, "head layout or scale")) ||
      failed(agree<LinearOp>(gates, [&](LinearOp g) { return dim(g, 1); },
                             "MLP width")))
    return failure();

  AttentionOp a = attentions.front();
  RopeOp r = ropes.front();
  TransformerConfig graph;
  graph.vocabSize = dim(decoder.embedding.getTable(), 0);
  graph.hiddenSize = dim(decoder.embedding.getTable(), 1);
  graph.intermediateSize = dim(gates.front(), 1);
  graph.numLayers = decoder.layers.size();
  graph.numHeads = a.getNumHeads();
  graph.numKvHeads = a.getNumKvHeads();
  graph.headDim = a.getHeadDim();
  if (int64_t(r.getHeadDim()) != graph.headDim)
    return r.emitError() << "cannot bind the raised decoder to tfm.model: "
                         << describeNode(r) << " rotates heads of "
                         << r.getHeadDim() << " but the attention's are "
                         << graph.headDim;
  bound.ropeTheta = r.getThetaAttr();
  bound.ropeScaling = r.getScalingAttr();
  graph.architecture = qkvBias && !outputBias ? "Qwen2ForCausalLM"
                                              : "LlamaForCausalLM";
  graph.maxPositions = kDefaultMaxPositions;

  if (!configJson.empty() && llvm::sys::fs::exists(configJson)) {
    FailureOr<TransformerConfig> side = readHFConfig(*ctx, configJson);
    if (failed(side))
      return failure();
    Location at = FileLineColLoc::get(ctx, configJson, 0, 0);
    const std::pair<StringRef, std::pair<int64_t, int64_t>> sizes[] = {
        {"vocab_size", {side->vocabSize, graph.vocabSize}},
        {"hidden_size", {side->hiddenSize, graph.hiddenSize}},
        {"intermediate_size", {side->intermediateSize, graph.intermediateSize}},
        {"num_hidden_layers", {side->numLayers, graph.numLayers}},
        {"num_attention_heads", {side->numHeads, graph.numHeads}},
        {"num_key_value_heads", {side->numKvHeads, graph.numKvHeads}},
        {"head_dim", {side->headDim, graph.headDim}}};
    for (const auto &[field, values] : sizes)
      if (values.first != values.second)
        return emitError(at) << "config.json beside the model says " << field
                             << " = " << values.first
                             << " but the ONNX graph has " << values.second;
    RopeFit stated = fitOf(*side);
    RopeFit raised = fitOf(r);
    for (int64_t i = 0; i < graph.headDim / 2; ++i) {
      double want = ropeFrequency(stated, graph.headDim, i);
      double got = ropeFrequency(raised, graph.headDim, i);
      if (std::abs(want - got) > 1e-3 * want)
        return emitError(at)
               << "the RoPE of config.json beside the model (rope_theta = "
               << side->ropeTheta << ", rope_scaling " << scalingName(stated)
               << ") gives frequency " << i << " = " << want
               << " but the ONNX graph's tables rotate by " << got << " ("
               << describeNode(r) << ")";
    }
    // The same frequencies: the checkpoint's own statement of them.
    if (side->ropeScaling.kind != RopeScalingConfig::Kind::None) {
      const RopeScalingConfig &c = side->ropeScaling;
      bound.ropeScaling = RopeScalingAttr::getChecked(
          [&] { return emitError(at); }, ctx,
          c.kind == RopeScalingConfig::Kind::Linear ? RopeScalingKind::linear
                                                    : RopeScalingKind::llama3,
          APFloat(c.factor), APFloat(c.lowFreqFactor), APFloat(c.highFreqFactor),
          c.originalMaxPositions);
      if (!bound.ropeScaling)
        return failure();
    }
    bound.ropeTheta = builder.getF32FloatAttr(side->ropeTheta);
    graph.architecture = side->architecture;
    graph.maxPositions = side->maxPositions;
    graph.bosTokenId = side->bosTokenId;
    graph.eosTokenId = side->eosTokenId;
    bound.slidingWindow = side->slidingWindow;
    bound.slidingWindowFirstLayer = side->slidingWindowFirstLayer;
  } else {
    emitWarning(loc) << "no config.json beside the model: the maximum context "
                        "is unknown and set to "
                     << kDefaultMaxPositions << ", token ids are unset";
  }

  bool tied = false;
  if (auto head = weightSourceOf(decoder.head.getWeight(), decoder.head);
      succeeded(head)) {
    FailureOr<WeightSource> table =
        weightSourceOf(decoder.embedding.getTable(), decoder.embedding);
    tied = succeeded(table) && !head->transposed && !table->transposed &&
           head->constant == table->constant;
  }
  bound.config = ModelConfigAttr::getChecked(
      [&] { return emitError(loc); }, ctx, StringRef(graph.architecture),
      graph.vocabSize, graph.hiddenSize, graph.numLayers, graph.numHeads,
      graph.numKvHeads, graph.headDim, graph.intermediateSize,
      graph.maxPositions, norms.front().getEpsilon(), bound.ropeTheta.getValue(),
      graph.bosTokenId, graph.eosTokenId, tied, bound.ropeScaling);
  if (!bound.config)
    return failure();
  return bound;
}

