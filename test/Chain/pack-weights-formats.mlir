// RUN: qtc import %qtc_src_root/test/models/kjv-llama-6m > %t.mlir
// RUN: qtc-opt %t.mlir --qtc-weights=%qtc_src_root/test/models/kjv-llama-6m \
// RUN:   --qtc-quantize-weights="format=int8 group-size=0" --qtc-rtn --qtc-plan | FileCheck %s --check-prefix=INT8
// RUN: qtc-opt %t.mlir --qtc-weights=%qtc_src_root/test/models/kjv-llama-6m \
// RUN:   --qtc-quantize-weights="format=fp8" --qtc-rtn --qtc-plan | FileCheck %s --check-prefix=FP8
// RUN: qtc-opt %t.mlir --qtc-weights=%qtc_src_root/test/models/kjv-llama-6m \
// RUN:   --qtc-quantize-weights="format=int3 group-size=64" --qtc-rtn --qtc-plan | FileCheck %s --check-prefix=INT3
// RUN: not qtc-opt %t.mlir --qtc-weights=%qtc_src_root/test/models/kjv-llama-6m \
// RUN:   --qtc-quantize-weights="format=fp8" --qtc-gptq 2>&1 | FileCheck %s --check-prefix=FP8-GPTQ

// qtc-chain-pack-weights lays each format out as its artifact WeightFormat
// reads it: int8 as signed bytes with one f16 scale per row, fp8 as e4m3
// bytes with f32 row scales, int3 in int4 nibbles with f16 group scales.
// The fused q|k|v linear holds 256 + 128 + 128 rows.

// INT8: chain.tensor @"{{.*}}v_proj.weight.qweight" : tensor<512x256xsi8>
// INT8: chain.tensor @"{{.*}}v_proj.weight.scales" : tensor<512x1xf16>
// INT8: chain.linear {{.*}}encoding = #i8_channel
// INT8-NOT: zeros =

// FP8: chain.tensor @"{{.*}}v_proj.weight.qweight" : tensor<512x256xui8>
// FP8: chain.tensor @"{{.*}}v_proj.weight.scales" : tensor<512xf32>
// FP8: chain.linear {{.*}}encoding = #f8e4m3_channel

// INT3: chain.tensor @"{{.*}}v_proj.weight.qweight" : tensor<512x128xui8>
// INT3: chain.tensor @"{{.*}}v_proj.weight.scales" : tensor<512x4xf16>
// INT3: chain.linear {{.*}}encoding = #i3_g64

// FP8-GPTQ: qtc-gptq: '{{.*}}' is fp8; GPTQ computes integer grids (round fp8 weights with qtc-rtn)
