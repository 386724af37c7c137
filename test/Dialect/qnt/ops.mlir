// RUN: qtc-opt %s --verify-roundtrip | FileCheck %s

// Every qnt op, attribute and type in its custom assembly form. Encodings
// and KV schemes print once, as aliases named after the encoding.

// CHECK-DAG: #f4e2m1_g16 = #qnt.encoding<format = f4e2m1, granularity = per_group, group_size = 16, scale_type = f8E4M3FN>
// CHECK-DAG: #f4e2m1_g32 = #qnt.encoding<format = f4e2m1, granularity = per_group, group_size = 32, scale_type = f8E8M0FNU>
// CHECK-DAG: #f8e4m3_channel = #qnt.encoding<format = f8e4m3, granularity = per_channel, scale_type = f32>
// CHECK-DAG: #f8e4m3_tensor = #qnt.encoding<format = f8e4m3, granularity = per_tensor, axis = 0, scale_type = f32>
// CHECK-DAG: #f8e4m3_tensor1 = #qnt.encoding<format = f8e4m3, granularity = per_tensor, scale_type = f32>
// CHECK-DAG: #f8e5m2_tensor = #qnt.encoding<format = f8e5m2, granularity = per_tensor, scale_type = f32>
// CHECK-DAG: #i2_channel_asym = #qnt.encoding<format = i2, granularity = per_channel, axis = 0, symmetric = false, scale_type = f16, zero_type = f16>
// CHECK-DAG: #i2_g4 = #qnt.encoding<format = i2, granularity = per_group, group_size = 4, scale_type = f16>
// CHECK-DAG: #i2_token_asym = #qnt.encoding<format = i2, granularity = per_token, symmetric = false, scale_type = f16, zero_type = f16>
// CHECK-DAG: #i3_tensor = #qnt.encoding<format = i3, granularity = per_tensor, scale_type = f32>
// CHECK-DAG: #i4_g128 = #qnt.encoding<format = i4, granularity = per_group, group_size = 128, scale_type = f16>
// CHECK-DAG: #i5_g2 = #qnt.encoding<format = i5, granularity = per_group, group_size = 2, axis = 0, scale_type = f16>
// CHECK-DAG: #i6_channel = #qnt.encoding<format = i6, granularity = per_channel, axis = 0, scale_type = bf16>
// CHECK-DAG: #i7_tensor = #qnt.encoding<format = i7, granularity = per_tensor, scale_type = f32>
// CHECK-DAG: #i8_channel = #qnt.encoding<format = i8, granularity = per_channel, scale_type = f32>
// CHECK-DAG: #i8_g64 = #qnt.encoding<format = i8, granularity = per_group, group_size = 64, scale_type = f16>
// CHECK-DAG: #i8_token = #qnt.encoding<format = i8, granularity = per_token, scale_type = f32>
// CHECK-DAG: #lut2_channel = #qnt.encoding<format = lut2, granularity = per_channel, scale_type = f16, lut = [-1.000000e+00, -2.500000e-01, 2.500000e-01, 1.000000e+00]>
// CHECK-DAG: #lut3_channel = #qnt.encoding<format = lut3, granularity = per_channel, scale_type = f16, lut = [-1.000000e+00, -5.000000e-01, -2.500000e-01, 0.000000e+00, 2.500000e-01, 5.000000e-01, 7.500000e-01, 1.000000e+00]>
// CHECK-DAG: #nf4_g64 = #qnt.encoding<format = nf4, granularity = per_group, group_size = 64, scale_type = f32>
// CHECK-DAG: #u2_tensor = #qnt.encoding<format = u2, granularity = per_tensor, scale_type = f32>
// CHECK-DAG: #u3_channel_asym = #qnt.encoding<format = u3, granularity = per_channel, symmetric = false, scale_type = f16, zero_type = f16>
// CHECK-DAG: #u4_g128_asym = #qnt.encoding<format = u4, granularity = per_group, group_size = 128, symmetric = false, scale_type = f16, zero_type = f16>
// CHECK-DAG: #u4_g64_asym = #qnt.encoding<format = u4, granularity = per_group, group_size = 64, symmetric = false, scale_type = f16, zero_type = f16>
// CHECK-DAG: #u5_tensor = #qnt.encoding<format = u5, granularity = per_tensor, scale_type = f32>
// CHECK-DAG: #u6_tensor = #qnt.encoding<format = u6, granularity = per_tensor, scale_type = f32>
// CHECK-DAG: #u7_tensor = #qnt.encoding<format = u7, granularity = per_tensor, scale_type = f32>
// CHECK-DAG: #u8_tensor_asym = #qnt.encoding<format = u8, granularity = per_tensor, symmetric = false, scale_type = f32, zero_type = i8>
// Nested encodings use their aliases too; block_size 16 is the default.
// CHECK-DAG: #kv_scheme = #qnt.kv_scheme<key = #i2_channel_asym, value = #i2_token_asym, block_size = 32, residual_window = 64, sink_tokens = 4>
// CHECK-DAG: #kv_scheme1 = #qnt.kv_scheme<key = #f8e4m3_tensor1, value = #i8_g64>
// CHECK-DAG: #kv_scheme2 = #qnt.kv_scheme<key = #f8e4m3_tensor1, value = #f8e4m3_tensor1, key_scales = [5.000000e-01, 2.500000e-01], value_scales = [1.250000e-01]>

