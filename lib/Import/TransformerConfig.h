//===- TransformerConfig.h - What an importer learns about a model -*- C++
//-*-===//
//
// What a Hugging Face config.json states, plus a WeightStore holding the
// tensors under their Hugging Face names, is what TfmModelEmitter turns into
// the canonical tfm graph. The ONNX binding (qtc-onnx-bind-model) reads a
// config.json beside a model into it too, for what a graph cannot state.
//
//===----------------------------------------------------------------------===//

#ifndef QTC_LIB_IMPORT_TRANSFORMERCONFIG_H
#define QTC_LIB_IMPORT_TRANSFORMERCONFIG_H

#include <cstdint>
#include <string>

namespace qtc {

struct RopeScalingConfig {
  enum class Kind { None, Linear, Llama3 };
  Kind kind = Kind::None;
  float factor = 1.0f;
  float lowFreqFactor = 1.0f;
  float highFreqFactor = 4.0f;
  int64_t originalMaxPositions = 0;
};

/// Hyper-parameters of a Llama-family decoder (Llama 2/3, Mistral, Qwen2).
struct TransformerConfig {
  std::string architecture;
  int64_t vocabSize = 0;
  int64_t hiddenSize = 0;
  int64_t intermediateSize = 0;
  int64_t numLayers = 0;
  int64_t numHeads = 0;
  int64_t numKvHeads = 0;
  int64_t headDim = 0;
  int64_t maxPositions = 0;
  float rmsNormEps = 0.0f;
  float ropeTheta = 0.0f;
  RopeScalingConfig ropeScaling;
  /// Softmax scale of attention; 0 means the usual 1/sqrt(head_dim).
  float attentionScale = 0.0f;
  /// Sliding-window attention: 0 for none, else the window, applied to
  /// layers from `slidingWindowFirstLayer` on (Qwen2's max_window_layers).
  int64_t slidingWindow = 0;
  int64_t slidingWindowFirstLayer = 0;
  /// -1 when the model has none (or, for ONNX, when it cannot be known).
  int64_t bosTokenId = -1;
  int64_t eosTokenId = -1;
  bool tieWordEmbeddings = false;
  /// Which linears carry a bias: q/k/v (Qwen2, Llama attention_bias),
  /// o_proj (Llama attention_bias), the MLP (Llama mlp_bias).
  bool qkvBias = false;
  bool outputBias = false;
  bool mlpBias = false;
};

} // namespace qtc

#endif // QTC_LIB_IMPORT_TRANSFORMERCONFIG_H
