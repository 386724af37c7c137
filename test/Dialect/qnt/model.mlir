// RUN: qtc-opt %s --verify-roundtrip | FileCheck %s

// The one-layer Llama of test/Dialect/tfm/model.mlir after quantization:
// int4 g128 weights (an asymmetric MLP down projection in groups of 64) and a
// KIVI-style 4-bit KV cache scheme on the attention.

// CHECK-DAG: #i4_g128 = #qnt.encoding<format = i4, granularity = per_group, group_size = 128, scale_type = f16>
// CHECK-DAG: #u4_g64_asym = #qnt.encoding<format = u4, granularity = per_group, group_size = 64, symmetric = false, scale_type = f16, zero_type = f16>
// CHECK-DAG: #kv_scheme = #qnt.kv_scheme<key = #i4_channel_asym, value = #i4_token_asym, residual_window = 32>

#w4 = #qnt.encoding<format = i4, granularity = per_group, group_size = 128, scale_type = f16>
#w4asym = #qnt.encoding<format = u4, granularity = per_group, group_size = 64, symmetric = false, scale_type = f16, zero_type = f16>
#kv4 = #qnt.kv_scheme<
  key = <format = i4, granularity = per_channel, axis = 0, symmetric = false, scale_type = f16, zero_type = f16>,
  value = <format = i4, granularity = per_token, symmetric = false, scale_type = f16, zero_type = f16>,
  residual_window = 32>

