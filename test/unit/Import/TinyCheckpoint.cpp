//===- TinyCheckpoint.cpp - Writes small Hugging Face checkpoints ---------===//

#include "TinyCheckpoint.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/Endian.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

using namespace qtc::test;

TinyCheckpoint TinyCheckpoint::llama() {
  TinyCheckpoint checkpoint;
  checkpoint.config = llvm::json::Object{
      {"architectures", llvm::json::Array{"LlamaForCausalLM"}},
      {"hidden_act", "silu"},
      {"hidden_size", 16},
      {"intermediate_size", 24},
      {"num_hidden_layers", 1},
      {"num_attention_heads", 2},
      {"num_key_value_heads", 1},
      {"vocab_size", 32},
      {"max_position_embeddings", 64},
      {"rms_norm_eps", 1e-5},
      {"rope_theta", 10000.0},
      {"tie_word_embeddings", false},
      {"bos_token_id", 1},
      {"eos_token_id", 2},
  };
  const std::string layer = "model.layers.0.";
  checkpoint.tensors = {
      {"model.embed_tokens.weight", {32, 16}},
      {layer + "input_layernorm.weight", {16}},
      {layer + "self_attn.q_proj.weight", {16, 16}},
      {layer + "self_attn.k_proj.weight", {8, 16}},
      {layer + "self_attn.v_proj.weight", {8, 16}},
      {layer + "self_attn.o_proj.weight", {16, 16}},
      {layer + "post_attention_layernorm.weight", {16}},
      {layer + "mlp.gate_proj.weight", {24, 16}},
      {layer + "mlp.up_proj.weight", {24, 16}},
      {layer + "mlp.down_proj.weight", {16, 24}},
      {"model.norm.weight", {16}},
      {"lm_head.weight", {32, 16}},
  };
  return checkpoint;
}

void TinyCheckpoint::remove(llvm::StringRef name) {
  llvm::erase_if(tensors,
                 [&](const TinyTensor &tensor) { return tensor.name == name; });
}

TinyTensor *TinyCheckpoint::find(llvm::StringRef name) {
  for (TinyTensor &tensor : tensors)
    if (tensor.name == name)
      return &tensor;
  return nullptr;
}

std::string
TinyCheckpoint::safetensors(const std::vector<TinyTensor> &tensors) {
  llvm::json::Object header;
  uint64_t offset = 0;
  for (const TinyTensor &tensor : tensors) {
    uint64_t bytes = tensor.dtype == "F32" ? 4 : 2;
    for (int64_t dim : tensor.shape)
      bytes *= dim;
    llvm::json::Array shape;
    for (int64_t dim : tensor.shape)
      shape.push_back(dim);
    header[tensor.name] = llvm::json::Object{
        {"dtype", tensor.dtype},
        {"shape", std::move(shape)},
        {"data_offsets", llvm::json::Array{offset, offset + bytes}}};
    offset += bytes;
  }
  std::string text;
  llvm::raw_string_ostream(text) << llvm::json::Value(std::move(header));
  std::string file(8, '\0');
  llvm::support::endian::write64le(file.data(), text.size());
  file += text;
  file.append(offset, '\0');
  return file;
}

void TinyCheckpoint::writeTo(llvm::StringRef dir) const {
  auto write = [&](llvm::StringRef name, llvm::StringRef bytes) {
    llvm::SmallString<256> path(dir);
    llvm::sys::path::append(path, name);
    std::error_code ec;
    llvm::raw_fd_ostream os(path, ec);
    os << bytes;
  };
  std::string configText;
  llvm::raw_string_ostream(configText)
      << llvm::formatv("{0:2}", llvm::json::Value(llvm::json::Object(config)));
  write("config.json", configText);
  write("model.safetensors", safetensors(tensors));
}
