// RUN: qtc-opt %s --split-input-file --qtc-onnx-convert-nodes --canonicalize | FileCheck %s

// Opset 18: ReduceMean and Unsqueeze read their axes from inputs; a reshape
// target built from the computed sequence length keeps it as `?`, and the
// static entries of Shape fold.
// CHECK-LABEL: func.func @opset18
// CHECK-SAME: (%[[X:.*]]: tensor<1x?x8xf32>) -> tensor<1x?x2x4xf32>
// CHECK: onnx.ReduceMean %[[X]] {axes = array<i64: 2>} : tensor<1x?x8xf32> -> tensor<1x?x1xf32>
// CHECK: onnx.Reshape %{{.*}}, %{{.*}} : tensor<1x?x8xf32>, tensor<4xi64> -> tensor<1x?x2x4xf32>
module attributes {onnx.opset = 18 : i64} {
  func.func @opset18(%x: tensor<1x?x8xf32>) -> !onnx.value {
    %axes = onnx.Constant dense<-1> : tensor<1xi64>
    %m = onnx.node "ReduceMean"(%x, %axes) {attrs = {keepdims = 1 : i64}} : (tensor<1x?x8xf32>, tensor<1xi64>) -> !onnx.value
    %s = onnx.node "Sub"(%x, %m) {attrs = {}} : (tensor<1x?x8xf32>, !onnx.value) -> !onnx.value
    %shape = onnx.node "Shape"(%x) {attrs = {}} : (tensor<1x?x8xf32>) -> !onnx.value
    %i0 = onnx.Constant dense<0> : tensor<i64>
    %i1 = onnx.Constant dense<1> : tensor<i64>
    %b = onnx.node "Gather"(%shape, %i0) {attrs = {axis = 0 : i64}} : (!onnx.value, tensor<i64>) -> !onnx.value
    %t = onnx.node "Gather"(%shape, %i1) {attrs = {axis = 0 : i64}} : (!onnx.value, tensor<i64>) -> !onnx.value
    %a0 = onnx.Constant dense<0> : tensor<1xi64>
    %bu = onnx.node "Unsqueeze"(%b, %a0) {attrs = {}} : (!onnx.value, tensor<1xi64>) -> !onnx.value
    %tu = onnx.node "Unsqueeze"(%t, %a0) {attrs = {}} : (!onnx.value, tensor<1xi64>) -> !onnx.value
    %heads = onnx.Constant dense<[2, 4]> : tensor<2xi64>
    %target = onnx.node "Concat"(%bu, %tu, %heads) {attrs = {axis = 0 : i64}} : (!onnx.value, !onnx.value, tensor<2xi64>) -> !onnx.value
    %r = onnx.node "Reshape"(%s, %target) {attrs = {}} : (!onnx.value, !onnx.value) -> !onnx.value
    return %r : !onnx.value
  }
}

// -----

// Opset 17: the axes are attributes; Identity disappears; a constant shape
// subgraph folds to one constant.
// CHECK-LABEL: func.func @opset17
// CHECK: %[[C:.*]] = onnx.Constant dense<[1, 6]> : tensor<2xi64>
// CHECK: onnx.ReduceMean %{{.*}} {axes = array<i64: 1>, keepdims = 0 : i64} : tensor<4x6xf32> -> tensor<4xf32>
// CHECK: return %[[C]], %{{.*}} : tensor<2xi64>, tensor<4xf32>
module attributes {onnx.opset = 17 : i64} {
  func.func @opset17(%x: tensor<4x6xf32>) -> (!onnx.value, !onnx.value) {
    %i = onnx.node "Identity"(%x) {attrs = {}} : (tensor<4x6xf32>) -> !onnx.value
    %s = onnx.node "Shape"(%i) {attrs = {start = 1 : i64}} : (!onnx.value) -> !onnx.value
    %a0 = onnx.Constant dense<0> : tensor<1xi64>
    %u = onnx.node "Unsqueeze"(%s, %a0) {attrs = {}} : (!onnx.value, tensor<1xi64>) -> !onnx.value
    %one = onnx.Constant dense<[[1]]> : tensor<1x1xi64>
    %c = onnx.node "Concat"(%one, %u) {attrs = {axis = 1 : i64}} : (tensor<1x1xi64>, !onnx.value) -> !onnx.value
    %flat = onnx.Constant dense<-1> : tensor<1xi64>
    %r = onnx.node "Reshape"(%c, %flat) {attrs = {}} : (!onnx.value, tensor<1xi64>) -> !onnx.value
    %m = onnx.node "ReduceMean"(%i) {attrs = {axes = [1], keepdims = 0 : i64}} : (!onnx.value) -> !onnx.value
    return %r, %m : !onnx.value, !onnx.value
  }
}

