// RUN: not qtc-opt %s --split-input-file --mlir-print-debuginfo --pass-pipeline='builtin.module(func.func(qtc-onnx-raise-rope,qtc-onnx-raise-attention,canonicalize,qtc-onnx-check-raised))' 2>&1 | FileCheck %s

// Attention under a mask that is neither causal nor empty (it hides the
// past) is not raised; its nodes are reported by name and op type, the
// first ten of them, then a count.
// CHECK: error: {{.*}}cannot raise ONNX node 'mask/Trilu' (Trilu) to tfm: it is not part of a recognized pattern
// CHECK: error: {{.*}}cannot raise ONNX node 'layer0/attn/q_heads' (Reshape) to tfm
// CHECK: error: 6 more ONNX node(s) are not raised
func.func @anti_causal(%q: tensor<1x?x16xf32>, %k: tensor<1x?x16xf32>, %v: tensor<1x?x16xf32>) -> tensor<1x?x16xf32> {
  %hs = onnx.Constant dense<[1, -1, 2, 8]> : tensor<4xi64>
  %out = onnx.Constant dense<[1, -1, 16]> : tensor<3xi64>
  %ninf = onnx.Constant dense<0xFF800000> : tensor<f32>
  %mone = onnx.Constant dense<-1> : tensor<i64>
  %t = onnx.Shape %q {end = 2 : i64, start = 1 : i64} : tensor<1x?x16xf32> -> tensor<1xi64>
  %tt = onnx.Concat %t, %t {axis = 0 : i64} : (tensor<1xi64>, tensor<1xi64>) -> tensor<2xi64>
  %full = onnx.Expand %ninf, %tt : tensor<f32>, tensor<2xi64> -> tensor<?x?xf32>
  %mask = onnx.Trilu %full, %mone {upper = 0 : i64} : tensor<?x?xf32>, tensor<i64> -> tensor<?x?xf32> loc("mask/Trilu")
  %q1 = onnx.Reshape %q, %hs : tensor<1x?x16xf32>, tensor<4xi64> -> tensor<1x?x2x8xf32> loc("layer0/attn/q_heads")
  %q2 = onnx.Transpose %q1 {perm = array<i64: 0, 2, 1, 3>} : tensor<1x?x2x8xf32> -> tensor<1x2x?x8xf32>
  %k1 = onnx.Reshape %k, %hs : tensor<1x?x16xf32>, tensor<4xi64> -> tensor<1x?x2x8xf32>
  %kt = onnx.Transpose %k1 {perm = array<i64: 0, 2, 3, 1>} : tensor<1x?x2x8xf32> -> tensor<1x2x8x?xf32>
  %v1 = onnx.Reshape %v, %hs : tensor<1x?x16xf32>, tensor<4xi64> -> tensor<1x?x2x8xf32>
  %v2 = onnx.Transpose %v1 {perm = array<i64: 0, 2, 1, 3>} : tensor<1x?x2x8xf32> -> tensor<1x2x?x8xf32>
  %s = onnx.MatMul %q2, %kt : tensor<1x2x?x8xf32>, tensor<1x2x8x?xf32> -> tensor<1x2x?x?xf32> loc("layer0/attn/MatMul")
  %sm = onnx.Add %mask, %s : tensor<?x?xf32>, tensor<1x2x?x?xf32> -> tensor<1x2x?x?xf32> loc("layer0/attn/mask_add")
  %p = onnx.Softmax %sm {axis = -1 : i64} : tensor<1x2x?x?xf32> -> tensor<1x2x?x?xf32> loc("layer0/attn/Softmax")
  %a = onnx.MatMul %p, %v2 : tensor<1x2x?x?xf32>, tensor<1x2x?x8xf32> -> tensor<1x2x?x8xf32>
  %at = onnx.Transpose %a {perm = array<i64: 0, 2, 1, 3>} : tensor<1x2x?x8xf32> -> tensor<1x?x2x8xf32>
  %y = onnx.Reshape %at, %out : tensor<1x?x2x8xf32>, tensor<3xi64> -> tensor<1x?x16xf32>
  return %y : tensor<1x?x16xf32>
}

// -----

// Interleaved (GPT-J style) RoPE on tables the graph takes as inputs: cos
// and sin cannot be evaluated from the positions, so the rotation stays at
// the ONNX level and its nodes are reported.
// CHECK: error: {{.*}}cannot raise ONNX node 'rope/odd' (Slice) to tfm
// CHECK: error: {{.*}}cannot raise ONNX node 'rope/neg' (Neg) to tfm
// CHECK: error: {{.*}}cannot raise ONNX node 'rope/add' (Add) to tfm
func.func @interleaved(%x: tensor<1x2x?x8xf32>, %cos: tensor<1x1x?x8xf32>, %sin: tensor<1x1x?x8xf32>) -> tensor<1x2x?x8xf32> {
  %z = onnx.Constant dense<0> : tensor<1xi64>
  %o = onnx.Constant dense<1> : tensor<1xi64>
  %big = onnx.Constant dense<9223372036854775807> : tensor<1xi64>
  %a3 = onnx.Constant dense<3> : tensor<1xi64>
  %two = onnx.Constant dense<2> : tensor<1xi64>
  %shape = onnx.Constant dense<[1, 2, -1, 8]> : tensor<4xi64>
  %even = onnx.Slice %x, %z, %big, %a3, %two : (tensor<1x2x?x8xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<1x2x?x4xf32> loc("rope/even")
  %odd = onnx.Slice %x, %o, %big, %a3, %two : (tensor<1x2x?x8xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<1x2x?x4xf32> loc("rope/odd")
  %nodd = onnx.Neg %odd : tensor<1x2x?x4xf32> -> tensor<1x2x?x4xf32> loc("rope/neg")
  %u0 = onnx.Unsqueeze %nodd {axes = array<i64: 4>} : tensor<1x2x?x4xf32> -> tensor<1x2x?x4x1xf32>
  %u1 = onnx.Unsqueeze %even {axes = array<i64: 4>} : tensor<1x2x?x4xf32> -> tensor<1x2x?x4x1xf32>
  %st = onnx.Concat %u0, %u1 {axis = 4 : i64} : (tensor<1x2x?x4x1xf32>, tensor<1x2x?x4x1xf32>) -> tensor<1x2x?x4x2xf32>
  %rot = onnx.Reshape %st, %shape : tensor<1x2x?x4x2xf32>, tensor<4xi64> -> tensor<1x2x?x8xf32>
  %a = onnx.Mul %x, %cos : tensor<1x2x?x8xf32>, tensor<1x1x?x8xf32> -> tensor<1x2x?x8xf32>
  %b = onnx.Mul %rot, %sin : tensor<1x2x?x8xf32>, tensor<1x1x?x8xf32> -> tensor<1x2x?x8xf32>
  %y = onnx.Add %a, %b : tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32> -> tensor<1x2x?x8xf32> loc("rope/add")
  return %y : tensor<1x2x?x8xf32>
}
