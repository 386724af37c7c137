// RUN: qtc import %qtc_src_root/test/models/kjv-llama-6m > %t.mlir
// Calibrated fp8 scales: qtc-calibrate records the largest |key| and |value|
// each layer cached, per kv head; the scale is that over 448.
// RUN: qtc-opt %t.mlir --qtc-weights=%qtc_src_root/test/models/kjv-llama-6m \
// RUN:   --qtc-calibrate="tokens=256 seq-len=64" --qtc-quantize-kv-cache="fp8-scales=head" | FileCheck %s --check-prefix=HEAD
// RUN: qtc-opt %t.mlir --qtc-weights=%qtc_src_root/test/models/kjv-llama-6m \
// RUN:   --qtc-calibrate="tokens=256 seq-len=64" --qtc-quantize-kv-cache="fp8-scales=layer" | FileCheck %s --check-prefix=LAYER

// Two kv heads: two scales per layer; one per layer with fp8-scales=layer.
// HEAD: #kv_scheme = #qnt.kv_scheme<key = #[[$E:[a-z0-9_]+]], value = #[[$E]], key_scales = [{{[0-9.e+-]+}}, {{[0-9.e+-]+}}], value_scales = [{{[0-9.e+-]+}}, {{[0-9.e+-]+}}]>
// HEAD-COUNT-5: #kv_scheme{{[1-5]}} = #qnt.kv_scheme<{{.*}}key_scales = [{{[0-9.e+-]+}}, {{[0-9.e+-]+}}]
// HEAD: tfm.attention {{.*}}qnt.kv_scheme = #kv_scheme
// LAYER: #kv_scheme = #qnt.kv_scheme<key = {{.*}}, key_scales = [{{[0-9.e+-]+}}], value_scales = [{{[0-9.e+-]+}}]>