// CHECK-LABEL: tfm.model @kjv_one_layer_w4
// CHECK:         %[[WQ:.*]] = qnt.quantize %{{.*}} : tensor<256x256xf16> -> !qnt.weight<256x256, f16, #i4_g128>
// CHECK:         %[[Q:.*]] = qnt.qlinear %{{.*}}, %[[WQ]] : tensor<?x256xf32>, !qnt.weight<256x256, f16, #i4_g128> -> tensor<?x256xf32>
// CHECK:         tfm.attention {{.*}}qnt.kv_scheme = #kv_scheme
// CHECK:         qnt.qlinear %{{.*}}, %{{.*}} : tensor<?x704xf32>, !qnt.weight<256x704, f16, #u4_g64_asym> -> tensor<?x256xf32>
// CHECK:         tfm.output %{{.*}} : tensor<?x4096xf32>
tfm.model @kjv_one_layer_w4 attributes {config = #tfm.model_config<
    architecture = "LlamaForCausalLM", vocab_size = 4096, hidden_size = 256,
    num_layers = 1, num_heads = 4, num_kv_heads = 2, head_dim = 64,
    intermediate_size = 704, max_positions = 1024, rms_norm_eps = 1.0e-05,
    rope_theta = 1.0e+04, bos_token_id = 1, eos_token_id = 2>} {
^bb0(%ids: tensor<?xi64>, %pos: tensor<?xi64>):
  %emb = tfm.weight "model.embed_tokens.weight" : tensor<4096x256xf16>
  %x0 = tfm.embedding %emb, %ids : tensor<4096x256xf16>, tensor<?xi64> -> tensor<?x256xf32>

  %w_in = tfm.weight "model.layers.0.input_layernorm.weight" : tensor<256xf16>
  %n = tfm.rms_norm %x0, %w_in {epsilon = 1.0e-05 : f32} : tensor<?x256xf32>, tensor<256xf16>
  %wq = tfm.weight "model.layers.0.self_attn.q_proj.weight" : tensor<256x256xf16>
  %wq4 = qnt.quantize %wq : tensor<256x256xf16> -> !qnt.weight<256x256, f16, #w4>
  %q = qnt.qlinear %n, %wq4 : tensor<?x256xf32>, !qnt.weight<256x256, f16, #w4> -> tensor<?x256xf32>
  %wk = tfm.weight "model.layers.0.self_attn.k_proj.weight" : tensor<128x256xf16>
  %wk4 = qnt.quantize %wk : tensor<128x256xf16> -> !qnt.weight<128x256, f16, #w4>
  %k = qnt.qlinear %n, %wk4 : tensor<?x256xf32>, !qnt.weight<128x256, f16, #w4> -> tensor<?x128xf32>
  %wv = tfm.weight "model.layers.0.self_attn.v_proj.weight" : tensor<128x256xf16>
  %wv4 = qnt.quantize %wv : tensor<128x256xf16> -> !qnt.weight<128x256, f16, #w4>
  %v = qnt.qlinear %n, %wv4 : tensor<?x256xf32>, !qnt.weight<128x256, f16, #w4> -> tensor<?x128xf32>
  %qr = tfm.rope %q, %pos {head_dim = 64, theta = 1.0e+04 : f32} : tensor<?x256xf32>, tensor<?xi64>
  %kr = tfm.rope %k, %pos {head_dim = 64, theta = 1.0e+04 : f32} : tensor<?x128xf32>, tensor<?xi64>
  %a = tfm.attention %qr, %kr, %v {num_heads = 4, num_kv_heads = 2, head_dim = 64, causal, scale = 0.125 : f32, qnt.kv_scheme = #kv4}
      : tensor<?x256xf32>, tensor<?x128xf32>, tensor<?x128xf32>
  %wo = tfm.weight "model.layers.0.self_attn.o_proj.weight" : tensor<256x256xf16>
  %wo4 = qnt.quantize %wo : tensor<256x256xf16> -> !qnt.weight<256x256, f16, #w4>
  %o = qnt.qlinear %a, %wo4 : tensor<?x256xf32>, !qnt.weight<256x256, f16, #w4> -> tensor<?x256xf32>
  %x1 = tfm.add %x0, %o : tensor<?x256xf32>

  %w_post = tfm.weight "model.layers.0.post_attention_layernorm.weight" : tensor<256xf16>
  %n2 = tfm.rms_norm %x1, %w_post {epsilon = 1.0e-05 : f32} : tensor<?x256xf32>, tensor<256xf16>
  %wgate = tfm.weight "model.layers.0.mlp.gate_proj.weight" : tensor<704x256xf16>
  %wgate4 = qnt.quantize %wgate : tensor<704x256xf16> -> !qnt.weight<704x256, f16, #w4>
  %g = qnt.qlinear %n2, %wgate4 : tensor<?x256xf32>, !qnt.weight<704x256, f16, #w4> -> tensor<?x704xf32>
  %wup = tfm.weight "model.layers.0.mlp.up_proj.weight" : tensor<704x256xf16>
  %wup4 = qnt.quantize %wup : tensor<704x256xf16> -> !qnt.weight<704x256, f16, #w4>
  %u = qnt.qlinear %n2, %wup4 : tensor<?x256xf32>, !qnt.weight<704x256, f16, #w4> -> tensor<?x704xf32>
  %s = tfm.swiglu %g, %u : tensor<?x704xf32>
  %wdown = tfm.weight "model.layers.0.mlp.down_proj.weight" : tensor<256x704xf16>
  %wdown4 = qnt.quantize %wdown : tensor<256x704xf16> -> !qnt.weight<256x704, f16, #w4asym>
  %d = qnt.qlinear %s, %wdown4 : tensor<?x704xf32>, !qnt.weight<256x704, f16, #w4asym> -> tensor<?x256xf32>
  %x2 = tfm.add %x1, %d : tensor<?x256xf32>

  %w_norm = tfm.weight "model.norm.weight" : tensor<256xf16>
  %nf = tfm.rms_norm %x2, %w_norm {epsilon = 1.0e-05 : f32} : tensor<?x256xf32>, tensor<256xf16>
  %w_lm = tfm.weight "lm_head.weight" : tensor<4096x256xf16>
  %lg = tfm.lm_head %nf, %w_lm : tensor<?x256xf32>, tensor<4096x256xf16> -> tensor<?x4096xf32>
  tfm.output %lg : tensor<?x4096xf32>
}
