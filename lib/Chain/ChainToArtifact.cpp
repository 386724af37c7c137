//===- ChainToArtifact.cpp - A chain.plan as the artifact's plan ----------===//
//
// A translation, not a lowering: every decision (fusion, weight layout,
// buffers) was made by a pass; this writes the plan's ops as the runtime's
// steps, its chain.tensor declarations as the tensor table, and checks that
// nothing is left that no kernel executes.
//
//===----------------------------------------------------------------------===//

#include "qtc/Chain/Plan.h"

#include "dialects/chain/ChainOps.h"
#include "qtc/Import/WeightStore.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/FormatVariadic.h"

#include <optional>

using namespace mlir;

namespace qtc {

namespace {

namespace fb = artifact::fb;

class Translation {
public:
  Translation(chain::PlanOp plan, const WeightStore &store,
              artifact::ArtifactContents &out, std::vector<Operation *> *stepOps,
              llvm::raw_ostream *progress)
      : plan(plan), store(store), out(out), stepOps(stepOps),
        progress(progress) {}

  LogicalResult run();

private:
  void fillConfig();
  LogicalResult tensor(chain::TensorOp op);
  LogicalResult step(Operation *op);
  LogicalResult linear(chain::LinearOp op, artifact::Step &step);
  LogicalResult kvCache(Operation *op, int64_t layer, std::optional<qnt::KvSchemeAttr> scheme);

  FailureOr<int> slot(Value v, Operation *user);
  FailureOr<int> tensorIndex(FlatSymbolRefAttr symbol, Operation *user,
                             StringRef role);

