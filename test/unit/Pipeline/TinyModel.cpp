//===- TinyModel.cpp - A small random Llama for pipeline tests ------------===//

#include "TinyModel.h"

#include "dialects/tfm/TfmOps.h"
#include "qtc/rt/Float16.h"

#include "mlir/Parser/Parser.h"

#include <cstring>
#include <memory>
#include <random>

namespace qtc::test {

std::string tinyModelSource() {
  return R"mlir(
tfm.model @tiny attributes {config = #tfm.model_config<
    architecture = "LlamaForCausalLM", vocab_size = 32, hidden_size = 16,
    num_layers = 1, num_heads = 2, num_kv_heads = 1, head_dim = 8,
    intermediate_size = 24, max_positions = 64, rms_norm_eps = 1.0e-05,
    rope_theta = 1.0e+04, bos_token_id = 1, eos_token_id = 2,
    tie_word_embeddings = false>} {
^bb0(%ids: tensor<?xi64>, %pos: tensor<?xi64>):
  %emb = tfm.weight "model.embed_tokens.weight" : tensor<32x16xf16>
  %x0 = tfm.embedding %emb, %ids : tensor<32x16xf16>, tensor<?xi64> -> tensor<?x16xf32>
  %w_in = tfm.weight "model.layers.0.input_layernorm.weight" : tensor<16xf16>
  %n = tfm.rms_norm %x0, %w_in {epsilon = 1.0e-05 : f32} : tensor<?x16xf32>, tensor<16xf16>
  %wq = tfm.weight "model.layers.0.self_attn.q_proj.weight" : tensor<16x16xf16>
  %q = tfm.linear %n, %wq : tensor<?x16xf32>, tensor<16x16xf16> -> tensor<?x16xf32>
  %wk = tfm.weight "model.layers.0.self_attn.k_proj.weight" : tensor<8x16xf16>
  %k = tfm.linear %n, %wk : tensor<?x16xf32>, tensor<8x16xf16> -> tensor<?x8xf32>
  %wv = tfm.weight "model.layers.0.self_attn.v_proj.weight" : tensor<8x16xf16>
  %v = tfm.linear %n, %wv : tensor<?x16xf32>, tensor<8x16xf16> -> tensor<?x8xf32>
  %qr = tfm.rope %q, %pos {head_dim = 8, theta = 1.0e+04 : f32} : tensor<?x16xf32>, tensor<?xi64>
  %kr = tfm.rope %k, %pos {head_dim = 8, theta = 1.0e+04 : f32} : tensor<?x8xf32>, tensor<?xi64>
  %a = tfm.attention %qr, %kr, %v {num_heads = 2, num_kv_heads = 1, head_dim = 8, causal, scale = 0.35355339 : f32}
      : tensor<?x16xf32>, tensor<?x8xf32>, tensor<?x8xf32>
  %wo = tfm.weight "model.layers.0.self_attn.o_proj.weight" : tensor<16x16xf16>
  %o = tfm.linear %a, %wo : tensor<?x16xf32>, tensor<16x16xf16> -> tensor<?x16xf32>
  %x1 = tfm.add %x0, %o : tensor<?x16xf32>
  %w_post = tfm.weight "model.layers.0.post_attention_layernorm.weight" : tensor<16xf16>
  %n2 = tfm.rms_norm %x1, %w_post {epsilon = 1.0e-05 : f32} : tensor<?x16xf32>, tensor<16xf16>
  %wgate = tfm.weight "model.layers.0.mlp.gate_proj.weight" : tensor<24x16xf16>
  %g = tfm.linear %n2, %wgate : tensor<?x16xf32>, tensor<24x16xf16> -> tensor<?x24xf32>
  %wup = tfm.weight "model.layers.0.mlp.up_proj.weight" : tensor<24x16xf16>
  %u = tfm.linear %n2, %wup : tensor<?x16xf32>, tensor<24x16xf16> -> tensor<?x24xf32>
  %s = tfm.swiglu %g, %u : tensor<?x24xf32>
  %wdown = tfm.weight "model.layers.0.mlp.down_proj.weight" : tensor<16x24xf16>
  %d = tfm.linear %s, %wdown : tensor<?x24xf32>, tensor<16x24xf16> -> tensor<?x16xf32>
  %x2 = tfm.add %x1, %d : tensor<?x16xf32>
  %w_norm = tfm.weight "model.norm.weight" : tensor<16xf16>
  %nf = tfm.rms_norm %x2, %w_norm {epsilon = 1.0e-05 : f32} : tensor<?x16xf32>, tensor<16xf16>
  %w_lm = tfm.weight "lm_head.weight" : tensor<32x16xf16>
  %lg = tfm.lm_head %nf, %w_lm : tensor<?x16xf32>, tensor<32x16xf16> -> tensor<?x32xf32>
  tfm.output %lg : tensor<?x32xf32>
}
)mlir";
}

TinyModel buildTinyModel(mlir::MLIRContext &context, unsigned seed) {
  TinyModel model;
  model.module = mlir::parseSourceString<mlir::ModuleOp>(tinyModelSource(),
                                                         &context);
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 0.5f);
  model.module->walk([&](tfm::WeightOp w) {
    auto type = mlir::cast<mlir::RankedTensorType>(w.getResult().getType());
    auto bytes = std::make_unique<std::string>(type.getNumElements() * 2, '\0');
    for (int64_t i = 0; i < type.getNumElements(); ++i) {
      // Norm weights near 1, like trained models.
      float v = type.getRank() == 1 ? 1.0f + 0.1f * normal(rng) : normal(rng);
      uint16_t h = rt::floatToHalf(v);
      std::memcpy(bytes->data() + 2 * i, &h, 2);
    }
    llvm::StringRef view = model.weights.adoptBytes(std::move(bytes));
    WeightRef ref;
    ref.dtype = DType::F16;
    ref.shape.assign(type.getShape().begin(), type.getShape().end());
    ref.data = view.data();
    ref.byteSize = view.size();
    model.weights.add(w.getName(), ref);
  });
  return model;
}

} // namespace qtc::test
