// RUN: qtc-opt %s --qtc-quantize-weights | FileCheck %s
// RUN: qtc-opt %s --qtc-quantize-weights="symmetric=false group-size=64 include-lm-head" | FileCheck %s --check-prefix=ASYM

// Every linear with a tfm.weight becomes quantize + qlinear; the lm_head stays
// dense unless include-lm-head; the bias carries over.

// CHECK:       #[[$ENC:.*]] = #qnt.encoding<format = i4, granularity = per_group, group_size = 128, scale_type = f16>
// CHECK-LABEL: tfm.model @two_linears
// CHECK:         %[[W:.*]] = tfm.weight "w1" : tensor<256x128xf16>
// CHECK:         %[[Q:.*]] = qnt.quantize %[[W]] : tensor<256x128xf16> -> !qnt.weight<256x128, f16, #[[$ENC]]>
// CHECK:         %[[Y:.*]] = qnt.qlinear %{{.*}}, %[[Q]] : tensor<?x128xf32>, !qnt.weight<256x128, f16, #[[$ENC]]> -> tensor<?x256xf32>
// CHECK:         %[[B:.*]] = tfm.weight "b2" : tensor<128xf16>
// CHECK:         qnt.qlinear %[[Y]], %{{.*}}, %[[B]] : tensor<?x256xf32>, !qnt.weight<128x256, f16, #{{.*}}>, tensor<128xf16> -> tensor<?x128xf32>
// CHECK-NOT:     tfm.linear
// CHECK:         tfm.lm_head
// ASYM:        #[[$E:.*]] = #qnt.encoding<format = u4, granularity = per_group, group_size = 64, symmetric = false, scale_type = f16, zero_type = f16>
// ASYM-LABEL: tfm.model @two_linears
// ASYM-COUNT-3:  qnt.quantize {{.*}}#[[$E]]>
// ASYM-NOT:      tfm.lm_head
tfm.model @two_linears attributes {config = #tfm.model_config<
    architecture = "LlamaForCausalLM", vocab_size = 16, hidden_size = 128,
    num_layers = 1, num_heads = 2, num_kv_heads = 2, head_dim = 64,
    intermediate_size = 256, max_positions = 64, rms_norm_eps = 1.0e-05,
    rope_theta = 1.0e+04>} {
^bb0(%ids: tensor<?xi64>, %pos: tensor<?xi64>):
  %emb = tfm.weight "emb" : tensor<16x128xf16>
  %x = tfm.embedding %emb, %ids : tensor<16x128xf16>, tensor<?xi64> -> tensor<?x128xf32>
  %w1 = tfm.weight "w1" : tensor<256x128xf16>
  %y = tfm.linear %x, %w1 : tensor<?x128xf32>, tensor<256x128xf16> -> tensor<?x256xf32>
  %w2 = tfm.weight "w2" : tensor<128x256xf16>
  %b2 = tfm.weight "b2" : tensor<128xf16>
  %z = tfm.linear %y, %w2, %b2 : tensor<?x256xf32>, tensor<128x256xf16>, tensor<128xf16> -> tensor<?x128xf32>
  %wl = tfm.weight "lm" : tensor<16x128xf16>
  %l = tfm.lm_head %z, %wl : tensor<?x128xf32>, tensor<16x128xf16> -> tensor<?x16xf32>
  tfm.output %l : tensor<?x16xf32>
}
