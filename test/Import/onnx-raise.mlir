// RUN: qtc-opt %s --pass-pipeline='builtin.module(func.func(qtc-onnx-raise-norms,qtc-onnx-raise-linears,qtc-onnx-raise-mlp,canonicalize))' | FileCheck %s

// RMSNorm as Mul(x, x) and Div(x, Sqrt) on a rank-2 activation, weight first.
// CHECK-LABEL: func.func @rms_div
// CHECK-SAME: (%[[X:.*]]: tensor<?x4xf32>)
// CHECK: %[[N:.*]] = tfm.rms_norm %[[X]], %{{.*}} {epsilon = 9.99999997E-7 : f32} : tensor<?x4xf32>, tensor<4xf32>
// CHECK-NEXT: return %[[N]]
func.func @rms_div(%x: tensor<?x4xf32>) -> tensor<?x4xf32> {
  %w = onnx.Constant dense_resource<w4> : tensor<4xf32>
  %eps = onnx.Constant dense<1.0e-6> : tensor<f32>
  %sq = onnx.Mul %x, %x : tensor<?x4xf32>, tensor<?x4xf32> -> tensor<?x4xf32>
  %m = onnx.ReduceMean %sq {axes = array<i64: 1>} : tensor<?x4xf32> -> tensor<?x1xf32>
  %v = onnx.Add %eps, %m : tensor<f32>, tensor<?x1xf32> -> tensor<?x1xf32>
  %s = onnx.Sqrt %v : tensor<?x1xf32> -> tensor<?x1xf32>
  %n = onnx.Div %x, %s : tensor<?x4xf32>, tensor<?x1xf32> -> tensor<?x4xf32>
  %y = onnx.Mul %w, %n : tensor<4xf32>, tensor<?x4xf32> -> tensor<?x4xf32>
  return %y : tensor<?x4xf32>
}

// RMSNorm as x * Pow(v, -0.5) * w, flattened product, [1, T, F].
// CHECK-LABEL: func.func @rms_pow
// CHECK: tensor.collapse_shape
// CHECK: tfm.rms_norm %{{.*}}, %{{.*}} {epsilon = 9.99999974E-6 : f32} : tensor<?x4xf32>, tensor<4xf32>
// CHECK: tensor.expand_shape
func.func @rms_pow(%x: tensor<1x?x4xf32>) -> tensor<1x?x4xf32> {
  %w = onnx.Constant dense_resource<w4> : tensor<4xf32>
  %two = onnx.Constant dense<2.0> : tensor<f32>
  %half = onnx.Constant dense<-0.5> : tensor<f32>
  %eps = onnx.Constant dense<1.0e-5> : tensor<f32>
  %sq = onnx.Pow %x, %two : tensor<1x?x4xf32>, tensor<f32> -> tensor<1x?x4xf32>
  %m = onnx.ReduceMean %sq {axes = array<i64: 2>} : tensor<1x?x4xf32> -> tensor<1x?x1xf32>
  %v = onnx.Add %m, %eps : tensor<1x?x1xf32>, tensor<f32> -> tensor<1x?x1xf32>
  %r = onnx.Pow %v, %half : tensor<1x?x1xf32>, tensor<f32> -> tensor<1x?x1xf32>
  %n = onnx.Mul %x, %r : tensor<1x?x4xf32>, tensor<1x?x1xf32> -> tensor<1x?x4xf32>
  %y = onnx.Mul %n, %w : tensor<1x?x4xf32>, tensor<4xf32> -> tensor<1x?x4xf32>
  return %y : tensor<1x?x4xf32>
}

