//===- ArtifactValidation.cpp - Semantic checks of an artifact ------------===//
//
// Each check names what it found wrong: the config field, the tensor (name and
// index), the step (index, kind, layer) and the operand, with the expected and
// the actual value.
//
//===----------------------------------------------------------------------===//

#include "ArtifactValidation.h"

#include "qtc/rt/Artifact.h"
#include "qtc/rt/KvMemory.h"

#include <cmath>
#include <initializer_list>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace qtc::rt {
namespace {

// Upper bound on any model dimension, so products of a few fit in int64.
constexpr int64_t kMaxDimension = int64_t(1) << 24;

std::string shapeString(const std::vector<int64_t> &shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

class Validator {
public:
  explicit Validator(const fb::Artifact &artifact)
      : artifact_(artifact), config_(*artifact.config()), plan_(*artifact.plan()) {}

  Status run() {
    if (artifact_.schema_version() != kSchemaVersion)
      return invalidArgument("schema version " + std::to_string(artifact_.schema_version()) +
                             " is not supported (this runtime reads version " +
                             std::to_string(kSchemaVersion) + ")");
    QTC_RT_RETURN_IF_ERROR(checkConfig());
    QTC_RT_RETURN_IF_ERROR(checkWeightsPlacement());
    QTC_RT_RETURN_IF_ERROR(checkTensors());
    QTC_RT_RETURN_IF_ERROR(checkKvCache());
    QTC_RT_RETURN_IF_ERROR(checkSlots());
    QTC_RT_RETURN_IF_ERROR(checkSteps());
    return checkKernels();
  }

private:
  //===-- Config ---------------------------------------------------------===//

  Status positive(const char *field, int64_t value) {
    if (value <= 0 || value > kMaxDimension)
      return invalidArgument("config: " + std::string(field) + " is " + std::to_string(value) +
                             ", expected a positive size up to " + std::to_string(kMaxDimension));
    return Status::ok();
  }

  Status checkConfig() {
    const fb::ModelConfig &c = config_;
    QTC_RT_RETURN_IF_ERROR(positive("vocab_size", c.vocab_size()));
    QTC_RT_RETURN_IF_ERROR(positive("hidden_size", c.hidden_size()));
    QTC_RT_RETURN_IF_ERROR(positive("num_layers", c.num_layers()));
    QTC_RT_RETURN_IF_ERROR(positive("num_heads", c.num_heads()));
    QTC_RT_RETURN_IF_ERROR(positive("num_kv_heads", c.num_kv_heads()));
    QTC_RT_RETURN_IF_ERROR(positive("head_dim", c.head_dim()));
    QTC_RT_RETURN_IF_ERROR(positive("intermediate_size", c.intermediate_size()));
    QTC_RT_RETURN_IF_ERROR(positive("max_positions", c.max_positions()));
    if (c.num_heads() % c.num_kv_heads() != 0)
      return invalidArgument("config: num_heads " + std::to_string(c.num_heads()) +
                             " is not a multiple of num_kv_heads " +
                             std::to_string(c.num_kv_heads()));
    if (c.head_dim() % 2 != 0)
      return invalidArgument("config: head_dim " + std::to_string(c.head_dim()) +
                             " is odd; rotate-half RoPE needs an even head_dim");
    if (int64_t(c.num_heads()) * c.head_dim() > kMaxDimension)
      return invalidArgument("config: num_heads * head_dim is too large");
    if (!std::isfinite(c.rms_norm_eps()) || c.rms_norm_eps() < 0)
      return invalidArgument("config: rms_norm_eps " + std::to_string(c.rms_norm_eps()) +
                             " must be a finite value >= 0");
    if (!std::isfinite(c.rope_theta()) || c.rope_theta() <= 1.0f)
      return invalidArgument("config: rope_theta " + std::to_string(c.rope_theta()) +
                             " must be finite and greater than 1");
    switch (c.rope_scaling()) {
    case fb::RopeScaling::None:
      break;
    case fb::RopeScaling::Linear:
      if (!(c.rope_factor() > 0) || !std::isfinite(c.rope_factor()))
        return invalidArgument("config: linear rope_factor must be positive");
      break;
    case fb::RopeScaling::Llama3:
      if (!(c.rope_factor() > 0) || !std::isfinite(c.rope_factor()))
        return invalidArgument("config: llama3 rope_factor must be positive");
      if (!(c.rope_low_freq_factor() > 0) ||
          !(c.rope_high_freq_factor() > c.rope_low_freq_factor()) ||
          !std::isfinite(c.rope_high_freq_factor()))
        return invalidArgument("config: llama3 rope scaling needs 0 < low_freq_factor < "
                               "high_freq_factor (got " +
                               std::to_string(c.rope_low_freq_factor()) + ", " +
                               std::to_string(c.rope_high_freq_factor()) + ")");
      QTC_RT_RETURN_IF_ERROR(
          positive("rope_original_max_positions", c.rope_original_max_positions()));
      break;
    default:
      return invalidArgument("config: unknown rope_scaling " +
                             std::to_string(static_cast<int>(c.rope_scaling())));
    }
    for (auto [field, id] : {std::pair<const char *, int>{"bos_token_id", c.bos_token_id()},
                             {"eos_token_id", c.eos_token_id()}})
      if (id < -1 || id >= c.vocab_size())
        return invalidArgument("config: " + std::string(field) + " " + std::to_string(id) +
                               " is outside the vocabulary of " +
                               std::to_string(c.vocab_size()));
    return Status::ok();
  }

  //===-- Where the weights section lives --------------------------------===//

  Status checkWeightsPlacement() {
    const fb::WeightsFile *file = artifact_.weights_file();
    if (!file)
      return Status::ok();
    if (artifact_.dummy_weights())
      return invalidArgument("weights_file: an artifact with dummy_weights has no weights "
                             "file");
    std::string_view path = file->path()->string_view();
    if (path.empty())
      return invalidArgument("weights_file: the path is empty");
    if (path.find('\0') != std::string_view::npos)
      return invalidArgument("weights_file: the path holds a NUL byte");
    if (path.front() == '/')
      return invalidArgument("weights_file: path '" + std::string(path) +
                             "' is absolute; it must be relative to the artifact's directory");
    if (file->size() != artifact_.weights_size())
      return invalidArgument("weights_file: size is " + std::to_string(file->size()) +
                             " bytes, but weights_size is " +
                             std::to_string(artifact_.weights_size()));
    return Status::ok();
  }

  //===-- Tensors --------------------------------------------------------===//

  std::string tensorLabel(int index) const {
    return "tensor " + std::to_string(index) + " '" +
           artifact_.tensors()->Get(index)->name()->str() + "'";
  }

  Status checkTensors() {
    const auto &tensors = *artifact_.tensors();
    uint64_t weightsSize = artifact_.weights_size();
    std::set<std::string> names;
    for (int i = 0, e = tensors.size(); i < e; ++i) {
      const fb::TensorInfo &t = *tensors.Get(i);
      std::string label = tensorLabel(i);
      if (t.name()->size() == 0)
        return invalidArgument("tensor " + std::to_string(i) + " has an empty name");
      if (!names.insert(t.name()->str()).second)
        return invalidArgument(label + ": name used by an earlier tensor");
      uint64_t elements = 1;
      for (int64_t dim : *t.shape()) {
        if (dim <= 0 || dim > (int64_t(1) << 40))
          return invalidArgument(label + ": bad dimension " + std::to_string(dim) +
                                 " in its shape");
        if (elements > (uint64_t(1) << 50) / uint64_t(dim))
          return invalidArgument(label + ": shape has too many elements");
        elements *= uint64_t(dim);
      }
      uint64_t bytes = 0;
      if (!dtypeStorageBytes(t.dtype(), elements, bytes))
        return invalidArgument(label + ": unknown dtype " +
                               std::to_string(static_cast<int>(t.dtype())));
      if (t.size() != bytes)
        return invalidArgument(label + ": size is " + std::to_string(t.size()) +
                               " bytes, but " + dtypeName(t.dtype()) + " " +
                               shapeString(std::vector<int64_t>(t.shape()->begin(),
                                                                t.shape()->end())) +
                               " takes " + std::to_string(bytes));
      if (t.offset() % kWeightsAlignment != 0)
        return invalidArgument(label + ": offset " + std::to_string(t.offset()) +
                               " is not a multiple of " + std::to_string(kWeightsAlignment));
      if (t.offset() > weightsSize || t.size() > weightsSize - t.offset())
        return invalidArgument(label + ": bytes [" + std::to_string(t.offset()) + ", " +
                               std::to_string(t.offset() + t.size()) +
                               ") lie outside the weights section of " +
                               std::to_string(weightsSize) + " bytes");
    }
    return Status::ok();
  }

  //===-- KV cache -------------------------------------------------------===//

  Status checkKvCache() {
    const fb::KvCacheSpec &kv = *artifact_.kv_cache();
    auto mismatch = [](const char *field, int got, int want) {
      return invalidArgument("kv_cache: " + std::string(field) + " is " + std::to_string(got) +
                             ", but the config says " + std::to_string(want));
    };
    if (kv.num_layers() != config_.num_layers())
      return mismatch("num_layers", kv.num_layers(), config_.num_layers());
    if (kv.num_kv_heads() != config_.num_kv_heads())
      return mismatch("num_kv_heads", kv.num_kv_heads(), config_.num_kv_heads());
    if (kv.head_dim() != config_.head_dim())
      return mismatch("head_dim", kv.head_dim(), config_.head_dim());
    if (kv.block_size() <= 0 || kv.block_size() > 4096)
      return invalidArgument("kv_cache: block_size " + std::to_string(kv.block_size()) +
                             " must be in [1, 4096]");
    if (kv.dtype() > fb::KvDType::MAX)
      return invalidArgument("kv_cache: unknown dtype " +
                             std::to_string(static_cast<int>(kv.dtype())));
    return checkKvScheme(kv);
  }

  // The quantization fields of an integer or fp8 cache (KvPage.h).
  Status checkKvScheme(const fb::KvCacheSpec &kv) {
    const bool integer = kvIsInteger(kv.dtype());
    const std::string dtype = fb::EnumNameKvDType(kv.dtype());
    if (kv.key_granularity() > fb::KvGranularity::MAX)
      return invalidArgument("kv_cache: unknown key_granularity " +
                             std::to_string(static_cast<int>(kv.key_granularity())));
    if (!integer && (kv.key_granularity() != fb::KvGranularity::PerToken ||
                     kv.key_symmetric() || kv.value_symmetric() || kv.residual_window() != 0 ||
                     kv.sink_tokens() != 0))
      return invalidArgument("kv_cache: key_granularity, key_symmetric, value_symmetric, "
                             "residual_window and sink_tokens apply to integer caches, not " +
                             dtype);
    if (kv.residual_window() != 0 && kv.residual_window() != kv.block_size())
      return invalidArgument("kv_cache: residual_window " +
                             std::to_string(kv.residual_window()) +
                             " must be 0 or block_size (" + std::to_string(kv.block_size()) + ")");
    if (kv.sink_tokens() < 0 || kv.sink_tokens() > kv.block_size())
      return invalidArgument("kv_cache: sink_tokens " + std::to_string(kv.sink_tokens()) +
                             " must be in [0, block_size]");
    for (auto [name, scales] : {std::pair{"key_scales", kv.key_scales()},
                                std::pair{"value_scales", kv.value_scales()}}) {
      if (!scales || scales->size() == 0)
        continue;
      if (kv.dtype() != fb::KvDType::F8E4M3)
        return invalidArgument(std::string("kv_cache: ") + name + " apply to F8E4M3, not " +
                               dtype);
      const int64_t perLayer = kv.num_layers(), perHead = perLayer * kv.num_kv_heads();
      if (scales->size() != perLayer && scales->size() != perHead)
        return invalidArgument(std::string("kv_cache: ") + name + " has " +
                               std::to_string(scales->size()) + " entries, expected " +
                               std::to_string(perLayer) + " (per layer) or " +
                               std::to_string(perHead) + " (per layer and kv head)");
      for (int i = 0, e = scales->size(); i < e; ++i)
        if (!(scales->Get(i) > 0.0f) || !std::isfinite(scales->Get(i)))
          return invalidArgument(std::string("kv_cache: ") + name + "[" + std::to_string(i) +
                                 "] is " + std::to_string(scales->Get(i)) +
                                 ", not a positive finite scale");
    }
    return Status::ok();
  }

  //===-- Plan -----------------------------------------------------------===//

  Status checkSlots() {
    const auto &slots = *plan_.slots();
    if (slots.size() == 0)
      return invalidArgument("plan has no slots");
    for (int i = 0, e = slots.size(); i < e; ++i) {
      int width = slots.Get(i)->width();
      if (width <= 0 || width > kMaxDimension)
        return invalidArgument("plan: slot " + std::to_string(i) + " has width " +
                               std::to_string(width));
      if (!knownActivation(slots.Get(i)->activation()))
        return invalidArgument("plan: slot " + std::to_string(i) +
                               " has an unknown activation quantization " +
                               std::to_string(static_cast<int>(slots.Get(i)->activation())));
    }
    written_.assign(slots.size(), false);
    gathered_.assign(slots.size(), false);
    return Status::ok();
  }

  static bool knownActivation(fb::ActivationQuant a) {
    return a == fb::ActivationQuant::None || a == fb::ActivationQuant::Int8PerToken ||
           a == fb::ActivationQuant::Fp8PerToken;
  }
  static std::string activationText(fb::ActivationQuant a) {
    return a == fb::ActivationQuant::None ? "unquantized rows"
                                          : std::string(fb::EnumNameActivationQuant(a)) + " rows";
  }

  // Every slot operand holds what the step reads or writes there: quantized
  // rows of the step's scheme where the kind says so (a Linear's input,
  // QuantizeRows' and a quantizing RmsNorm's output), unquantized rows
  // everywhere else.
  Status checkSlotActivations(const std::string &label, const fb::Step &step) {
    fb::ActivationQuant scheme = step.activation();
    bool quantizedIn = step.kind() == fb::StepKind::Linear;
    bool quantizedOut = step.kind() == fb::StepKind::QuantizeRows ||
                        step.kind() == fb::StepKind::RmsNorm;
    if (scheme != fb::ActivationQuant::None && !quantizedIn && !quantizedOut)
      return invalidArgument(label + ": a " + stepKindName(step.kind()) +
                             " step has no activation quantization");
    auto expect = [&](const char *role, size_t i, int slot, fb::ActivationQuant want) {
      fb::ActivationQuant has = plan_.slots()->Get(slot)->activation();
      if (has == want)
        return Status::ok();
      return invalidArgument(label + ": " + role + " " + std::to_string(i) + " " +
                             slotLabel(slot) + " holds " + activationText(has) + ", expected " +
                             activationText(want));
    };
    for (size_t i = 0; i < countOf(step.inputs()); ++i)
      QTC_RT_RETURN_IF_ERROR(expect("input", i, step.inputs()->Get(i),
                                    quantizedIn && i == 0 ? scheme : fb::ActivationQuant::None));
    for (size_t i = 0; i < countOf(step.outputs()); ++i)
      QTC_RT_RETURN_IF_ERROR(expect("output", i, step.outputs()->Get(i),
                                    quantizedOut ? scheme : fb::ActivationQuant::None));
    return Status::ok();
  }

  int numSlots() const { return plan_.slots()->size(); }
  int slotWidth(int slot) const { return plan_.slots()->Get(slot)->width(); }

  std::string slotLabel(int slot) const {
    const fb::Slot *s = plan_.slots()->Get(slot);
    std::string label = "slot " + std::to_string(slot);
    if (s->name() && s->name()->size())
      label += " '" + s->name()->str() + "'";
    return label;
  }

  static int operandAt(const flatbuffers::Vector<int32_t> *v, size_t i) {
    return v && i < v->size() ? v->Get(i) : -1;
  }
  static size_t countOf(const flatbuffers::Vector<int32_t> *v) { return v ? v->size() : 0; }

  // Checks arity and range of a step's slot operands; inputs must be written
  // by an earlier step.
  Status checkSlotOperands(const std::string &label, const fb::Step &step,
                           std::initializer_list<size_t> inputCounts,
                           std::initializer_list<size_t> outputCounts) {
    auto arityOk = [](size_t n, std::initializer_list<size_t> allowed) {
      for (size_t a : allowed)
        if (n == a)
          return true;
      return false;
    };
    auto arityText = [](std::initializer_list<size_t> allowed) {
      std::string s;
      for (size_t a : allowed)
        s += (s.empty() ? "" : " or ") + std::to_string(a);
      return s;
    };
    if (!arityOk(countOf(step.inputs()), inputCounts))
      return invalidArgument(label + ": has " + std::to_string(countOf(step.inputs())) +
                             " inputs, expected " + arityText(inputCounts));
    if (!arityOk(countOf(step.outputs()), outputCounts))
      return invalidArgument(label + ": has " + std::to_string(countOf(step.outputs())) +
                             " outputs, expected " + arityText(outputCounts));
    for (size_t i = 0; i < countOf(step.inputs()); ++i) {
      int slot = step.inputs()->Get(i);
      if (slot < 0 || slot >= numSlots())
        return invalidArgument(label + ": input " + std::to_string(i) + " names slot " +
                               std::to_string(slot) + " of " + std::to_string(numSlots()));
      if (!written_[slot])
        return invalidArgument(label + ": reads " + slotLabel(slot) +
                               " before any step writes it");
    }
    for (size_t i = 0; i < countOf(step.outputs()); ++i) {
      int slot = step.outputs()->Get(i);
      if (slot < 0 || slot >= numSlots())
        return invalidArgument(label + ": output " + std::to_string(i) + " names slot " +
                               std::to_string(slot) + " of " + std::to_string(numSlots()));
    }
    return Status::ok();
  }

  Status expectWidth(const std::string &label, const char *role, int slot, int64_t width) {
    if (slotWidth(slot) != width)
      return invalidArgument(label + ": " + role + " " + slotLabel(slot) + " has width " +
                             std::to_string(slotWidth(slot)) + ", expected " +
                             std::to_string(width));
    return Status::ok();
  }

  // Checks weight operand `operand` of `step`: present, in range, of one of
  // `dtypes` and of `shape`.
  Status expectWeight(const std::string &label, const fb::Step &step, size_t operand,
                      const char *role, std::initializer_list<fb::DType> dtypes,
                      const std::vector<int64_t> &shape) {
    int index = operandAt(step.weights(), operand);
    std::string what = label + ": weight " + std::to_string(operand) + " (" + role + ")";
    if (index < 0)
      return invalidArgument(what + " is missing");
    if (index >= static_cast<int>(artifact_.tensors()->size()))
      return invalidArgument(what + " names tensor " + std::to_string(index) + " of " +
                             std::to_string(artifact_.tensors()->size()));
    const fb::TensorInfo &t = *artifact_.tensors()->Get(index);
    bool dtypeOk = false;
    std::string allowed;
    for (fb::DType d : dtypes) {
      dtypeOk |= t.dtype() == d;
      allowed += (allowed.empty() ? "" : " or ") + std::string(dtypeName(d));
    }
    if (!dtypeOk)
      return invalidArgument(what + " " + tensorLabel(index) + " has dtype " +
                             dtypeName(t.dtype()) + ", expected " + allowed);
    std::vector<int64_t> actual(t.shape()->begin(), t.shape()->end());
    if (actual != shape)
      return invalidArgument(what + " " + tensorLabel(index) + " has shape " +
                             shapeString(actual) + ", expected " + shapeString(shape));
    return Status::ok();
  }

  Status expectNoWeightsFrom(const std::string &label, const fb::Step &step, size_t first) {
    for (size_t i = first; i < countOf(step.weights()); ++i)
      if (step.weights()->Get(i) != -1)
        return invalidArgument(label + ": unexpected weight operand " + std::to_string(i));
    return Status::ok();
  }

  Status expectLayer(const std::string &label, const fb::Step &step) {
    if (step.layer() < 0 || step.layer() >= config_.num_layers())
      return invalidArgument(label + ": layer " + std::to_string(step.layer()) +
                             " is outside [0, " + std::to_string(config_.num_layers()) + ")");
    return Status::ok();
  }

  int64_t qkvWidth() const {
    return int64_t(config_.num_heads() + 2 * config_.num_kv_heads()) * config_.head_dim();
  }

  Status checkLinear(const std::string &label, const fb::Step &step) {
    int in = step.in_features(), out = step.out_features();
    if (in <= 0 || out <= 0)
      return invalidArgument(label + ": in_features " + std::to_string(in) +
                             " and out_features " + std::to_string(out) + " must be positive");
    int x = step.inputs()->Get(0), y = step.outputs()->Get(0);
    QTC_RT_RETURN_IF_ERROR(expectWidth(label, "input", x, in));
    QTC_RT_RETURN_IF_ERROR(expectWidth(label, "output", y, out));
    if (x == y)
      return invalidArgument(label + ": output " + slotLabel(y) + " is also its input");
    if (countOf(step.inputs()) == 2) {
      int residual = step.inputs()->Get(1);
      QTC_RT_RETURN_IF_ERROR(expectWidth(label, "residual", residual, out));
      if (gathered_[residual] != gathered_[x])
        return invalidArgument(label + ": input and residual have different rows");
    }
    const std::initializer_list<fb::DType> floats = {fb::DType::F32, fb::DType::F16,
                                                     fb::DType::BF16};
    switch (step.format()) {
    case fb::WeightFormat::Dense:
      QTC_RT_RETURN_IF_ERROR(expectWeight(label, step, 0, "weight", floats, {out, in}));
      if (operandAt(step.weights(), 1) != -1 || operandAt(step.weights(), 2) != -1)
        return invalidArgument(label + ": dense weights take no scales or zero points");
      break;
    case fb::WeightFormat::Int4Group: {
      int group = step.group_size();
      if (group <= 0 || group % 2 != 0 || in % group != 0)
        return invalidArgument(label + ": group_size " + std::to_string(group) +
                               " must be even and divide in_features " + std::to_string(in));
      int index = operandAt(step.weights(), 0);
      bool typedI4 = index >= 0 && index < static_cast<int>(artifact_.tensors()->size()) &&
                     artifact_.tensors()->Get(index)->dtype() == fb::DType::I4;
      if (typedI4)
        QTC_RT_RETURN_IF_ERROR(
            expectWeight(label, step, 0, "int4 data", {fb::DType::I4}, {out, in}));
      else
        QTC_RT_RETURN_IF_ERROR(
            expectWeight(label, step, 0, "int4 data", {fb::DType::U8}, {out, in / 2}));
      QTC_RT_RETURN_IF_ERROR(
          expectWeight(label, step, 1, "scales", {fb::DType::F16}, {out, in / group}));
      if (step.symmetric()) {
        if (operandAt(step.weights(), 2) != -1)
          return invalidArgument(label + ": symmetric int4 weights take no zero points");
      } else {
        QTC_RT_RETURN_IF_ERROR(
            expectWeight(label, step, 2, "zero points", {fb::DType::F16}, {out, in / group}));
      }
      break;
    }
    case fb::WeightFormat::Int8Group: {
      int group = step.group_size();
      if (group <= 0 || in % group != 0)
        return invalidArgument(label + ": group_size " + std::to_string(group) +
                               " must divide in_features " + std::to_string(in));
      if (!step.symmetric())
        return invalidArgument(label + ": int8 weights are symmetric");
      QTC_RT_RETURN_IF_ERROR(
          expectWeight(label, step, 0, "int8 data", {fb::DType::I8}, {out, in}));
      QTC_RT_RETURN_IF_ERROR(
          expectWeight(label, step, 1, "scales", {fb::DType::F16}, {out, in / group}));
      if (operandAt(step.weights(), 2) != -1)
        return invalidArgument(label + ": int8 weights take no zero points");
      break;
    }
    case fb::WeightFormat::Fp8Channel:
      if (step.group_size() != in)
        return invalidArgument(label + ": fp8 weights have one scale per row, so "
                               "group_size " + std::to_string(step.group_size()) +
                               " must equal in_features " + std::to_string(in));
      QTC_RT_RETURN_IF_ERROR(
          expectWeight(label, step, 0, "fp8 data", {fb::DType::U8}, {out, in}));
      QTC_RT_RETURN_IF_ERROR(
          expectWeight(label, step, 1, "scales", {fb::DType::F32}, {out}));
      if (operandAt(step.weights(), 2) != -1)
        return invalidArgument(label + ": fp8 weights take no zero points");
      break;
    default:
      return invalidArgument(label + ": unknown weight format " +
                             std::to_string(static_cast<int>(step.format())));
    }
    switch (step.activation()) {
    case fb::ActivationQuant::None:
      break;
    case fb::ActivationQuant::Int8PerToken:
      if (step.format() != fb::WeightFormat::Int8Group || step.group_size() != in)
        return invalidArgument(label + ": int8 activations need int8 weights with "
                               "one scale per row (group_size = in_features)");
      break;
    case fb::ActivationQuant::Fp8PerToken:
      if (step.format() != fb::WeightFormat::Fp8Channel)
        return invalidArgument(label + ": fp8 activations need fp8 weights");
      break;
    default:
      return invalidArgument(label + ": unknown activation quantization " +
                             std::to_string(static_cast<int>(step.activation())));
    }
    if (operandAt(step.weights(), 3) != -1)
      QTC_RT_RETURN_IF_ERROR(expectWeight(label, step, 3, "bias", floats, {out}));
    return expectNoWeightsFrom(label, step, 4);
  }

  Status checkStep(int index, const fb::Step &step) {
    std::string label = "step " + std::to_string(index) + " (" + stepKindName(step.kind());
    if (step.layer() >= 0)
      label += ", layer " + std::to_string(step.layer());
    label += ")";
    const std::initializer_list<fb::DType> floats = {fb::DType::F32, fb::DType::F16,
                                                     fb::DType::BF16};
    // Whether the step's output rows are the gathered logit rows.
    bool outputGathered = false;
    switch (step.kind()) {
    case fb::StepKind::Embedding: {
      QTC_RT_RETURN_IF_ERROR(checkSlotOperands(label, step, {0}, {1}));
      int out = step.outputs()->Get(0);
      QTC_RT_RETURN_IF_ERROR(expectWidth(label, "output", out, config_.hidden_size()));
      QTC_RT_RETURN_IF_ERROR(expectWeight(label, step, 0, "table", floats,
                                          {config_.vocab_size(), config_.hidden_size()}));
      QTC_RT_RETURN_IF_ERROR(expectNoWeightsFrom(label, step, 1));
      break;
    }
    case fb::StepKind::RmsNorm: {
      QTC_RT_RETURN_IF_ERROR(checkSlotOperands(label, step, {1}, {1}));
      int x = step.inputs()->Get(0), y = step.outputs()->Get(0);
      QTC_RT_RETURN_IF_ERROR(expectWidth(label, "output", y, slotWidth(x)));
      QTC_RT_RETURN_IF_ERROR(expectWeight(label, step, 0, "scale", floats, {slotWidth(x)}));
      QTC_RT_RETURN_IF_ERROR(expectNoWeightsFrom(label, step, 1));
      if (!(step.epsilon() > 0) || !std::isfinite(step.epsilon()))
        return invalidArgument(label + ": epsilon " + std::to_string(step.epsilon()) +
                               " must be positive");
      outputGathered = gathered_[x];
      break;
    }
    case fb::StepKind::Linear:
      QTC_RT_RETURN_IF_ERROR(checkSlotOperands(label, step, {1, 2}, {1}));
      QTC_RT_RETURN_IF_ERROR(checkLinear(label, step));
      outputGathered = gathered_[step.inputs()->Get(0)];
      break;
    case fb::StepKind::RopeKvAppend:
    case fb::StepKind::Attention: {
      bool rope = step.kind() == fb::StepKind::RopeKvAppend;
      QTC_RT_RETURN_IF_ERROR(checkSlotOperands(label, step, {1}, rope ? std::initializer_list<size_t>{0, 1}
                                                                      : std::initializer_list<size_t>{1}));
      QTC_RT_RETURN_IF_ERROR(expectLayer(label, step));
      int qkv = step.inputs()->Get(0);
      QTC_RT_RETURN_IF_ERROR(expectWidth(label, "qkv input", qkv, qkvWidth()));
      if (gathered_[qkv])
        return invalidArgument(label + ": runs on gathered logit rows; it needs every token");
      QTC_RT_RETURN_IF_ERROR(expectNoWeightsFrom(label, step, 0));
      if (rope) {
        if (countOf(step.outputs()) == 1 && step.outputs()->Get(0) != qkv)
          return invalidArgument(label + ": rotates in place; its output must be its input");
        ropeLayers_.insert(step.layer());
      } else {
        if (!ropeLayers_.count(step.layer()))
          return invalidArgument(label + ": no earlier RopeKvAppend fills layer " +
                                 std::to_string(step.layer()) + "'s KV cache");
        int out = step.outputs()->Get(0);
        if (out == qkv)
          return invalidArgument(label + ": output is also its input");
        QTC_RT_RETURN_IF_ERROR(expectWidth(label, "output", out,
                                           int64_t(config_.num_heads()) * config_.head_dim()));
      }
      break;
    }
    case fb::StepKind::SwiGlu: {
      QTC_RT_RETURN_IF_ERROR(checkSlotOperands(label, step, {1}, {1}));
      int x = step.inputs()->Get(0), y = step.outputs()->Get(0);
      if (slotWidth(x) % 2 != 0 || slotWidth(y) * 2 != slotWidth(x))
        return invalidArgument(label + ": input width " + std::to_string(slotWidth(x)) +
                               " must be twice the output width " +
                               std::to_string(slotWidth(y)));
      if (x == y)
        return invalidArgument(label + ": output is also its input");
      QTC_RT_RETURN_IF_ERROR(expectNoWeightsFrom(label, step, 0));
      outputGathered = gathered_[x];
      break;
    }
    case fb::StepKind::Add: {
      QTC_RT_RETURN_IF_ERROR(checkSlotOperands(label, step, {2}, {1}));
      int a = step.inputs()->Get(0), b = step.inputs()->Get(1), c = step.outputs()->Get(0);
      QTC_RT_RETURN_IF_ERROR(expectWidth(label, "second input", b, slotWidth(a)));
      QTC_RT_RETURN_IF_ERROR(expectWidth(label, "output", c, slotWidth(a)));
      if (gathered_[a] != gathered_[b])
        return invalidArgument(label + ": inputs have different rows (one is gathered)");
      QTC_RT_RETURN_IF_ERROR(expectNoWeightsFrom(label, step, 0));
      outputGathered = gathered_[a];
      break;
    }
    case fb::StepKind::QuantizeRows: {
      QTC_RT_RETURN_IF_ERROR(checkSlotOperands(label, step, {1}, {1}));
      int x = step.inputs()->Get(0), y = step.outputs()->Get(0);
      QTC_RT_RETURN_IF_ERROR(expectWidth(label, "output", y, slotWidth(x)));
      if (step.activation() == fb::ActivationQuant::None)
        return invalidArgument(label + ": names no activation quantization");
      if (x == y)
        return invalidArgument(label + ": output is also its input");
      QTC_RT_RETURN_IF_ERROR(expectNoWeightsFrom(label, step, 0));
      outputGathered = gathered_[x];
      break;
    }
    case fb::StepKind::GatherRows: {
      QTC_RT_RETURN_IF_ERROR(checkSlotOperands(label, step, {1}, {1}));
      int x = step.inputs()->Get(0), y = step.outputs()->Get(0);
      QTC_RT_RETURN_IF_ERROR(expectWidth(label, "output", y, slotWidth(x)));
      if (gathered_[x])
        return invalidArgument(label + ": gathers rows that are already gathered");
      if (x == y)
        return invalidArgument(label + ": output is also its input");
      QTC_RT_RETURN_IF_ERROR(expectNoWeightsFrom(label, step, 0));
      outputGathered = true;
      break;
    }
    default:
      return invalidArgument(label + ": unknown step kind " +
                             std::to_string(static_cast<int>(step.kind())));
    }
    QTC_RT_RETURN_IF_ERROR(checkSlotActivations(label, step));
    for (size_t i = 0; i < countOf(step.outputs()); ++i) {
      written_[step.outputs()->Get(i)] = true;
      gathered_[step.outputs()->Get(i)] = outputGathered;
    }
    return Status::ok();
  }

  Status checkSteps() {
    const auto &steps = *plan_.steps();
    if (steps.size() == 0)
      return invalidArgument("plan has no steps");
    for (int i = 0, e = steps.size(); i < e; ++i)
      QTC_RT_RETURN_IF_ERROR(checkStep(i, *steps.Get(i)));
    int logits = plan_.logits_slot();
    if (logits < 0 || logits >= numSlots())
      return invalidArgument("plan: logits_slot " + std::to_string(logits) + " names no slot");
    if (!written_[logits])
      return invalidArgument("plan: no step writes the logits " + slotLabel(logits));
    if (!gathered_[logits])
      return invalidArgument("plan: the logits " + slotLabel(logits) +
                             " is not downstream of a GatherRows step");
    if (slotWidth(logits) != config_.vocab_size())
      return invalidArgument("plan: the logits " + slotLabel(logits) + " has width " +
                             std::to_string(slotWidth(logits)) + ", expected vocab_size " +
                             std::to_string(config_.vocab_size()));
    return Status::ok();
  }

  //===-- Kernels --------------------------------------------------------===//

  // `label` names the field ("step 3: kernel_ids"); the targets that get a
  // kernel are marked in `targetUsed`.
  Status checkKernelIds(const std::string &label, const flatbuffers::Vector<int32_t> *ids,
                        std::vector<bool> &targetUsed) {
    if (!ids || ids->size() == 0)
      return Status::ok();
    size_t numTargets = targets_.size();
    if (ids->size() != numTargets)
      return invalidArgument(label + " has " + std::to_string(ids->size()) +
                             " entries, expected one per target (" +
                             std::to_string(numTargets) + ")");
    int numKernels = artifact_.kernels() ? artifact_.kernels()->size() : 0;
    for (size_t t = 0; t < numTargets; ++t) {
      int id = ids->Get(t);
      if (id == -1)
        continue;
      if (id < 0 || id >= numKernels)
        return invalidArgument(label + "[" + std::to_string(t) + "] = " + std::to_string(id) +
                               " names a missing kernel (the artifact has " +
                               std::to_string(numKernels) + ")");
      const fb::Kernel &kernel = *artifact_.kernels()->Get(id);
      if (kernel.target()->str() != targets_[t])
        return invalidArgument(label + "[" + std::to_string(t) + "] names kernel '" +
                               kernel.name()->str() + "' for " + kernel.target()->str() +
                               ", expected one for " + targets_[t]);
      targetUsed[t] = true;
    }
    return Status::ok();
  }

  Status checkKernels() {
    if (artifact_.targets())
      for (const auto *target : *artifact_.targets()) {
        if (!target || target->size() == 0)
          return invalidArgument("targets: empty target name");
        for (const std::string &seen : targets_)
          if (seen == target->str())
            return invalidArgument("targets: " + seen + " is listed twice");
        targets_.push_back(target->str());
      }
    if (artifact_.kernels())
      for (int i = 0, e = artifact_.kernels()->size(); i < e; ++i) {
        const fb::Kernel &k = *artifact_.kernels()->Get(i);
        std::string label = "kernel " + std::to_string(i) + " '" + k.name()->str() + "'";
        if (k.name()->size() == 0)
          return invalidArgument("kernel " + std::to_string(i) + " has an empty name");
        if (k.ptx()->size() == 0)
          return invalidArgument(label + " has no PTX");
        bool listed = false;
        for (const std::string &t : targets_)
          listed |= t == k.target()->str();
        if (!listed)
          return invalidArgument(label + " is for target '" + k.target()->str() +
                                 "', which the artifact does not list");
        if (k.block_x() <= 0 || k.block_y() <= 0 || k.shared_bytes() < 0 || k.tile_m() <= 0 ||
            k.tile_n() <= 0 || k.split_k() <= 0)
          return invalidArgument(label + " has a non-positive launch parameter");
        // A kernel launched programmatically may start before its
        // predecessor has finished writing; only one that waits for it is
        // safe to launch that way.
        if (k.programmatic_launch() &&
            k.ptx()->string_view().find("griddepcontrol.wait") == std::string_view::npos)
          return invalidArgument(label + " asks for programmatic launch, but its PTX never "
                                 "waits for its predecessor (griddepcontrol.wait)");
      }
    std::vector<bool> targetUsed(targets_.size(), false);
    const auto &steps = *plan_.steps();
    for (int i = 0, e = steps.size(); i < e; ++i) {
      const std::string step = "step " + std::to_string(i) + ": ";
      QTC_RT_RETURN_IF_ERROR(
          checkKernelIds(step + "kernel_ids", steps.Get(i)->kernel_ids(), targetUsed));
      QTC_RT_RETURN_IF_ERROR(checkKernelIds(step + "decode_kernel_ids",
                                            steps.Get(i)->decode_kernel_ids(), targetUsed));
    }
    for (size_t t = 0; t < targets_.size(); ++t)
      if (!targetUsed[t])
        return notFound("target " + targets_[t] +
                        " is listed, but no step has a kernel for it");
    // The argmax kernel serves greedy sampling, not the plan: it alone does
    // not make a target usable.
    std::vector<bool> argmaxTargets(targets_.size(), false);
    return checkKernelIds("plan: argmax_kernel_ids", plan_.argmax_kernel_ids(), argmaxTargets);
  }

  const fb::Artifact &artifact_;
  const fb::ModelConfig &config_;
  const fb::Plan &plan_;
  std::vector<bool> written_;
  std::vector<bool> gathered_;
  std::set<int> ropeLayers_;
  std::vector<std::string> targets_;
};

} // namespace

Status validateArtifact(const fb::Artifact &artifact) { return Validator(artifact).run(); }

} // namespace qtc::rt
