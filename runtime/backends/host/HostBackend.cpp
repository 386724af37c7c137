//===- HostBackend.cpp - Plain C++ execution of an artifact's plan --------===//
//
// The numerics oracle and CPU fallback: every StepKind in f32, weights decoded
// to f32 once at prepare() (see HostWeights.h), KV cache in host memory.
// Clarity first; the matrix multiply and attention are blocked and use at
// most two threads so that a small model prefills thousands of tokens a
// second on a laptop-class core.
//
//===----------------------------------------------------------------------===//

#include "HostActivationQuant.h"
#include "HostAttention.h"
#include "HostGemm.h"
#include "HostRowOps.h"
#include "HostWeights.h"
#include "RopeTable.h"

#include "qtc/rt/Artifact.h"
#include "qtc/rt/Backend.h"
#include "qtc/rt/BatchValidation.h"
#include "qtc/rt/GreedyArgmax.h"
#include "qtc/rt/QuantizedRows.h"

#include <algorithm>
#include <map>
#include <thread>

namespace qtc::rt {
namespace {

using host::AttentionShape;

struct PreparedStep {
  fb::StepKind kind;
  std::vector<int> inputs, outputs;
  int layer = -1;
  float epsilon = 0;
  const std::vector<float> *vector = nullptr; // embedding table or norm scale
  std::unique_ptr<host::PackedLinear> linear;
  fb::ActivationQuant activation = fb::ActivationQuant::None;
};

class HostBackend final : public Backend {
public:
  std::string name() const override { return "host"; }
  Status prepare(const Artifact &artifact, const BackendOptions &options) override;
  Status forward(const BatchView &batch, std::vector<float> &logits) override;
  Status forwardGreedy(const BatchView &batch, std::vector<int32_t> &ids) override;
  Status copyKvBlock(int srcBlock, int dstBlock) override;
  std::vector<KvLayerNumerics> kvNumerics() const override { return cache_.numerics(); }
  Status setLinearInputObserver(LinearInputObserver *observer) override {
    observer_ = observer;
    return Status::ok();
  }

private:
  // Runs every step; the logits are left in the logits slot.
  Status runPlan(const BatchView &batch);
  float *slot(int index) { return slots_[index].data(); }
  uint8_t *slotBytes(int index) { return reinterpret_cast<uint8_t *>(slots_[index].data()); }

