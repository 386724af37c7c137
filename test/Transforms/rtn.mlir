// RUN: qtc import %qtc_src_root/test/models/kjv-llama-6m > %t.mlir
// RUN: qtc-opt %t.mlir --qtc-weights=%qtc_src_root/test/models/kjv-llama-6m \
// RUN:   --qtc-quantize-weights="smaller-groups" --qtc-rtn | FileCheck %s
// RUN: not qtc-opt %t.mlir --qtc-quantize-weights=smaller-groups --qtc-rtn 2>&1 \
// RUN:   | FileCheck %s --check-prefix=NO-WEIGHTS

// qtc-rtn computes every qnt.quantize: the op becomes qnt.quantized_weight
// with its weight SQNR and max error; without calibration statistics there is
// no output SQNR. The 704-wide down_proj gets groups of 64.

// CHECK-DAG:   #[[$G128:.*]] = #qnt.encoding<format = i4, granularity = per_group, group_size = 128, scale_type = f16>
// CHECK-DAG:   #[[$G64:.*]] = #qnt.encoding<format = i4, granularity = per_group, group_size = 64, scale_type = f16>
// CHECK-LABEL: tfm.model
// CHECK:       qnt.quantized_weight "model.layers.0.self_attn.q_proj.weight" {max_abs_error = {{[0-9.e+-]+}} : f32, method = "rtn", sqnr_db = {{(1|2)[0-9]\.[0-9]+}} : f32} : !qnt.weight<256x256, f16, #[[$G128]]>
// CHECK:       qnt.quantized_weight "model.layers.0.mlp.down_proj.weight" {{.*}} : !qnt.weight<256x704, f16, #[[$G64]]>
// CHECK-NOT:   = qnt.quantize %
// CHECK-NOT:   output_sqnr_db
// CHECK:       tfm.output

// NO-WEIGHTS: qtc-rtn needs the model's weights
