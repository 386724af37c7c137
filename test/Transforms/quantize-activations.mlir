// RUN: qtc-opt %s --qtc-quantize-weights="format=int8 group-size=0" --qtc-quantize-activations | FileCheck %s
// RUN: qtc-opt %s --qtc-quantize-weights="format=fp8" --qtc-quantize-activations=format=fp8 | FileCheck %s --check-prefix=FP8
// RUN: not qtc-opt %s --qtc-quantize-weights="format=int8 group-size=64" --qtc-quantize-activations 2>&1 | FileCheck %s --check-prefix=GROUPED
// RUN: not qtc-opt %s --qtc-quantize-weights="format=int8 group-size=0" --qtc-quantize-activations=format=fp8 2>&1 | FileCheck %s --check-prefix=MISMATCH
// RUN: not qtc-opt %s --qtc-quantize-activations=format=int4 2>&1 | FileCheck %s --check-prefix=BADFMT

// Every qnt.qlinear gets a per-token input encoding in its weights' number
// system; weights whose scales do not span a whole row are refused.

// CHECK:         #[[$T:.*]] = #qnt.encoding<format = i8, granularity = per_token, scale_type = f32>
// CHECK-COUNT-2: qnt.qlinear {{.*}} {input_encoding = #[[$T]]}
// CHECK:         tfm.lm_head
// FP8:           #[[$F:.*]] = #qnt.encoding<format = f8e4m3, granularity = per_token, scale_type = f32>
// FP8-COUNT-2:   input_encoding = #[[$F]]
// GROUPED:       int8 activations need int8 weights with one scale per output row (per_channel); the weight of this linear is #qnt.encoding<format = i8, granularity = per_group, group_size = 64
// MISMATCH:      fp8 activations need fp8 weights
// BADFMT:        unsupported format 'int4' (supported: int8, fp8)
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
  %z = tfm.linear %y, %w2 : tensor<?x256xf32>, tensor<128x256xf16> -> tensor<?x128xf32>
  %wl = tfm.weight "lm" : tensor<16x128xf16>
  %l = tfm.lm_head %z, %wl : tensor<?x128xf32>, tensor<16x128xf16> -> tensor<?x16xf32>
  tfm.output %l : tensor<?x16xf32>
}
