//===- HFCheckpointConfig.cpp - Hugging Face config.json reader -----------===//

#include "HFCheckpointConfig.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Location.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"

#include <optional>

using namespace mlir;
using namespace qtc;

namespace {

// Reads typed fields of config.json objects, reporting problems at the line
// where the field is written (or, for a missing field, at the file with the
// field's name attached).
class ConfigReader {
public:
  ConfigReader(MLIRContext &context, llvm::StringRef path, llvm::StringRef text)
      : context(context), path(path), text(text) {}

  InFlightDiagnostic fieldError(llvm::StringRef key) {
    return emitError(locOf(key)) << "config field '" << key << "': ";
  }
  InFlightDiagnostic fileError() { return emitError(fileLoc()); }
  Location locOf(llvm::StringRef key);

  FailureOr<int64_t> requiredInt(const llvm::json::Object &object,
                                 llvm::StringRef key);
  FailureOr<int64_t> optionalInt(const llvm::json::Object &object,
                                 llvm::StringRef key, int64_t fallback);
  FailureOr<float> requiredFloat(const llvm::json::Object &object,
                                 llvm::StringRef key);
  FailureOr<float> optionalFloat(const llvm::json::Object &object,
                                 llvm::StringRef key, float fallback);
  FailureOr<bool> optionalBool(const llvm::json::Object &object,
                               llvm::StringRef key, bool fallback);
  /// A token id: an integer, null (-1), or a list whose first entry is used
  /// (Llama 3 lists several end-of-sequence ids; tfm keeps one).
  FailureOr<int64_t> tokenId(const llvm::json::Object &object,
                             llvm::StringRef key);

private:
  Location fileLoc() { return FileLineColLoc::get(&context, path, 1, 1); }
  InFlightDiagnostic missing(llvm::StringRef key) {
    return emitError(NameLoc::get(StringAttr::get(&context, key), fileLoc()))
           << "missing required config field '" << key << "'";
  }

