// RUN: qtc-opt %s --qtc-quantize-weights="format=int8 group-size=0" | FileCheck %s --check-prefix=INT8
// RUN: qtc-opt %s --qtc-quantize-weights="format=int8 group-size=64" | FileCheck %s --check-prefix=INT8G
// RUN: qtc-opt %s --qtc-quantize-weights="format=int3 symmetric=false group-size=64" | FileCheck %s --check-prefix=INT3
// RUN: qtc-opt %s --qtc-quantize-weights="format=fp8" | FileCheck %s --check-prefix=FP8
// RUN: not qtc-opt %s --qtc-quantize-weights="format=int5" 2>&1 | FileCheck %s --check-prefix=BADFMT
// RUN: not qtc-opt %s --qtc-quantize-weights="format=int8 symmetric=false" 2>&1 | FileCheck %s --check-prefix=ASYM8
// RUN: not qtc-opt %s --qtc-quantize-weights="format=int4 group-size=7" 2>&1 | FileCheck %s --check-prefix=ODD

// The encodings each format chooses: int8 per output row (per_channel) or
// in groups, int3 with zero points, fp8 e4m3 per row with f32 scales.

// INT8:  #qnt.encoding<format = i8, granularity = per_channel, scale_type = f16>
// INT8G: #qnt.encoding<format = i8, granularity = per_group, group_size = 64, scale_type = f16>
// INT3:  #qnt.encoding<format = u3, granularity = per_group, group_size = 64, symmetric = false, scale_type = f16, zero_type = f16>
// FP8:   #qnt.encoding<format = f8e4m3, granularity = per_channel, scale_type = f32>
// INT8-COUNT-2: qnt.quantize
// FP8-COUNT-2:  qnt.qlinear

// BADFMT: unsupported format 'int5' (supported: int3, int4, int8, fp8)
// ASYM8:  int8 weights are symmetric only
// ODD:    group-size must be 0 (one scale per row) or positive and even for int4, got 7
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
