// RUN: qtc import %qtc_src_root/test/models/kjv-llama-6m > %t.mlir
// RUN: qtc-opt %t.mlir --qtc-weights=%qtc_src_root/test/models/kjv-llama-6m \
// RUN:   --qtc-fold-norms --qtc-rotate=seed=3 \
// RUN:   --qtc-quantize-weights=smaller-groups --qtc-rtn | FileCheck %s
// RUN: not qtc-opt %t.mlir --qtc-weights=%qtc_src_root/test/models/kjv-llama-6m \
// RUN:   --qtc-rotate 2>&1 | FileCheck %s --check-prefix=UNFOLDED
// RUN: not qtc-opt %t.mlir --qtc-weights=%qtc_src_root/test/models/kjv-llama-6m \
// RUN:   --qtc-fold-norms --qtc-quantize-weights=smaller-groups --qtc-rotate 2>&1 \
// RUN:   | FileCheck %s --check-prefix=QUANTIZED
// RUN: not qtc-opt %t.mlir --qtc-weights=%qtc_src_root/test/models/kjv-llama-6m \
// RUN:   --qtc-fold-norms --qtc-calibrate="tokens=64 seq-len=32" --qtc-rotate 2>&1 \
// RUN:   | FileCheck %s --check-prefix=CALIBRATED
// A q_proj reading the residual stream without its norm: x Q W^T != x W^T.
// RUN: sed 's/= tfm.linear %1, %model.layers.0.self_attn.q_proj/= tfm.linear %0, %model.layers.0.self_attn.q_proj/' %t.mlir > %t.bad.mlir
// RUN: not qtc-opt %t.bad.mlir --qtc-weights=%qtc_src_root/test/models/kjv-llama-6m \
// RUN:   --qtc-fold-norms --qtc-rotate 2>&1 | FileCheck %s --check-prefix=DIRECT

// qtc-rotate rotates the residual stream: the embedding table's rows, the
// readers of every (folded) norm on their input side, o_proj and down_proj
// on their output side, the lm_head; the norms keep their ones. The
// quantizers then see the rotated weights.

// CHECK-LABEL: tfm.model
// CHECK:       %[[E:.*]] = tfm.weight "model.embed_tokens.weight.rot" : tensor<4096x256xf32>
// CHECK:       tfm.embedding %[[E]]
// CHECK:       tfm.weight "model.layers.0.input_layernorm.weight.fold" : tensor<256xf32>
// CHECK:       qnt.quantized_weight "model.layers.0.self_attn.q_proj.weight.fold.rot" {{.*}}method = "rtn"
// CHECK:       qnt.quantized_weight "model.layers.0.self_attn.k_proj.weight.fold.rot"
// CHECK:       qnt.quantized_weight "model.layers.0.self_attn.v_proj.weight.fold.rot"
// CHECK:       qnt.quantized_weight "model.layers.0.self_attn.o_proj.weight.rot"
// CHECK:       qnt.quantized_weight "model.layers.0.mlp.gate_proj.weight.fold.rot"
// CHECK:       qnt.quantized_weight "model.layers.0.mlp.up_proj.weight.fold.rot"
// CHECK:       qnt.quantized_weight "model.layers.0.mlp.down_proj.weight.rot"
// CHECK:       tfm.weight "model.norm.weight.fold"
// CHECK:       %[[LM:.*]] = tfm.weight "lm_head.weight.fold.rot" : tensor<4096x256xf32>
// CHECK:       tfm.lm_head %{{.*}}, %[[LM]]

// UNFOLDED:   error: qtc-rotate: 'model.layers.0.input_layernorm.weight' is not all ones (element 0 is {{.*}}): an RMSNorm commutes with the rotation only without its scale; run qtc-fold-norms first
// QUANTIZED:  error: qtc-rotate: the model is already quantized; run qtc-rotate before qtc-quantize-weights
// CALIBRATED: error: qtc-rotate: the model is already calibrated; the rotation changes every linear's input: run it before qtc-calibrate
// DIRECT:     error: qtc-rotate: reads the residual stream directly; only RMSNorms and residual adds commute with the rotation
