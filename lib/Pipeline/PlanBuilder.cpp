//===- PlanBuilder.cpp - Lower a tfm/qnt model to an artifact plan --------===//

#include "qtc/Pipeline/PlanBuilder.h"

#include "LinearMatch.h"
#include "WeightPacking.h"

#include "dialects/qnt/QntAttrs.h"
#include "dialects/qnt/QntOps.h"
#include "dialects/tfm/TfmOps.h"
#include "qtc/Import/WeightStore.h"
#include "qtc/Transforms/WeightContext.h"

#include "mlir/IR/Block.h"
#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/StringMap.h"

#include <map>
#include <optional>

using namespace mlir;

namespace qtc {
namespace {

namespace fb = artifact::fb;

int64_t featureWidth(Value v) {
  return cast<RankedTensorType>(v.getType()).getShape().back();
}

class PlanBuilder {
public:
  PlanBuilder(tfm::ModelOp model, const WeightStore &weights,
              artifact::ArtifactContents &out, llvm::raw_ostream *progress)
      : model(model), weights(weights), out(out), progress(progress) {}

  LogicalResult run();

private:
  LogicalResult fillConfig();
  LogicalResult lowerOp(Operation *op);
  LogicalResult lowerLinearGroup(ArrayRef<LinearMatch> members,
                                 Operation *anchor);
  LogicalResult lowerAttention(tfm::AttentionOp op);
  // The KV dtype `op`'s `qnt.kv_scheme` asks for (f16 without one); every
  // layer must agree, since the runtime has one cache format.
  LogicalResult takeKvScheme(tfm::AttentionOp op);
  std::optional<fb::KvDType> kvDType;
  LogicalResult lowerSwiglu(tfm::SwigluOp op);
  LogicalResult lowerRmsNorm(tfm::RmsNormOp op);

  // Slots.
  int newSlot(StringRef name, int64_t width);
  void bind(Value v, int slot);
  FailureOr<int> slotOf(Value v, Operation *user);
  void releaseDeadSlots(unsigned opIndex);

  // Weights.
  FailureOr<int> denseTensor(StringRef name, Location loc);
  FailureOr<SmallVector<int>> packLinear(ArrayRef<LinearMatch> members,
                                         artifact::Step &step, Location loc);

  // Finds the sibling linears of `first` that form a q|k|v or gate|up group.
  SmallVector<LinearMatch> projectionGroup(const LinearMatch &first);

  tfm::ModelOp model;
  const WeightStore &weights;
  artifact::ArtifactContents &out;
  llvm::raw_ostream *progress;

