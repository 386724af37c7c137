//===- OnnxImporter.cpp - ONNX models to the canonical tfm graph ----------===//
//
// load (protobuf -> OnnxGraph, weights mapped into the WeightStore)
//   -> raise (pattern table -> RaisedOps; every live node accounted for)
//   -> structure (roles, Hugging Face names, configuration)
//   -> emit (the TfmModelEmitter the Hugging Face importer uses too).
//
// What an ONNX graph cannot state: the architecture name, bos/eos token ids,
// the maximum context, and the parameters of llama3-style RoPE scaling.
// They come from a config.json beside the model when there is one (which is
// then also checked against the graph); otherwise token ids stay unset (-1),
// the architecture is inferred from the biases and the context defaults to
// transformers' LlamaConfig default of 2048 with a warning.
//
//===----------------------------------------------------------------------===//

#include "HFCheckpointConfig.h"
#include "OnnxModelLoader.h"
#include "OnnxRaiser.h"
#include "RopeFrequencies.h"
#include "TfmModelEmitter.h"
#include "qtc/Import/Import.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Diagnostics.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include <cmath>

using namespace mlir;
using namespace qtc;

namespace {

// Sequence length the shape-only subgraphs are evaluated at: a prime no
// model dimension is likely to equal, so a misread axis shows up.
constexpr int64_t kProbeSequenceLength = 13;
constexpr int64_t kDefaultMaxPositions = 2048;

// TensorProto.DataType of the accepted token id types.
constexpr int32_t kOnnxInt64 = 7;
constexpr int32_t kOnnxInt32 = 6;

LogicalResult checkSignature(MLIRContext &context, const OnnxGraph &graph) {
  Location fileLoc = FileLineColLoc::get(&context, graph.path, 0, 0);
  if (graph.inputs.size() != 1) {
    InFlightDiagnostic diag = emitError(fileLoc)
                              << "expected one graph input (the token ids), "
                                 "found "
                              << graph.inputs.size();
    for (const OnnxValueInfo &input : graph.inputs)
      diag.attachNote() << "input '" << input.name << "'";
    return diag;
  }
  const OnnxValueInfo &ids = graph.inputs.front();
  if ((ids.onnxType != kOnnxInt64 && ids.onnxType != kOnnxInt32) ||
      (ids.hasShape && ids.dims.size() != 1 && ids.dims.size() != 2))
    return emitError(fileLoc) << "graph input '" << ids.name
                              << "' must be integer token ids of shape "
                                 "[sequence] or [batch, sequence]";
  if (graph.outputs.size() != 1)
    return emitError(fileLoc) << "expected one graph output (the logits), "
                                 "found "
                              << graph.outputs.size();
  return success();
}

// Cross-checks the config.json beside the model against the graph and takes
// what the graph cannot state from it.
LogicalResult mergeSidecarConfig(MLIRContext &context, StringRef configPath,
                                 const RaisedDecoder &decoder,
                                 TransformerConfig &config) {
  FailureOr<TransformerConfig> sidecar = readHFConfig(context, configPath);
  if (failed(sidecar))
    return failure();
  const std::pair<StringRef, std::pair<int64_t, int64_t>> sizes[] = {
      {"vocab_size", {sidecar->vocabSize, config.vocabSize}},
      {"hidden_size", {sidecar->hiddenSize, config.hiddenSize}},
      {"intermediate_size",
       {sidecar->intermediateSize, config.intermediateSize}},
      {"num_hidden_layers", {sidecar->numLayers, config.numLayers}},
      {"num_attention_heads", {sidecar->numHeads, config.numHeads}},
      {"num_key_value_heads", {sidecar->numKvHeads, config.numKvHeads}},
      {"head_dim", {sidecar->headDim, config.headDim}}};
  for (const auto &[field, values] : sizes)
    if (values.first != values.second)
      return emitError(FileLineColLoc::get(&context, configPath, 0, 0))
             << "config.json beside the model says " << field << " = "
             << values.first << " but the ONNX graph has " << values.second;

  if (!frequenciesMatch(decoder.ropeFrequencies, sidecar->ropeTheta,
                        sidecar->ropeScaling, config.headDim))
    return emitError(FileLineColLoc::get(&context, configPath, 0, 0))
           << "the RoPE theta and scaling in config.json do not reproduce "
              "the frequencies of the ONNX graph";
  config.architecture = sidecar->architecture;
  config.ropeTheta = sidecar->ropeTheta;
  config.ropeScaling = sidecar->ropeScaling;
  config.maxPositions = sidecar->maxPositions;
  config.bosTokenId = sidecar->bosTokenId;
  config.eosTokenId = sidecar->eosTokenId;
  config.slidingWindow = sidecar->slidingWindow;
  config.slidingWindowFirstLayer = sidecar->slidingWindowFirstLayer;
  return success();
}

LogicalResult completeFromGraph(MLIRContext &context, const OnnxGraph &graph,
                                const RaisedDecoder &decoder,
                                TransformerConfig &config) {
  llvm::Expected<RopeFit> fit =
      fitRopeTheta(decoder.ropeFrequencies, config.headDim);
  if (!fit)
    return emitError(onnxNodeLoc(context, graph, *decoder.firstAttention))
           << llvm::toString(fit.takeError());
  config.ropeTheta = fit->theta;
  config.ropeScaling = fit->scaling;
  // Structurally Mistral is Llama; Qwen2 is the family with q/k/v biases
  // and none on o_proj.
  config.architecture = config.qkvBias && !config.outputBias
                            ? "Qwen2ForCausalLM"
                            : "LlamaForCausalLM";
  config.maxPositions = kDefaultMaxPositions;
  emitWarning(FileLineColLoc::get(&context, graph.path, 0, 0))
      << "no config.json beside the model: the maximum context is unknown "
         "and set to "
      << kDefaultMaxPositions << ", token ids are unset";
  return success();
}

LogicalResult registerWeights(const OnnxGraph &graph,
                              const RaisedDecoder &decoder,
                              WeightStore &store) {
  for (const RaisedDecoder::WeightBinding &binding : decoder.weights) {
    const OnnxTensorData *data = graph.constant(binding.initializer);
    WeightRef ref;
    ref.dtype = *data->dtype;
    ref.shape = data->shape;
    ref.data = data->bytes.data();
    ref.byteSize = data->bytes.size();
    bool added = binding.inputMajor ? store.addTransposed(binding.name, ref)
                                    : store.add(binding.name, ref);
    if (!added)
      return failure();
  }
  return success();
}

} // namespace

