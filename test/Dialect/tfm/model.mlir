// RUN: qtc-opt %s --verify-roundtrip | FileCheck %s

// A one-layer Llama (the shape of kjv-llama-6m: hidden 256, 4 heads of 64,
// 2 KV heads, SwiGLU MLP 704, untied lm_head) in the form every importer
// produces (docs/contracts.md, section 1).

// CHECK-LABEL: tfm.model @kjv_one_layer
// CHECK-SAME:    config = #tfm.model_config<architecture = "LlamaForCausalLM", vocab_size = 4096, hidden_size = 256, num_layers = 1, num_heads = 4, num_kv_heads = 2, head_dim = 64, intermediate_size = 704, max_positions = 1024, rms_norm_eps = 9.99999974E-6, rope_theta = 1.000000e+04, bos_token_id = 1, eos_token_id = 2>
// CHECK:       ^bb0(%[[IDS:.*]]: tensor<?xi64>, %[[POS:.*]]: tensor<?xi64>):
// Weight results are named after the weights.
// CHECK:         %model.embed_tokens.weight = tfm.weight "model.embed_tokens.weight" : tensor<4096x256xf16>
// CHECK:         %[[X0:.*]] = tfm.embedding %model.embed_tokens.weight, %[[IDS]] : tensor<4096x256xf16>, tensor<?xi64> -> tensor<?x256xf32>
// CHECK:         %model.layers.0.input_layernorm.weight = tfm.weight "model.layers.0.input_layernorm.weight"
// CHECK:         %[[N:.*]] = tfm.rms_norm %[[X0]], %model.layers.0.input_layernorm.weight {epsilon = 9.99999974E-6 : f32} : tensor<?x256xf32>, tensor<256xf16>
// CHECK:         %model.layers.0.self_attn.q_proj.weight = tfm.weight "model.layers.0.self_attn.q_proj.weight"
// CHECK:         %[[Q:.*]] = tfm.linear %[[N]], %model.layers.0.self_attn.q_proj.weight : tensor<?x256xf32>, tensor<256x256xf16> -> tensor<?x256xf32>
// CHECK:         %model.layers.0.self_attn.k_proj.weight = tfm.weight "model.layers.0.self_attn.k_proj.weight"
// CHECK:         %[[K:.*]] = tfm.linear %[[N]], %model.layers.0.self_attn.k_proj.weight : tensor<?x256xf32>, tensor<128x256xf16> -> tensor<?x128xf32>
// CHECK:         %model.layers.0.self_attn.v_proj.weight = tfm.weight "model.layers.0.self_attn.v_proj.weight"
// CHECK:         %[[V:.*]] = tfm.linear %[[N]], %model.layers.0.self_attn.v_proj.weight : tensor<?x256xf32>, tensor<128x256xf16> -> tensor<?x128xf32>
// CHECK:         %[[QR:.*]] = tfm.rope %[[Q]], %[[POS]] {head_dim = 64 : i64, theta = 1.000000e+04 : f32} : tensor<?x256xf32>, tensor<?xi64>
// CHECK:         %[[KR:.*]] = tfm.rope %[[K]], %[[POS]] {head_dim = 64 : i64, theta = 1.000000e+04 : f32} : tensor<?x128xf32>, tensor<?xi64>
// CHECK:         %[[A:.*]] = tfm.attention %[[QR]], %[[KR]], %[[V]] {causal, head_dim = 64 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64, scale = 1.250000e-01 : f32} : tensor<?x256xf32>, tensor<?x128xf32>, tensor<?x128xf32>
// CHECK:         %model.layers.0.self_attn.o_proj.weight = tfm.weight "model.layers.0.self_attn.o_proj.weight"
// CHECK:         %[[O:.*]] = tfm.linear %[[A]], %model.layers.0.self_attn.o_proj.weight : tensor<?x256xf32>, tensor<256x256xf16> -> tensor<?x256xf32>
// CHECK:         %[[X1:.*]] = tfm.add %[[X0]], %[[O]] : tensor<?x256xf32>
// CHECK:         %model.layers.0.post_attention_layernorm.weight = tfm.weight "model.layers.0.post_attention_layernorm.weight"
// CHECK:         %[[N2:.*]] = tfm.rms_norm %[[X1]], %model.layers.0.post_attention_layernorm.weight {epsilon = 9.99999974E-6 : f32} : tensor<?x256xf32>, tensor<256xf16>
// CHECK:         %model.layers.0.mlp.gate_proj.weight = tfm.weight "model.layers.0.mlp.gate_proj.weight"
// CHECK:         %[[G:.*]] = tfm.linear %[[N2]], %model.layers.0.mlp.gate_proj.weight : tensor<?x256xf32>, tensor<704x256xf16> -> tensor<?x704xf32>
// CHECK:         %model.layers.0.mlp.up_proj.weight = tfm.weight "model.layers.0.mlp.up_proj.weight"
// CHECK:         %[[U:.*]] = tfm.linear %[[N2]], %model.layers.0.mlp.up_proj.weight : tensor<?x256xf32>, tensor<704x256xf16> -> tensor<?x704xf32>
// CHECK:         %[[S:.*]] = tfm.swiglu %[[G]], %[[U]] : tensor<?x704xf32>
// CHECK:         %model.layers.0.mlp.down_proj.weight = tfm.weight "model.layers.0.mlp.down_proj.weight"
// CHECK:         %[[D:.*]] = tfm.linear %[[S]], %model.layers.0.mlp.down_proj.weight : tensor<?x704xf32>, tensor<256x704xf16> -> tensor<?x256xf32>
// CHECK:         %[[X2:.*]] = tfm.add %[[X1]], %[[D]] : tensor<?x256xf32>
// CHECK:         %model.norm.weight = tfm.weight "model.norm.weight"
// CHECK:         %[[NF:.*]] = tfm.rms_norm %[[X2]], %model.norm.weight {epsilon = 9.99999974E-6 : f32} : tensor<?x256xf32>, tensor<256xf16>
// CHECK:         %lm_head.weight = tfm.weight "lm_head.weight" : tensor<4096x256xf16>
// CHECK:         %[[LOGITS:.*]] = tfm.lm_head %[[NF]], %lm_head.weight : tensor<?x256xf32>, tensor<4096x256xf16> -> tensor<?x4096xf32>
// CHECK:         tfm.output %[[LOGITS]] : tensor<?x4096xf32>
tfm.model @kjv_one_layer attributes {config = #tfm.model_config<
    architecture = "LlamaForCausalLM", vocab_size = 4096, hidden_size = 256,
    num_layers = 1, num_heads = 4, num_kv_heads = 2, head_dim = 64,
    intermediate_size = 704, max_positions = 1024, rms_norm_eps = 1.0e-05,
    rope_theta = 1.0e+04, bos_token_id = 1, eos_token_id = 2,
    tie_word_embeddings = false>} {
^bb0(%ids: tensor<?xi64>, %pos: tensor<?xi64>):
  %emb = tfm.weight "model.embed_tokens.weight" : tensor<4096x256xf16>
  %x0 = tfm.embedding %emb, %ids : tensor<4096x256xf16>, tensor<?xi64> -> tensor<?x256xf32>

  // Self-attention block.
  %w_in = tfm.weight "model.layers.0.input_layernorm.weight" : tensor<256xf16>
  %n = tfm.rms_norm %x0, %w_in {epsilon = 1.0e-05 : f32} : tensor<?x256xf32>, tensor<256xf16>
  %wq = tfm.weight "model.layers.0.self_attn.q_proj.weight" : tensor<256x256xf16>
  %q = tfm.linear %n, %wq : tensor<?x256xf32>, tensor<256x256xf16> -> tensor<?x256xf32>
  %wk = tfm.weight "model.layers.0.self_attn.k_proj.weight" : tensor<128x256xf16>
  %k = tfm.linear %n, %wk : tensor<?x256xf32>, tensor<128x256xf16> -> tensor<?x128xf32>
  %wv = tfm.weight "model.layers.0.self_attn.v_proj.weight" : tensor<128x256xf16>
  %v = tfm.linear %n, %wv : tensor<?x256xf32>, tensor<128x256xf16> -> tensor<?x128xf32>
  %qr = tfm.rope %q, %pos {head_dim = 64, theta = 1.0e+04 : f32} : tensor<?x256xf32>, tensor<?xi64>
  %kr = tfm.rope %k, %pos {head_dim = 64, theta = 1.0e+04 : f32} : tensor<?x128xf32>, tensor<?xi64>
  %a = tfm.attention %qr, %kr, %v {num_heads = 4, num_kv_heads = 2, head_dim = 64, causal, scale = 0.125 : f32}
      : tensor<?x256xf32>, tensor<?x128xf32>, tensor<?x128xf32>
  %wo = tfm.weight "model.layers.0.self_attn.o_proj.weight" : tensor<256x256xf16>
  %o = tfm.linear %a, %wo : tensor<?x256xf32>, tensor<256x256xf16> -> tensor<?x256xf32>
  %x1 = tfm.add %x0, %o : tensor<?x256xf32>

  // MLP block.
  %w_post = tfm.weight "model.layers.0.post_attention_layernorm.weight" : tensor<256xf16>
  %n2 = tfm.rms_norm %x1, %w_post {epsilon = 1.0e-05 : f32} : tensor<?x256xf32>, tensor<256xf16>
  %wgate = tfm.weight "model.layers.0.mlp.gate_proj.weight" : tensor<704x256xf16>
  %g = tfm.linear %n2, %wgate : tensor<?x256xf32>, tensor<704x256xf16> -> tensor<?x704xf32>
  %wup = tfm.weight "model.layers.0.mlp.up_proj.weight" : tensor<704x256xf16>
  %u = tfm.linear %n2, %wup : tensor<?x256xf32>, tensor<704x256xf16> -> tensor<?x704xf32>
  %s = tfm.swiglu %g, %u : tensor<?x704xf32>
  %wdown = tfm.weight "model.layers.0.mlp.down_proj.weight" : tensor<256x704xf16>
  %d = tfm.linear %s, %wdown : tensor<?x704xf32>, tensor<256x704xf16> -> tensor<?x256xf32>
  %x2 = tfm.add %x1, %d : tensor<?x256xf32>

  // Final norm and logits.
  %w_norm = tfm.weight "model.norm.weight" : tensor<256xf16>
  %nf = tfm.rms_norm %x2, %w_norm {epsilon = 1.0e-05 : f32} : tensor<?x256xf32>, tensor<256xf16>
  %w_lm = tfm.weight "lm_head.weight" : tensor<4096x256xf16>
  %lg = tfm.lm_head %nf, %w_lm : tensor<?x256xf32>, tensor<4096x256xf16> -> tensor<?x4096xf32>
  tfm.output %lg : tensor<?x4096xf32>
}