// -----

// A causal mask built from Range/Unsqueeze/LessOrEqual/Where folds once the
// length is a constant (here 3).
// CHECK-LABEL: func.func @mask
// CHECK: %[[M:.*]] = onnx.Constant dense<{{\[\[}}0.000000e+00, -1.000000e+04, -1.000000e+04], [0.000000e+00, 0.000000e+00, -1.000000e+04], [0.000000e+00, 0.000000e+00, 0.000000e+00]]> : tensor<3x3xf32>
// CHECK: return %[[M]]
module attributes {onnx.opset = 18 : i64} {
  func.func @mask() -> !onnx.value {
    %zero = onnx.Constant dense<0> : tensor<i64>
    %len = onnx.Constant dense<3> : tensor<i64>
    %step = onnx.Constant dense<1> : tensor<i64>
    %r = onnx.node "Range"(%zero, %len, %step) {attrs = {}} : (tensor<i64>, tensor<i64>, tensor<i64>) -> !onnx.value
    %a0 = onnx.Constant dense<0> : tensor<1xi64>
    %a1 = onnx.Constant dense<1> : tensor<1xi64>
    %row = onnx.node "Unsqueeze"(%r, %a1) {attrs = {}} : (!onnx.value, tensor<1xi64>) -> !onnx.value
    %col = onnx.node "Unsqueeze"(%r, %a0) {attrs = {}} : (!onnx.value, tensor<1xi64>) -> !onnx.value
    %visible = onnx.node "LessOrEqual"(%col, %row) {attrs = {}} : (!onnx.value, !onnx.value) -> !onnx.value
    %z = onnx.Constant dense<0.0> : tensor<f32>
    %neg = onnx.Constant dense<-1.0e4> : tensor<f32>
    %m = onnx.node "Where"(%visible, %z, %neg) {attrs = {}} : (!onnx.value, tensor<f32>, tensor<f32>) -> !onnx.value
    return %m : !onnx.value
  }
}

// -----