#i4g128 = #qnt.encoding<format = i4, granularity = per_group, group_size = 128, scale_type = f16>
#u4g64 = #qnt.encoding<format = u4, granularity = per_group, group_size = 64, symmetric = false, scale_type = f16, zero_type = f16>
#i8row = #qnt.encoding<format = i8, granularity = per_channel, scale_type = f32>
#kivi = #qnt.kv_scheme<
  key = <format = i2, granularity = per_channel, axis = 0, symmetric = false, scale_type = f16, zero_type = f16>,
  value = <format = i2, granularity = per_token, symmetric = false, scale_type = f16, zero_type = f16>,
  block_size = 32, residual_window = 64, sink_tokens = 4>

// CHECK-LABEL: func.func @encodings(
// Integer formats, signed and unsigned, with every weight granularity.
// CHECK-SAME: !qnt.weight<768x256, f16, #i4_g128>, %{{.*}}: !qnt.weight<768x256, bf16, #u4_g64_asym>, %{{.*}}: !qnt.weight<768x256, f32, #i8_channel>,
// CHECK-SAME: !qnt.weight<8x4, f16, #u8_tensor_asym>, %{{.*}}: !qnt.weight<8x4, f16, #i2_g4>, %{{.*}}: !qnt.weight<8x4, f16, #u3_channel_asym>,
// Groups along the output dimension.
// CHECK-SAME: !qnt.weight<8x4, f16, #i5_g2>, %{{.*}}: !qnt.weight<8x4, f16, #i6_channel>,
// CHECK-SAME: !qnt.weight<8x4, f16, #i7_tensor>, %{{.*}}: !qnt.weight<8x4, f16, #u2_tensor>, %{{.*}}: !qnt.weight<8x4, f16, #u5_tensor>, %{{.*}}: !qnt.weight<8x4, f16, #u6_tensor>, %{{.*}}: !qnt.weight<8x4, f16, #u7_tensor>,
// `symmetric = true` is the default and not printed.
// CHECK-SAME: !qnt.weight<8x4, f16, #i3_tensor>,
// Minifloats; MX/NVFP4-style groups with 8-bit float scales.
// CHECK-SAME: !qnt.weight<8x64, f16, #f8e4m3_channel>, %{{.*}}: !qnt.weight<8x64, f16, #f8e5m2_tensor>, %{{.*}}: !qnt.weight<8x64, f16, #f4e2m1_g32>, %{{.*}}: !qnt.weight<8x64, f16, #f4e2m1_g16>,
// Lookup tables: nf4's is fixed, lutN carries 2^N values.
// CHECK-SAME: !qnt.weight<8x64, f16, #nf4_g64>, %{{.*}}: !qnt.weight<8x64, f16, #lut2_channel>, %{{.*}}: !qnt.weight<8x64, f16, #lut3_channel>)
func.func @encodings(
    %a: !qnt.weight<768x256, f16, #i4g128>,
    %b: !qnt.weight<768x256, bf16, #u4g64>,
    %c: !qnt.weight<768x256, f32, #i8row>,
    %d: !qnt.weight<8x4, f16, #qnt.encoding<format = u8, granularity = per_tensor, symmetric = false, scale_type = f32, zero_type = i8>>,
    %e: !qnt.weight<8x4, f16, #qnt.encoding<format = i2, granularity = per_group, group_size = 4, scale_type = f16>>,
    %f: !qnt.weight<8x4, f16, #qnt.encoding<format = u3, granularity = per_channel, symmetric = false, scale_type = f16, zero_type = f16>>,
    %g: !qnt.weight<8x4, f16, #qnt.encoding<format = i5, granularity = per_group, group_size = 2, axis = 0, scale_type = f16>>,
    %h: !qnt.weight<8x4, f16, #qnt.encoding<format = i6, granularity = per_channel, axis = 0, scale_type = bf16>>,
    %i: !qnt.weight<8x4, f16, #qnt.encoding<format = i7, granularity = per_tensor, scale_type = f32>>,
    %j: !qnt.weight<8x4, f16, #qnt.encoding<format = u2, granularity = per_tensor, scale_type = f32>>,
    %k: !qnt.weight<8x4, f16, #qnt.encoding<format = u5, granularity = per_tensor, scale_type = f32>>,
    %l: !qnt.weight<8x4, f16, #qnt.encoding<format = u6, granularity = per_tensor, scale_type = f32>>,
    %m: !qnt.weight<8x4, f16, #qnt.encoding<format = u7, granularity = per_tensor, scale_type = f32>>,
    %n: !qnt.weight<8x4, f16, #qnt.encoding<format = i3, granularity = per_tensor, symmetric = true, scale_type = f32>>,
    %o: !qnt.weight<8x64, f16, #qnt.encoding<format = f8e4m3, granularity = per_channel, scale_type = f32>>,
    %p: !qnt.weight<8x64, f16, #qnt.encoding<format = f8e5m2, granularity = per_tensor, scale_type = f32>>,
    %q: !qnt.weight<8x64, f16, #qnt.encoding<format = f4e2m1, granularity = per_group, group_size = 32, scale_type = f8E8M0FNU>>,
    %r: !qnt.weight<8x64, f16, #qnt.encoding<format = f4e2m1, granularity = per_group, group_size = 16, scale_type = f8E4M3FN>>,
    %s: !qnt.weight<8x64, f16, #qnt.encoding<format = nf4, granularity = per_group, group_size = 64, scale_type = f32>>,
    %t: !qnt.weight<8x64, f16, #qnt.encoding<format = lut2, granularity = per_channel, scale_type = f16, lut = [-1.0, -0.25, 0.25, 1.0]>>,
    %u: !qnt.weight<8x64, f16, #qnt.encoding<format = lut3, granularity = per_channel, scale_type = f16, lut = [-1.0, -0.5, -0.25, 0.0, 0.25, 0.5, 0.75, 1.0]>>) {
  return
}

