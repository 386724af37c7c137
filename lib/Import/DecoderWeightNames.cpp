//===- DecoderWeightNames.cpp - Hugging Face names of decoder weights -----===//

#include "DecoderWeightNames.h"

using namespace qtc;

std::string qtc::layerPrefix(int64_t layer) {
  return "model.layers." + std::to_string(layer);
}

std::string qtc::linearModuleName(int64_t layer, LinearRole role) {
  const char *suffix = "";
  switch (role) {
  case LinearRole::Query:
    suffix = ".self_attn.q_proj";
    break;
  case LinearRole::Key:
    suffix = ".self_attn.k_proj";
    break;
  case LinearRole::Value:
    suffix = ".self_attn.v_proj";
    break;
  case LinearRole::Output:
    suffix = ".self_attn.o_proj";
    break;
  case LinearRole::Gate:
    suffix = ".mlp.gate_proj";
    break;
  case LinearRole::Up:
    suffix = ".mlp.up_proj";
    break;
  case LinearRole::Down:
    suffix = ".mlp.down_proj";
    break;
  }
  return layerPrefix(layer) + suffix;
}

std::string qtc::linearWeightName(int64_t layer, LinearRole role) {
  return linearModuleName(layer, role) + ".weight";
}

std::string qtc::linearBiasName(int64_t layer, LinearRole role) {
  return linearModuleName(layer, role) + ".bias";
}

std::string qtc::inputNormWeightName(int64_t layer) {
  return layerPrefix(layer) + ".input_layernorm.weight";
}

std::string qtc::postAttentionNormWeightName(int64_t layer) {
  return layerPrefix(layer) + ".post_attention_layernorm.weight";
}

std::array<int64_t, 2> qtc::linearWeightShape(const TransformerConfig &config,
                                              LinearRole role) {
  int64_t queryWidth = config.numHeads * config.headDim;
  int64_t kvWidth = config.numKvHeads * config.headDim;
  switch (role) {
  case LinearRole::Query:
    return {queryWidth, config.hiddenSize};
  case LinearRole::Key:
  case LinearRole::Value:
    return {kvWidth, config.hiddenSize};
  case LinearRole::Output:
    return {config.hiddenSize, queryWidth};
  case LinearRole::Gate:
  case LinearRole::Up:
    return {config.intermediateSize, config.hiddenSize};
  case LinearRole::Down:
    return {config.hiddenSize, config.intermediateSize};
  }
  return {0, 0};
}

bool qtc::linearHasBias(const TransformerConfig &config, LinearRole role) {
  switch (role) {
  case LinearRole::Query:
  case LinearRole::Key:
  case LinearRole::Value:
    return config.qkvBias;
  case LinearRole::Output:
    return config.outputBias;
  case LinearRole::Gate:
  case LinearRole::Up:
  case LinearRole::Down:
    return config.mlpBias;
  }
  return false;
}
