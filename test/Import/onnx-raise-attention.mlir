// RUN: qtc-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(qtc-onnx-raise-attention,canonicalize))' | FileCheck %s

// TorchScript's GQA: 4 query heads over 2 key/value heads repeated by
// Unsqueeze/Expand/Reshape, the scores divided by a constant, a causal mask
// from Trilu over an Expand sized by the sequence length.
// CHECK-LABEL: func.func @gqa_trilu
// CHECK-SAME: (%[[Q:.*]]: tensor<1x?x32xf32>, %[[K:.*]]: tensor<1x?x16xf32>, %[[V:.*]]: tensor<1x?x16xf32>)
// CHECK-DAG: %[[QT:.*]] = tensor.collapse_shape %[[Q]]
// CHECK-DAG: %[[KT:.*]] = tensor.collapse_shape %[[K]]
// CHECK-DAG: %[[VT:.*]] = tensor.collapse_shape %[[V]]
// CHECK: %[[A:.*]] = tfm.attention %[[QT]], %[[KT]], %[[VT]] {causal, head_dim = 8 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64, scale = 5.000000e-01 : f32} : tensor<?x32xf32>, tensor<?x16xf32>, tensor<?x16xf32>
// CHECK: %[[R:.*]] = tensor.expand_shape %[[A]]
// CHECK-NOT: onnx.Softmax
// CHECK: return %[[R]]
func.func @gqa_trilu(%q: tensor<1x?x32xf32>, %k: tensor<1x?x16xf32>, %v: tensor<1x?x16xf32>) -> tensor<1x?x32xf32> {
  %qs = onnx.Constant dense<[1, -1, 4, 8]> : tensor<4xi64>
  %ks = onnx.Constant dense<[1, -1, 2, 8]> : tensor<4xi64>
  %out = onnx.Constant dense<[1, -1, 32]> : tensor<3xi64>
  %two = onnx.Constant dense<2.0> : tensor<f32>
  %ninf = onnx.Constant dense<0xFF800000> : tensor<f32>
  %one = onnx.Constant dense<1> : tensor<i64>
  %lead = onnx.Constant dense<[1, 2, 2]> : tensor<3xi64>
  %lead4 = onnx.Constant dense<[1, 4]> : tensor<2xi64>
  %hd = onnx.Constant dense<8> : tensor<1xi64>
  %t = onnx.Shape %q {end = 2 : i64, start = 1 : i64} : tensor<1x?x32xf32> -> tensor<1xi64>
  %tt = onnx.Concat %t, %t {axis = 0 : i64} : (tensor<1xi64>, tensor<1xi64>) -> tensor<2xi64>
  %full = onnx.Expand %ninf, %tt : tensor<f32>, tensor<2xi64> -> tensor<?x?xf32>
  %mask = onnx.Trilu %full, %one {upper = 1 : i64} : tensor<?x?xf32>, tensor<i64> -> tensor<?x?xf32>
  %q1 = onnx.Reshape %q, %qs : tensor<1x?x32xf32>, tensor<4xi64> -> tensor<1x?x4x8xf32>
  %q2 = onnx.Transpose %q1 {perm = array<i64: 0, 2, 1, 3>} : tensor<1x?x4x8xf32> -> tensor<1x4x?x8xf32>
  %k1 = onnx.Reshape %k, %ks : tensor<1x?x16xf32>, tensor<4xi64> -> tensor<1x?x2x8xf32>
  %k2 = onnx.Transpose %k1 {perm = array<i64: 0, 2, 1, 3>} : tensor<1x?x2x8xf32> -> tensor<1x2x?x8xf32>
  %v1 = onnx.Reshape %v, %ks : tensor<1x?x16xf32>, tensor<4xi64> -> tensor<1x?x2x8xf32>
  %v2 = onnx.Transpose %v1 {perm = array<i64: 0, 2, 1, 3>} : tensor<1x?x2x8xf32> -> tensor<1x2x?x8xf32>
  %rs = onnx.Concat %lead, %t, %hd {axis = 0 : i64} : (tensor<3xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<5xi64>
  %os = onnx.Concat %lead4, %t, %hd {axis = 0 : i64} : (tensor<2xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<4xi64>
  %k3 = onnx.Unsqueeze %k2 {axes = array<i64: 2>} : tensor<1x2x?x8xf32> -> tensor<1x2x1x?x8xf32>
  %k4 = onnx.Expand %k3, %rs : tensor<1x2x1x?x8xf32>, tensor<5xi64> -> tensor<1x2x2x?x8xf32>
  %k5 = onnx.Reshape %k4, %os : tensor<1x2x2x?x8xf32>, tensor<4xi64> -> tensor<1x4x?x8xf32>
  %v3 = onnx.Unsqueeze %v2 {axes = array<i64: 2>} : tensor<1x2x?x8xf32> -> tensor<1x2x1x?x8xf32>
  %v4 = onnx.Expand %v3, %rs : tensor<1x2x1x?x8xf32>, tensor<5xi64> -> tensor<1x2x2x?x8xf32>
  %v5 = onnx.Reshape %v4, %os : tensor<1x2x2x?x8xf32>, tensor<4xi64> -> tensor<1x4x?x8xf32>
  %kt = onnx.Transpose %k5 {perm = array<i64: 0, 1, 3, 2>} : tensor<1x4x?x8xf32> -> tensor<1x4x8x?xf32>
  %s = onnx.MatMul %q2, %kt : tensor<1x4x?x8xf32>, tensor<1x4x8x?xf32> -> tensor<1x4x?x?xf32>
  %sd = onnx.Div %s, %two : tensor<1x4x?x?xf32>, tensor<f32> -> tensor<1x4x?x?xf32>
  %sm = onnx.Add %sd, %mask : tensor<1x4x?x?xf32>, tensor<?x?xf32> -> tensor<1x4x?x?xf32>
  %p = onnx.Softmax %sm {axis = -1 : i64} : tensor<1x4x?x?xf32> -> tensor<1x4x?x?xf32>
  %a = onnx.MatMul %p, %v5 : tensor<1x4x?x?xf32>, tensor<1x4x?x8xf32> -> tensor<1x4x?x8xf32>
  %at = onnx.Transpose %a {perm = array<i64: 0, 2, 1, 3>} : tensor<1x4x?x8xf32> -> tensor<1x?x4x8xf32>
  %y = onnx.Reshape %at, %out : tensor<1x?x4x8xf32>, tensor<3xi64> -> tensor<1x?x32xf32>
  return %y : tensor<1x?x32xf32>
}

// -----

// The dynamo exporter's fp16 MHA: sqrt(scale) on q and on k^T, softmax in
// fp32 between Casts, the mask a Where over a Range comparison that keeps
// the scores where the key position is at most the query's.
// CHECK-LABEL: func.func @mha_where_fp32_softmax
// CHECK: tfm.attention %{{.*}}, %{{.*}}, %{{.*}} {causal, head_dim = 8 : i64, num_heads = 2 : i64, num_kv_heads = 2 : i64, scale = 2.500000e-01 : f32} : tensor<?x16xf16>, tensor<?x16xf16>, tensor<?x16xf16>
// CHECK-NOT: onnx.Softmax
func.func @mha_where_fp32_softmax(%ids: tensor<1x?xi64>, %q: tensor<1x?x16xf16>, %k: tensor<1x?x16xf16>, %v: tensor<1x?x16xf16>) -> tensor<1x?x16xf16> attributes {onnx.input_names = ["input_ids", "q", "k", "v"]} {
  %hs = onnx.Constant dense<[1, -1, 2, 8]> : tensor<4xi64>
  %out = onnx.Constant dense<[1, -1, 16]> : tensor<3xi64>
  %half = onnx.Constant dense<0.5> : tensor<f16>
  %low = onnx.Constant dense<-3.40282347E+38> : tensor<f32>
  %zero = onnx.Constant dense<0> : tensor<i64>
  %one = onnx.Constant dense<1> : tensor<i64>
  %col = onnx.Constant dense<[-1, 1]> : tensor<2xi64>
  %len = onnx.Shape %ids {end = 2 : i64, start = 1 : i64} : tensor<1x?xi64> -> tensor<1xi64>
  %n = onnx.Squeeze %len {axes = array<i64: 0>} : tensor<1xi64> -> tensor<i64>
  %r = onnx.Range %zero, %n, %one : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<?xi64>
  %rc = onnx.Reshape %r, %col : tensor<?xi64>, tensor<2xi64> -> tensor<?x1xi64>
  %keep = onnx.LessOrEqual %r, %rc : tensor<?xi64>, tensor<?x1xi64> -> tensor<?x?xi1>
  %q1 = onnx.Reshape %q, %hs : tensor<1x?x16xf16>, tensor<4xi64> -> tensor<1x?x2x8xf16>
  %q2 = onnx.Transpose %q1 {perm = array<i64: 0, 2, 1, 3>} : tensor<1x?x2x8xf16> -> tensor<1x2x?x8xf16>
  %k1 = onnx.Reshape %k, %hs : tensor<1x?x16xf16>, tensor<4xi64> -> tensor<1x?x2x8xf16>
  %k2 = onnx.Transpose %k1 {perm = array<i64: 0, 2, 1, 3>} : tensor<1x?x2x8xf16> -> tensor<1x2x?x8xf16>
  %v1 = onnx.Reshape %v, %hs : tensor<1x?x16xf16>, tensor<4xi64> -> tensor<1x?x2x8xf16>
  %v2 = onnx.Transpose %v1 {perm = array<i64: 0, 2, 1, 3>} : tensor<1x?x2x8xf16> -> tensor<1x2x?x8xf16>
  %qs = onnx.Mul %q2, %half : tensor<1x2x?x8xf16>, tensor<f16> -> tensor<1x2x?x8xf16>
  %kt = onnx.Transpose %k2 {perm = array<i64: 0, 1, 3, 2>} : tensor<1x2x?x8xf16> -> tensor<1x2x8x?xf16>
  %kts = onnx.Mul %kt, %half : tensor<1x2x8x?xf16>, tensor<f16> -> tensor<1x2x8x?xf16>
  %s = onnx.MatMul %qs, %kts : tensor<1x2x?x8xf16>, tensor<1x2x8x?xf16> -> tensor<1x2x?x?xf16>
  %s32 = onnx.Cast %s : tensor<1x2x?x?xf16> -> tensor<1x2x?x?xf32>
  %sm = onnx.Where %keep, %s32, %low : tensor<?x?xi1>, tensor<1x2x?x?xf32>, tensor<f32> -> tensor<1x2x?x?xf32>
  %p32 = onnx.Softmax %sm {axis = 3 : i64} : tensor<1x2x?x?xf32> -> tensor<1x2x?x?xf32>
  %p = onnx.Cast %p32 : tensor<1x2x?x?xf32> -> tensor<1x2x?x?xf16>
  %a = onnx.MatMul %p, %v2 : tensor<1x2x?x?xf16>, tensor<1x2x?x8xf16> -> tensor<1x2x?x8xf16>
  %at = onnx.Transpose %a {perm = array<i64: 0, 2, 1, 3>} : tensor<1x2x?x8xf16> -> tensor<1x?x2x8xf16>
  %y = onnx.Reshape %at, %out : tensor<1x?x2x8xf16>, tensor<3xi64> -> tensor<1x?x16xf16>
  return %y : tensor<1x?x16xf16>
}

// -----

// No mask: bidirectional attention, no `causal`.
// CHECK-LABEL: func.func @unmasked
// CHECK: tfm.attention %{{.*}}, %{{.*}}, %{{.*}} {head_dim = 8 : i64, num_heads = 2 : i64, num_kv_heads = 2 : i64, scale = 1.000000e+00 : f32}
func.func @unmasked(%q: tensor<1x?x16xf32>, %k: tensor<1x?x16xf32>, %v: tensor<1x?x16xf32>) -> tensor<1x?x16xf32> {
  %hs = onnx.Constant dense<[1, -1, 2, 8]> : tensor<4xi64>
  %out = onnx.Constant dense<[1, -1, 16]> : tensor<3xi64>
  %q1 = onnx.Reshape %q, %hs : tensor<1x?x16xf32>, tensor<4xi64> -> tensor<1x?x2x8xf32>
  %q2 = onnx.Transpose %q1 {perm = array<i64: 0, 2, 1, 3>} : tensor<1x?x2x8xf32> -> tensor<1x2x?x8xf32>
  %k1 = onnx.Reshape %k, %hs : tensor<1x?x16xf32>, tensor<4xi64> -> tensor<1x?x2x8xf32>
  %kt = onnx.Transpose %k1 {perm = array<i64: 0, 2, 3, 1>} : tensor<1x?x2x8xf32> -> tensor<1x2x8x?xf32>
  %v1 = onnx.Reshape %v, %hs : tensor<1x?x16xf32>, tensor<4xi64> -> tensor<1x?x2x8xf32>
  %v2 = onnx.Transpose %v1 {perm = array<i64: 0, 2, 1, 3>} : tensor<1x?x2x8xf32> -> tensor<1x2x?x8xf32>
  %s = onnx.MatMul %q2, %kt : tensor<1x2x?x8xf32>, tensor<1x2x8x?xf32> -> tensor<1x2x?x?xf32>
  %p = onnx.Softmax %s {axis = -1 : i64} : tensor<1x2x?x?xf32> -> tensor<1x2x?x?xf32>
  %a = onnx.MatMul %p, %v2 : tensor<1x2x?x?xf32>, tensor<1x2x?x8xf32> -> tensor<1x2x?x8xf32>
  %at = onnx.Transpose %a {perm = array<i64: 0, 2, 1, 3>} : tensor<1x2x?x8xf32> -> tensor<1x?x2x8xf32>
  %y = onnx.Reshape %at, %out : tensor<1x?x2x8xf32>, tensor<3xi64> -> tensor<1x?x16xf32>
  return %y : tensor<1x?x16xf32>
}

// -----

// A mask that hides the past (Trilu lower) is not causal: not raised.
// CHECK-LABEL: func.func @anti_causal
// CHECK-NOT: tfm.attention
// CHECK: onnx.Softmax
func.func @anti_causal(%q: tensor<1x?x16xf32>, %k: tensor<1x?x16xf32>, %v: tensor<1x?x16xf32>) -> tensor<1x?x16xf32> {
  %hs = onnx.Constant dense<[1, -1, 2, 8]> : tensor<4xi64>
  %out = onnx.Constant dense<[1, -1, 16]> : tensor<3xi64>
  %ninf = onnx.Constant dense<0xFF800000> : tensor<f32>
  %mone = onnx.Constant dense<-1> : tensor<i64>
  %t = onnx.Shape %q {end = 2 : i64, start = 1 : i64} : tensor<1x?x16xf32> -> tensor<1xi64>
  %tt = onnx.Concat %t, %t {axis = 0 : i64} : (tensor<1xi64>, tensor<1xi64>) -> tensor<2xi64>
  %full = onnx.Expand %ninf, %tt : tensor<f32>, tensor<2xi64> -> tensor<?x?xf32>
  %mask = onnx.Trilu %full, %mone {upper = 0 : i64} : tensor<?x?xf32>, tensor<i64> -> tensor<?x?xf32>
  %q1 = onnx.Reshape %q, %hs : tensor<1x?x16xf32>, tensor<4xi64> -> tensor<1x?x2x8xf32>
  %q2 = onnx.Transpose %q1 {perm = array<i64: 0, 2, 1, 3>} : tensor<1x?x2x8xf32> -> tensor<1x2x?x8xf32>
  %k1 = onnx.Reshape %k, %hs : tensor<1x?x16xf32>, tensor<4xi64> -> tensor<1x?x2x8xf32>
  %kt = onnx.Transpose %k1 {perm = array<i64: 0, 2, 3, 1>} : tensor<1x?x2x8xf32> -> tensor<1x2x8x?xf32>
  %v1 = onnx.Reshape %v, %hs : tensor<1x?x16xf32>, tensor<4xi64> -> tensor<1x?x2x8xf32>
  %v2 = onnx.Transpose %v1 {perm = array<i64: 0, 2, 1, 3>} : tensor<1x?x2x8xf32> -> tensor<1x2x?x8xf32>
  %s = onnx.MatMul %q2, %kt : tensor<1x2x?x8xf32>, tensor<1x2x8x?xf32> -> tensor<1x2x?x?xf32>
  %sm = onnx.Add %mask, %s : tensor<?x?xf32>, tensor<1x2x?x?xf32> -> tensor<1x2x?x?xf32>
  %p = onnx.Softmax %sm {axis = -1 : i64} : tensor<1x2x?x?xf32> -> tensor<1x2x?x?xf32>
  %a = onnx.MatMul %p, %v2 : tensor<1x2x?x?xf32>, tensor<1x2x?x8xf32> -> tensor<1x2x?x8xf32>
  %at = onnx.Transpose %a {perm = array<i64: 0, 2, 1, 3>} : tensor<1x2x?x8xf32> -> tensor<1x?x2x8xf32>
  %y = onnx.Reshape %at, %out : tensor<1x?x2x8xf32>, tensor<3xi64> -> tensor<1x?x16xf32>
  return %y : tensor<1x?x16xf32>
}

// -----

// Opset-23 Attention on [1, T, heads * head_dim] projections with a boolean
// causal mask (true where a pair takes part) built from a Range comparison;
// scale absent means 1/sqrt(head_dim).
// CHECK-LABEL: func.func @attention23_bool_mask
// CHECK: %[[A:.*]] = tfm.attention %{{.*}}, %{{.*}}, %{{.*}} {causal, head_dim = 8 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64, scale = 0.353553385 : f32} : tensor<?x32xf32>, tensor<?x16xf32>, tensor<?x16xf32>
// CHECK-NOT: onnx.Attention
func.func @attention23_bool_mask(%ids: tensor<1x?xi64>, %q: tensor<1x?x32xf32>, %kv: tensor<1x?x16xf32>) -> tensor<1x?x32xf32> attributes {onnx.input_names = ["input_ids", "q", "kv"]} {
  %zero = onnx.Constant dense<0> : tensor<i64>
  %one = onnx.Constant dense<1> : tensor<i64>
  %col = onnx.Constant dense<[-1, 1]> : tensor<2xi64>
  %len = onnx.Shape %ids {end = 2 : i64, start = 1 : i64} : tensor<1x?xi64> -> tensor<1xi64>
  %n = onnx.Squeeze %len {axes = array<i64: 0>} : tensor<1xi64> -> tensor<i64>
  %r = onnx.Range %zero, %n, %one : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<?xi64>
  %rc = onnx.Reshape %r, %col : tensor<?xi64>, tensor<2xi64> -> tensor<?x1xi64>
  %keep = onnx.LessOrEqual %r, %rc : tensor<?xi64>, tensor<?x1xi64> -> tensor<?x?xi1>
  %y = onnx.Attention %q, %kv, %kv, %keep {q_num_heads = 4 : i64, kv_num_heads = 2 : i64} : (tensor<1x?x32xf32>, tensor<1x?x16xf32>, tensor<1x?x16xf32>, tensor<?x?xi1>) -> tensor<1x?x32xf32>
  return %y : tensor<1x?x32xf32>
}

// -----

// A softcap is not something tfm.attention computes: not raised.
// CHECK-LABEL: func.func @attention23_softcap
// CHECK: onnx.Attention
func.func @attention23_softcap(%q: tensor<1x?x32xf32>, %kv: tensor<1x?x16xf32>) -> tensor<1x?x32xf32> {
  %y = onnx.Attention %q, %kv, %kv {is_causal = 1 : i64, q_num_heads = 4 : i64, kv_num_heads = 2 : i64, softcap = 3.000000e+01 : f32} : (tensor<1x?x32xf32>, tensor<1x?x16xf32>, tensor<1x?x16xf32>) -> tensor<1x?x32xf32>
  return %y : tensor<1x?x32xf32>
}

// -----

// Key/value heads repeated by Tile of the axis Unsqueeze added.
// CHECK-LABEL: func.func @gqa_tile
// CHECK: tfm.attention %{{.*}}, %{{.*}}, %{{.*}} {head_dim = 8 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64, scale = 1.000000e+00 : f32} : tensor<?x32xf32>, tensor<?x16xf32>, tensor<?x16xf32>
func.func @gqa_tile(%q: tensor<1x?x32xf32>, %k: tensor<1x?x16xf32>, %v: tensor<1x?x16xf32>) -> tensor<1x?x32xf32> {
  %qs = onnx.Constant dense<[1, -1, 4, 8]> : tensor<4xi64>
  %ks = onnx.Constant dense<[1, -1, 2, 8]> : tensor<4xi64>
  %os = onnx.Constant dense<[1, 4, -1, 8]> : tensor<4xi64>
  %out = onnx.Constant dense<[1, -1, 32]> : tensor<3xi64>
  %rep = onnx.Constant dense<[1, 1, 2, 1, 1]> : tensor<5xi64>
  %q1 = onnx.Reshape %q, %qs : tensor<1x?x32xf32>, tensor<4xi64> -> tensor<1x?x4x8xf32>
  %q2 = onnx.Transpose %q1 {perm = array<i64: 0, 2, 1, 3>} : tensor<1x?x4x8xf32> -> tensor<1x4x?x8xf32>
  %k1 = onnx.Reshape %k, %ks : tensor<1x?x16xf32>, tensor<4xi64> -> tensor<1x?x2x8xf32>
  %k2 = onnx.Transpose %k1 {perm = array<i64: 0, 2, 1, 3>} : tensor<1x?x2x8xf32> -> tensor<1x2x?x8xf32>
  %v1 = onnx.Reshape %v, %ks : tensor<1x?x16xf32>, tensor<4xi64> -> tensor<1x?x2x8xf32>
  %v2 = onnx.Transpose %v1 {perm = array<i64: 0, 2, 1, 3>} : tensor<1x?x2x8xf32> -> tensor<1x2x?x8xf32>
  %k3 = onnx.Unsqueeze %k2 {axes = array<i64: 2>} : tensor<1x2x?x8xf32> -> tensor<1x2x1x?x8xf32>
  %k4 = onnx.Tile %k3, %rep : tensor<1x2x1x?x8xf32>, tensor<5xi64> -> tensor<1x2x2x?x8xf32>
  %k5 = onnx.Reshape %k4, %os : tensor<1x2x2x?x8xf32>, tensor<4xi64> -> tensor<1x4x?x8xf32>
  %v3 = onnx.Unsqueeze %v2 {axes = array<i64: 2>} : tensor<1x2x?x8xf32> -> tensor<1x2x1x?x8xf32>
  %v4 = onnx.Tile %v3, %rep : tensor<1x2x1x?x8xf32>, tensor<5xi64> -> tensor<1x2x2x?x8xf32>
  %v5 = onnx.Reshape %v4, %os : tensor<1x2x2x?x8xf32>, tensor<4xi64> -> tensor<1x4x?x8xf32>
  %kt = onnx.Transpose %k5 {perm = array<i64: 0, 1, 3, 2>} : tensor<1x4x?x8xf32> -> tensor<1x4x8x?xf32>
  %s = onnx.MatMul %q2, %kt : tensor<1x4x?x8xf32>, tensor<1x4x8x?xf32> -> tensor<1x4x?x?xf32>
  %p = onnx.Softmax %s {axis = -1 : i64} : tensor<1x4x?x?xf32> -> tensor<1x4x?x?xf32>
  %a = onnx.MatMul %p, %v5 : tensor<1x4x?x?xf32>, tensor<1x4x?x8xf32> -> tensor<1x4x?x8xf32>
  %at = onnx.Transpose %a {perm = array<i64: 0, 2, 1, 3>} : tensor<1x4x?x8xf32> -> tensor<1x?x4x8xf32>
  %y = onnx.Reshape %at, %out : tensor<1x?x4x8xf32>, tensor<3xi64> -> tensor<1x?x32xf32>
  return %y : tensor<1x?x32xf32>
}

// -----

// Tiling heads along the head axis (k, k, ...: head h reads h mod G) is
// not grouped-query attention's mapping (h / r): not raised.
// CHECK-LABEL: func.func @tile_wrong_axis
// CHECK-NOT: tfm.attention
func.func @tile_wrong_axis(%q: tensor<1x?x32xf32>, %k: tensor<1x?x16xf32>, %v: tensor<1x?x16xf32>) -> tensor<1x?x32xf32> {
  %qs = onnx.Constant dense<[1, -1, 4, 8]> : tensor<4xi64>
  %ks = onnx.Constant dense<[1, -1, 2, 8]> : tensor<4xi64>
  %os = onnx.Constant dense<[1, 4, -1, 8]> : tensor<4xi64>
  %out = onnx.Constant dense<[1, -1, 32]> : tensor<3xi64>
  %rep = onnx.Constant dense<[1, 2, 1, 1, 1]> : tensor<5xi64>
  %q1 = onnx.Reshape %q, %qs : tensor<1x?x32xf32>, tensor<4xi64> -> tensor<1x?x4x8xf32>
  %q2 = onnx.Transpose %q1 {perm = array<i64: 0, 2, 1, 3>} : tensor<1x?x4x8xf32> -> tensor<1x4x?x8xf32>
  %k1 = onnx.Reshape %k, %ks : tensor<1x?x16xf32>, tensor<4xi64> -> tensor<1x?x2x8xf32>
  %k2 = onnx.Transpose %k1 {perm = array<i64: 0, 2, 1, 3>} : tensor<1x?x2x8xf32> -> tensor<1x2x?x8xf32>
  %v1 = onnx.Reshape %v, %ks : tensor<1x?x16xf32>, tensor<4xi64> -> tensor<1x?x2x8xf32>
  %v2 = onnx.Transpose %v1 {perm = array<i64: 0, 2, 1, 3>} : tensor<1x?x2x8xf32> -> tensor<1x2x?x8xf32>
  %k3 = onnx.Unsqueeze %k2 {axes = array<i64: 2>} : tensor<1x2x?x8xf32> -> tensor<1x2x1x?x8xf32>
  %k4 = onnx.Tile %k3, %rep : tensor<1x2x1x?x8xf32>, tensor<5xi64> -> tensor<1x4x1x?x8xf32>
  %k5 = onnx.Reshape %k4, %os : tensor<1x4x1x?x8xf32>, tensor<4xi64> -> tensor<1x4x?x8xf32>
  %v3 = onnx.Unsqueeze %v2 {axes = array<i64: 2>} : tensor<1x2x?x8xf32> -> tensor<1x2x1x?x8xf32>
  %v4 = onnx.Tile %v3, %rep : tensor<1x2x1x?x8xf32>, tensor<5xi64> -> tensor<1x4x1x?x8xf32>
  %v5 = onnx.Reshape %v4, %os : tensor<1x4x1x?x8xf32>, tensor<4xi64> -> tensor<1x4x?x8xf32>
  %kt = onnx.Transpose %k5 {perm = array<i64: 0, 1, 3, 2>} : tensor<1x4x?x8xf32> -> tensor<1x4x8x?xf32>
  %s = onnx.MatMul %q2, %kt : tensor<1x4x?x8xf32>, tensor<1x4x8x?xf32> -> tensor<1x4x?x?xf32>
  %p = onnx.Softmax %s {axis = -1 : i64} : tensor<1x4x?x?xf32> -> tensor<1x4x?x?xf32>
  %a = onnx.MatMul %p, %v5 : tensor<1x4x?x?xf32>, tensor<1x4x?x8xf32> -> tensor<1x4x?x8xf32>
  %at = onnx.Transpose %a {perm = array<i64: 0, 2, 1, 3>} : tensor<1x4x?x8xf32> -> tensor<1x?x4x8xf32>
  %y = onnx.Reshape %at, %out : tensor<1x?x4x8xf32>, tensor<3xi64> -> tensor<1x?x32xf32>
  return %y : tensor<1x?x32xf32>
}