// CHECK-LABEL: func.func @weights(
func.func @weights(%w: tensor<768x256xf16>) -> !qnt.weight<768x256, f16, #i4g128> {
  // CHECK: qnt.quantize %{{.*}} : tensor<768x256xf16> -> !qnt.weight<768x256, f16, #i4_g128>
  %q = qnt.quantize %w : tensor<768x256xf16> -> !qnt.weight<768x256, f16, #i4g128>
  return %q : !qnt.weight<768x256, f16, #i4g128>
}

// CHECK-LABEL: func.func @qlinear(
func.func @qlinear(%x: tensor<?x256xf32>, %w: !qnt.weight<768x256, f16, #i4g128>,
                   %b: tensor<768xf16>, %t: !qnt.weight<768x256, f16, #qnt.encoding<format = f8e4m3, granularity = per_tensor, axis = 0, scale_type = f32>>) {
  // CHECK: qnt.qlinear %{{.*}}, %{{.*}} : tensor<?x256xf32>, !qnt.weight<768x256, f16, #i4_g128> -> tensor<?x768xf32>
  %0 = qnt.qlinear %x, %w : tensor<?x256xf32>, !qnt.weight<768x256, f16, #i4g128> -> tensor<?x768xf32>
  // CHECK: qnt.qlinear %{{.*}}, %{{.*}}, %{{.*}} : tensor<?x256xf32>, !qnt.weight<768x256, f16, #i4_g128>, tensor<768xf16> -> tensor<?x768xf32>
  %1 = qnt.qlinear %x, %w, %b : tensor<?x256xf32>, !qnt.weight<768x256, f16, #i4g128>, tensor<768xf16> -> tensor<?x768xf32>
  // A per-tensor scale spans no particular axis.
  // CHECK: qnt.qlinear %{{.*}}, %{{.*}} : tensor<?x256xf32>, !qnt.weight<768x256, f16, #f8e4m3_tensor> -> tensor<?x768xf32>
  %2 = qnt.qlinear %x, %t : tensor<?x256xf32>, !qnt.weight<768x256, f16, #qnt.encoding<format = f8e4m3, granularity = per_tensor, axis = 0, scale_type = f32>> -> tensor<?x768xf32>
  return
}

// Activation encodings (per token, per tensor, grouped asymmetric).
// CHECK-LABEL: func.func @activation_encodings()
// CHECK-SAME:    encodings = [#i8_token, #f8e4m3_tensor1, #u4_g128_asym]
func.func @activation_encodings() attributes {encodings = [
    #qnt.encoding<format = i8, granularity = per_token, scale_type = f32>,
    #qnt.encoding<format = f8e4m3, granularity = per_tensor, scale_type = f32>,
    #qnt.encoding<format = u4, granularity = per_group, group_size = 128, symmetric = false, scale_type = f16, zero_type = f16>]} {
  return
}

// KV cache schemes: KIVI-style 2-bit, and (default block of 16 tokens) fp8
// keys with grouped int8 values.
// CHECK-LABEL: func.func @kv_schemes()
// CHECK-SAME:    schemes = [#kv_scheme, #kv_scheme1, #kv_scheme2]
func.func @kv_schemes() attributes {schemes = [#kivi,
    #qnt.kv_scheme<key = #qnt.encoding<format = f8e4m3, granularity = per_tensor, scale_type = f32>, value = #qnt.encoding<format = i8, granularity = per_group, group_size = 64, scale_type = f16>>,
    #qnt.kv_scheme<key = #qnt.encoding<format = f8e4m3, granularity = per_tensor, scale_type = f32>, value = #qnt.encoding<format = f8e4m3, granularity = per_tensor, scale_type = f32>, key_scales = [0.5, 0.25], value_scales = [0.125]>]} {
  return
}