  chain::PlanOp plan;
  const WeightStore &store;
  artifact::ArtifactContents &out;
  std::vector<Operation *> *stepOps;
  llvm::raw_ostream *progress;
  llvm::StringMap<int> tensors;
  // The cache format every layer must share (all of KvCacheSpec but scales).
  struct KvFormat {
    fb::KvDType dtype = fb::KvDType::F16;
    fb::KvGranularity keyGranularity = fb::KvGranularity::PerToken;
    bool keySymmetric = false, valueSymmetric = false;
    int blockSize = 0, residualWindow = 0, sinkTokens = 0;
    bool operator==(const KvFormat &o) const {
      return dtype == o.dtype && keyGranularity == o.keyGranularity &&
             keySymmetric == o.keySymmetric && valueSymmetric == o.valueSymmetric &&
             blockSize == o.blockSize && residualWindow == o.residualWindow &&
             sinkTokens == o.sinkTokens;
    }
  };
  std::optional<KvFormat> kvFormat;
  int layers = 0;
};

void Translation::fillConfig() {
  tfm::ModelConfigAttr c = plan.getConfig();
  artifact::ModelConfig &cfg = out.config;
  cfg.architecture = c.getArchitecture().str();
  cfg.vocabSize = c.getVocabSize();
  cfg.hiddenSize = c.getHiddenSize();
  cfg.numLayers = c.getNumLayers();
  cfg.numHeads = c.getNumHeads();
  cfg.numKvHeads = c.getNumKvHeads();
  cfg.headDim = c.getHeadDim();
  cfg.intermediateSize = c.getIntermediateSize();
  cfg.maxPositions = c.getMaxPositions();
  cfg.rmsNormEps = c.getRmsNormEps().convertToFloat();
  cfg.ropeTheta = c.getRopeTheta().convertToFloat();
  cfg.bosTokenId = c.getBosTokenId();
  cfg.eosTokenId = c.getEosTokenId();
  if (tfm::RopeScalingAttr s = c.getRopeScaling()) {
    switch (s.getKind()) {
    case tfm::RopeScalingKind::none:
      cfg.ropeScaling = fb::RopeScaling::None;
      break;
    case tfm::RopeScalingKind::linear:
      cfg.ropeScaling = fb::RopeScaling::Linear;
      break;
    case tfm::RopeScalingKind::llama3:
      cfg.ropeScaling = fb::RopeScaling::Llama3;
      break;
    }
    cfg.ropeFactor = s.getFactor().convertToFloat();
    cfg.ropeLowFreqFactor = s.getLowFreqFactor().convertToFloat();
    cfg.ropeHighFreqFactor = s.getHighFreqFactor().convertToFloat();
    cfg.ropeOriginalMaxPositions = s.getOriginalMaxPositions();
  }
}

FailureOr<int> Translation::slot(Value v, Operation *user) {
  Operation *def = v.getDefiningOp();
  auto attr = def ? def->getAttrOfType<IntegerAttr>("slot") : IntegerAttr();
  if (!attr)
    return user->emitError("operand has no activation slot: run "
                           "qtc-chain-assign-slots first");
  return static_cast<int>(attr.getInt());
}

FailureOr<int> Translation::tensorIndex(FlatSymbolRefAttr symbol,
                                        Operation *user, StringRef role) {
  if (!symbol)
    return user->emitError("'")
           << role << "' is not packed: run qtc-chain-pack-weights first";
  auto it = tensors.find(symbol.getValue());
  if (it == tensors.end())
    return user->emitError("'") << role << "' names an undeclared tensor "
                                << symbol;
  return it->second;
}

LogicalResult Translation::tensor(chain::TensorOp op) {
  auto type = cast<RankedTensorType>(op.getType());
  artifact::Tensor t;
  t.name = op.getSymName().str();
  Type e = type.getElementType();
  if (e.isF16())
    t.dtype = fb::DType::F16;
  else if (e.isUnsignedInteger(8))
    t.dtype = fb::DType::U8;
  else if (e.isSignedInteger(8))
    t.dtype = fb::DType::I8;
  else if (e.isF32())
    t.dtype = fb::DType::F32;
  else
    return op.emitError("no artifact dtype for ") << e;
  t.shape.assign(type.getShape().begin(), type.getShape().end());
  std::string key = packedTensorKey(t.name);
  if (std::optional<DeferredWeight> deferred = store.deferred(key)) {
    // Produced as the writer streams the section.
    t.produce = deferred->produce;
    t.producedSize = deferred->byteSize;
    t.granule = deferred->granule;
  } else {
    std::optional<WeightRef> bytes = store.lookup(key);
    if (!bytes)
      return op.emitError("the weight store has no bytes for packed tensor '")
             << t.name << "'";
    // A view: the store keeps the packed bytes alive and the writer streams
    // them from there.
    t.bytes = llvm::ArrayRef<uint8_t>(static_cast<const uint8_t *>(bytes->data),
                                      bytes->byteSize);
  }
  tensors[t.name] = static_cast<int>(out.tensors.size());
  out.tensors.push_back(std::move(t));
  return success();
}

// The KV formats the runtime stores: f16; f8e4m3 per tensor (scale 1 or
// calibrated per layer / kv head); integers (i/u 8, 4, 2: symmetric or with
// f16 zeros, f16 scales) with values per token and keys per token or per
// channel within a block, a window of 0 or one block and at most a block of
// sinks.
static FailureOr<fb::KvDType> kvDTypeOf(qnt::EncodingAttr key, qnt::EncodingAttr value) {
  auto bitsOf = [](qnt::EncodingAttr e) -> int {
    switch (e.getFormat()) {
    case qnt::Format::i8: case qnt::Format::u8: return 8;
    case qnt::Format::i4: case qnt::Format::u4: return 4;
    case qnt::Format::i2: case qnt::Format::u2: return 2;
    default: return 0;
    }
  };
  auto integerOk = [&](qnt::EncodingAttr e, bool perChannelOk) {
    bool sym = e.getSymmetric();
    bool signedFormat = e.getFormat() == qnt::Format::i8 || e.getFormat() == qnt::Format::i4 ||
                        e.getFormat() == qnt::Format::i2;
    return bitsOf(e) != 0 && sym == signedFormat && e.getScaleType().isF16() &&
           (sym || (e.getZeroType() && e.getZeroType().isF16())) &&
           (e.getGranularity() == qnt::Granularity::per_token ||
            (perChannelOk && e.getGranularity() == qnt::Granularity::per_channel));
  };
  auto fp8 = [](qnt::EncodingAttr e) {
    return e.getFormat() == qnt::Format::f8e4m3 &&
           e.getGranularity() == qnt::Granularity::per_tensor;
  };
  if (fp8(key) && fp8(value))
    return fb::KvDType::F8E4M3;
  if (integerOk(key, /*perChannelOk=*/true) && integerOk(value, /*perChannelOk=*/false) &&
      bitsOf(key) == bitsOf(value))
    return bitsOf(key) == 8 ? fb::KvDType::Int8
           : bitsOf(key) == 4 ? fb::KvDType::Int4
                              : fb::KvDType::Int2;
  return failure();
}

LogicalResult Translation::kvCache(Operation *op, int64_t layer,
                                   std::optional<qnt::KvSchemeAttr> scheme) {
  KvFormat format;
  format.blockSize = out.kvBlockSize;
  if (scheme) {
    FailureOr<fb::KvDType> dtype = kvDTypeOf(scheme->getKey(), scheme->getValue());
    bool integer = succeeded(dtype) && *dtype != fb::KvDType::F8E4M3;
    int64_t window = scheme->getResidualWindow(), sinks = scheme->getSinkTokens();
    if (failed(dtype) ||
        (integer && ((window != 0 && window != scheme->getBlockSize()) ||
                     sinks > scheme->getBlockSize())) ||
        (!integer && (window != 0 || sinks != 0)))
      return op->emitError("unsupported KV cache scheme ")
             << *scheme << ": the runtime stores f16; f8e4m3 keys and values with one "
             << "per-tensor scale; or i8/u8, i4/u4, i2/u2 keys and values of one width with "
             << "f16 scales (and f16 zeros for u), values per token, keys per token or per "
             << "channel, a residual window of 0 or block_size and at most block_size sink "
                "tokens (fp8 has neither)";
    if (!integer && scheme->getBlockSize() != out.kvBlockSize)
      return op->emitError("KV scheme block_size ")
             << scheme->getBlockSize() << ": f8e4m3 caches use blocks of " << out.kvBlockSize
             << " (the GPU kernels' block)";
    format.dtype = *dtype;
    format.blockSize = static_cast<int>(scheme->getBlockSize());
    if (integer) {
      format.keyGranularity = scheme->getKey().getGranularity() == qnt::Granularity::per_channel
                                  ? fb::KvGranularity::PerChannel
                                  : fb::KvGranularity::PerToken;
      format.keySymmetric = scheme->getKey().getSymmetric();
      format.valueSymmetric = scheme->getValue().getSymmetric();
      format.residualWindow = static_cast<int>(window);
      format.sinkTokens = static_cast<int>(sinks);
    }
    // Calibrated fp8 scales: stored per layer and kv head, 1 where a layer
    // has none.
    const int heads = static_cast<int>(out.config.numKvHeads);
    for (auto [given, stored] : {std::pair{scheme->getKeyScales(), &out.kvKeyScales},
                                 std::pair{scheme->getValueScales(), &out.kvValueScales}}) {
      if (!given)
        continue;
      if (given.size() != 1 && given.size() != heads)
        return op->emitError("KV scheme scales: ")
               << given.size() << " given, expected 1 or one per kv head (" << heads << ")";
      if (layer < 0 || layer >= out.config.numLayers)
        return op->emitError("KV scheme scales of layer ") << layer << " out of range";
      stored->resize(static_cast<size_t>(out.config.numLayers) * heads, 1.0f);
      for (int h = 0; h < heads; ++h)
        (*stored)[static_cast<size_t>(layer) * heads + h] = given[given.size() == 1 ? 0 : h];
    }
  }
  if (kvFormat && !(*kvFormat == format))
    return op->emitError("layers disagree on the KV cache format (")
           << fb::EnumNameKvDType(kvFormat->dtype) << " in blocks of " << kvFormat->blockSize
           << " before, " << fb::EnumNameKvDType(format.dtype) << " in blocks of "
           << format.blockSize << " here, or their granularity, zero points, window or "
           << "sinks); the runtime has one cache format";
  kvFormat = format;
  out.kvDType = format.dtype;
  out.kvBlockSize = format.blockSize;
  out.kvKeyGranularity = format.keyGranularity;
  out.kvKeySymmetric = format.keySymmetric;
  out.kvValueSymmetric = format.valueSymmetric;
  out.kvResidualWindow = format.residualWindow;
  out.kvSinkTokens = format.sinkTokens;
  return success();
}

LogicalResult Translation::linear(chain::LinearOp op, artifact::Step &step) {
  step.kind = fb::StepKind::Linear;
  step.inFeatures = static_cast<int>(op.getInFeatures());
  step.outFeatures = static_cast<int>(op.getOutFeatures());
  FailureOr<int> w = tensorIndex(op.getWeightAttr(), op, "weight");
  if (failed(w))
    return failure();
  step.weights.push_back(*w);
  std::string format = "fp16";
  if (qnt::EncodingAttr enc = op.getEncodingAttr()) {
    FailureOr<WeightLayout> layout = weightLayout(enc, op.getInFeatures(), op.getLoc());
    if (failed(layout))
      return failure();
    step.format = layout->format;
    step.groupSize = static_cast<int>(layout->groupSize);
    step.symmetric = enc.getSymmetric();
    format = layout->name;
    FailureOr<int> s = tensorIndex(op.getScalesAttr(), op, "scales");
    if (failed(s))
      return failure();
    step.weights.push_back(*s);
    if (step.symmetric) {
      step.weights.push_back(-1);
    } else {
      FailureOr<int> z = tensorIndex(op.getZerosAttr(), op, "zeros");
      if (failed(z))
        return failure();
      step.weights.push_back(*z);
    }
  }
  if (qnt::EncodingAttr act = op.getInputEncodingAttr()) {
    // The kernels multiply codes of one grid: int8 x int8 with one scale
    // per row, fp8 x fp8.
    bool int8 = act.getFormat() == qnt::Format::i8;
    fb::WeightFormat needs = int8 ? fb::WeightFormat::Int8Group : fb::WeightFormat::Fp8Channel;
    if (step.format != needs || step.groupSize != step.inFeatures)
      return op.emitError(int8 ? "int8" : "fp8")
             << " activations need " << (int8 ? "int8" : "fp8")
             << " weights with one scale per output row; this linear's are "
             << format;
    step.activation = activationQuant(act);
  }
  if (op.getBiasAttr()) {
    FailureOr<int> b = tensorIndex(op.getBiasAttr(), op, "bias");
    if (failed(b))
      return failure();
    step.weights.resize(3, -1);
    step.weights.push_back(*b);
  }
  std::vector<std::string> &names =
      out.linearWeightsOfStep[static_cast<int>(out.steps.size())];
  for (Attribute s : op.getSources())
    names.push_back(cast<StringAttr>(s).getValue().str());
  if (std::optional<ArrayAttr> numerics = op.getNumerics()) {
    qnt::EncodingAttr enc = op.getEncodingAttr();
    for (auto [a, rows] : llvm::zip(*numerics, op.getRows())) {
      auto n = cast<chain::WeightNumericsAttr>(a);
      artifact::LayerNumerics layer;
      layer.name = n.getWeight().str();
      layer.format = format;
      layer.method = n.getMethod().str();
      layer.sqnrDb = n.getSqnrDb().getValueAsDouble();
      layer.maxAbsError = n.getMaxAbsError().getValueAsDouble();
      if (FloatAttr o = n.getOutputSqnrDb())
        layer.outputSqnrDb = o.getValueAsDouble();
      layer.outFeatures = static_cast<int>(rows);
      layer.inFeatures = step.inFeatures;
      if (enc) {
        // Codes at their storage width (int3 travels in int4 nibbles), then
        // f16 scales (and zeros) per group, or one f32 scale per row (fp8).
        int64_t groups = step.inFeatures / step.groupSize;
        layer.bits = static_cast<int>(enc.getBits());
        layer.groupSize = step.groupSize;
        int64_t storedBits = step.format == fb::WeightFormat::Int4Group ? 4 : 8;
        int64_t scaleBytes = step.format == fb::WeightFormat::Fp8Channel
                                 ? 4
                                 : groups * 2 * (enc.getSymmetric() ? 1 : 2);
        layer.bytes = rows * (step.inFeatures * storedBits / 8) + rows * scaleBytes;
      }
      out.numerics.push_back(std::move(layer));
    }
  }
  return success();
}

LogicalResult Translation::step(Operation *op) {
  artifact::Step step;
  auto unfused = [&](StringRef why) {
    return op->emitError("'") << op->getName() << "' has no kernel in the "
                              << "runtime: " << why;
  };
  auto cacheStep = [&](fb::StepKind kind, int64_t layer,
                       std::optional<qnt::KvSchemeAttr> scheme) {
    step.kind = kind;
    step.layer = static_cast<int>(layer);
    return kvCache(op, layer, scheme);
  };
  // Kind and attributes per op; the inputs are the operands' slots in
  // order for every kind (a linear's residual second).
  LogicalResult result =
      llvm::TypeSwitch<Operation *, LogicalResult>(op)
          .Case([&](chain::EmbeddingOp e) {
            step.kind = fb::StepKind::Embedding;
            FailureOr<int> t = tensorIndex(e.getTableAttr(), op, "table");
            if (failed(t))
              return failure();
            step.weights = {*t};
            return success();
          })
          .Case([&](chain::RmsNormOp n) {
            step.kind = fb::StepKind::RmsNorm;
            step.activation = activationQuant(chain::rowEncoding(n.getType()));
            step.epsilon = n.getEpsilon().convertToFloat();
            FailureOr<int> t = tensorIndex(n.getWeightAttr(), op, "weight");
            if (failed(t))
              return failure();
            step.weights = {*t};
            return success();
          })
          .Case([&](chain::LinearOp l) { return linear(l, step); })
          .Case([&](chain::RopeKvAppendOp a) {
            return cacheStep(fb::StepKind::RopeKvAppend, a.getLayer(),
                             a.getKvScheme());
          })
          .Case([&](chain::AttentionOp a) {
            if (failed(cacheStep(fb::StepKind::Attention, a.getLayer(),
                                 a.getKvScheme())))
              return failure();
            ++layers;
            if (progress)
              *progress << "  layer " << layers << "/" << out.config.numLayers
                        << "\n";
            return success();
          })
          .Case([&](chain::SwigluOp) {
            step.kind = fb::StepKind::SwiGlu;
            return success();
          })
          .Case([&](chain::AddOp) {
            step.kind = fb::StepKind::Add;
            return success();
          })
          .Case([&](chain::GatherRowsOp) {
            step.kind = fb::StepKind::GatherRows;
            return success();
          })
          .Case([&](chain::QuantizeRowsOp q) {
            step.kind = fb::StepKind::QuantizeRows;
            step.activation = activationQuant(chain::rowEncoding(q.getType()));
            return success();
          })
          .Case([&](chain::ConcatOp) {
            return unfused("q|k|v and gate|up rows must come from one linear "
                           "(qtc-chain-concat-projections fuses linears of "
                           "one input)");
          })
          .Case([&](chain::RopeOp) {
            return unfused("RoPE runs only inside the KV-cache append, so "
                           "attention expects RoPE-rotated query and key of "
                           "one q|k|v projection "
                           "(qtc-chain-fuse-rope-kv-append)");
          })
          .Case([&](chain::KvAppendOp) {
            return unfused("the runtime appends to the KV cache only "
                           "together with RoPE of q and k: attention expects "
                           "RoPE-rotated query and key "
                           "(qtc-chain-fuse-rope-kv-append)");
          })
          .Default([&](Operation *) {
            return op->emitError("'") << op->getName()
                                      << "' has no step in the runtime plan";
          });
  if (failed(result))
    return failure();
  for (Value operand : op->getOperands()) {
    FailureOr<int> in = slot(operand, op);
    if (failed(in))
      return failure();
    step.inputs.push_back(*in);
  }
  FailureOr<int> o = slot(op->getResult(0), op);
  if (failed(o))
    return failure();
  step.outputs = {*o};
  out.steps.push_back(std::move(step));
  if (stepOps)
    stepOps->push_back(op);
  return success();
}

LogicalResult Translation::run() {
  fillConfig();
  std::optional<ArrayRef<int64_t>> widths = plan.getSlotWidths();
  std::optional<ArrayAttr> names = plan.getSlotNames();
  if (!widths || !names)
    return plan.emitError("the plan has no slots: run qtc-chain-assign-slots "
                          "first");
  std::optional<ArrayAttr> encodings = plan.getSlotEncodings();
  for (auto [i, width, name] : llvm::enumerate(*widths, *names)) {
    qnt::EncodingAttr encoding =
        encodings ? dyn_cast<qnt::EncodingAttr>((*encodings)[i]) : qnt::EncodingAttr();
    out.slots.push_back({cast<StringAttr>(name).getValue().str(), static_cast<int>(width),
                         activationQuant(encoding)});
  }
  for (Operation &op : plan.getBlock()) {
    if (auto t = dyn_cast<chain::TensorOp>(op)) {
      if (failed(tensor(t)))
        return failure();
      continue;
    }
    if (auto ret = dyn_cast<chain::ReturnOp>(op)) {
      FailureOr<int> s = slot(ret.getLogits(), &op);
      if (failed(s))
        return failure();
      out.logitsSlot = *s;
      continue;
    }
    if (failed(step(&op)))
      return failure();
  }
  if (layers != out.config.numLayers)
    return plan.emitError("plan has ")
           << layers << " attention layers but the config says "
           << out.config.numLayers;
  return success();
}

} // namespace

LogicalResult translateToArtifact(chain::PlanOp plan, const WeightStore &store,
                                  artifact::ArtifactContents &contents,
                                  std::vector<Operation *> *stepOps,
                                  llvm::raw_ostream *progress) {
  return Translation(plan, store, contents, stepOps, progress).run();
}

} // namespace qtc
