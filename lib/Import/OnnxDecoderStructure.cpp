//===- OnnxDecoderStructure.cpp - Roles of the raised ops -----------------===//
//
// Follows the residual stream from the embedding: each layer is
//   n1 = rms_norm(x); q, k, v = linear(n1); a = attention(q, k, v)
//   x1 = add(x, linear_o(a)); n2 = rms_norm(x1)
//   x2 = add(x1, linear_down(swiglu(linear_gate(n2), linear_up(n2))))
// and the tail is rms_norm followed by the linear producing the logits.
// Roles give the Hugging Face names: exporters rename the initializers of
// transposed linears ("val_121"), so names come from the structure, never
// from the initializer names.
//
//===----------------------------------------------------------------------===//

#include "DecoderWeightNames.h"
#include "OnnxRaiser.h"

#include "mlir/IR/Diagnostics.h"

#include <cmath>

using namespace mlir;
using namespace qtc;

namespace {

class StructureWalker {
public:
  StructureWalker(MLIRContext &context, const PatternContext &patterns)
      : context(context), patterns(patterns), graph(patterns.graph),
        ops(patterns.ops), assigned(ops.size(), false) {
    for (size_t i = 0; i < ops.size(); ++i)
      for (const std::string &input : ops[i].inputs)
        readers[input].push_back(i);
  }

  FailureOr<RaisedDecoder> walk();

private:
  InFlightDiagnostic error(const RaisedOp &op) {
    return emitError(onnxNodeLoc(context, graph, *op.anchor));
  }
  /// The ops of `kind` reading `value`.
  llvm::SmallVector<size_t, 4> readersOf(llvm::StringRef value,
                                         RaisedOp::Kind kind) const;
  /// The op of `kind` defining `value`, or null.
  const RaisedOp *producerOf(llvm::StringRef value, RaisedOp::Kind kind) const;
  /// The single op of `kind` reading `value`; diagnoses at `near` otherwise.
  FailureOr<size_t> soleReader(llvm::StringRef value, RaisedOp::Kind kind,
                               const RaisedOp &near, llvm::StringRef what);

  void assign(const RaisedOp &op, llvm::StringRef key) {
    assigned[&op - ops.data()] = true;
    result.opNodes[key] = op.anchor;
  }
  void bind(llvm::StringRef name, llvm::StringRef initializer,
            bool inputMajor = false) {
    result.weights.push_back({name.str(), initializer.str(), inputMajor});
  }
  LogicalResult bindLinear(const RaisedOp &op, int64_t layer, LinearRole role);
  LogicalResult checkNorm(const RaisedOp &norm);
  FailureOr<std::string> layer(llvm::StringRef input, const RaisedOp &near,
                               int64_t index, bool &isTail);