// Transposes of a weight compose but never fold into a copy of its bytes.
// CHECK-LABEL: func.func @weights
// CHECK: %[[W:.*]] = onnx.Constant dense_resource<w> : tensor<2x3xf32>
// CHECK: return %[[W]]
module attributes {onnx.opset = 18 : i64} {
  func.func @weights() -> !onnx.value {
    %w = onnx.Constant dense_resource<w> : tensor<2x3xf32>
    %t = onnx.node "Transpose"(%w) {attrs = {perm = [1, 0]}} : (tensor<2x3xf32>) -> !onnx.value
    %tt = onnx.node "Transpose"(%t) {attrs = {}} : (!onnx.value) -> !onnx.value
    return %tt : !onnx.value
  }
}
{-#
  dialect_resources: {
    builtin: {
      w: "0x04000000000000000000803F0000004000004040000080400000A040"
    }
  }
#-}


// -----

// Opset-23 Attention on [1, T, heads * head_dim] operands: Y takes the
// query's heads times the value's head size; the optional mask stays absent.
// CHECK-LABEL: func.func @attention23
// CHECK: onnx.Attention %arg0, %arg1, %arg1 {is_causal = 1 : i64, kv_num_heads = 2 : i64, q_num_heads = 4 : i64, scale = 5.000000e-01 : f32} : (tensor<1x?x32xf32>, tensor<1x?x16xf32>, tensor<1x?x16xf32>) -> tensor<1x?x32xf32>
module attributes {onnx.opset = 23 : i64} {
  func.func @attention23(%q: tensor<1x?x32xf32>, %kv: tensor<1x?x16xf32>) -> !onnx.value {
    %y = onnx.node "Attention"(%q, %kv, %kv) {attrs = {is_causal = 1 : i64, q_num_heads = 4 : i64, kv_num_heads = 2 : i64, scale = 5.000000e-01 : f32}} : (tensor<1x?x32xf32>, tensor<1x?x16xf32>, tensor<1x?x16xf32>) -> !onnx.value
    return %y : !onnx.value
  }
}

// -----

// Tile: sizes multiply (a computed sequence length stays `?`); constant
// operands fold.
// CHECK-LABEL: func.func @tile
// CHECK-DAG: onnx.Tile %arg0, %{{.*}} : tensor<1x2x1x?x8xf32>, tensor<5xi64> -> tensor<1x2x3x?x8xf32>
// CHECK-DAG: onnx.Constant dense<{{\[\[}}1, 2, 1, 2, 1, 2], [3, 4, 3, 4, 3, 4]]> : tensor<2x6xi64>
module attributes {onnx.opset = 18 : i64} {
  func.func @tile(%kv: tensor<1x2x1x?x8xf32>) -> (!onnx.value, !onnx.value) {
    %r = onnx.Constant dense<[1, 1, 3, 1, 1]> : tensor<5xi64>
    %t = onnx.node "Tile"(%kv, %r) {attrs = {}} : (tensor<1x2x1x?x8xf32>, tensor<5xi64>) -> !onnx.value
    %c = onnx.Constant dense<[[1, 2], [3, 4]]> : tensor<2x2xi64>
    %r2 = onnx.Constant dense<[1, 3]> : tensor<2xi64>
    %f = onnx.node "Tile"(%c, %r2) {attrs = {}} : (tensor<2x2xi64>, tensor<2xi64>) -> !onnx.value
    return %t, %f : !onnx.value, !onnx.value
  }
}

// -----

// onnxruntime's SkipSimplifiedLayerNormalization: the norm of input + skip
// (+ bias) and, as its fourth output, that sum.
// CHECK-LABEL: func.func @skip_simplified_layer_norm
// CHECK: %[[S:.*]] = onnx.Add %arg0, %arg1 : tensor<1x?x4xf32>, tensor<1x?x4xf32> -> tensor<1x?x4xf32>
// CHECK: %[[B:.*]] = onnx.Add %[[S]], %{{.*}} : tensor<1x?x4xf32>, tensor<4xf32> -> tensor<1x?x4xf32>
// CHECK: %[[N:.*]] = onnx.SimplifiedLayerNormalization %[[B]], %{{.*}} {epsilon = 9.99999997E-7 : f32}
// CHECK: return %[[N]], %[[B]]
module attributes {onnx.opset = 17 : i64} {
  func.func @skip_simplified_layer_norm(%x: tensor<1x?x4xf32>, %skip: tensor<1x?x4xf32>) -> (!onnx.value, !onnx.value) {
    %g = onnx.Constant dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32>
    %b = onnx.Constant dense<[0.5, 0.5, 0.5, 0.5]> : tensor<4xf32>
    %n:4 = onnx.node "SkipSimplifiedLayerNormalization"(%x, %skip, %g, %b) {attrs = {epsilon = 1.0e-6 : f32}, domain = "com.microsoft"} : (tensor<1x?x4xf32>, tensor<1x?x4xf32>, tensor<4xf32>, tensor<4xf32>) -> (!onnx.value, !onnx.value, !onnx.value, !onnx.value)
    return %n#0, %n#3 : !onnx.value, !onnx.value
  }
}

// -----

// onnxruntime's com.microsoft GroupQueryAttention (no past: the runtime's
// cache) is the opset-23 Attention, causal, with its heads; seqlens_k and
// total_sequence_length (one sequence, all of it attended) are not read.
// scale 0 is onnxruntime's default, 1/sqrt(head_size): left absent.
// CHECK-LABEL: func.func @gqa
// CHECK: onnx.Attention %arg0, %arg1, %arg1 {is_causal = 1 : i64, kv_num_heads = 2 : i64, q_num_heads = 4 : i64} : (tensor<1x?x64xf32>, tensor<1x?x32xf32>, tensor<1x?x32xf32>) -> tensor<1x?x64xf32>
module attributes {onnx.opset = 17 : i64} {
  func.func @gqa(%q: tensor<1x?x64xf32>, %kv: tensor<1x?x32xf32>, %seqlens: tensor<1xi32>, %total: tensor<i32>) -> !onnx.value {
    %none = onnx.absent
    %y:3 = onnx.node "GroupQueryAttention"(%q, %kv, %kv, %none, %none, %seqlens, %total) {domain = "com.microsoft", attrs = {num_heads = 4 : i64, kv_num_heads = 2 : i64, scale = 0.000000e+00 : f32}} : (tensor<1x?x64xf32>, tensor<1x?x32xf32>, tensor<1x?x32xf32>, none, none, tensor<1xi32>, tensor<i32>) -> (!onnx.value, !onnx.value, !onnx.value)
    return %y#0 : !onnx.value
  }
}

// -----

// com.microsoft MultiHeadAttention: unidirectional is causal, attention_bias
// the additive mask, the scale kept.
// CHECK-LABEL: func.func @mha
// CHECK: onnx.Attention %arg0, %arg0, %arg0, %arg1 {kv_num_heads = 4 : i64, q_num_heads = 4 : i64, scale = 2.500000e-01 : f32} : (tensor<1x?x64xf32>, tensor<1x?x64xf32>, tensor<1x?x64xf32>, tensor<1x1x?x?xf32>) -> tensor<1x?x64xf32>
module attributes {onnx.opset = 17 : i64} {
  func.func @mha(%x: tensor<1x?x64xf32>, %bias: tensor<1x1x?x?xf32>) -> !onnx.value {
    %none = onnx.absent
    %y:3 = onnx.node "MultiHeadAttention"(%x, %x, %x, %none, %none, %bias) {domain = "com.microsoft", attrs = {num_heads = 4 : i64, scale = 2.500000e-01 : f32}} : (tensor<1x?x64xf32>, tensor<1x?x64xf32>, tensor<1x?x64xf32>, none, none, tensor<1x1x?x?xf32>) -> (!onnx.value, !onnx.value, !onnx.value)
    return %y#0 : !onnx.value
  }
}

// -----

// Reshape of a Reshape is the outer target alone (a rotated head view merged
// back to [1, T, H*D]); a Reshape to its input's type with one dynamic dim
// is its input. A target with a 0 entry (copying the inner shape's dim) is
// left.
// CHECK-LABEL: func.func @reshape_chain
// CHECK-SAME:  (%[[X:.*]]: tensor<1x?x64xf32>)
// CHECK:       %[[H:.*]] = onnx.Reshape %[[X]], %{{.*}} : tensor<1x?x64xf32>, tensor<4xi64> -> tensor<1x?x4x16xf32>
// CHECK:       %[[Z:.*]] = onnx.Reshape %[[X]], %{{.*}} : tensor<1x?x64xf32>, tensor<2xi64> -> tensor<?x64xf32>
// CHECK:       %[[C:.*]] = onnx.Reshape %[[H]], %{{.*}} : tensor<1x?x4x16xf32>, tensor<3xi64> -> tensor<1x?x64xf32>
// CHECK:       return %[[X]], %[[Z]], %[[C]]
module attributes {onnx.opset = 17 : i64} {
  func.func @reshape_chain(%x: tensor<1x?x64xf32>) -> (!onnx.value, !onnx.value, !onnx.value) {
    %heads = onnx.Constant dense<[1, -1, 4, 16]> : tensor<4xi64>
    %merged = onnx.Constant dense<[1, -1, 64]> : tensor<3xi64>
    %flat = onnx.Constant dense<[-1, 64]> : tensor<2xi64>
    %copy = onnx.Constant dense<[0, -1, 64]> : tensor<3xi64>
    %h = onnx.node "Reshape"(%x, %heads) {attrs = {}} : (tensor<1x?x64xf32>, tensor<4xi64>) -> !onnx.value
    %y = onnx.node "Reshape"(%h, %merged) {attrs = {}} : (!onnx.value, tensor<3xi64>) -> !onnx.value
    %z = onnx.node "Reshape"(%h, %flat) {attrs = {}} : (!onnx.value, tensor<2xi64>) -> !onnx.value
    %c = onnx.node "Reshape"(%h, %copy) {attrs = {}} : (!onnx.value, tensor<3xi64>) -> !onnx.value
    return %y, %z, %c : !onnx.value, !onnx.value, !onnx.value
  }
}

// -----

// com.microsoft RotaryEmbedding on a 3-D input: the decomposition the RoPE
// raising reads, on a [1, T, heads, head_size] view: the cache rows gathered
// by position_ids, repeated for both halves and broadcast over the heads;
// rotate_half by two Slices, Neg and Concat; merged back to [1, T, hidden].
// CHECK-LABEL: func.func @rotary
// CHECK-SAME:  (%[[X:.*]]: tensor<1x?x64xf32>, %[[POS:.*]]: tensor<1x?xi64>, %[[COS:.*]]: tensor<32x8xf32>, %[[SIN:.*]]: tensor<32x8xf32>)
// CHECK:     %[[V:.*]] = onnx.Reshape %[[X]], %{{.*}} : tensor<1x?x64xf32>, tensor<4xi64> -> tensor<1x?x4x16xf32>
// CHECK:     %[[CR:.*]] = onnx.Gather %[[COS]], %[[POS]] : tensor<32x8xf32>, tensor<1x?xi64> -> tensor<1x?x8xf32>
// CHECK:     %[[C2:.*]] = onnx.Concat %[[CR]], %[[CR]] {axis = 2 : i64} : (tensor<1x?x8xf32>, tensor<1x?x8xf32>) -> tensor<1x?x16xf32>
// CHECK:     %[[C:.*]] = onnx.Unsqueeze %[[C2]] {axes = array<i64: 2>} : tensor<1x?x16xf32> -> tensor<1x?x1x16xf32>
// CHECK:     onnx.Gather %[[SIN]], %[[POS]]
// CHECK:     %[[LO:.*]] = onnx.Slice %[[V]], {{.*}} -> tensor<1x?x4x8xf32>
// CHECK:     %[[HI:.*]] = onnx.Slice %[[V]], {{.*}} -> tensor<1x?x4x8xf32>
// CHECK:     %[[NEG:.*]] = onnx.Neg %[[HI]]
// CHECK:     %[[ROT:.*]] = onnx.Concat %[[NEG]], %[[LO]] {axis = 3 : i64}
// CHECK:     %[[A:.*]] = onnx.Mul %[[V]], %[[C]]
// CHECK:     onnx.Mul %[[ROT]], %{{.*}}
// CHECK:     %[[Y:.*]] = onnx.Add %[[A]], %{{.*}} : tensor<1x?x4x16xf32>, tensor<1x?x4x16xf32> -> tensor<1x?x4x16xf32>
// CHECK:     onnx.Reshape %[[Y]], %{{.*}} : tensor<1x?x4x16xf32>, tensor<3xi64> -> tensor<1x?x64xf32>
module attributes {onnx.opset = 17 : i64} {
  func.func @rotary(%x: tensor<1x?x64xf32>, %pos: tensor<1x?xi64>, %cos: tensor<32x8xf32>, %sin: tensor<32x8xf32>) -> !onnx.value {
    %y = onnx.node "RotaryEmbedding"(%x, %pos, %cos, %sin) {domain = "com.microsoft", attrs = {num_heads = 4 : i64}} : (tensor<1x?x64xf32>, tensor<1x?xi64>, tensor<32x8xf32>, tensor<32x8xf32>) -> !onnx.value
    return %y : !onnx.value
  }
}

// -----

// A [1, heads, T, head_size] input: no view; cos/sin broadcast over axis 1.
// CHECK-LABEL: func.func @rotary_heads
// CHECK:     onnx.Unsqueeze %{{.*}} {axes = array<i64: 1>} : tensor<1x?x16xf32> -> tensor<1x1x?x16xf32>
// CHECK-NOT: onnx.Reshape
// CHECK:     onnx.Add {{.*}} -> tensor<1x2x?x16xf32>
module attributes {onnx.opset = 17 : i64} {
  func.func @rotary_heads(%x: tensor<1x2x?x16xf32>, %pos: tensor<1x?xi64>, %cos: tensor<32x8xf32>, %sin: tensor<32x8xf32>) -> !onnx.value {
    %y = onnx.node "RotaryEmbedding"(%x, %pos, %cos, %sin) {domain = "com.microsoft", attrs = {}} : (tensor<1x2x?x16xf32>, tensor<1x?xi64>, tensor<32x8xf32>, tensor<32x8xf32>) -> !onnx.value
    return %y : !onnx.value
  }
}

// -----

// GroupQueryAttention with do_rotary: q and k rotated (the RotaryEmbedding
// decomposition) at positions 0..T-1 from the query's length (the past is
// the runtime's), then the opset-23 Attention over the rotated pair.
// CHECK-LABEL: func.func @gqa_do_rotary
// CHECK:     %[[LEN:.*]] = onnx.Shape %arg0 {end = 2 : i64, start = 1 : i64} : tensor<1x?x64xf32> -> tensor<1xi64>
// CHECK:     %[[T:.*]] = onnx.Squeeze %[[LEN]]
// CHECK:     %[[R:.*]] = onnx.Range %{{.*}}, %[[T]], %{{.*}} : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<?xi64>
// CHECK:     %[[POS:.*]] = onnx.Unsqueeze %[[R]] {axes = array<i64: 0>} : tensor<?xi64> -> tensor<1x?xi64>
// CHECK:     onnx.Gather %arg2, %[[POS]]
// CHECK:     %[[QR:.*]] = onnx.Reshape %{{.*}} : tensor<1x?x4x16xf32>, tensor<3xi64> -> tensor<1x?x64xf32>
// CHECK:     %[[KR:.*]] = onnx.Reshape %{{.*}} : tensor<1x?x2x16xf32>, tensor<3xi64> -> tensor<1x?x32xf32>
// CHECK:     onnx.Attention %[[QR]], %[[KR]], %arg1 {is_causal = 1 : i64, kv_num_heads = 2 : i64, q_num_heads = 4 : i64}
module attributes {onnx.opset = 17 : i64} {
  func.func @gqa_do_rotary(%q: tensor<1x?x64xf32>, %kv: tensor<1x?x32xf32>, %cos: tensor<32x8xf32>, %sin: tensor<32x8xf32>, %seqlens: tensor<1xi32>, %total: tensor<i32>) -> !onnx.value {
    %none = onnx.absent
    %y:3 = onnx.node "GroupQueryAttention"(%q, %kv, %kv, %none, %none, %seqlens, %total, %cos, %sin) {domain = "com.microsoft", attrs = {num_heads = 4 : i64, kv_num_heads = 2 : i64, do_rotary = 1 : i64}} : (tensor<1x?x64xf32>, tensor<1x?x32xf32>, tensor<1x?x32xf32>, none, none, tensor<1xi32>, tensor<i32>, tensor<32x8xf32>, tensor<32x8xf32>) -> (!onnx.value, !onnx.value, !onnx.value)
    return %y#0 : !onnx.value
  }
}

// -----

// Interleaved RotaryEmbedding: GPT-J's rotate_every_two (step-2 Slices, Neg,
// Unsqueeze on a new last axis, Concat, Reshape back to the view) and each
// cache row's entries repeated side by side, the form qtc-onnx-raise-rope
// raises as interleaved.
// CHECK-LABEL: func.func @rotary_interleaved
// CHECK:     onnx.Gather %arg2, %arg1 : tensor<32x8xf32>, tensor<1x?xi64> -> tensor<1x?x8xf32>
// CHECK:     onnx.Unsqueeze %{{.*}} {axes = array<i64: 3>} : tensor<1x?x8xf32> -> tensor<1x?x8x1xf32>
// CHECK:     onnx.Concat %{{.*}}, %{{.*}} {axis = 3 : i64} : (tensor<1x?x8x1xf32>, tensor<1x?x8x1xf32>) -> tensor<1x?x8x2xf32>
// CHECK:     onnx.Reshape %{{.*}} : tensor<1x?x8x2xf32>, tensor<3xi64> -> tensor<1x?x16xf32>
// CHECK:     %[[EVEN:.*]] = onnx.Slice %[[V:[0-9]+]], %{{.*}} -> tensor<1x?x4x8xf32>
// CHECK:     %[[ODD:.*]] = onnx.Slice %[[V]], %{{.*}} -> tensor<1x?x4x8xf32>
// CHECK:     %[[NEG:.*]] = onnx.Neg %[[ODD]]
// CHECK:     %[[A:.*]] = onnx.Unsqueeze %[[NEG]] {axes = array<i64: 4>} : tensor<1x?x4x8xf32> -> tensor<1x?x4x8x1xf32>
// CHECK:     %[[B:.*]] = onnx.Unsqueeze %[[EVEN]] {axes = array<i64: 4>}
// CHECK:     %[[P:.*]] = onnx.Concat %[[A]], %[[B]] {axis = 4 : i64} : (tensor<1x?x4x8x1xf32>, tensor<1x?x4x8x1xf32>) -> tensor<1x?x4x8x2xf32>
// CHECK:     onnx.Reshape %[[P]], %{{.*}} : tensor<1x?x4x8x2xf32>, tensor<4xi64> -> tensor<1x?x4x16xf32>
module attributes {onnx.opset = 17 : i64} {
  func.func @rotary_interleaved(%x: tensor<1x?x64xf32>, %pos: tensor<1x?xi64>, %cos: tensor<32x8xf32>, %sin: tensor<32x8xf32>) -> !onnx.value {
    %y = onnx.node "RotaryEmbedding"(%x, %pos, %cos, %sin) {domain = "com.microsoft", attrs = {num_heads = 4 : i64, interleaved = 1 : i64}} : (tensor<1x?x64xf32>, tensor<1x?xi64>, tensor<32x8xf32>, tensor<32x8xf32>) -> !onnx.value
    return %y : !onnx.value
  }
}
