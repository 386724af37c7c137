// Nodes no conversion reads are errors naming the node and its op type.
// RUN: not qtc-opt %s --split-input-file --qtc-onnx-convert-nodes 2>&1 | FileCheck %s

module attributes {onnx.opset = 18 : i64} {
  func.func @unknown(%x: tensor<4xf32>) -> !onnx.value {
    // CHECK: error: {{.*}}ONNX node 'mystery' (Hardmax): no conversion for Hardmax at opset 18
    %y = onnx.node "Hardmax"(%x) {attrs = {}} : (tensor<4xf32>) -> !onnx.value loc("mystery")
    return %y : !onnx.value
  }
}

// -----

module attributes {onnx.opset = 18 : i64} {
  func.func @bad_broadcast(%x: tensor<4xf32>, %y: tensor<3xf32>) -> !onnx.value {
    // CHECK: error: {{.*}}ONNX node 'add' (Add): operands 'tensor<4xf32>' and 'tensor<3xf32>' do not broadcast
    %z = onnx.node "Add"(%x, %y) {attrs = {}} : (tensor<4xf32>, tensor<3xf32>) -> !onnx.value loc("add")
    return %z : !onnx.value
  }
}

// -----

module attributes {onnx.opset = 18 : i64} {
  func.func @dynamic_axes(%x: tensor<4x6xf32>, %axes: tensor<1xi64>) -> !onnx.value {
    // CHECK: error: {{.*}}ONNX node 'mean' (ReduceMean): needs a ranked operand and constant axes
    %z = onnx.node "ReduceMean"(%x, %axes) {attrs = {}} : (tensor<4x6xf32>, tensor<1xi64>) -> !onnx.value loc("mean")
    return %z : !onnx.value
  }
}

// -----

module attributes {onnx.opset = 18 : i64} {
  func.func @repeated_reduce_axis(%x: tensor<4x6xf32>) -> !onnx.value {
    %axes = onnx.Constant dense<[1, -1]> : tensor<2xi64>
    // CHECK: error: {{.*}}ONNX node 'sum' (ReduceSum): axis -1 is out of range or repeated
    %z = onnx.node "ReduceSum"(%x, %axes) {attrs = {}} : (tensor<4x6xf32>, tensor<2xi64>) -> !onnx.value loc("sum")
    return %z : !onnx.value
  }
}

// -----

module attributes {onnx.opset = 18 : i64} {
  func.func @unsqueeze_axis_out_of_range(%x: tensor<4x6xf32>) -> !onnx.value {
    %axes = onnx.Constant dense<3> : tensor<1xi64>
    // CHECK: error: {{.*}}ONNX node 'unsq' (Unsqueeze): axis 3 is out of range or repeated
    %z = onnx.node "Unsqueeze"(%x, %axes) {attrs = {}} : (tensor<4x6xf32>, tensor<1xi64>) -> !onnx.value loc("unsq")
    return %z : !onnx.value
  }
}

// -----

// Opset-23 Attention with a KV cache (past key/value inputs) is not converted.
module attributes {onnx.opset = 23 : i64} {
  func.func @attention_past(%q: tensor<1x?x16xf32>, %k: tensor<1x?x16xf32>, %pk: tensor<1x2x?x8xf32>) -> !onnx.value {
    // CHECK: error: {{.*}}ONNX node 'attn' (Attention): has past key/value inputs, which are not converted
    %none = onnx.absent
    %y:3 = onnx.node "Attention"(%q, %k, %k, %none, %pk, %pk) {attrs = {q_num_heads = 2 : i64, kv_num_heads = 2 : i64}} : (tensor<1x?x16xf32>, tensor<1x?x16xf32>, tensor<1x?x16xf32>, none, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>) -> (!onnx.value, !onnx.value, !onnx.value) loc("attn")
    return %y#0 : !onnx.value
  }
}

// -----