  MLIRContext &context;
  llvm::StringRef path;
  llvm::StringRef text;
};

Location ConfigReader::locOf(llvm::StringRef key) {
  // llvm::json keeps no source positions, so find where the key is written.
  // The first occurrence is the right one for every key read here: none of
  // them appears nested before its top-level use.
  std::string quoted = ("\"" + key + "\"").str();
  size_t offset = text.find(quoted);
  if (offset == llvm::StringRef::npos)
    return NameLoc::get(StringAttr::get(&context, key), fileLoc());
  llvm::StringRef before = text.take_front(offset);
  unsigned line = 1 + before.count('\n');
  size_t lineStart = before.rfind('\n');
  unsigned column =
      offset - (lineStart == llvm::StringRef::npos ? 0 : lineStart + 1) + 1;
  return FileLineColLoc::get(&context, path, line, column);
}

FailureOr<int64_t> ConfigReader::requiredInt(const llvm::json::Object &object,
                                             llvm::StringRef key) {
  const llvm::json::Value *value = object.get(key);
  if (!value || value->kind() == llvm::json::Value::Null)
    return missing(key);
  std::optional<int64_t> number = value->getAsInteger();
  if (!number || *number <= 0)
    return fieldError(key) << "expected a positive integer";
  return *number;
}

FailureOr<int64_t> ConfigReader::optionalInt(const llvm::json::Object &object,
                                             llvm::StringRef key,
                                             int64_t fallback) {
  const llvm::json::Value *value = object.get(key);
  if (!value || value->kind() == llvm::json::Value::Null)
    return fallback;
  return requiredInt(object, key);
}

FailureOr<float> ConfigReader::requiredFloat(const llvm::json::Object &object,
                                             llvm::StringRef key) {
  const llvm::json::Value *value = object.get(key);
  if (!value || value->kind() == llvm::json::Value::Null)
    return missing(key);
  std::optional<double> number = value->getAsNumber();
  if (!number || !(*number > 0.0))
    return fieldError(key) << "expected a positive number";
  return static_cast<float>(*number);
}

FailureOr<float> ConfigReader::optionalFloat(const llvm::json::Object &object,
                                             llvm::StringRef key,
                                             float fallback) {
  const llvm::json::Value *value = object.get(key);
  if (!value || value->kind() == llvm::json::Value::Null)
    return fallback;
  return requiredFloat(object, key);
}

FailureOr<bool> ConfigReader::optionalBool(const llvm::json::Object &object,
                                           llvm::StringRef key, bool fallback) {
  const llvm::json::Value *value = object.get(key);
  if (!value || value->kind() == llvm::json::Value::Null)
    return fallback;
  std::optional<bool> flag = value->getAsBoolean();
  if (!flag)
    return fieldError(key) << "expected true or false";
  return *flag;
}

FailureOr<int64_t> ConfigReader::tokenId(const llvm::json::Object &object,
                                         llvm::StringRef key) {
  const llvm::json::Value *value = object.get(key);
  if (!value || value->kind() == llvm::json::Value::Null)
    return -1;
  const llvm::json::Value *first = value;
  if (const llvm::json::Array *list = value->getAsArray()) {
    if (list->empty())
      return -1;
    first = &list->front();
  }
  std::optional<int64_t> id = first->getAsInteger();
  if (!id || *id < 0)
    return fieldError(key) << "expected a non-negative token id";
  return *id;
}

constexpr llvm::StringLiteral kSupportedArchitectures[] = {
    "LlamaForCausalLM", "MistralForCausalLM", "Qwen2ForCausalLM"};

LogicalResult readRope(ConfigReader &reader, const llvm::json::Object &root,
                       TransformerConfig &config) {
  // transformers 5 folds rope_theta and the scaling rule into
  // rope_parameters; transformers 4 has rope_theta and rope_scaling.
  const llvm::json::Object *parameters = root.getObject("rope_parameters");
  const llvm::json::Object *scaling =
      parameters ? parameters : root.getObject("rope_scaling");

  FailureOr<float> theta =
      parameters && parameters->get("rope_theta")
          ? reader.requiredFloat(*parameters, "rope_theta")
          : reader.optionalFloat(root, "rope_theta", 10000.0f);
  if (failed(theta))
    return failure();
  config.ropeTheta = *theta;
  if (!scaling)
    return success();

  std::optional<llvm::StringRef> type = scaling->getString("rope_type");
  llvm::StringRef typeKey = "rope_type";
  if (!type) {
    type = scaling->getString("type");
    typeKey = "type";
  }
  if (!type || *type == "default")
    return success();

  RopeScalingConfig &rope = config.ropeScaling;
  if (*type == "linear") {
    rope.kind = RopeScalingConfig::Kind::Linear;
    FailureOr<float> factor = reader.requiredFloat(*scaling, "factor");
    if (failed(factor))
      return failure();
    rope.factor = *factor;
    return success();
  }
  if (*type == "llama3") {
    rope.kind = RopeScalingConfig::Kind::Llama3;
    FailureOr<float> factor = reader.requiredFloat(*scaling, "factor");
    FailureOr<float> low =
        succeeded(factor) ? reader.requiredFloat(*scaling, "low_freq_factor")
                          : FailureOr<float>(failure());
    FailureOr<float> high =
        succeeded(low) ? reader.requiredFloat(*scaling, "high_freq_factor")
                       : FailureOr<float>(failure());
    FailureOr<int64_t> original =
        succeeded(high)
            ? reader.requiredInt(*scaling, "original_max_position_embeddings")
            : FailureOr<int64_t>(failure());
    if (failed(original))
      return failure();
    if (!(*high > *low))
      return reader.fieldError("high_freq_factor")
             << "must exceed low_freq_factor (" << *low << ")";
    rope.factor = *factor;
    rope.lowFreqFactor = *low;
    rope.highFreqFactor = *high;
    rope.originalMaxPositions = *original;
    return success();
  }
  return reader.fieldError(typeKey) << "unsupported RoPE type '" << *type
                                    << "' (supported: default, linear, llama3)";
}

// Mistral applies its window (when not null) to every layer; Qwen2 only
// with use_sliding_window, and then to layers from max_window_layers on.
LogicalResult readSlidingWindow(ConfigReader &reader,
                                const llvm::json::Object &root,
                                TransformerConfig &config) {
  bool windowed = config.architecture == "MistralForCausalLM";
  if (config.architecture == "Qwen2ForCausalLM") {
    FailureOr<bool> use =
        reader.optionalBool(root, "use_sliding_window", false);
    FailureOr<int64_t> firstLayer =
        reader.optionalInt(root, "max_window_layers", 0);
    if (failed(use) || failed(firstLayer))
      return failure();
    windowed = *use;
    config.slidingWindowFirstLayer = *firstLayer;
  }
  if (!windowed)
    return success();
  FailureOr<int64_t> window = reader.optionalInt(root, "sliding_window", 0);
  if (failed(window))
    return failure();
  // A window as long as the context changes nothing.
  if (*window < config.maxPositions)
    config.slidingWindow = *window;
  return success();
}

} // namespace

