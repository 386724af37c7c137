// RUN: qtc import %qtc_src_root/test/models/kjv-llama-6m > %t.mlir
// RUN: qtc-opt %t.mlir --qtc-weights=%qtc_src_root/test/models/kjv-llama-6m \
// RUN:   --qtc-calibrate="tokens=512 seq-len=64" --qtc-awq="smaller-groups grid=4" \
// RUN:   | FileCheck %s
// RUN: qtc-opt %t.mlir --qtc-weights=%qtc_src_root/test/models/kjv-llama-6m \
// RUN:   --qtc-calibrate="tokens=512 seq-len=64" --qtc-awq="smaller-groups grid=4" \
// RUN:   --qtc-quantize-weights="smaller-groups" --qtc-gptq | FileCheck %s --check-prefix=GPTQ
// RUN: not qtc-opt %t.mlir --qtc-weights=%qtc_src_root/test/models/kjv-llama-6m \
// RUN:   --qtc-awq 2>&1 | FileCheck %s --check-prefix=UNCALIBRATED

// qtc-awq folds a per-channel scale into each RMSNorm and the linears
// reading it, and into up_proj's rows and down_proj's columns; the scaled
// weights are new f32 handles. v -> o is left alone.

// CHECK-LABEL: tfm.model
// CHECK:       tfm.weight "model.layers.0.input_layernorm.weight.awq" : tensor<256xf32>
// CHECK:       tfm.weight "model.layers.0.self_attn.q_proj.weight.awq" : tensor<256x256xf32>
// CHECK:       tfm.weight "model.layers.0.self_attn.v_proj.weight.awq"
// CHECK:       tfm.weight "model.layers.0.self_attn.o_proj.weight" : tensor<256x256xf16>
// CHECK:       tfm.weight "model.layers.0.post_attention_layernorm.weight.awq"
// CHECK:       tfm.weight "model.layers.0.mlp.up_proj.weight.awq.2" : tensor<704x256xf32>
// CHECK:       tfm.weight "model.layers.0.mlp.down_proj.weight.awq" : tensor<256x704xf32>

// Statistics follow the scaled names, so GPTQ can run after AWQ.
// GPTQ: qnt.quantized_weight "model.layers.0.self_attn.q_proj.weight.awq" {{.*}}method = "gptq", output_sqnr_db

// UNCALIBRATED: qtc-awq: no calibration statistics for the input of
