// RUN: qtc-opt %s --qtc-quantize-kv-cache | FileCheck %s
// RUN: not qtc-opt %s --qtc-quantize-kv-cache="format=i8" 2>&1 | FileCheck %s --check-prefix=BAD

// Every tfm.attention gets the KV scheme the runtime stores: f8e4m3 keys and
// values, one per-tensor scale, blocks of 16 tokens.

// CHECK: #[[$ENC:.*]] = #qnt.encoding<format = f8e4m3, granularity = per_tensor, scale_type = f32>
// CHECK: #[[$KV:.*]] = #qnt.kv_scheme<key = #[[$ENC]], value = #[[$ENC]]>
// CHECK: tfm.attention {{.*}}qnt.kv_scheme = #[[$KV]]
// CHECK: tfm.attention {{.*}}qnt.kv_scheme = #[[$KV]]
// BAD: error: qtc-quantize-kv-cache: unsupported format 'i8' (supported: f8e4m3)
func.func @two_layers(%q: tensor<?x256xf32>, %k: tensor<?x128xf32>, %v: tensor<?x128xf32>)
    -> (tensor<?x256xf32>, tensor<?x256xf32>) {
  %a = tfm.attention %q, %k, %v {num_heads = 4, num_kv_heads = 2, head_dim = 64, causal,
                                 scale = 0.125 : f32}
      : tensor<?x256xf32>, tensor<?x128xf32>, tensor<?x128xf32>
  %b = tfm.attention %q, %k, %v {num_heads = 4, num_kv_heads = 2, head_dim = 64, causal,
                                 scale = 0.125 : f32}
      : tensor<?x256xf32>, tensor<?x128xf32>, tensor<?x128xf32>
  return %a, %b : tensor<?x256xf32>, tensor<?x256xf32>
}
