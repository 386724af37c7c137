//===- SyntheticCheckpoint.cpp - Plans checkpoints of random weights ------===//
//
// What `qtc synth` writes and where: the config (a preset, or a config.json
// read by the HF importer's own parser), the tensors in transformers' state
// dict order, and their split into shards by huggingface_hub's rule.
//
// Scale of the values (what LlamaForCausalLM(config) initializes, so a
// forward pass stays finite in f16 through 32 layers as a trained model's
// does): embeddings, linear weights and biases have mean 0 and standard
// deviation 0.02 (transformers' default initializer_range); RMSNorm weights
// are 1 + 0.02 z, near 1 but not all equal, so norm folding is exercised.
// At hidden 4096 a projection then has outputs of standard deviation
// 0.02 * sqrt(4096) = 1.3 per unit-RMS input, and each layer adds O(1) to a
// residual stream that grows like the square root of the depth.
//
//===----------------------------------------------------------------------===//

#include "qtc/Import/SyntheticCheckpoint.h"

#include "DecoderWeightNames.h"
#include "HFCheckpointConfig.h"
#include "SyntheticWeights.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Location.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace qtc;

namespace {

constexpr float kInitializerRange = 0.02f;

constexpr llvm::StringLiteral kPresets[] = {"llama2-7b", "llama3-8b"};

// The config.json files of meta-llama/Llama-2-7b-hf and
// meta-llama/Meta-Llama-3-8B (torch_dtype is set from --dtype).
llvm::json::Object presetConfig(llvm::StringRef name) {
  bool llama3 = name == "llama3-8b";
  return llvm::json::Object{
      {"architectures", llvm::json::Array{"LlamaForCausalLM"}},
      {"attention_bias", false},
      {"attention_dropout", 0.0},
      {"bos_token_id", llama3 ? 128000 : 1},
      {"eos_token_id", llama3 ? 128001 : 2},
      {"hidden_act", "silu"},
      {"hidden_size", 4096},
      {"initializer_range", 0.02},
      {"intermediate_size", llama3 ? 14336 : 11008},
      {"max_position_embeddings", llama3 ? 8192 : 4096},
      {"mlp_bias", false},
      {"model_type", "llama"},
      {"num_attention_heads", 32},
      {"num_hidden_layers", 32},
      {"num_key_value_heads", llama3 ? 8 : 32},
      {"pretraining_tp", 1},
      {"rms_norm_eps", 1e-5},
      {"rope_scaling", nullptr},
      {"rope_theta", llama3 ? 500000.0 : 10000.0},
      {"tie_word_embeddings", false},
      {"use_cache", true},
      {"vocab_size", llama3 ? 128256 : 32000},
  };
}

// A preset is a bare name; anything that looks like a path is a file, so a
// mistyped preset is reported as unknown rather than as a missing file.
bool namesFile(llvm::StringRef config) {
  return config.ends_with(".json") || config.contains('/') ||
         llvm::sys::fs::exists(config);
}

std::string withCommas(uint64_t value) {
  std::string digits = std::to_string(value);
  std::string grouped;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i != 0 && (digits.size() - i) % 3 == 0)
      grouped += ',';
    grouped += digits[i];
  }
  return grouped;
}

// The tensors LlamaForCausalLM (and Mistral, Qwen2) put in their state dict,
// in its order: each module's weight before its bias, a layer's attention
// and MLP projections before its norms, and no lm_head when it is the
// embedding.
std::vector<SyntheticTensor> planTensors(const TransformerConfig &config,
                                         DType dtype, uint64_t seed) {
  std::vector<SyntheticTensor> tensors;
  auto add = [&](std::string name, llvm::ArrayRef<int64_t> shape, float mean,
                 float stddev) {
    SyntheticTensor tensor;
    tensor.spec.name = std::move(name);
    tensor.spec.dtype = dtype;
    tensor.spec.shape.assign(shape.begin(), shape.end());
    tensor.mean = mean;
    tensor.stddev = stddev;
    tensor.streamKey = syntheticStreamKey(seed, tensor.spec.name);
    tensor.byteSize = dtypeByteSize(dtype);
    for (int64_t dim : shape)
      tensor.byteSize *= dim;
    tensors.push_back(std::move(tensor));
  };
  auto addLinear = [&](int64_t layer, LinearRole role) {
    std::array<int64_t, 2> shape = linearWeightShape(config, role);
    add(linearWeightName(layer, role), shape, 0.0f, kInitializerRange);
    if (linearHasBias(config, role))
      add(linearBiasName(layer, role), {shape[0]}, 0.0f, kInitializerRange);
  };

  add(kEmbedTokensWeight.str(), {config.vocabSize, config.hiddenSize}, 0.0f,
      kInitializerRange);
  for (int64_t layer = 0; layer < config.numLayers; ++layer) {
    for (LinearRole role :
         {LinearRole::Query, LinearRole::Key, LinearRole::Value,
          LinearRole::Output, LinearRole::Gate, LinearRole::Up,
          LinearRole::Down})
      addLinear(layer, role);
    add(inputNormWeightName(layer), {config.hiddenSize}, 1.0f,
        kInitializerRange);
    add(postAttentionNormWeightName(layer), {config.hiddenSize}, 1.0f,
        kInitializerRange);
  }
  add(kFinalNormWeight.str(), {config.hiddenSize}, 1.0f, kInitializerRange);
  if (!config.tieWordEmbeddings)
    add(kLmHeadWeight.str(), {config.vocabSize, config.hiddenSize}, 0.0f,
        kInitializerRange);
  return tensors;
}

