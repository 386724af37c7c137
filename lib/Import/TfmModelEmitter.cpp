//===- TfmModelEmitter.cpp - Builds the canonical tfm graph ---------------===//

#include "TfmModelEmitter.h"

#include "DecoderWeightNames.h"

#include "dialects/tfm/TfmOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/StringExtras.h"

#include <cmath>

using namespace mlir;
using namespace qtc;
using namespace qtc::tfm;

namespace {

Type elementTypeOf(MLIRContext &context, DType dtype) {
  switch (dtype) {
  case DType::F64:
    return Float64Type::get(&context);
  case DType::F32:
    return Float32Type::get(&context);
  case DType::F16:
    return Float16Type::get(&context);
  case DType::BF16:
    return BFloat16Type::get(&context);
  case DType::F8E4M3FN:
    return Float8E4M3FNType::get(&context);
  case DType::F8E5M2:
    return Float8E5M2Type::get(&context);
  default:
    return Type();
  }
}

APFloat toAPFloat(float value) { return APFloat(value); }

class ModelEmitter {
public:
  ModelEmitter(MLIRContext &context, const TransformerConfig &config,
               const WeightStore &weights, const EmitterLocations &locations)
      : context(context), builder(&context), config(config), weights(weights),
        locations(locations) {}

  FailureOr<OwningOpRef<ModuleOp>> emit(StringRef symName);

private:
  RankedTensorType activation(int64_t width) {
    return RankedTensorType::get({ShapedType::kDynamic, width},
                                 builder.getF32Type());
  }
  Location opLoc(StringRef key) { return locations.op(key); }

  /// The value of weight `name`, created right before its first user and
  /// checked against the shape `config` implies.
  FailureOr<Value> weight(StringRef name, ArrayRef<int64_t> shape);

  FailureOr<Value> rmsNorm(Value input, StringRef weightName, StringRef key);
  FailureOr<Value> linear(Value input, int64_t layer, LinearRole role);
  FailureOr<Value> decoderLayer(Value input, int64_t layer);
  RopeScalingAttr ropeScaling();