// A mean over another axis is not an RMSNorm.
// CHECK-LABEL: func.func @rms_wrong_axis
// CHECK-NOT: tfm.rms_norm
func.func @rms_wrong_axis(%x: tensor<4x4xf32>) -> tensor<4x4xf32> {
  %w = onnx.Constant dense_resource<w4> : tensor<4xf32>
  %eps = onnx.Constant dense<1.0e-6> : tensor<f32>
  %sq = onnx.Mul %x, %x : tensor<4x4xf32>, tensor<4x4xf32> -> tensor<4x4xf32>
  %m = onnx.ReduceMean %sq {axes = array<i64: 0>} : tensor<4x4xf32> -> tensor<1x4xf32>
  %v = onnx.Add %m, %eps : tensor<1x4xf32>, tensor<f32> -> tensor<1x4xf32>
  %s = onnx.Sqrt %v : tensor<1x4xf32> -> tensor<1x4xf32>
  %n = onnx.Div %x, %s : tensor<4x4xf32>, tensor<1x4xf32> -> tensor<4x4xf32>
  %y = onnx.Mul %w, %n : tensor<4xf32>, tensor<4x4xf32> -> tensor<4x4xf32>
  return %y : tensor<4x4xf32>
}

// onnxruntime's fused norms and opset-17 LayerNormalization.
// CHECK-LABEL: func.func @fused_norms
// CHECK: %[[R:.*]] = tfm.rms_norm %arg0, %{{.*}} {epsilon = 9.99999997E-7 : f32}
// CHECK: tfm.layer_norm %[[R]], %{{.*}}, %{{.*}} {epsilon = 9.99999974E-6 : f32} : tensor<?x4xf32>, tensor<4xf32>, tensor<4xf32>
func.func @fused_norms(%x: tensor<?x4xf32>) -> tensor<?x4xf32> {
  %w = onnx.Constant dense_resource<w4> : tensor<4xf32>
  %r = onnx.SimplifiedLayerNormalization %x, %w {epsilon = 1.0e-6 : f32} : (tensor<?x4xf32>, tensor<4xf32>) -> tensor<?x4xf32>
  %l = onnx.LayerNormalization %r, %w, %w : (tensor<?x4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<?x4xf32>
  return %l : tensor<?x4xf32>
}

// MatMul with an [in, out] weight plus a bias; MatMul through the graph's own
// Transpose of an [out, in] weight; Gemm with transB.
// CHECK-LABEL: func.func @linears
// CHECK-DAG: %[[B:.*]] = onnx.Constant dense_resource<b2> : tensor<2xf32>
// CHECK-DAG: %[[W:.*]] = onnx.Constant dense_resource<w42> : tensor<4x2xf32>
// CHECK-DAG: %[[V:.*]] = onnx.Constant dense_resource<w24> : tensor<2x4xf32>
// CHECK: %[[WT:.*]] = onnx.Transpose %[[W]] {perm = array<i64: 1, 0>}
// CHECK: %[[Y:.*]] = tfm.linear %arg0, %[[WT]], %[[B]] : tensor<?x4xf32>, tensor<2x4xf32>, tensor<2xf32> -> tensor<?x2xf32>
// CHECK: %[[Z:.*]] = tfm.linear %arg0, %[[V]] : tensor<?x4xf32>, tensor<2x4xf32> -> tensor<?x2xf32>
// CHECK: %[[G:.*]] = tfm.linear %arg0, %[[V]], %[[B]] :
// CHECK: return %[[Y]], %[[Z]], %[[G]]
func.func @linears(%x: tensor<?x4xf32>) -> (tensor<?x2xf32>, tensor<?x2xf32>, tensor<?x2xf32>) {
  %w = onnx.Constant dense_resource<w42> : tensor<4x2xf32>
  %v = onnx.Constant dense_resource<w24> : tensor<2x4xf32>
  %b = onnx.Constant dense_resource<b2> : tensor<2xf32>
  %mm = onnx.MatMul %x, %w : tensor<?x4xf32>, tensor<4x2xf32> -> tensor<?x2xf32>
  %y = onnx.Add %mm, %b : tensor<?x2xf32>, tensor<2xf32> -> tensor<?x2xf32>
  %vt = onnx.Transpose %v {perm = array<i64: 1, 0>} : tensor<2x4xf32> -> tensor<4x2xf32>
  %z = onnx.MatMul %x, %vt : tensor<?x4xf32>, tensor<4x2xf32> -> tensor<?x2xf32>
  %g = onnx.Gemm %x, %v, %b {transB = 1 : i64} : (tensor<?x4xf32>, tensor<2x4xf32>, tensor<2xf32>) -> tensor<?x2xf32>
  return %y, %z, %g : tensor<?x2xf32>, tensor<?x2xf32>, tensor<?x2xf32>
}

// A product of two activations (attention scores) stays.
// CHECK-LABEL: func.func @activation_product
// CHECK: onnx.MatMul
func.func @activation_product(%a: tensor<?x4xf32>, %b: tensor<4x?xf32>) -> tensor<?x?xf32> {
  %s = onnx.MatMul %a, %b : tensor<?x4xf32>, tensor<4x?xf32> -> tensor<?x?xf32>
  return %s : tensor<?x?xf32>
}

// Token ids [1, T] into a table.
// CHECK-LABEL: func.func @embedding
// CHECK: %[[IDS:.*]] = tensor.collapse_shape %arg0 {{\[\[}}0, 1]] : tensor<1x?xi64> into tensor<?xi64>
// CHECK: tfm.embedding %{{.*}}, %[[IDS]] : tensor<8x4xf32>, tensor<?xi64> -> tensor<?x4xf32>
func.func @embedding(%ids: tensor<1x?xi64>) -> tensor<1x?x4xf32> {
  %t = onnx.Constant dense_resource<t84> : tensor<8x4xf32>
  %x = onnx.Gather %t, %ids : tensor<8x4xf32>, tensor<1x?xi64> -> tensor<1x?x4xf32>
  return %x : tensor<1x?x4xf32>
}

// A table gathered by indices the graph computes (a Range, a constant) is
// not an embedding: only graph inputs (through integer reshapes and casts)
// are token ids.
// CHECK-LABEL: func.func @gather_computed
// CHECK-NOT: tfm.embedding
// CHECK: onnx.Gather
// CHECK: onnx.Gather
// CHECK-LABEL: func.func @embedding_int32_ids
// CHECK: tfm.embedding %{{.*}}, %{{.*}} : tensor<8x4xf32>, tensor<?xi64> -> tensor<?x4xf32>
func.func @gather_computed(%n: tensor<i64>) -> (tensor<?x4xf32>, tensor<2x4xf32>) {
  %t = onnx.Constant dense_resource<t84> : tensor<8x4xf32>
  %zero = onnx.Constant dense<0> : tensor<i64>
  %one = onnx.Constant dense<1> : tensor<i64>
  %r = onnx.Range %zero, %n, %one : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<?xi64>
  %x = onnx.Gather %t, %r : tensor<8x4xf32>, tensor<?xi64> -> tensor<?x4xf32>
  %c = onnx.Constant dense<[1, 3]> : tensor<2xi64>
  %y = onnx.Gather %t, %c : tensor<8x4xf32>, tensor<2xi64> -> tensor<2x4xf32>
  return %x, %y : tensor<?x4xf32>, tensor<2x4xf32>
}
func.func @embedding_int32_ids(%ids: tensor<?xi32>) -> tensor<?x4xf32> {
  %t = onnx.Constant dense_resource<t84> : tensor<8x4xf32>
  %i = onnx.Cast %ids : tensor<?xi32> -> tensor<?xi64>
  %x = onnx.Gather %t, %i : tensor<8x4xf32>, tensor<?xi64> -> tensor<?x4xf32>
  return %x : tensor<?x4xf32>
}

// SwiGLU with the factors in another order; SiLU alone.
// CHECK-LABEL: func.func @swiglu
// CHECK: %[[S:.*]] = tfm.swiglu %arg0, %arg1 : tensor<?x4xf32>
// CHECK: %[[L:.*]] = tfm.silu %arg1 : tensor<?x4xf32>
// CHECK: return %[[S]], %[[L]]
func.func @swiglu(%g: tensor<?x4xf32>, %u: tensor<?x4xf32>) -> (tensor<?x4xf32>, tensor<?x4xf32>) {
  %sg = onnx.Sigmoid %g : tensor<?x4xf32> -> tensor<?x4xf32>
  %a = onnx.Mul %sg, %g : tensor<?x4xf32>, tensor<?x4xf32> -> tensor<?x4xf32>
  %y = onnx.Mul %u, %a : tensor<?x4xf32>, tensor<?x4xf32> -> tensor<?x4xf32>
  %su = onnx.Sigmoid %u : tensor<?x4xf32> -> tensor<?x4xf32>
  %l = onnx.Mul %u, %su : tensor<?x4xf32>, tensor<?x4xf32> -> tensor<?x4xf32>
  return %y, %l : tensor<?x4xf32>, tensor<?x4xf32>
}

// GELU: erf form, tanh approximation, and the opset-20 op.
// CHECK-LABEL: func.func @gelu
// CHECK: %[[E:.*]] = tfm.gelu %arg0 : tensor<?x4xf32>
// CHECK: %[[T:.*]] = tfm.gelu %arg0 approximate<tanh> : tensor<?x4xf32>
// CHECK: %[[O:.*]] = tfm.gelu %arg0 approximate<tanh> : tensor<?x4xf32>
// CHECK: return %[[E]], %[[T]], %[[O]]
func.func @gelu(%x: tensor<?x4xf32>) -> (tensor<?x4xf32>, tensor<?x4xf32>, tensor<?x4xf32>) {
  %sqrt2 = onnx.Constant dense<1.41421354> : tensor<f32>
  %one = onnx.Constant dense<1.0> : tensor<f32>
  %half = onnx.Constant dense<0.5> : tensor<f32>
  %d = onnx.Div %x, %sqrt2 : tensor<?x4xf32>, tensor<f32> -> tensor<?x4xf32>
  %e = onnx.Erf %d : tensor<?x4xf32> -> tensor<?x4xf32>
  %p = onnx.Add %e, %one : tensor<?x4xf32>, tensor<f32> -> tensor<?x4xf32>
  %xh = onnx.Mul %x, %half : tensor<?x4xf32>, tensor<f32> -> tensor<?x4xf32>
  %y = onnx.Mul %xh, %p : tensor<?x4xf32>, tensor<?x4xf32> -> tensor<?x4xf32>
  %c = onnx.Constant dense<0.797884583> : tensor<f32>
  %k = onnx.Constant dense<4.471500e-02> : tensor<f32>
  %three = onnx.Constant dense<3.0> : tensor<f32>
  %x3 = onnx.Pow %x, %three : tensor<?x4xf32>, tensor<f32> -> tensor<?x4xf32>
  %kx3 = onnx.Mul %k, %x3 : tensor<f32>, tensor<?x4xf32> -> tensor<?x4xf32>
  %in = onnx.Add %x, %kx3 : tensor<?x4xf32>, tensor<?x4xf32> -> tensor<?x4xf32>
  %arg = onnx.Mul %in, %c : tensor<?x4xf32>, tensor<f32> -> tensor<?x4xf32>
  %t = onnx.Tanh %arg : tensor<?x4xf32> -> tensor<?x4xf32>
  %tp = onnx.Add %one, %t : tensor<f32>, tensor<?x4xf32> -> tensor<?x4xf32>
  %h = onnx.Mul %half, %tp : tensor<f32>, tensor<?x4xf32> -> tensor<?x4xf32>
  %z = onnx.Mul %x, %h : tensor<?x4xf32>, tensor<?x4xf32> -> tensor<?x4xf32>
  %o = onnx.Gelu %x {approximate = "tanh"} : tensor<?x4xf32> -> tensor<?x4xf32>
  return %y, %z, %o : tensor<?x4xf32>, tensor<?x4xf32>, tensor<?x4xf32>
}

{-#
  dialect_resources: {
    builtin: {
      w4: "0x040000000000803F0000803F0000803F0000803F",
      w42: "0x040000000000803F00000000000000000000803F0000803F00000000000000000000803F",
      w24: "0x040000000000803F00000000000000000000803F0000803F00000000000000000000803F",
      b2: "0x040000000000803F0000803F",
      t84: "0x0400000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    }
  }
#-}