FailureOr<TransformerConfig> qtc::parseHFConfig(MLIRContext &context,
                                                llvm::StringRef path,
                                                llvm::StringRef text) {
  ConfigReader reader(context, path, text);
  llvm::Expected<llvm::json::Value> json = llvm::json::parse(text);
  if (!json)
    return reader.fileError()
           << "config is not valid JSON: " << llvm::toString(json.takeError());
  const llvm::json::Object *root = json->getAsObject();
  if (!root)
    return reader.fileError() << "config is not a JSON object";

  TransformerConfig config;
  const llvm::json::Array *architectures = root->getArray("architectures");
  std::optional<llvm::StringRef> architecture;
  if (architectures && !architectures->empty())
    architecture = architectures->front().getAsString();
  if (!architecture)
    return reader.fieldError("architectures")
           << "expected a list naming the model class";
  if (!llvm::is_contained(kSupportedArchitectures, *architecture)) {
    InFlightDiagnostic diag = reader.fieldError("architectures")
                              << "unsupported architecture '" << *architecture
                              << "' (supported: ";
    llvm::interleaveComma(kSupportedArchitectures, diag);
    return diag << ")";
  }
  config.architecture = architecture->str();

  std::optional<llvm::StringRef> activation = root->getString("hidden_act");
  if (activation && *activation != "silu")
    return reader.fieldError("hidden_act")
           << "unsupported activation '" << *activation
           << "' (Llama-family MLPs use silu)";

  struct IntField {
    llvm::StringLiteral key;
    int64_t TransformerConfig::*member;
  };
  static constexpr IntField kRequired[] = {
      {"vocab_size", &TransformerConfig::vocabSize},
      {"hidden_size", &TransformerConfig::hiddenSize},
      {"intermediate_size", &TransformerConfig::intermediateSize},
      {"num_hidden_layers", &TransformerConfig::numLayers},
      {"num_attention_heads", &TransformerConfig::numHeads},
      {"max_position_embeddings", &TransformerConfig::maxPositions},
  };
  for (const IntField &field : kRequired) {
    FailureOr<int64_t> value = reader.requiredInt(*root, field.key);
    if (failed(value))
      return failure();
    config.*field.member = *value;
  }

  FailureOr<int64_t> kvHeads =
      reader.optionalInt(*root, "num_key_value_heads", config.numHeads);
  if (failed(kvHeads))
    return failure();
  config.numKvHeads = *kvHeads;
  if (config.numHeads % config.numKvHeads != 0)
    return reader.fieldError("num_key_value_heads")
           << config.numKvHeads << " does not divide num_attention_heads "
           << config.numHeads;

  if (!root->get("head_dim") && config.hiddenSize % config.numHeads != 0)
    return reader.fieldError("num_attention_heads")
           << config.numHeads << " does not divide hidden_size "
           << config.hiddenSize << " and head_dim is not given";
  FailureOr<int64_t> headDim = reader.optionalInt(
      *root, "head_dim", config.hiddenSize / config.numHeads);
  if (failed(headDim))
    return failure();
  if (*headDim % 2 != 0)
    return reader.fieldError("head_dim")
           << *headDim << " is odd; rotate-half RoPE needs an even head size";
  config.headDim = *headDim;

  FailureOr<float> eps = reader.requiredFloat(*root, "rms_norm_eps");
  if (failed(eps) || failed(readRope(reader, *root, config)))
    return failure();
  config.rmsNormEps = *eps;

  FailureOr<bool> tied =
      reader.optionalBool(*root, "tie_word_embeddings", false);
  FailureOr<int64_t> bos = reader.tokenId(*root, "bos_token_id");
  FailureOr<int64_t> eos = reader.tokenId(*root, "eos_token_id");
  if (failed(tied) || failed(bos) || failed(eos))
    return failure();
  config.tieWordEmbeddings = *tied;
  config.bosTokenId = *bos;
  config.eosTokenId = *eos;

  if (config.architecture == "LlamaForCausalLM") {
    FailureOr<bool> attentionBias =
        reader.optionalBool(*root, "attention_bias", false);
    FailureOr<bool> mlpBias = reader.optionalBool(*root, "mlp_bias", false);
    if (failed(attentionBias) || failed(mlpBias))
      return failure();
    config.qkvBias = config.outputBias = *attentionBias;
    config.mlpBias = *mlpBias;
  } else if (config.architecture == "Qwen2ForCausalLM") {
    config.qkvBias = true;
  }
  if (failed(readSlidingWindow(reader, *root, config)))
    return failure();
  return config;
}

FailureOr<TransformerConfig> qtc::readHFConfig(MLIRContext &context,
                                               llvm::StringRef path) {
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> buffer =
      llvm::MemoryBuffer::getFile(path, /*IsText=*/true);
  if (!buffer)
    return emitError(FileLineColLoc::get(&context, path, 0, 0))
           << "cannot open: " << buffer.getError().message();
  return parseHFConfig(context, path, (*buffer)->getBuffer());
}