  MLIRContext &context;
  OpBuilder builder;
  const TransformerConfig &config;
  const WeightStore &weights;
  const EmitterLocations &locations;
  llvm::StringMap<Value> weightValues;
  Value positions;
};

FailureOr<Value> ModelEmitter::weight(StringRef name, ArrayRef<int64_t> shape) {
  auto cached = weightValues.find(name);
  if (cached != weightValues.end())
    return cached->second;

  Location loc = locations.weight(name);
  std::optional<WeightType> stored = weights.typeOf(name);
  if (!stored)
    return emitError(loc) << "missing tensor '" << name << "'";
  if (ArrayRef<int64_t>(stored->shape) != shape)
    return emitError(loc) << "tensor '" << name << "' has shape ["
                          << ArrayRef<int64_t>(stored->shape)
                          << "] but the model configuration implies [" << shape
                          << "]";
  Type elementType = elementTypeOf(context, stored->dtype);
  if (!elementType)
    return emitError(loc) << "tensor '" << name << "' has element type "
                          << dtypeName(stored->dtype)
                          << "; weights must be floating point";

  auto type = RankedTensorType::get(shape, elementType);
  Value value = WeightOp::create(builder, loc, type, name).getResult();
  weightValues[name] = value;
  return value;
}

FailureOr<Value> ModelEmitter::rmsNorm(Value input, StringRef weightName,
                                       StringRef key) {
  FailureOr<Value> scale = weight(weightName, {config.hiddenSize});
  if (failed(scale))
    return failure();
  return RmsNormOp::create(builder, opLoc(key), input.getType(), input, *scale,
                           builder.getF32FloatAttr(config.rmsNormEps))
      .getResult();
}

FailureOr<Value> ModelEmitter::linear(Value input, int64_t layer,
                                      LinearRole role) {
  std::array<int64_t, 2> shape = linearWeightShape(config, role);
  FailureOr<Value> matrix = weight(linearWeightName(layer, role), shape);
  if (failed(matrix))
    return failure();
  Value bias;
  if (linearHasBias(config, role)) {
    FailureOr<Value> vector = weight(linearBiasName(layer, role), {shape[0]});
    if (failed(vector))
      return failure();
    bias = *vector;
  }
  return LinearOp::create(builder, opLoc(linearModuleName(layer, role)),
                          activation(shape[0]), input, *matrix, bias)
      .getResult();
}

RopeScalingAttr ModelEmitter::ropeScaling() {
  const RopeScalingConfig &rope = config.ropeScaling;
  RopeScalingKind kind = RopeScalingKind::none;
  switch (rope.kind) {
  case RopeScalingConfig::Kind::None:
    return RopeScalingAttr();
  case RopeScalingConfig::Kind::Linear:
    kind = RopeScalingKind::linear;
    break;
  case RopeScalingConfig::Kind::Llama3:
    kind = RopeScalingKind::llama3;
    break;
  }
  // getChecked: the parameters come from the model files, so an invalid
  // combination is a diagnostic (and a null attribute), not an assertion.
  return RopeScalingAttr::getChecked(
      [&] { return emitError(locations.model); }, &context, kind,
      toAPFloat(rope.factor), toAPFloat(rope.lowFreqFactor),
      toAPFloat(rope.highFreqFactor), rope.originalMaxPositions);
}

FailureOr<Value> ModelEmitter::decoderLayer(Value input, int64_t layer) {
  std::string prefix = layerPrefix(layer);
  FailureOr<Value> normed =
      rmsNorm(input, inputNormWeightName(layer), prefix + ".input_layernorm");
  if (failed(normed))
    return failure();
  FailureOr<Value> query = linear(*normed, layer, LinearRole::Query);
  FailureOr<Value> key = succeeded(query)
                             ? linear(*normed, layer, LinearRole::Key)
                             : FailureOr<Value>(failure());
  FailureOr<Value> value = succeeded(key)
                               ? linear(*normed, layer, LinearRole::Value)
                               : FailureOr<Value>(failure());
  if (failed(value))
    return failure();

  IntegerAttr headDim = builder.getI64IntegerAttr(config.headDim);
  FloatAttr theta = builder.getF32FloatAttr(config.ropeTheta);
  RopeScalingAttr scaling = ropeScaling();
  Value rotatedQuery =
      RopeOp::create(builder, opLoc(prefix + ".self_attn.rope_q"),
                     query->getType(), *query, positions, headDim, theta,
                     scaling)
          .getResult();
  Value rotatedKey =
      RopeOp::create(builder, opLoc(prefix + ".self_attn.rope_k"),
                     key->getType(), *key, positions, headDim, theta, scaling)
          .getResult();

  float scale =
      config.attentionScale > 0.0f
          ? config.attentionScale
          : static_cast<float>(1.0 / std::sqrt(double(config.headDim)));
  IntegerAttr window;
  if (config.slidingWindow > 0 && layer >= config.slidingWindowFirstLayer)
    window = builder.getI64IntegerAttr(config.slidingWindow);
  Value attended =
      AttentionOp::create(
          builder, opLoc(prefix + ".self_attn"), rotatedQuery.getType(),
          rotatedQuery, rotatedKey, *value, /*mask=*/Value(),
          builder.getI64IntegerAttr(config.numHeads),
          builder.getI64IntegerAttr(config.numKvHeads), headDim,
          builder.getUnitAttr(), builder.getF32FloatAttr(scale), window)
          .getResult();

  FailureOr<Value> projected = linear(attended, layer, LinearRole::Output);
  if (failed(projected))
    return failure();
  Value residual = AddOp::create(builder, opLoc(prefix + ".residual_attn"),
                                 input.getType(), input, *projected)
                       .getResult();

  FailureOr<Value> mlpInput =
      rmsNorm(residual, postAttentionNormWeightName(layer),
              prefix + ".post_attention_layernorm");
  if (failed(mlpInput))
    return failure();
  FailureOr<Value> gate = linear(*mlpInput, layer, LinearRole::Gate);
  FailureOr<Value> up = succeeded(gate)
                            ? linear(*mlpInput, layer, LinearRole::Up)
                            : FailureOr<Value>(failure());
  if (failed(up))
    return failure();
  Value gated = SwigluOp::create(builder, opLoc(prefix + ".mlp"),
                                 gate->getType(), *gate, *up)
                    .getResult();
  FailureOr<Value> down = linear(gated, layer, LinearRole::Down);
  if (failed(down))
    return failure();
  return AddOp::create(builder, opLoc(prefix + ".residual_mlp"),
                       residual.getType(), residual, *down)
      .getResult();
}

FailureOr<OwningOpRef<ModuleOp>> ModelEmitter::emit(StringRef symName) {
  OwningOpRef<ModuleOp> module = ModuleOp::create(locations.model);
  builder.setInsertionPointToEnd(module->getBody());

  bool wantsScaling = config.ropeScaling.kind != RopeScalingConfig::Kind::None;
  RopeScalingAttr scaling = ropeScaling();
  if (wantsScaling && !scaling)
    return failure();
  auto configAttr = ModelConfigAttr::getChecked(
      [&] { return emitError(locations.model); }, &context,
      llvm::StringRef(config.architecture), config.vocabSize, config.hiddenSize,
      config.numLayers, config.numHeads, config.numKvHeads, config.headDim,
      config.intermediateSize, config.maxPositions,
      toAPFloat(config.rmsNormEps), toAPFloat(config.ropeTheta),
      config.bosTokenId, config.eosTokenId, config.tieWordEmbeddings, scaling);
  if (!configAttr)
    return failure();
  auto model = ModelOp::create(builder, locations.model, symName, configAttr);
  // The builder creates the entry block taking (ids, positions).
  Block *body = &model.getBodyBlock();
  Value ids = model.getIds();
  positions = model.getPositions();
  builder.setInsertionPointToStart(body);

  FailureOr<Value> table =
      weight(kEmbedTokensWeight, {config.vocabSize, config.hiddenSize});
  if (failed(table))
    return failure();
  Value hidden = EmbeddingOp::create(builder, opLoc("model.embed_tokens"),
                                     activation(config.hiddenSize), *table, ids)
                     .getResult();

  for (int64_t layer = 0; layer < config.numLayers; ++layer) {
    FailureOr<Value> next = decoderLayer(hidden, layer);
    if (failed(next))
      return failure();
    hidden = *next;
  }

  FailureOr<Value> normed = rmsNorm(hidden, kFinalNormWeight, "model.norm");
  if (failed(normed))
    return failure();
  StringRef headName = config.tieWordEmbeddings ? StringRef(kEmbedTokensWeight)
                                                : StringRef(kLmHeadWeight);
  FailureOr<Value> head =
      weight(headName, {config.vocabSize, config.hiddenSize});
  if (failed(head))
    return failure();
  Value logits = LmHeadOp::create(builder, opLoc("lm_head"),
                                  activation(config.vocabSize), *normed, *head)
                     .getResult();
  OutputOp::create(builder, opLoc("lm_head"), ValueRange{logits});

  if (failed(verify(*module)))
    return failure();
  return module;
}

} // namespace

FailureOr<OwningOpRef<ModuleOp>>
qtc::emitTfmModel(MLIRContext &context, StringRef symName,
                  const TransformerConfig &config, const WeightStore &weights,
                  const EmitterLocations &locations) {
  context.getOrLoadDialect<TfmDialect>();
  return ModelEmitter(context, config, weights, locations).emit(symName);
}

std::string qtc::modelSymbolName(StringRef folder) {
  std::string name = folder.str();
  for (char &c : name)
    if (!llvm::isAlnum(c) && c != '_')
      c = '_';
  if (name.empty() || llvm::isDigit(name.front()))
    name.insert(name.begin(), 'm');
  return name;
}