  llvm::DenseMap<Operation *, unsigned> opIndex;
  llvm::DenseMap<Value, unsigned> lastUse;
  llvm::DenseMap<Value, int> slots;
  std::vector<unsigned> slotLastUse;        // per slot, max over bound values
  std::vector<bool> slotFree;
  std::map<int64_t, std::vector<int>> freeByWidth;
  llvm::DenseSet<Operation *> done;         // lowered as part of a chain
  llvm::StringMap<int> denseTensors;        // weight name -> tensor index
  Value logitsValue;
  int numLayers = 0;
};

//===----------------------------------------------------------------------===//
// Slots
//===----------------------------------------------------------------------===//

int PlanBuilder::newSlot(StringRef name, int64_t width) {
  auto &pool = freeByWidth[width];
  if (!pool.empty()) {
    int slot = pool.back();
    pool.pop_back();
    slotFree[slot] = false;
    slotLastUse[slot] = 0;
    return slot;
  }
  out.slots.push_back({name.str(), static_cast<int>(width)});
  slotLastUse.push_back(0);
  slotFree.push_back(false);
  return static_cast<int>(out.slots.size()) - 1;
}

void PlanBuilder::bind(Value v, int slot) {
  slots[v] = slot;
  unsigned last = v == logitsValue ? ~0u : lastUse.lookup(v);
  slotLastUse[slot] = std::max(slotLastUse[slot], last);
}

FailureOr<int> PlanBuilder::slotOf(Value v, Operation *user) {
  auto it = slots.find(v);
  if (it == slots.end())
    return user->emitError("operand is not produced by an op the runtime "
                           "plan can execute");
  return it->second;
}

void PlanBuilder::releaseDeadSlots(unsigned index) {
  for (size_t s = 0; s < slotFree.size(); ++s) {
    if (slotFree[s] || slotLastUse[s] > index)
      continue;
    slotFree[s] = true;
    freeByWidth[out.slots[s].width].push_back(static_cast<int>(s));
  }
}

//===----------------------------------------------------------------------===//
// Weights
//===----------------------------------------------------------------------===//

FailureOr<int> PlanBuilder::denseTensor(StringRef name, Location loc) {
  if (auto it = denseTensors.find(name); it != denseTensors.end())
    return it->second;
  FailureOr<WeightMatrix> w = readWeight(weights, name, loc);
  if (failed(w))
    return failure();
  artifact::Tensor t;
  t.name = name.str();
  t.dtype = fb::DType::F16;
  t.shape.assign(w->shape.begin(), w->shape.end());
  t.bytes = packF16(w->values);
  out.tensors.push_back(std::move(t));
  int index = static_cast<int>(out.tensors.size()) - 1;
  denseTensors[name] = index;
  return index;
}

FailureOr<SmallVector<int>>
PlanBuilder::packLinear(ArrayRef<LinearMatch> members, artifact::Step &step,
                        Location loc) {
  // Members of a group share the input width and the storage format.
  const LinearMatch &first = members.front();
  for (const LinearMatch &m : members)
    if (!(m.spec == first.spec))
      return m.op->emitError("linears fused into one kernel chain must share "
                             "one weight format; got ")
             << describeSpec(m.spec) << " and " << describeSpec(first.spec);

  step.kind = fb::StepKind::Linear;
  step.inFeatures = static_cast<int>(first.inFeatures);
  step.outFeatures = 0;
  for (const LinearMatch &m : members)
    step.outFeatures += static_cast<int>(m.outFeatures);

  std::string groupName = first.weightName;
  for (const LinearMatch &m : members.drop_front())
    groupName += "|" + m.weightName;

  // A single dense linear reuses a tensor another step already packed (the
  // embedding table of a tied lm_head).
  SmallVector<int> tensorIds;
  if (members.size() == 1 && first.spec.format == LinearFormat::F16 &&
      !first.biasName) {
    FailureOr<int> t = denseTensor(first.weightName, loc);
    if (failed(t))
      return failure();
    step.format = fb::WeightFormat::Dense;
    tensorIds.push_back(*t);
    return tensorIds;
  }

  if (first.spec.format == LinearFormat::F16) {
    SmallVector<WeightMatrix> matrices;
    for (const LinearMatch &m : members) {
      FailureOr<WeightMatrix> w =
          readWeight(weights, m.weightName, m.op->getLoc());
      if (failed(w))
        return failure();
      matrices.push_back(std::move(*w));
    }
    WeightMatrix fused = concatRows(matrices);
    step.format = fb::WeightFormat::Dense;
    artifact::Tensor t;
    t.name = groupName;
    t.dtype = fb::DType::F16;
    t.shape = {fused.shape[0], fused.shape[1]};
    t.bytes = packF16(fused.values);
    out.tensors.push_back(std::move(t));
    tensorIds.push_back(static_cast<int>(out.tensors.size()) - 1);
  } else {
    // The quantizer stored each member's Int4Group parts; rows of a fused
    // group are the members' rows one after another, which for this
    // row-major layout is their bytes one after another.
    step.format = fb::WeightFormat::Int4Group;
    step.groupSize = first.spec.groupSize;
    step.symmetric = first.spec.symmetric;
    std::vector<uint8_t> data, scales, zeros;
    auto append = [](std::vector<uint8_t> &dst, const void *src, size_t n) {
      const auto *bytes = static_cast<const uint8_t *>(src);
      dst.insert(dst.end(), bytes, bytes + n);
    };
    for (const LinearMatch &m : members) {
      FailureOr<quant::Int4GroupWeight> q = loadInt4Group(
          weights, m.weightName, m.outFeatures, m.inFeatures,
          first.spec.groupSize, first.spec.symmetric, m.op->getLoc());
      if (failed(q))
        return failure();
      append(data, q->data.data(), q->data.size());
      append(scales, q->scales.data(), q->scales.size() * 2);
      if (!first.spec.symmetric)
        append(zeros, q->zeros.data(), q->zeros.size() * 2);
      auto quantized = cast<qnt::QuantizedWeightOp>(m.quantized);
      artifact::LayerNumerics n;
      n.name = m.weightName;
      n.format = describeSpec(m.spec);
      n.method = quantized.getMethod().str();
      n.sqnrDb = quantized.getSqnrDb().convertToFloat();
      n.maxAbsError = quantized.getMaxAbsError().convertToFloat();
      if (std::optional<APFloat> o = quantized.getOutputSqnrDb())
        n.outputSqnrDb = o->convertToFloat();
      out.numerics.push_back(std::move(n));
    }
    int64_t rows = step.outFeatures, cols = first.inFeatures;
    int64_t groups = cols / first.spec.groupSize;
    auto add = [&](std::string suffix, fb::DType dtype,
                   std::vector<int64_t> shape, std::vector<uint8_t> bytes) {
      out.tensors.push_back({groupName + suffix, dtype, std::move(shape),
                             std::move(bytes)});
      return static_cast<int>(out.tensors.size()) - 1;
    };
    tensorIds.push_back(add(".qweight", fb::DType::U8, {rows, cols / 2},
                            std::move(data)));
    tensorIds.push_back(add(".scales", fb::DType::F16, {rows, groups},
                            std::move(scales)));
    tensorIds.push_back(first.spec.symmetric
                            ? -1
                            : add(".zeros", fb::DType::F16, {rows, groups},
                                  std::move(zeros)));
  }

  // Biases (Qwen2's q/k/v) concatenate like the rows they belong to.
  bool anyBias = llvm::any_of(members, [](const LinearMatch &m) {
    return m.biasName.has_value();
  });
  if (anyBias) {
    std::vector<float> bias;
    for (const LinearMatch &m : members) {
      if (!m.biasName) {
        bias.insert(bias.end(), m.outFeatures, 0.0f);
        continue;
      }
      FailureOr<WeightMatrix> b = readWeight(weights, *m.biasName, m.op->getLoc());
      if (failed(b))
        return failure();
      bias.insert(bias.end(), b->values.begin(), b->values.end());
    }
    while (tensorIds.size() < 3)
      tensorIds.push_back(-1);
    out.tensors.push_back({groupName + ".bias", fb::DType::F16,
                           {static_cast<int64_t>(bias.size())},
                           packF16(bias)});
    tensorIds.push_back(static_cast<int>(out.tensors.size()) - 1);
  }
  return tensorIds;
}

//===----------------------------------------------------------------------===//
// Chains
//===----------------------------------------------------------------------===//

SmallVector<LinearMatch>
PlanBuilder::projectionGroup(const LinearMatch &first) {
  SmallVector<LinearMatch> siblings;
  for (Operation *user : first.input.getUsers()) {
    if (done.contains(user))
      continue;
    if (std::optional<LinearMatch> m = matchLinear(user, weights))
      if (!m->invalid())
        siblings.push_back(*m);
  }
  llvm::sort(siblings, [&](const LinearMatch &a, const LinearMatch &b) {
    return opIndex.lookup(a.op) < opIndex.lookup(b.op);
  });

  // Attention: q, k (possibly through tfm.rope) and v of one tfm.attention.
  auto throughRope = [](Value v) -> Value {
    if (v.hasOneUse())
      if (auto rope = dyn_cast<tfm::RopeOp>(*v.getUsers().begin()))
        return rope.getResult();
    return v;
  };
  for (const LinearMatch &m : siblings) {
    Value q = throughRope(m.result);
    if (!q.hasOneUse())
      continue;
    auto attn = dyn_cast<tfm::AttentionOp>(*q.getUsers().begin());
    if (!attn || attn.getQuery() != q)
      continue;
    SmallVector<LinearMatch> group;
    for (Value operand : {attn.getQuery(), attn.getKey(), attn.getValue()})
      for (const LinearMatch &s : siblings)
        if (throughRope(s.result) == operand)
          group.push_back(s);
    if (group.size() == 3)
      return group;
  }
  // MLP: gate and up of one tfm.swiglu.
  for (const LinearMatch &m : siblings) {
    if (!m.result.hasOneUse())
      continue;
    auto swiglu = dyn_cast<tfm::SwigluOp>(*m.result.getUsers().begin());
    if (!swiglu)
      continue;
    SmallVector<LinearMatch> group;
    for (Value operand : {swiglu.getGate(), swiglu.getUp()})
      for (const LinearMatch &s : siblings)
        if (s.result == operand)
          group.push_back(s);
    if (group.size() == 2)
      return group;
  }
  return {first};
}

LogicalResult PlanBuilder::lowerLinearGroup(ArrayRef<LinearMatch> members,
                                            Operation *anchor) {
  Location loc = anchor->getLoc();
  artifact::Step step;
  FailureOr<SmallVector<int>> tensors = packLinear(members, step, loc);
  if (failed(tensors))
    return failure();
  step.weights.assign(tensors->begin(), tensors->end());

  FailureOr<int> in = slotOf(members.front().input, anchor);
  if (failed(in))
    return failure();
  step.inputs.push_back(*in);

  // Residual epilogue: add(x, linear(..)) where the linear feeds only the add.
  Value result = members.front().result;
  tfm::AddOp residualAdd;
  if (members.size() == 1 && result.hasOneUse())
    residualAdd = dyn_cast<tfm::AddOp>(*result.getUsers().begin());
  if (residualAdd) {
    Value other = residualAdd.getLhs() == result ? residualAdd.getRhs()
                                                 : residualAdd.getLhs();
    FailureOr<int> res = slotOf(other, residualAdd);
    if (failed(res))
      return failure();
    step.inputs.push_back(*res);
  }

  std::vector<std::string> &names =
      out.linearWeightsOfStep[static_cast<int>(out.steps.size())];
  for (const LinearMatch &m : members) {
    done.insert(m.op);
    names.push_back(m.weightName);
  }
  StringRef name = members.size() == 3   ? "qkv"
                   : members.size() == 2 ? "gate_up"
                   : residualAdd         ? "hidden"
                                         : "linear";
  int outSlot = newSlot(name, step.outFeatures);
  step.outputs.push_back(outSlot);
  if (residualAdd) {
    done.insert(residualAdd);
    bind(residualAdd.getResult(), outSlot);
  } else {
    for (const LinearMatch &m : members)
      bind(m.result, outSlot);
  }
  out.steps.push_back(std::move(step));
  return success();
}

LogicalResult PlanBuilder::takeKvScheme(tfm::AttentionOp op) {
  fb::KvDType dtype = fb::KvDType::F16;
  if (Attribute attr = op->getAttr(qnt::kKvSchemeAttrName)) {
    auto scheme = dyn_cast<qnt::KvSchemeAttr>(attr);
    if (!scheme)
      return op.emitError("'") << qnt::kKvSchemeAttrName << "' must be a #qnt.kv_scheme";
    auto supported = [](qnt::EncodingAttr e) {
      return e.getFormat() == qnt::Format::f8e4m3 &&
             e.getGranularity() == qnt::Granularity::per_tensor;
    };
    if (!supported(scheme.getKey()) || !supported(scheme.getValue()) ||
        scheme.getResidualWindow() != 0 || scheme.getSinkTokens() != 0)
      return op.emitError("unsupported KV cache scheme ")
             << scheme << ": the runtime stores f16, or f8e4m3 keys and values "
             << "with one per-tensor scale and no residual window or sink tokens";
    if (scheme.getBlockSize() != out.kvBlockSize)
      return op.emitError("KV scheme block_size ")
             << scheme.getBlockSize() << " differs from the runtime's " << out.kvBlockSize;
    dtype = fb::KvDType::F8E4M3;
  }
  if (kvDType && *kvDType != dtype)
    return op.emitError("layers disagree on the KV cache format (")
           << fb::EnumNameKvDType(*kvDType) << " before, " << fb::EnumNameKvDType(dtype)
           << " here); the runtime has one cache format";
  kvDType = dtype;
  out.kvDType = dtype;
  return success();
}

LogicalResult PlanBuilder::lowerAttention(tfm::AttentionOp op) {
  const artifact::ModelConfig &cfg = out.config;
  if (op.getMask())
    return op.emitError("explicit attention masks are not supported by the "
                        "runtime yet; only causal attention");
  if (!op.getCausal())
    return op.emitError("non-causal attention is not supported by the "
                        "runtime's decoder plan");
  if (op.getSlidingWindow())
    return op.emitError("sliding-window attention is not supported by the "
                        "runtime yet");
  if (op.getNumHeads() != cfg.numHeads || op.getNumKvHeads() != cfg.numKvHeads ||
      op.getHeadDim() != cfg.headDim)
    return op.emitError("attention heads (")
           << op.getNumHeads() << "/" << op.getNumKvHeads() << "x"
           << op.getHeadDim() << ") differ from the model config";
  float expectedScale = 1.0f / std::sqrt(static_cast<float>(cfg.headDim));
  if (std::abs(op.getScale().convertToFloat() - expectedScale) >
      1e-6f * expectedScale)
    return op.emitError("attention scale ")
           << op.getScale().convertToFloat()
           << " is not 1/sqrt(head_dim); the runtime assumes it";

  if (failed(takeKvScheme(op)))
    return failure();

  auto rope = [](Value v) { return v.getDefiningOp<tfm::RopeOp>(); };
  tfm::RopeOp qRope = rope(op.getQuery()), kRope = rope(op.getKey());
  if (!qRope || !kRope)
    return op.emitError("attention expects RoPE-rotated query and key "
                        "(tfm.rope) for the fused RoPE + KV-append chain");
  for (tfm::RopeOp r : {qRope, kRope}) {
    if (r.getHeadDim() != cfg.headDim ||
        r.getTheta().convertToFloat() != cfg.ropeTheta)
      return r.emitError("RoPE parameters differ from the model config");
  }
  // q, k and v must all live in one fused q|k|v slot.
  FailureOr<int> q = slotOf(qRope.getInput(), op);
  FailureOr<int> k = slotOf(kRope.getInput(), op);
  FailureOr<int> v = slotOf(op.getValue(), op);
  if (failed(q) || failed(k) || failed(v))
    return failure();
  if (*q != *k || *k != *v)
    return op.emitError("query, key and value must come from one fused "
                        "q|k|v projection");

  artifact::Step append;
  append.kind = fb::StepKind::RopeKvAppend;
  append.inputs = {*q};
  append.outputs = {*q};
  append.layer = numLayers;
  out.steps.push_back(append);

  artifact::Step attn;
  attn.kind = fb::StepKind::Attention;
  attn.inputs = {*q};
  attn.layer = numLayers;
  int o = newSlot("attn", featureWidth(op.getResult()));
  attn.outputs = {o};
  bind(op.getResult(), o);
  out.steps.push_back(attn);
  ++numLayers;
  if (progress)
    *progress << "  layer " << numLayers << "/" << cfg.numLayers << "\n";
  return success();
}

LogicalResult PlanBuilder::lowerSwiglu(tfm::SwigluOp op) {
  FailureOr<int> gate = slotOf(op.getGate(), op);
  FailureOr<int> up = slotOf(op.getUp(), op);
  if (failed(gate) || failed(up))
    return failure();
  if (*gate != *up)
    return op.emitError("swiglu expects gate and up from one fused gate|up "
                        "projection");
  artifact::Step step;
  step.kind = fb::StepKind::SwiGlu;
  step.inputs = {*gate};
  int o = newSlot("mlp", featureWidth(op.getResult()));
  step.outputs = {o};
  bind(op.getResult(), o);
  out.steps.push_back(step);
  return success();
}

LogicalResult PlanBuilder::lowerRmsNorm(tfm::RmsNormOp op) {
  FailureOr<int> in = slotOf(op.getInput(), op);
  if (failed(in))
    return failure();
  auto weight = op.getWeight().getDefiningOp<tfm::WeightOp>();
  if (!weight)
    return op.emitError("rms_norm weight must be a tfm.weight");
  FailureOr<int> w = denseTensor(weight.getName(), op.getLoc());
  if (failed(w))
    return failure();
  int source = *in;
  // The final norm feeds the lm_head only: gather the wanted rows first.
  bool feedsLogits = llvm::any_of(op.getResult().getUsers(), [&](Operation *u) {
    std::optional<LinearMatch> m = matchLinear(u, weights);
    return m && m->result == logitsValue;
  });
  if (feedsLogits) {
    artifact::Step gather;
    gather.kind = fb::StepKind::GatherRows;
    gather.inputs = {*in};
    source = newSlot("gathered", featureWidth(op.getInput()));
    gather.outputs = {source};
    out.steps.push_back(gather);
  }
  artifact::Step step;
  step.kind = fb::StepKind::RmsNorm;
  step.inputs = {source};
  step.weights = {*w};
  step.epsilon = op.getEpsilon().convertToFloat();
  int o = newSlot("norm", featureWidth(op.getResult()));
  step.outputs = {o};
  bind(op.getResult(), o);
  out.steps.push_back(step);
  return success();
}

LogicalResult PlanBuilder::lowerOp(Operation *op) {
  // Weights (dense or quantized) are packed at their users; ropes fuse into
  // the RopeKvAppend of their attention.
  if (done.contains(op) || isa<tfm::WeightOp, qnt::QuantizeOp, qnt::QuantizedWeightOp, tfm::RopeOp>(op))
    return success();
  if (auto emb = dyn_cast<tfm::EmbeddingOp>(op)) {
    Block &body = model.getBody().front();
    if (emb.getIds() != body.getArgument(0))
      return op->emitError("embedding ids must be the model's token ids");
    auto table = emb.getTable().getDefiningOp<tfm::WeightOp>();
    if (!table)
      return op->emitError("embedding table must be a tfm.weight");
    FailureOr<int> t = denseTensor(table.getName(), op->getLoc());
    if (failed(t))
      return failure();
    artifact::Step step;
    step.kind = fb::StepKind::Embedding;
    step.weights = {*t};
    int o = newSlot("hidden", featureWidth(emb.getResult()));
    step.outputs = {o};
    bind(emb.getResult(), o);
    out.steps.push_back(step);
    return success();
  }
  if (auto norm = dyn_cast<tfm::RmsNormOp>(op))
    return lowerRmsNorm(norm);
  if (std::optional<LinearMatch> linear = matchLinear(op, weights)) {
    if (linear->invalid())
      return op->emitError(linear->error);
    if (linear->result == logitsValue) {
      FailureOr<int> in = slotOf(linear->input, op);
      if (failed(in))
        return failure();
      // Rows must have been gathered by the final norm; if the lm_head reads
      // something else, gather here.
      if (!linear->input.getDefiningOp<tfm::RmsNormOp>()) {
        artifact::Step gather;
        gather.kind = fb::StepKind::GatherRows;
        gather.inputs = {*in};
        int g = newSlot("gathered", linear->inFeatures);
        gather.outputs = {g};
        out.steps.push_back(gather);
        bind(linear->input, g);
      }
    }
    return lowerLinearGroup(projectionGroup(*linear), op);
  }
  if (auto attn = dyn_cast<tfm::AttentionOp>(op))
    return lowerAttention(attn);
  if (auto swiglu = dyn_cast<tfm::SwigluOp>(op))
    return lowerSwiglu(swiglu);
  if (auto add = dyn_cast<tfm::AddOp>(op)) {
    FailureOr<int> a = slotOf(add.getLhs(), op), b = slotOf(add.getRhs(), op);
    if (failed(a) || failed(b))
      return failure();
    artifact::Step step;
    step.kind = fb::StepKind::Add;
    step.inputs = {*a, *b};
    int o = newSlot("hidden", featureWidth(add.getResult()));
    step.outputs = {o};
    bind(add.getResult(), o);
    out.steps.push_back(step);
    return success();
  }
  if (auto output = dyn_cast<tfm::OutputOp>(op)) {
    FailureOr<int> s = slotOf(logitsValue, op);
    if (failed(s))
      return failure();
    out.logitsSlot = *s;
    return success();
  }
  return op->emitError("'") << op->getName()
                            << "' has no kernel chain in the runtime plan yet";
}

LogicalResult PlanBuilder::fillConfig() {
  tfm::ModelConfigAttr c = model.getConfig();
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
  return success();
}

LogicalResult PlanBuilder::run() {
  if (failed(fillConfig()))
    return failure();
  Block &body = model.getBody().front();
  if (body.getNumArguments() != 2)
    return model.emitError("expected (token ids, positions) block arguments");
  auto output = dyn_cast<tfm::OutputOp>(body.getTerminator());
  if (!output || output->getNumOperands() != 1)
    return model.emitError("expected the model to return one logits tensor");
  logitsValue = output->getOperand(0);

  unsigned index = 0;
  for (Operation &op : body)
    opIndex[&op] = index++;
  for (Operation &op : body)
    for (Value operand : op.getOperands())
      lastUse[operand] = std::max(lastUse.lookup(operand), opIndex[&op]);

  for (Operation &op : body) {
    if (failed(lowerOp(&op)))
      return failure();
    releaseDeadSlots(opIndex[&op]);
  }
  if (numLayers != out.config.numLayers)
    return model.emitError("plan has ")
           << numLayers << " attention layers but the config says "
           << out.config.numLayers;
  return success();
}

} // namespace

LogicalResult buildPlan(Operation *modelOp, const WeightStore &weights,
                        artifact::ArtifactContents &contents,
                        llvm::raw_ostream *progress) {
  auto model = dyn_cast<tfm::ModelOp>(modelOp);
  if (!model)
    return modelOp->emitError("expected a tfm.model");
  return PlanBuilder(model, weights, contents, progress).run();
}

} // namespace qtc