  const Artifact *artifact_ = nullptr;
  LinearInputObserver *observer_ = nullptr;
  BackendOptions options_;
  std::vector<float> rowsF32_; // a quantized slot's rows decoded, or a norm's before quantizing
  int threads_ = 1;
  AttentionShape shape_;
  host::RopeTable rope_;
  host::HostKvCache cache_;
  BatchLimits limits_;
  std::map<int, std::vector<float>> floatTensors_; // by tensor index
  std::vector<PreparedStep> steps_;
  std::vector<std::vector<float>> slots_;
  std::vector<int> slotRows_;
};

Status HostBackend::prepare(const Artifact &artifact, const BackendOptions &options) {
  if (options.maxTokensPerCall <= 0)
    return invalidArgument("host backend: maxTokensPerCall must be positive");
  if (options.numKvBlocks <= 0)
    return invalidArgument("host backend: numKvBlocks must be positive");
  artifact_ = &artifact;
  options_ = options;
  threads_ = options.hostThreads > 0
                 ? options.hostThreads
                 : static_cast<int>(std::min(2u, std::max(1u, std::thread::hardware_concurrency())));

  const fb::ModelConfig &config = artifact.config();
  const fb::KvCacheSpec &kv = artifact.kvCache();
  shape_ = {config.num_heads(), config.num_kv_heads(), config.head_dim(), kv.block_size()};
  rope_.build(config);
  cache_.allocate(config.num_layers(), shape_, options.numKvBlocks, kv);

  floatTensors_.clear();
  auto floatTensor = [&](int index) -> const std::vector<float> * {
    auto it = floatTensors_.find(index);
    if (it == floatTensors_.end())
      it = floatTensors_.emplace(index, host::decodeFloatTensor(artifact, index)).first;
    return &it->second;
  };

  const fb::Plan &plan = artifact.plan();
  steps_.clear();
  for (const fb::Step *step : *plan.steps()) {
    PreparedStep prepared;
    prepared.kind = step->kind();
    if (step->inputs())
      prepared.inputs.assign(step->inputs()->begin(), step->inputs()->end());
    if (step->outputs())
      prepared.outputs.assign(step->outputs()->begin(), step->outputs()->end());
    prepared.layer = step->layer();
    prepared.epsilon = step->epsilon();
    prepared.activation = step->activation();
    switch (step->kind()) {
    case fb::StepKind::Embedding:
    case fb::StepKind::RmsNorm:
      prepared.vector = floatTensor(step->weights()->Get(0));
      break;
    case fb::StepKind::Linear: {
      std::vector<float> bias;
      if (step->weights()->size() > 3 && step->weights()->Get(3) >= 0)
        bias = host::decodeFloatTensor(artifact, step->weights()->Get(3));
      prepared.linear = std::make_unique<host::PackedLinear>(
          host::dequantizeLinearWeight(artifact, *step), step->out_features(),
          step->in_features(), std::move(bias));
      break;
    }
    default:
      break;
    }
    steps_.push_back(std::move(prepared));
  }
  // Decoded tables and scales that steps hold by pointer stay in the map;
  // it is not touched again, so the pointers stay valid.

  slots_.clear();
  for (const fb::Slot *s : *plan.slots()) {
    size_t floats = static_cast<size_t>(options.maxTokensPerCall) * s->width();
    if (s->activation() != fb::ActivationQuant::None)
      floats = std::max(floats, (quantized_rows::slotBytes(options.maxTokensPerCall, s->width()) +
                                 sizeof(float) - 1) / sizeof(float));
    slots_.emplace_back(floats, 0.0f);
  }
  slotRows_.assign(slots_.size(), 0);

  limits_.maxTokens = options.maxTokensPerCall;
  limits_.numKvBlocks = options.numKvBlocks;
  limits_.blockSize = kv.block_size();
  limits_.vocabSize = config.vocab_size();
  limits_.maxPositions = config.max_positions();
  return Status::ok();
}

Status HostBackend::runPlan(const BatchView &batch) {
  if (!artifact_)
    return failedPrecondition("host backend: forward before prepare");
  QTC_RT_RETURN_IF_ERROR(validateBatch(batch, limits_));
  const fb::Plan &plan = artifact_->plan();
  for (size_t stepIndex = 0; stepIndex < steps_.size(); ++stepIndex) {
    const PreparedStep &step = steps_[stepIndex];
    const int in0 = step.inputs.empty() ? -1 : step.inputs[0];
    const int out0 = step.outputs.empty() ? -1 : step.outputs[0];
    const int rows = in0 >= 0 ? slotRows_[in0] : batch.numTokens;
    const int inWidth = in0 >= 0 ? plan.slots()->Get(in0)->width() : 0;
    const int outWidth = out0 >= 0 ? plan.slots()->Get(out0)->width() : 0;
    switch (step.kind) {
    case fb::StepKind::Embedding:
      host::embedding(step.vector->data(), outWidth, batch.tokenIds, batch.numTokens,
                      slot(out0));
      slotRows_[out0] = batch.numTokens;
      break;
    case fb::StepKind::RmsNorm:
      if (step.activation == fb::ActivationQuant::None) {
        host::rmsNorm(slot(in0), step.vector->data(), rows, inWidth, step.epsilon, slot(out0));
      } else {
        // The norm -> quantize fusion: the same values QuantizeRows would see.
        rowsF32_.resize(static_cast<size_t>(rows) * inWidth);
        host::rmsNorm(slot(in0), step.vector->data(), rows, inWidth, step.epsilon,
                      rowsF32_.data());
        host::quantizeRows(step.activation, rowsF32_.data(), rows, inWidth, slotBytes(out0));
      }
      slotRows_[out0] = rows;
      break;
    case fb::StepKind::QuantizeRows:
      host::quantizeRows(step.activation, slot(in0), rows, inWidth, slotBytes(out0));
      slotRows_[out0] = rows;
      break;
    case fb::StepKind::Linear: {
      const float *residual = step.inputs.size() > 1 ? slot(step.inputs[1]) : nullptr;
      const float *x = slot(in0);
      if (step.activation != fb::ActivationQuant::None) {
        // A quantized slot: multiply s[t] * q[t, k].
        rowsF32_.resize(static_cast<size_t>(rows) * inWidth);
        host::dequantizeRows(step.activation, slotBytes(in0), rows, inWidth, rowsF32_.data());
        x = rowsF32_.data();
      }
      if (observer_)
        observer_->observeLinearInput(static_cast<int>(stepIndex), x, rows, inWidth);
      step.linear->run(x, rows, residual, slot(out0), threads_);
      slotRows_[out0] = rows;
      break;
    }
    case fb::StepKind::RopeKvAppend:
      host::ropeKvAppend(batch, shape_, rope_, step.layer, slot(in0), cache_);
      break;
    case fb::StepKind::Attention:
      host::attention(batch, shape_, step.layer, slot(in0), cache_, slot(out0), threads_);
      slotRows_[out0] = rows;
      break;
    case fb::StepKind::SwiGlu:
      host::swiGlu(slot(in0), rows, outWidth, slot(out0));
      slotRows_[out0] = rows;
      break;
    case fb::StepKind::Add:
      host::add(slot(in0), slot(step.inputs[1]), static_cast<long>(rows) * inWidth, slot(out0));
      slotRows_[out0] = rows;
      break;
    case fb::StepKind::GatherRows:
      host::gatherRows(slot(in0), inWidth, batch.logitRows, batch.numLogitRows, slot(out0));
      slotRows_[out0] = batch.numLogitRows;
      break;
    default:
      return internalError("host backend: unhandled step kind " +
                           std::string(stepKindName(step.kind)));
    }
  }
  return Status::ok();
}

Status HostBackend::forward(const BatchView &batch, std::vector<float> &logits) {
  QTC_RT_RETURN_IF_ERROR(runPlan(batch));
  const int vocab = artifact_->config().vocab_size();
  const float *result = slot(artifact_->plan().logits_slot());
  logits.assign(result, result + static_cast<size_t>(batch.numLogitRows) * vocab);
  return Status::ok();
}

Status HostBackend::forwardGreedy(const BatchView &batch, std::vector<int32_t> &ids) {
  QTC_RT_RETURN_IF_ERROR(runPlan(batch));
  const int vocab = artifact_->config().vocab_size();
  const float *result = slot(artifact_->plan().logits_slot());
  ids.resize(static_cast<size_t>(batch.numLogitRows));
  for (int r = 0; r < batch.numLogitRows; ++r)
    ids[r] = greedyArgmax(result + static_cast<size_t>(r) * vocab, vocab);
  return Status::ok();
}

Status HostBackend::copyKvBlock(int srcBlock, int dstBlock) {
  if (!artifact_)
    return failedPrecondition("host backend: copyKvBlock before prepare");
  if (srcBlock < 0 || srcBlock >= cache_.numBlocks() || dstBlock < 0 ||
      dstBlock >= cache_.numBlocks())
    return invalidArgument("copyKvBlock(" + std::to_string(srcBlock) + ", " +
                           std::to_string(dstBlock) + ") outside the " +
                           std::to_string(cache_.numBlocks()) + " blocks");
  if (srcBlock != dstBlock)
    cache_.copyBlock(srcBlock, dstBlock);
  return Status::ok();
}

} // namespace

std::unique_ptr<Backend> createHostBackend() { return std::make_unique<HostBackend>(); }

} // namespace qtc::rt