  MLIRContext &context;
  const PatternContext &patterns;
  const OnnxGraph &graph;
  const std::vector<RaisedOp> &ops;
  std::vector<bool> assigned;
  llvm::StringMap<llvm::SmallVector<size_t, 2>> readers;
  RaisedDecoder result;
  const RaisedOp *firstNorm = nullptr;
  // Per-layer facts that must agree; the first layer sets them.
  std::optional<bool> qkvBias, outputBias, mlpBias;
};

llvm::SmallVector<size_t, 4>
StructureWalker::readersOf(llvm::StringRef value, RaisedOp::Kind kind) const {
  llvm::SmallVector<size_t, 4> found;
  auto it = readers.find(value);
  if (it != readers.end())
    for (size_t index : it->second)
      if (ops[index].kind == kind)
        found.push_back(index);
  return found;
}

const RaisedOp *StructureWalker::producerOf(llvm::StringRef value,
                                            RaisedOp::Kind kind) const {
  auto it = patterns.raisedBy.find(value);
  if (it == patterns.raisedBy.end() || it->second < 0 ||
      ops[it->second].kind != kind)
    return nullptr;
  return &ops[it->second];
}

FailureOr<size_t> StructureWalker::soleReader(llvm::StringRef value,
                                              RaisedOp::Kind kind,
                                              const RaisedOp &near,
                                              llvm::StringRef what) {
  llvm::SmallVector<size_t, 4> found = readersOf(value, kind);
  if (found.size() == 1)
    return found.front();
  return error(near) << "expected one " << what << " reading '" << value
                     << "' in the Llama decoder structure, found "
                     << found.size();
}

LogicalResult StructureWalker::bindLinear(const RaisedOp &op, int64_t layer,
                                          LinearRole role) {
  assign(op, linearModuleName(layer, role));
  bind(linearWeightName(layer, role), op.weight, op.weightIsInputMajor);
  if (!op.bias.empty())
    bind(linearBiasName(layer, role), op.bias);

  bool hasBias = !op.bias.empty();
  std::optional<bool> *flag = &mlpBias;
  if (role == LinearRole::Query || role == LinearRole::Key ||
      role == LinearRole::Value)
    flag = &qkvBias;
  else if (role == LinearRole::Output)
    flag = &outputBias;
  if (!flag->has_value())
    *flag = hasBias;
  else if (**flag != hasBias)
    return error(op) << "projection " << linearModuleName(layer, role)
                     << (hasBias ? " has" : " has no")
                     << " bias unlike its siblings; tfm configurations give "
                        "all of them a bias or none";
  return success();
}

LogicalResult StructureWalker::checkNorm(const RaisedOp &norm) {
  if (!firstNorm) {
    firstNorm = &norm;
    result.config.rmsNormEps = static_cast<float>(norm.epsilon);
    return success();
  }
  if (static_cast<float>(norm.epsilon) == result.config.rmsNormEps)
    return success();
  return error(norm) << "RMSNorm epsilon " << norm.epsilon
                     << " differs from the " << firstNorm->epsilon
                     << " of node '" << firstNorm->anchor->displayName()
                     << "'; the model configuration holds one epsilon";
}

// Recognizes the layer reading residual value `input`, or the tail. Returns
// the layer's output value ("" for the tail, with `isTail` set).
FailureOr<std::string> StructureWalker::layer(llvm::StringRef input,
                                              const RaisedOp &near,
                                              int64_t index, bool &isTail) {
  FailureOr<size_t> normIndex =
      soleReader(input, RaisedOp::Kind::RmsNorm, near, "RMSNorm");
  if (failed(normIndex))
    return failure();
  const RaisedOp &norm = ops[*normIndex];
  if (failed(checkNorm(norm)))
    return failure();

  llvm::SmallVector<size_t, 4> projections =
      readersOf(norm.output, RaisedOp::Kind::Linear);
  if (projections.size() == 1 &&
      graph.isGraphOutput(ops[projections.front()].output)) {
    isTail = true;
    const RaisedOp &head = ops[projections.front()];
    assign(norm, "model.norm");
    bind(kFinalNormWeight, norm.weight);
    assign(head, "lm_head");
    if (!head.bias.empty())
      return error(head) << "the lm_head projection must not have a bias";
    const RaisedOp *embedding = &ops[0];
    for (const RaisedOp &op : ops)
      if (op.kind == RaisedOp::Kind::Embedding)
        embedding = &op;
    result.config.tieWordEmbeddings =
        head.weight == embedding->weight && !head.weightIsInputMajor;
    if (!result.config.tieWordEmbeddings)
      bind(kLmHeadWeight, head.weight, head.weightIsInputMajor);
    return std::string();
  }

  std::string prefix = layerPrefix(index);
  assign(norm, prefix + ".input_layernorm");
  bind(inputNormWeightName(index), norm.weight);

  // The attention op whose query is one of this norm's projections.
  const RaisedOp *attention = nullptr;
  for (size_t projection : projections)
    for (size_t reader :
         readersOf(ops[projection].output, RaisedOp::Kind::Attention))
      if (ops[reader].inputs[0] == ops[projection].output)
        attention = &ops[reader];
  if (!attention)
    return error(norm) << "the RMSNorm output '" << norm.output
                       << "' feeds no recognized attention";
  const RaisedOp *q = producerOf(attention->inputs[0], RaisedOp::Kind::Linear);
  const RaisedOp *k = producerOf(attention->inputs[1], RaisedOp::Kind::Linear);
  const RaisedOp *v = producerOf(attention->inputs[2], RaisedOp::Kind::Linear);
  if (!q || !k || !v || q == k || k == v || q == v || projections.size() != 3 ||
      q->inputs[0] != norm.output || k->inputs[0] != norm.output ||
      v->inputs[0] != norm.output)
    return error(*attention) << "attention q, k and v must be three distinct "
                                "projections of the same RMSNorm output";
  if (failed(bindLinear(*q, index, LinearRole::Query)) ||
      failed(bindLinear(*k, index, LinearRole::Key)) ||
      failed(bindLinear(*v, index, LinearRole::Value)))
    return failure();
  assign(*attention, prefix + ".self_attn");
  result.opNodes[prefix + ".self_attn.rope_q"] = attention->anchor;
  result.opNodes[prefix + ".self_attn.rope_k"] = attention->anchor;

  TransformerConfig &config = result.config;
  if (index == 0) {
    config.numHeads = attention->numHeads;
    config.numKvHeads = attention->numKvHeads;
    config.headDim = attention->headDim;
    config.attentionScale = static_cast<float>(attention->scale);
    result.ropeFrequencies = attention->ropeFrequencies;
    result.firstAttention = attention->anchor;
  } else {
    bool sameFrequencies =
        attention->ropeFrequencies.size() == result.ropeFrequencies.size();
    for (size_t i = 0; sameFrequencies && i < result.ropeFrequencies.size();
         ++i)
      sameFrequencies = std::fabs(attention->ropeFrequencies[i] -
                                  result.ropeFrequencies[i]) <=
                        1e-9 * result.ropeFrequencies[i];
    if (attention->numHeads != config.numHeads ||
        attention->numKvHeads != config.numKvHeads ||
        attention->headDim != config.headDim ||
        static_cast<float>(attention->scale) != config.attentionScale ||
        !sameFrequencies)
      return error(*attention) << "attention of layer " << index
                               << " differs from layer 0 in heads, head size, "
                                  "scale or RoPE frequencies";
  }

  FailureOr<size_t> output =
      soleReader(attention->output, RaisedOp::Kind::Linear, *attention,
                 "output projection");
  if (failed(output) ||
      failed(bindLinear(ops[*output], index, LinearRole::Output)))
    return failure();
  const RaisedOp &o = ops[*output];

  auto residualOf = [&](llvm::StringRef a, llvm::StringRef b,
                        const RaisedOp &near) -> const RaisedOp * {
    for (size_t reader : readersOf(b, RaisedOp::Kind::Add)) {
      const RaisedOp &add = ops[reader];
      if ((add.inputs[0] == a && add.inputs[1] == b) ||
          (add.inputs[0] == b && add.inputs[1] == a))
        return &add;
    }
    error(near) << "expected a residual add of '" << a << "' and '" << b << "'";
    return nullptr;
  };
  const RaisedOp *attentionResidual = residualOf(input, o.output, o);
  if (!attentionResidual)
    return failure();
  assign(*attentionResidual, prefix + ".residual_attn");

  FailureOr<size_t> postNormIndex =
      soleReader(attentionResidual->output, RaisedOp::Kind::RmsNorm,
                 *attentionResidual, "RMSNorm");
  if (failed(postNormIndex))
    return failure();
  const RaisedOp &postNorm = ops[*postNormIndex];
  if (failed(checkNorm(postNorm)))
    return failure();
  assign(postNorm, prefix + ".post_attention_layernorm");
  bind(postAttentionNormWeightName(index), postNorm.weight);

  llvm::SmallVector<size_t, 4> mlpProjections =
      readersOf(postNorm.output, RaisedOp::Kind::Linear);
  const RaisedOp *swiglu = nullptr;
  for (size_t projection : mlpProjections)
    for (size_t reader :
         readersOf(ops[projection].output, RaisedOp::Kind::Swiglu))
      swiglu = &ops[reader];
  const RaisedOp *gate =
      swiglu ? producerOf(swiglu->inputs[0], RaisedOp::Kind::Linear) : nullptr;
  const RaisedOp *up =
      swiglu ? producerOf(swiglu->inputs[1], RaisedOp::Kind::Linear) : nullptr;
  if (!gate || !up || gate == up || mlpProjections.size() != 2 ||
      gate->inputs[0] != postNorm.output || up->inputs[0] != postNorm.output)
    return error(postNorm) << "the MLP must be silu(gate) * up of two "
                              "projections of the RMSNorm output";
  if (failed(bindLinear(*gate, index, LinearRole::Gate)) ||
      failed(bindLinear(*up, index, LinearRole::Up)))
    return failure();
  assign(*swiglu, prefix + ".mlp");
  if (index == 0) {
    const OnnxTensorData *weight = graph.constant(gate->weight);
    config.intermediateSize =
        gate->weightIsInputMajor ? weight->shape[1] : weight->shape[0];
  }

  FailureOr<size_t> downIndex = soleReader(
      swiglu->output, RaisedOp::Kind::Linear, *swiglu, "down projection");
  if (failed(downIndex) ||
      failed(bindLinear(ops[*downIndex], index, LinearRole::Down)))
    return failure();
  const RaisedOp *mlpResidual = residualOf(
      attentionResidual->output, ops[*downIndex].output, ops[*downIndex]);
  if (!mlpResidual)
    return failure();
  assign(*mlpResidual, prefix + ".residual_mlp");
  return mlpResidual->output;
}

FailureOr<RaisedDecoder> StructureWalker::walk() {
  const RaisedOp *embedding = nullptr;
  for (const RaisedOp &op : ops) {
    if (op.kind != RaisedOp::Kind::Embedding)
      continue;
    if (embedding)
      return error(op) << "a second embedding lookup; the model has one";
    embedding = &op;
  }
  if (!embedding)
    return emitError(FileLineColLoc::get(&context, graph.path, 0, 0))
           << "no embedding lookup (Gather of the token ids) was found";
  assign(*embedding, "model.embed_tokens");
  bind(kEmbedTokensWeight, embedding->weight);
  const OnnxTensorData *table = graph.constant(embedding->weight);
  result.config.vocabSize = table->shape[0];
  result.config.hiddenSize = table->shape[1];

  std::string residual = embedding->output;
  const RaisedOp *near = embedding;
  // Every layer assigns ops, so there are fewer layers than ops.
  for (int64_t index = 0; index <= static_cast<int64_t>(ops.size()); ++index) {
    bool isTail = false;
    FailureOr<std::string> next = layer(residual, *near, index, isTail);
    if (failed(next))
      return failure();
    if (isTail) {
      result.config.numLayers = index;
      break;
    }
    residual = *next;
    near = &ops[patterns.raisedBy.lookup(residual)];
  }
  if (result.config.numLayers == 0)
    return error(*embedding) << "the model has no decoder layers or no "
                                "lm_head producing the graph output";

  for (size_t i = 0; i < ops.size(); ++i)
    if (!assigned[i])
      return error(ops[i]) << "ONNX node '" << ops[i].anchor->displayName()
                           << "' was raised but does not fit the Llama "
                              "decoder structure";
  result.config.qkvBias = qkvBias.value_or(false);
  result.config.outputBias = outputBias.value_or(false);
  result.config.mlpBias = mlpBias.value_or(false);
  return std::move(result);
}

} // namespace

FailureOr<RaisedDecoder>
qtc::recoverDecoderStructure(MLIRContext &context,
                             const PatternContext &patterns) {
  return StructureWalker(context, patterns).walk();
}
