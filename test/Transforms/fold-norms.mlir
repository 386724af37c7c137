// RUN: qtc import %qtc_src_root/test/models/kjv-llama-6m > %t.mlir
// RUN: qtc-opt %t.mlir --qtc-weights=%qtc_src_root/test/models/kjv-llama-6m \
// RUN:   --qtc-fold-norms | FileCheck %s
// RUN: not qtc-opt %t.mlir --qtc-weights=%qtc_src_root/test/models/kjv-llama-6m \
// RUN:   --qtc-calibrate="tokens=64 seq-len=32" --qtc-fold-norms 2>&1 \
// RUN:   | FileCheck %s --check-prefix=CALIBRATED
// RUN: not qtc-opt %t.mlir --qtc-fold-norms 2>&1 | FileCheck %s --check-prefix=NOWEIGHTS

// qtc-fold-norms multiplies the columns of every linear reading an RMSNorm
// (q, k, v; gate, up; the final norm's lm_head) by the norm's scale and
// leaves the norm with ones (f32, `.fold`). o_proj and down_proj read no
// norm and keep their weights.

// CHECK-LABEL: tfm.model
// CHECK:       %[[G:.*]] = tfm.weight "model.layers.0.input_layernorm.weight.fold" : tensor<256xf32>
// CHECK:       %[[N:.*]] = tfm.rms_norm %{{.*}}, %[[G]] {{.*}}tensor<256xf32>
// CHECK:       %[[Q:.*]] = tfm.weight "model.layers.0.self_attn.q_proj.weight.fold" : tensor<256x256xf32>
// CHECK:       tfm.linear %[[N]], %[[Q]]
// CHECK:       tfm.weight "model.layers.0.self_attn.k_proj.weight.fold"
// CHECK:       tfm.weight "model.layers.0.self_attn.v_proj.weight.fold"
// CHECK:       tfm.weight "model.layers.0.self_attn.o_proj.weight" : tensor<256x256xf16>
// CHECK:       tfm.weight "model.layers.0.post_attention_layernorm.weight.fold"
// CHECK:       tfm.weight "model.layers.0.mlp.gate_proj.weight.fold"
// CHECK:       tfm.weight "model.layers.0.mlp.up_proj.weight.fold"
// CHECK:       tfm.weight "model.layers.0.mlp.down_proj.weight" : tensor<256x704xf16>
// CHECK:       tfm.weight "model.norm.weight.fold" : tensor<256xf32>
// CHECK:       %[[LM:.*]] = tfm.weight "lm_head.weight.fold" : tensor<4096x256xf32>
// CHECK:       tfm.lm_head %{{.*}}, %[[LM]]

// CALIBRATED: error: qtc-fold-norms: the model is already calibrated; folding changes the inputs the statistics describe: run it before qtc-calibrate
// NOWEIGHTS:  error: qtc-fold-norms needs the model's weights
