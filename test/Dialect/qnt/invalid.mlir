// RUN: qtc-opt %s -split-input-file -verify-diagnostics

// One case per verifier message of the qnt dialect: attributes, the weight
// type, then ops. Attribute cases hang the attribute on a function.

// Only per_group encodings have groups.
// expected-error @+1 {{per_group encoding needs group_size > 0 (got 0)}}
func.func private @encoding() attributes {encoding = #qnt.encoding<format = i4, granularity = per_group, scale_type = f16>}

// -----

// expected-error @+1 {{group_size is only meaningful with per_group granularity (got per_channel)}}
func.func private @encoding() attributes {encoding = #qnt.encoding<format = i4, granularity = per_channel, group_size = 128, scale_type = f16>}

// -----

// expected-error @+1 {{encoding axis must be non-negative (got -1)}}
func.func private @encoding() attributes {encoding = #qnt.encoding<format = i4, granularity = per_channel, axis = -1, scale_type = f16>}

// -----

// expected-error @+1 {{scale_type must be a float type (got 'i8')}}
func.func private @encoding() attributes {encoding = #qnt.encoding<format = i4, granularity = per_channel, scale_type = i8>}

// -----

// Only integer formats can have a zero point.
// expected-error @+1 {{f8e4m3 values have no zero point: the encoding must be symmetric}}
func.func private @encoding() attributes {encoding = #qnt.encoding<format = f8e4m3, granularity = per_tensor, symmetric = false, scale_type = f32, zero_type = f32>}

// -----

// expected-error @+1 {{nf4 values have no zero point: the encoding must be symmetric}}
func.func private @encoding() attributes {encoding = #qnt.encoding<format = nf4, granularity = per_group, group_size = 64, symmetric = false, scale_type = f16, zero_type = f16>}

// -----

// expected-error @+1 {{an asymmetric encoding needs zero_type}}
func.func private @encoding() attributes {encoding = #qnt.encoding<format = u4, granularity = per_channel, symmetric = false, scale_type = f16>}

// -----

// expected-error @+1 {{a symmetric encoding has no zero point: drop zero_type}}
func.func private @encoding() attributes {encoding = #qnt.encoding<format = i4, granularity = per_channel, scale_type = f16, zero_type = f16>}

// -----

// expected-error @+1 {{zero_type must be an integer or float type (got 'index')}}
func.func private @encoding() attributes {encoding = #qnt.encoding<format = u4, granularity = per_channel, symmetric = false, scale_type = f16, zero_type = index>}

// -----

// Lookup tables: lutN needs exactly 2^N values; other formats take none.
// expected-error @+1 {{lut3 encoding needs a lut table of 8 values (got 0)}}
func.func private @encoding() attributes {encoding = #qnt.encoding<format = lut3, granularity = per_channel, scale_type = f16>}

// -----

// expected-error @+1 {{lut2 encoding needs a lut table of 4 values (got 3)}}
func.func private @encoding() attributes {encoding = #qnt.encoding<format = lut2, granularity = per_channel, scale_type = f16, lut = [-1.0, 0.0, 1.0]>}

// -----

// expected-error @+1 {{only lut2..lut8 encodings take a lut table (format is nf4)}}
func.func private @encoding() attributes {encoding = #qnt.encoding<format = nf4, granularity = per_channel, scale_type = f16, lut = [-1.0, 0.0, 0.5, 1.0]>}

// -----

// expected-error @+1 {{lut values must be finite}}
func.func private @encoding() attributes {encoding = #qnt.encoding<format = lut2, granularity = per_channel, scale_type = f16, lut = [-1.0, 0.0, 1.0e+39, 1.0]>}

// -----

// Quantized weights are [out, in] matrices of floats.
// expected-error @+1 {{quantized weights are [out, in] matrices (got rank 3)}}
func.func private @weight(%w: !qnt.weight<2x768x256, f16, #qnt.encoding<format = i4, granularity = per_group, group_size = 128, scale_type = f16>>)

// -----

// expected-error @+1 {{quantized weight dimensions must be positive}}
func.func private @weight(%w: !qnt.weight<0x256, f16, #qnt.encoding<format = i4, granularity = per_group, group_size = 128, scale_type = f16>>)

// -----

// expected-error @+1 {{quantized weight element type must be a float type (got 'i8')}}
func.func private @weight(%w: !qnt.weight<768x256, i8, #qnt.encoding<format = i4, granularity = per_group, group_size = 128, scale_type = f16>>)

// -----

// expected-error @+1 {{weights are quantized per_tensor, per_channel or per_group, not per_token}}
func.func private @weight(%w: !qnt.weight<768x256, f16, #qnt.encoding<format = i8, granularity = per_token, scale_type = f16>>)

// -----

// The encoding must fit the shape.
// expected-error @+1 {{encoding axis (2) is out of range for rank 2}}
func.func private @weight(%w: !qnt.weight<768x256, f16, #qnt.encoding<format = i8, granularity = per_channel, axis = 2, scale_type = f16>>)

// -----

// expected-error @+1 {{group_size (128) must divide dimension 1 (size 320)}}
func.func private @weight(%w: !qnt.weight<768x320, f16, #qnt.encoding<format = i4, granularity = per_group, group_size = 128, scale_type = f16>>)

// -----

// KV schemes.
// expected-error @+1 {{kv_scheme block_size must be positive (got 0)}}
func.func private @scheme() attributes {scheme = #qnt.kv_scheme<key = <format = i4, granularity = per_channel, axis = 0, scale_type = f16>, value = <format = i4, granularity = per_token, scale_type = f16>, block_size = 0>}

// -----

// expected-error @+1 {{kv_scheme residual_window and sink_tokens must be non-negative}}
func.func private @scheme() attributes {scheme = #qnt.kv_scheme<key = <format = i4, granularity = per_channel, axis = 0, scale_type = f16>, value = <format = i4, granularity = per_token, scale_type = f16>, sink_tokens = -1>}

// -----

// Keys quantized per channel span the tokens of a block (axis 0).
// expected-error @+1 {{key encoding: per_channel scales span the tokens of a block, so axis must be 0 (got 1)}}
func.func private @scheme() attributes {scheme = #qnt.kv_scheme<key = <format = i4, granularity = per_channel, scale_type = f16>, value = <format = i4, granularity = per_token, scale_type = f16>>}

// -----

// expected-error @+1 {{value encoding: per_token scales span the channels of a token, so axis must be 1 (got 0)}}
func.func private @scheme() attributes {scheme = #qnt.kv_scheme<key = <format = i4, granularity = per_channel, axis = 0, scale_type = f16>, value = <format = i4, granularity = per_token, axis = 0, scale_type = f16>>}

// -----

// Calibrated scales belong to fp8 per-tensor encodings, are positive.
// expected-error @+1 {{kv_scheme key_scales need an f8e4m3 per_tensor key encoding}}
func.func private @scheme() attributes {scheme = #qnt.kv_scheme<key = <format = i4, granularity = per_token, scale_type = f16>, value = <format = i4, granularity = per_token, scale_type = f16>, key_scales = [0.5]>}

// -----

// expected-error @+1 {{kv_scheme value_scales must be positive and finite (got 0.000000e+00)}}
func.func private @scheme() attributes {scheme = #qnt.kv_scheme<key = <format = f8e4m3, granularity = per_tensor, scale_type = f32>, value = <format = f8e4m3, granularity = per_tensor, scale_type = f32>, value_scales = [0.5, 0.0]>}

// -----

// quantize and dequantize keep shape and element type.
func.func @f(%w: tensor<768x128xf16>) {
  // expected-error @+1 {{'qnt.quantize' op quantized weight shape (768x256) must equal the tensor shape ('tensor<768x128xf16>')}}
  %0 = qnt.quantize %w : tensor<768x128xf16> -> !qnt.weight<768x256, f16, #qnt.encoding<format = i4, granularity = per_group, group_size = 128, scale_type = f16>>
  return
}

// -----

func.func @f(%w: tensor<768x256xf32>) {
  // expected-error @+1 {{'qnt.quantize' op quantized weight element type ('f16') must equal the tensor element type ('f32')}}
  %0 = qnt.quantize %w : tensor<768x256xf32> -> !qnt.weight<768x256, f16, #qnt.encoding<format = i4, granularity = per_group, group_size = 128, scale_type = f16>>
  return
}

// -----

func.func @f(%w: tensor<?x256xf16>) {
  // expected-error @+1 {{'qnt.quantize' op operand #0 must be statically shaped tensor of floating-point values}}
  %0 = qnt.quantize %w : tensor<?x256xf16> -> !qnt.weight<768x256, f16, #qnt.encoding<format = i4, granularity = per_group, group_size = 128, scale_type = f16>>
  return
}

// -----

// qlinear kernels need scales along the input dimension.
func.func @f(%x: tensor<?x256xf32>, %w: !qnt.weight<768x256, f16, #qnt.encoding<format = i8, granularity = per_channel, axis = 0, scale_type = f16>>) {
  // expected-error @+1 {{'qnt.qlinear' op weight scales must span the input dimension (encoding axis 1, got 0)}}
  %0 = qnt.qlinear %x, %w : tensor<?x256xf32>, !qnt.weight<768x256, f16, #qnt.encoding<format = i8, granularity = per_channel, axis = 0, scale_type = f16>> -> tensor<?x768xf32>
  return
}

// -----

func.func @f(%x: tensor<?x512xf32>, %w: !qnt.weight<768x256, f16, #qnt.encoding<format = i4, granularity = per_group, group_size = 128, scale_type = f16>>) {
  // expected-error @+1 {{'qnt.qlinear' op weight input width (256) must equal the input width (512)}}
  %0 = qnt.qlinear %x, %w : tensor<?x512xf32>, !qnt.weight<768x256, f16, #qnt.encoding<format = i4, granularity = per_group, group_size = 128, scale_type = f16>> -> tensor<?x768xf32>
  return
}

// -----

func.func @f(%x: tensor<?x256xf32>, %w: !qnt.weight<768x256, f16, #qnt.encoding<format = i4, granularity = per_group, group_size = 128, scale_type = f16>>) {
  // expected-error @+1 {{'qnt.qlinear' op result width (256) must equal the weight output width (768)}}
  %0 = qnt.qlinear %x, %w : tensor<?x256xf32>, !qnt.weight<768x256, f16, #qnt.encoding<format = i4, granularity = per_group, group_size = 128, scale_type = f16>> -> tensor<?x256xf32>
  return
}

// -----

func.func @f(%x: tensor<4x256xf32>, %w: !qnt.weight<768x256, f16, #qnt.encoding<format = i4, granularity = per_group, group_size = 128, scale_type = f16>>) {
  // expected-error @+1 {{'qnt.qlinear' op result rows (5) must equal the input rows (4)}}
  %0 = qnt.qlinear %x, %w : tensor<4x256xf32>, !qnt.weight<768x256, f16, #qnt.encoding<format = i4, granularity = per_group, group_size = 128, scale_type = f16>> -> tensor<5x768xf32>
  return
}

// -----

func.func @f(%x: tensor<?x256xf32>, %w: !qnt.weight<768x256, f16, #qnt.encoding<format = i4, granularity = per_group, group_size = 128, scale_type = f16>>, %b: tensor<256xf16>) {
  // expected-error @+1 {{'qnt.qlinear' op bias length (256) must equal the weight output width (768)}}
  %0 = qnt.qlinear %x, %w, %b : tensor<?x256xf32>, !qnt.weight<768x256, f16, #qnt.encoding<format = i4, granularity = per_group, group_size = 128, scale_type = f16>>, tensor<256xf16> -> tensor<?x768xf32>
  return
}