// huggingface_hub's split_state_dict_into_shards: tensors in state-dict
// order fill a shard until the next would push it past the limit; a tensor
// larger than the limit gets a shard of its own at once, while the shard
// being filled stays open. Inside a file, safetensors orders tensors by
// name (one dtype here), and so does this.
LogicalResult planShards(Location loc, SyntheticCheckpoint &checkpoint,
                         uint64_t maxShardBytes) {
  std::vector<std::vector<size_t>> groups;
  std::vector<size_t> current;
  uint64_t currentBytes = 0;
  for (size_t i = 0; i < checkpoint.tensors.size(); ++i) {
    uint64_t bytes = checkpoint.tensors[i].byteSize;
    if (bytes > maxShardBytes) {
      groups.push_back({i});
      continue;
    }
    if (currentBytes + bytes > maxShardBytes) {
      groups.push_back(std::move(current));
      current.clear();
      currentBytes = 0;
    }
    current.push_back(i);
    currentBytes += bytes;
  }
  if (!current.empty())
    groups.push_back(std::move(current));

  const std::vector<std::pair<std::string, std::string>> metadata = {
      {"format", "pt"}};
  for (size_t s = 0; s < groups.size(); ++s) {
    SyntheticShard shard;
    shard.fileName =
        groups.size() == 1
            ? std::string("model.safetensors")
            : llvm::formatv("model-{0:d5}-of-{1:d5}.safetensors", s + 1,
                            groups.size())
                  .str();
    shard.tensors = std::move(groups[s]);
    llvm::sort(shard.tensors, [&](size_t a, size_t b) {
      return checkpoint.tensors[a].spec.name < checkpoint.tensors[b].spec.name;
    });
    std::vector<SafetensorsTensorSpec> specs;
    for (size_t index : shard.tensors) {
      specs.push_back(checkpoint.tensors[index].spec);
      shard.dataBytes += checkpoint.tensors[index].byteSize;
    }
    llvm::Expected<std::string> header =
        encodeSafetensorsHeader(specs, metadata);
    if (!header)
      return emitError(loc) << shard.fileName << ": "
                            << llvm::toString(header.takeError());
    shard.fileBytes = header->size() + shard.dataBytes;
    checkpoint.shards.push_back(std::move(shard));
  }
  return success();
}

// The config text and object: a preset's, or the file's as written.
struct ResolvedConfig {
  std::string path;
  std::string text;
};

FailureOr<ResolvedConfig> resolveConfig(MLIRContext &context,
                                        llvm::StringRef config) {
  if (llvm::is_contained(kPresets, config)) {
    ResolvedConfig resolved;
    resolved.path = ("preset " + config).str();
    resolved.text =
        llvm::formatv("{0:2}", llvm::json::Value(presetConfig(config))).str();
    return resolved;
  }
  if (!namesFile(config)) {
    InFlightDiagnostic diag =
        emitError(FileLineColLoc::get(&context, config, 0, 0))
        << "unknown config '" << config << "' (presets: ";
    llvm::interleaveComma(kPresets, diag);
    return diag << "; or the path of a config.json)";
  }
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> buffer =
      llvm::MemoryBuffer::getFile(config, /*IsText=*/true);
  if (!buffer)
    return emitError(FileLineColLoc::get(&context, config, 0, 0))
           << "cannot read config: " << buffer.getError().message();
  return ResolvedConfig{config.str(), (*buffer)->getBuffer().str()};
}

} // namespace

llvm::ArrayRef<llvm::StringLiteral> qtc::syntheticCheckpointPresets() {
  return kPresets;
}