FailureOr<ImportedModel> qtc::importOnnx(MLIRContext &context, StringRef path) {
  registerImportDialects(context);
  ImportedModel model;
  FailureOr<OnnxGraph> graph = loadOnnxGraph(context, path, model.weights);
  if (failed(graph) || failed(checkSignature(context, *graph)))
    return failure();

  OnnxConstantEvaluator evaluator(*graph, kProbeSequenceLength);
  PatternContext patterns(*graph, evaluator);
  patterns.markIdsInput(graph->inputs.front().name);
  if (failed(raiseOnnxGraph(context, patterns)))
    return failure();
  FailureOr<RaisedDecoder> decoder = recoverDecoderStructure(context, patterns);
  if (failed(decoder))
    return failure();

  TransformerConfig &config = decoder->config;
  llvm::SmallString<256> configPath(graph->folder);
  llvm::sys::path::append(configPath, "config.json");
  if (llvm::sys::fs::exists(configPath)) {
    if (failed(mergeSidecarConfig(context, configPath, *decoder, config)))
      return failure();
  } else if (failed(completeFromGraph(context, *graph, *decoder, config))) {
    return failure();
  }
  // An exporter's scale equal to the usual one is left implicit, so both
  // importers give identical attributes.
  float usualScale =
      static_cast<float>(1.0 / std::sqrt(double(config.headDim)));
  if (config.attentionScale == usualScale)
    config.attentionScale = 0.0f;
  if (failed(registerWeights(*graph, *decoder, model.weights)))
    return emitError(FileLineColLoc::get(&context, path, 0, 0))
           << "two raised ops claim the same Hugging Face weight name";

  Location fileLoc = FileLineColLoc::get(&context, path, 0, 0);
  llvm::StringMap<std::string> initializerOf;
  for (const RaisedDecoder::WeightBinding &binding : decoder->weights)
    initializerOf[binding.name] = binding.initializer;
  EmitterLocations locations{
      /*weight=*/
      [&](StringRef name) -> Location {
        auto found = initializerOf.find(name);
        StringRef source =
            found == initializerOf.end() ? name : StringRef(found->second);
        return NameLoc::get(StringAttr::get(&context, source), fileLoc);
      },
      /*op=*/
      [&](StringRef key) -> Location {
        const OnnxNode *node = decoder->opNodes.lookup(key);
        return node ? onnxNodeLoc(context, *graph, *node) : fileLoc;
      },
      /*model=*/fileLoc};

  llvm::SmallString<256> folder;
  if (llvm::sys::fs::real_path(graph->folder.empty() ? "." : graph->folder,
                               folder))
    folder = graph->folder;
  FailureOr<OwningOpRef<ModuleOp>> module =
      emitTfmModel(context, modelSymbolName(llvm::sys::path::filename(folder)),
                   config, model.weights, locations);
  if (failed(module))
    return failure();
  model.module = std::move(*module);
  return model;
}
