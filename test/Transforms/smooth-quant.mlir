// RUN: qtc import %qtc_src_root/test/models/kjv-llama-6m > %t.mlir
// RUN: qtc-opt %t.mlir --qtc-weights=%qtc_src_root/test/models/kjv-llama-6m \
// RUN:   --qtc-calibrate="tokens=512 seq-len=64" --qtc-smooth-quant \
// RUN:   --qtc-quantize-weights="format=int8 group-size=0" --qtc-gptq \
// RUN:   --qtc-quantize-activations | FileCheck %s
// RUN: not qtc-opt %t.mlir --qtc-weights=%qtc_src_root/test/models/kjv-llama-6m \
// RUN:   --qtc-smooth-quant 2>&1 | FileCheck %s --check-prefix=UNCALIBRATED
// RUN: not qtc-opt %t.mlir --qtc-weights=%qtc_src_root/test/models/kjv-llama-6m \
// RUN:   --qtc-smooth-quant=alpha=1.5 2>&1 | FileCheck %s --check-prefix=ALPHA

// qtc-smooth-quant divides each RMSNorm's channels (and up_proj's rows) by
// s and multiplies the readers' columns by it; o_proj keeps its weight. GPTQ
// then quantizes the smoothed weights with the smoothed inputs' statistics.

// CHECK:       #[[$T:.*]] = #qnt.encoding<format = i8, granularity = per_token
// CHECK-LABEL: tfm.model
// CHECK:       tfm.weight "model.layers.0.input_layernorm.weight.smooth" : tensor<256xf32>
// CHECK:       qnt.quantized_weight "model.layers.0.self_attn.q_proj.weight.smooth" {{.*}}method = "gptq", output_sqnr_db
// CHECK:       qnt.quantized_weight "model.layers.0.self_attn.o_proj.weight" {{.*}}method = "gptq"
// CHECK:       tfm.weight "model.layers.0.post_attention_layernorm.weight.smooth"
// CHECK:       qnt.quantized_weight "model.layers.0.mlp.down_proj.weight.smooth"
// CHECK:       qnt.qlinear {{.*}}input_encoding = #[[$T]]

// UNCALIBRATED: qtc-smooth-quant: no calibration statistics for the input of
// ALPHA:        qtc-smooth-quant: alpha must be in [0, 1], got 1.5
