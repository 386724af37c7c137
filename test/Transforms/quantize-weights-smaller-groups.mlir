// RUN: qtc-opt %s --qtc-quantize-weights="smaller-groups" | FileCheck %s

// 704 input features: group 128 does not divide them. With smaller-groups
// the layer gets the largest power-of-two group that does (64).

// CHECK:       #[[$ENC:.*]] = #qnt.encoding<format = i4, granularity = per_group, group_size = 64, scale_type = f16>
// CHECK-LABEL: tfm.model @mlp_704
// CHECK:         qnt.quantize %{{.*}} : tensor<128x704xf16> -> !qnt.weight<128x704, f16, #[[$ENC]]>
tfm.model @mlp_704 attributes {config = #tfm.model_config<
    architecture = "LlamaForCausalLM", vocab_size = 16, hidden_size = 128,
    num_layers = 1, num_heads = 2, num_kv_heads = 2, head_dim = 64,
    intermediate_size = 704, max_positions = 64, rms_norm_eps = 1.0e-05,
    rope_theta = 1.0e+04>} {
^bb0(%ids: tensor<?xi64>, %pos: tensor<?xi64>):
  %emb = tfm.weight "emb" : tensor<16x704xf16>
  %x = tfm.embedding %emb, %ids : tensor<16x704xf16>, tensor<?xi64> -> tensor<?x704xf32>
  %w = tfm.weight "down" : tensor<128x704xf16>
  %y = tfm.linear %x, %w : tensor<?x704xf32>, tensor<128x704xf16> -> tensor<?x128xf32>
  %wl = tfm.weight "lm" : tensor<16x128xf16>
  %l = tfm.lm_head %y, %wl : tensor<?x128xf32>, tensor<16x128xf16> -> tensor<?x16xf32>
  tfm.output %l : tensor<?x16xf32>
}
