// RUN: qtc-opt %s --qtc-quantize-kv-cache | FileCheck %s
// RUN: qtc-opt %s --qtc-quantize-kv-cache="format=i8 key-symmetric value-symmetric" | FileCheck %s --check-prefix=INT8
// RUN: qtc-opt %s --qtc-quantize-kv-cache="format=i4 key-granularity=per_channel block-size=32 residual-window=32" | FileCheck %s --check-prefix=KIVI
// RUN: qtc-opt %s --qtc-quantize-kv-cache="format=i2 key-granularity=per_channel sink-tokens=4" | FileCheck %s --check-prefix=SINKS

// Every tfm.attention gets the KV scheme the runtime stores. fp8 by default:
// f8e4m3 keys and values, one per-tensor scale (1), blocks of 16 tokens.
// CHECK: #[[$ENC:.*]] = #qnt.encoding<format = f8e4m3, granularity = per_tensor, scale_type = f32>
// CHECK: #[[$KV:.*]] = #qnt.kv_scheme<key = #[[$ENC]], value = #[[$ENC]]>
// CHECK: tfm.attention {{.*}}qnt.kv_scheme = #[[$KV]]
// CHECK: tfm.attention {{.*}}qnt.kv_scheme = #[[$KV]]

// int8 per token, symmetric: signed codes, f16 scales, no zero points.
// INT8: #[[$ENC:.*]] = #qnt.encoding<format = i8, granularity = per_token, scale_type = f16>
// INT8: #qnt.kv_scheme<key = #[[$ENC]], value = #[[$ENC]]>

// KIVI's scheme: keys per channel within a block (axis 0), values per token, both
// asymmetric (unsigned codes, f16 zeros); the filling block of 32 read in f16.
// KIVI-DAG: #[[$K:[a-z0-9_]+]] = #qnt.encoding<format = u4, granularity = per_channel, axis = 0, symmetric = false, scale_type = f16, zero_type = f16>
// KIVI-DAG: #[[$V:[a-z0-9_]+]] = #qnt.encoding<format = u4, granularity = per_token, symmetric = false, scale_type = f16, zero_type = f16>
// KIVI: #qnt.kv_scheme<key = #[[$K]], value = #[[$V]], block_size = 32, residual_window = 32>

// SINKS: format = u2, granularity = per_channel, axis = 0
// SINKS: #qnt.kv_scheme<key = #{{.*}}, value = #{{.*}}, sink_tokens = 4>

// Contradictory options are refused naming the option.
// RUN: not qtc-opt %s --qtc-quantize-kv-cache="format=i3" 2>&1 | FileCheck %s --check-prefix=BADFMT
// BADFMT: error: qtc-quantize-kv-cache: unsupported format 'i3' (supported: f8e4m3, i8, i4, i2)
// RUN: not qtc-opt %s --qtc-quantize-kv-cache="format=i4 residual-window=8" 2>&1 | FileCheck %s --check-prefix=WINDOW
// WINDOW: error: qtc-quantize-kv-cache: residual-window must be 0 or block-size (16): the window is the block being filled (got 8)
// RUN: not qtc-opt %s --qtc-quantize-kv-cache="format=i4 sink-tokens=17" 2>&1 | FileCheck %s --check-prefix=SINKMAX
// SINKMAX: error: qtc-quantize-kv-cache: sink-tokens must be in [0, block-size] (got 17)
// RUN: not qtc-opt %s --qtc-quantize-kv-cache="key-granularity=per_channel" 2>&1 | FileCheck %s --check-prefix=FP8CHAN
// FP8CHAN: error: qtc-quantize-kv-cache: key-granularity=per_channel applies to integer formats (i8, i4, i2), not f8e4m3
// RUN: not qtc-opt %s --qtc-quantize-kv-cache="residual-window=16" 2>&1 | FileCheck %s --check-prefix=FP8WIN
// FP8WIN: error: qtc-quantize-kv-cache: residual-window applies to integer formats (i8, i4, i2), not f8e4m3
// RUN: not qtc-opt %s --qtc-quantize-kv-cache="block-size=32" 2>&1 | FileCheck %s --check-prefix=FP8BLOCK
// FP8BLOCK: error: qtc-quantize-kv-cache: block-size 32: f8e4m3 caches use blocks of 16 (the GPU kernels' block)
// RUN: not qtc-opt %s --qtc-quantize-kv-cache="key-symmetric" 2>&1 | FileCheck %s --check-prefix=FP8SYM
// FP8SYM: error: qtc-quantize-kv-cache: key-symmetric/value-symmetric applies to integer formats
// RUN: not qtc-opt %s --qtc-quantize-kv-cache="format=i8 fp8-scales=layer" 2>&1 | FileCheck %s --check-prefix=INTSCALES
// INTSCALES: error: qtc-quantize-kv-cache: fp8-scales applies to f8e4m3, not i8
// RUN: not qtc-opt %s --qtc-quantize-kv-cache="fp8-scales=tensor" 2>&1 | FileCheck %s --check-prefix=SCALENAME
// SCALENAME: error: qtc-quantize-kv-cache: fp8-scales must be one, layer or head (got 'tensor')
// RUN: not qtc-opt %s --qtc-quantize-kv-cache="format=i4 key-granularity=per_group" 2>&1 | FileCheck %s --check-prefix=GRAN
// GRAN: error: qtc-quantize-kv-cache: key-granularity must be per_token or per_channel (got 'per_group')
// Calibrated fp8 scales need qtc-calibrate's statistics (see
// quantize-kv-cache-calibrated.mlir); the attention without them is named.
// RUN: not qtc-opt %s --qtc-quantize-kv-cache="fp8-scales=head" 2>&1 | FileCheck %s --check-prefix=NOSTATS
// NOSTATS: error: qtc-quantize-kv-cache: fp8-scales=head needs qtc-calibrate's key/value statistics of layer 0 (run qtc-calibrate first)
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