FailureOr<SyntheticCheckpoint>
qtc::planSyntheticCheckpoint(MLIRContext &context,
                             const SyntheticCheckpointOptions &options) {
  // Errors in the options are located at the model they are about, as
  // `qtc compile` locates recipe errors at its model.
  Location loc = FileLineColLoc::get(&context, options.config, 0, 0);
  if (options.dtype != DType::F16 && options.dtype != DType::BF16)
    return emitError(loc)
           << "synthetic weights are f16 or bf16, not "
                          << dtypeName(options.dtype);
  if (options.maxShardBytes == 0)
    return emitError(loc)
           << "the shard size must be positive";
  if (options.layers < 0)
    return emitError(loc)
           << "the layer count must be positive, not "
                          << options.layers;

  FailureOr<ResolvedConfig> resolved = resolveConfig(context, options.config);
  if (failed(resolved))
    return failure();
  FailureOr<TransformerConfig> config =
      parseHFConfig(context, resolved->path, resolved->text);
  if (failed(config))
    return failure();
  // parseHFConfig accepted the text, so it is a JSON object.
  llvm::json::Value json = llvm::cantFail(llvm::json::parse(resolved->text));

  SyntheticCheckpoint checkpoint;
  checkpoint.source = llvm::is_contained(kPresets, options.config)
                          ? options.config
                          : resolved->path;
  checkpoint.dtype = options.dtype;
  checkpoint.config = std::move(*json.getAsObject());
  if (options.layers > 0) {
    config->numLayers = options.layers;
    checkpoint.config["num_hidden_layers"] = options.layers;
  }
  llvm::StringRef torchDtype =
      options.dtype == DType::BF16 ? "bfloat16" : "float16";
  checkpoint.config["torch_dtype"] = torchDtype;
  // transformers 5 writes `dtype`; keep a config that has it consistent.
  if (checkpoint.config.get("dtype"))
    checkpoint.config["dtype"] = torchDtype;

  checkpoint.description =
      llvm::formatv("{0}, {1} layers, hidden {2}, {3} heads ({4} KV) of {5}, "
                    "intermediate {6}, vocab {7}{8}",
                    config->architecture, config->numLayers, config->hiddenSize,
                    config->numHeads, config->numKvHeads, config->headDim,
                    config->intermediateSize, config->vocabSize,
                    config->tieWordEmbeddings ? ", tied embeddings" : "")
          .str();
  checkpoint.tensors = planTensors(*config, options.dtype, options.seed);
  for (const SyntheticTensor &tensor : checkpoint.tensors) {
    int64_t elements = 1;
    for (int64_t dim : tensor.spec.shape)
      elements *= dim;
    checkpoint.parameters += elements;
    checkpoint.dataBytes += tensor.byteSize;
  }
  if (failed(planShards(FileLineColLoc::get(&context, resolved->path, 0, 0),
                        checkpoint, options.maxShardBytes)))
    return failure();
  return checkpoint;
}

void qtc::printSyntheticCheckpoint(const SyntheticCheckpoint &checkpoint,
                                   llvm::raw_ostream &os) {
  os << checkpoint.source << ": " << checkpoint.description << "\n";
  os << checkpoint.tensors.size() << " tensors, "
     << withCommas(checkpoint.parameters) << " parameters, "
     << withCommas(checkpoint.dataBytes) << " bytes as "
     << dtypeName(checkpoint.dtype) << "\n";
  for (const SyntheticShard &shard : checkpoint.shards)
    os << "  " << shard.fileName << ": " << shard.tensors.size()
       << " tensors, " << withCommas(shard.fileBytes) << " bytes\n";
}

llvm::Expected<uint64_t> qtc::parseShardSize(llvm::StringRef text) {
  struct Unit {
    llvm::StringLiteral suffix;
    uint64_t bytes;
  };
  // Longest suffixes first, so "GiB" is not read as "B" after "Gi".
  static constexpr Unit kUnits[] = {
      {"KiB", 1ull << 10}, {"MiB", 1ull << 20}, {"GiB", 1ull << 30},
      {"KB", 1000},        {"MB", 1000000},     {"GB", 1000000000}};
  llvm::StringRef number = text.trim();
  uint64_t scale = 1;
  for (const Unit &unit : kUnits)
    if (number.ends_with_insensitive(unit.suffix)) {
      number = number.drop_back(unit.suffix.size()).rtrim();
      scale = unit.bytes;
      break;
    }
  uint64_t count = 0;
  uint64_t bytes = 0;
  if (number.getAsInteger(10, count) || count == 0 ||
      __builtin_mul_overflow(count, scale, &bytes))
    return llvm::createStringError(
        "shard size '" + text +
        "' is not a positive byte count (e.g. 5000000000, 5GB, 2GiB)");
  return bytes;
}