module attributes {onnx.opset = 17 : i64} {
  func.func @skip_norm_statistics(%x: tensor<1x?x4xf32>, %skip: tensor<1x?x4xf32>, %g: tensor<4xf32>) -> !onnx.value {
    // CHECK: error: {{.*}}ONNX node 'skipnorm' (com.microsoft.SkipSimplifiedLayerNormalization): its mean or inverse standard deviation output is used, which is not converted
    %n:4 = onnx.node "SkipSimplifiedLayerNormalization"(%x, %skip, %g) {attrs = {}, domain = "com.microsoft"} : (tensor<1x?x4xf32>, tensor<1x?x4xf32>, tensor<4xf32>) -> (!onnx.value, !onnx.value, !onnx.value, !onnx.value) loc("skipnorm")
    return %n#2 : !onnx.value
  }
}

// -----

module attributes {onnx.opset = 17 : i64} {
  func.func @gqa_rotary(%q: tensor<1x?x64xf32>, %kv: tensor<1x?x32xf32>) -> !onnx.value {
    // CHECK: error: {{.*}}ONNX node 'gqa' (com.microsoft.GroupQueryAttention): do_rotary needs 3-D query and key, cos_cache and sin_cache of one static [positions, head_size / 2] shape and [batch, tokens] position_ids if any
    %y:3 = onnx.node "GroupQueryAttention"(%q, %kv, %kv) {domain = "com.microsoft", attrs = {num_heads = 4 : i64, kv_num_heads = 2 : i64, do_rotary = 1 : i64}} : (tensor<1x?x64xf32>, tensor<1x?x32xf32>, tensor<1x?x32xf32>) -> (!onnx.value, !onnx.value, !onnx.value) loc("gqa")
    return %y#0 : !onnx.value
  }
}

// -----

module attributes {onnx.opset = 17 : i64} {
  func.func @gqa_window(%q: tensor<1x?x64xf32>, %kv: tensor<1x?x32xf32>) -> !onnx.value {
    // CHECK: error: {{.*}}ONNX node 'gqa' (com.microsoft.GroupQueryAttention): has a local window (local_window_size = 4), which is not converted
    %y:3 = onnx.node "GroupQueryAttention"(%q, %kv, %kv) {domain = "com.microsoft", attrs = {num_heads = 4 : i64, kv_num_heads = 2 : i64, local_window_size = 4 : i64}} : (tensor<1x?x64xf32>, tensor<1x?x32xf32>, tensor<1x?x32xf32>) -> (!onnx.value, !onnx.value, !onnx.value) loc("gqa")
    return %y#0 : !onnx.value
  }
}

// -----

// A past that is not a graph input (qtc-onnx-strip-kv-cache leaves it).
module attributes {onnx.opset = 17 : i64} {
  func.func @gqa_past(%q: tensor<1x?x64xf32>, %kv: tensor<1x?x32xf32>, %p: tensor<1x2x3x16xf32>) -> !onnx.value {
    // CHECK: error: {{.*}}ONNX node 'gqa' (com.microsoft.GroupQueryAttention): has a past key/value input that is not a graph input qtc-onnx-strip-kv-cache removes (the runtime owns the cache)
    %y:3 = onnx.node "GroupQueryAttention"(%q, %kv, %kv, %p, %p) {domain = "com.microsoft", attrs = {num_heads = 4 : i64, kv_num_heads = 2 : i64}} : (tensor<1x?x64xf32>, tensor<1x?x32xf32>, tensor<1x?x32xf32>, tensor<1x2x3x16xf32>, tensor<1x2x3x16xf32>) -> (!onnx.value, !onnx.value, !onnx.value) loc("gqa")
    return %y#0 : !onnx.value
  }
}

// -----

module attributes {onnx.opset = 17 : i64} {
  func.func @gqa_packed(%qkv: tensor<1x?x128xf32>) -> !onnx.value {
    // CHECK: error: {{.*}}ONNX node 'gqa' (com.microsoft.GroupQueryAttention): packs Q, K and V into one input, which is not converted
    %none = onnx.absent
    %y:3 = onnx.node "GroupQueryAttention"(%qkv, %none, %none) {domain = "com.microsoft", attrs = {num_heads = 4 : i64, kv_num_heads = 2 : i64}} : (tensor<1x?x128xf32>, none, none) -> (!onnx.value, !onnx.value, !onnx.value) loc("gqa")
    return %y#0 : !onnx.value
  }
}

