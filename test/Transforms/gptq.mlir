// RUN: qtc import %qtc_src_root/test/models/kjv-llama-6m > %t.mlir
// RUN: qtc-opt %t.mlir --qtc-weights=%qtc_src_root/test/models/kjv-llama-6m \
// RUN:   --qtc-calibrate="tokens=512 seq-len=64" --qtc-quantize-weights="smaller-groups" \
// RUN:   --qtc-gptq | FileCheck %s
// RUN: qtc-opt %t.mlir --qtc-weights=%qtc_src_root/test/models/kjv-llama-6m \
// RUN:   --qtc-calibrate="tokens=512 seq-len=64" \
// RUN:   --qtc-quantize-weights="smaller-groups symmetric=false" \
// RUN:   --qtc-gptq="act-order=false block-size=64 dampening=0.05" \
// RUN:   | FileCheck %s --check-prefix=ASYM
// RUN: not qtc-opt %t.mlir --qtc-weights=%qtc_src_root/test/models/kjv-llama-6m \
// RUN:   --qtc-quantize-weights="smaller-groups" --qtc-gptq 2>&1 \
// RUN:   | FileCheck %s --check-prefix=UNCALIBRATED

// qtc-gptq computes every qnt.quantize from the calibration statistics that
// qtc-calibrate gathered on the host backend (data-free here: the model
// samples its own text), and records the output SQNR over them.

// CHECK-LABEL: tfm.model
// CHECK:       qnt.quantized_weight "model.layers.0.self_attn.q_proj.weight" {{{.*}}method = "gptq", output_sqnr_db = {{[0-9.e+-]+}} : f32, sqnr_db = {{.*}}}
// CHECK-COUNT-6: qnt.quantized_weight {{.*}}method = "gptq"
// CHECK-NOT:   = qnt.quantize %
// CHECK:       tfm.output

// ASYM:        #[[$U4:.*]] = #qnt.encoding<format = u4
// ASYM:        qnt.quantized_weight "model.layers.0.self_attn.q_proj.weight" {{.*}}method = "gptq"{{.*}} : !qnt.weight<256x256, f16, #[[$U4]]>

// UNCALIBRATED: no calibration statistics for the input of 'model.layers.0.self_attn.q_proj.weight'; run qtc-calibrate first