// -----

module attributes {onnx.opset = 17 : i64} {
  func.func @mha_bias(%x: tensor<1x?x64xf32>, %b: tensor<192xf32>) -> !onnx.value {
    // CHECK: error: {{.*}}ONNX node 'mha' (com.microsoft.MultiHeadAttention): has a bias input, which is not converted
    %y:3 = onnx.node "MultiHeadAttention"(%x, %x, %x, %b) {domain = "com.microsoft", attrs = {num_heads = 4 : i64}} : (tensor<1x?x64xf32>, tensor<1x?x64xf32>, tensor<1x?x64xf32>, tensor<192xf32>) -> (!onnx.value, !onnx.value, !onnx.value) loc("mha")
    return %y#0 : !onnx.value
  }
}

// -----

module attributes {onnx.opset = 17 : i64} {
  func.func @mha_present(%x: tensor<1x?x64xf32>) -> (!onnx.value, !onnx.value) {
    // CHECK: error: {{.*}}ONNX node 'mha' (com.microsoft.MultiHeadAttention): its present key/value or QK output is used, which is not converted (the present of a past graph input is the runtime's cache)
    %y:3 = onnx.node "MultiHeadAttention"(%x, %x, %x) {domain = "com.microsoft", attrs = {num_heads = 4 : i64}} : (tensor<1x?x64xf32>, tensor<1x?x64xf32>, tensor<1x?x64xf32>) -> (!onnx.value, !onnx.value, !onnx.value) loc("mha")
    return %y#0, %y#1 : !onnx.value, !onnx.value
  }
}

// -----

module attributes {onnx.opset = 17 : i64} {
  func.func @rotary_partial(%x: tensor<1x?x64xf32>, %pos: tensor<1x?xi64>, %c: tensor<32x8xf32>) -> !onnx.value {
    // CHECK: error: {{.*}}ONNX node 'rope' (com.microsoft.RotaryEmbedding): rotates 8 of 16 features (partial rotary), which is not converted
    %y = onnx.node "RotaryEmbedding"(%x, %pos, %c, %c) {domain = "com.microsoft", attrs = {num_heads = 4 : i64, rotary_embedding_dim = 8 : i64}} : (tensor<1x?x64xf32>, tensor<1x?xi64>, tensor<32x8xf32>, tensor<32x8xf32>) -> !onnx.value loc("rope")
    return %y : !onnx.value
  }
}

// -----

// The scalar position offset form of position_ids.
module attributes {onnx.opset = 17 : i64} {
  func.func @rotary_offset(%x: tensor<1x?x64xf32>, %pos: tensor<1xi64>, %c: tensor<32x8xf32>) -> !onnx.value {
    // CHECK: error: {{.*}}ONNX node 'rope' (com.microsoft.RotaryEmbedding): needs a 3-D or 4-D input, [batch, tokens] position_ids and cos/sin caches of one static [positions, head_size / 2] shape
    %y = onnx.node "RotaryEmbedding"(%x, %pos, %c, %c) {domain = "com.microsoft", attrs = {num_heads = 4 : i64}} : (tensor<1x?x64xf32>, tensor<1xi64>, tensor<32x8xf32>, tensor<32x8xf32>) -> !onnx.value loc("rope")
    return %y : !onnx.value
  }
}

// -----

module attributes {onnx.opset = 17 : i64} {
  func.func @rotary_heads_mismatch(%x: tensor<1x?x60xf32>, %pos: tensor<1x?xi64>, %c: tensor<32x8xf32>) -> !onnx.value {
    // CHECK: error: {{.*}}ONNX node 'rope' (com.microsoft.RotaryEmbedding): needs a hidden size of num_heads x head_size (cos_cache's width x 2)
    %y = onnx.node "RotaryEmbedding"(%x, %pos, %c, %c) {domain = "com.microsoft", attrs = {num_heads = 4 : i64}} : (tensor<1x?x60xf32>, tensor<1x?xi64>, tensor<32x8xf32>, tensor<32x8xf32>) -> !onnx.value loc("rope")
    return %y : !onnx.value
  }
}
