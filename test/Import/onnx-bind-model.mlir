// qtc-onnx-bind-model: a raised @main (tfm ops joined by residual onnx.Adds)
// becomes tfm.model in the canonical order, weights named by role, the
// configuration read off the raised ops; what does not fit is an error at
// the node where the structure breaks.

// RUN: not qtc-opt %s --split-input-file --qtc-onnx-bind-model='model-name=tiny' 2>/dev/null | FileCheck %s
// RUN: not qtc-opt %s --split-input-file --qtc-onnx-bind-model='model-name=tiny' 2>&1 >/dev/null | FileCheck %s --check-prefix=ERR

// A one-layer GQA decoder with a tied head, stored [in, out] (Transposes)
// except the value projection and the table; the MLP's residual Add lists
// its operands the other way round.
// ERR: warning: no config.json beside the model
// CHECK-LABEL: tfm.model @tiny
// CHECK-SAME: vocab_size = 16, hidden_size = 8, num_layers = 1, num_heads = 2, num_kv_heads = 1, head_dim = 4, intermediate_size = 12, max_positions = 2048, rms_norm_eps = 9.99999974E-6, rope_theta = 5.000000e+05, tie_word_embeddings = true
// CHECK-NEXT: ^bb0(%[[IDS:.*]]: tensor<?xi64>, %[[POS:.*]]: tensor<?xi64>):
// CHECK-NEXT: %[[E:.*]] = tfm.weight "model.embed_tokens.weight" : tensor<16x8xf32>
// CHECK-NEXT: %[[X:.*]] = tfm.embedding %[[E]], %[[IDS]]
// CHECK-NEXT: tfm.weight "model.layers.0.input_layernorm.weight" : tensor<8xf32>
// CHECK-NEXT: %[[N1:.*]] = tfm.rms_norm %[[X]]
// CHECK-NEXT: tfm.weight "model.layers.0.self_attn.q_proj.weight" : tensor<8x8xf32>
// CHECK-NEXT: %[[Q:.*]] = tfm.linear %[[N1]]
// CHECK-NEXT: tfm.weight "model.layers.0.self_attn.k_proj.weight" : tensor<4x8xf32>
// CHECK-NEXT: %[[K:.*]] = tfm.linear %[[N1]]
// CHECK-NEXT: tfm.weight "model.layers.0.self_attn.v_proj.weight" : tensor<4x8xf32>
// CHECK-NEXT: %[[V:.*]] = tfm.linear %[[N1]]
// CHECK-NEXT: %[[QR:.*]] = tfm.rope %[[Q]], %[[POS]] {head_dim = 4 : i64, theta = 5.000000e+05 : f32}
// CHECK-NEXT: %[[KR:.*]] = tfm.rope %[[K]], %[[POS]]
// CHECK-NEXT: %[[A:.*]] = tfm.attention %[[QR]], %[[KR]], %[[V]] {causal, head_dim = 4 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64, scale = 5.000000e-01 : f32}
// CHECK-NEXT: tfm.weight "model.layers.0.self_attn.o_proj.weight" : tensor<8x8xf32>
// CHECK-NEXT: %[[O:.*]] = tfm.linear %[[A]]
// CHECK-NEXT: %[[H:.*]] = tfm.add %[[X]], %[[O]] : tensor<?x8xf32>
// CHECK-NEXT: tfm.weight "model.layers.0.post_attention_layernorm.weight"
// CHECK-NEXT: %[[N2:.*]] = tfm.rms_norm %[[H]]
// CHECK-NEXT: tfm.weight "model.layers.0.mlp.gate_proj.weight" : tensor<12x8xf32>
// CHECK-NEXT: %[[G:.*]] = tfm.linear %[[N2]]
// CHECK-NEXT: tfm.weight "model.layers.0.mlp.up_proj.weight" : tensor<12x8xf32>
// CHECK-NEXT: %[[U:.*]] = tfm.linear %[[N2]]
// CHECK-NEXT: %[[S:.*]] = tfm.swiglu %[[G]], %[[U]]
// CHECK-NEXT: tfm.weight "model.layers.0.mlp.down_proj.weight" : tensor<8x12xf32>
// CHECK-NEXT: %[[D:.*]] = tfm.linear %[[S]]
// CHECK-NEXT: %[[Y:.*]] = tfm.add %[[H]], %[[D]]
// CHECK-NEXT: tfm.weight "model.norm.weight" : tensor<8xf32>
// CHECK-NEXT: %[[NF:.*]] = tfm.rms_norm %[[Y]]
// CHECK-NEXT: %[[L:.*]] = tfm.lm_head %[[NF]], %[[E]] : tensor<?x8xf32>, tensor<16x8xf32> -> tensor<?x16xf32>
// CHECK-NEXT: tfm.output %[[L]]
// CHECK-NOT: func.func

func.func @main(%ids: tensor<?xi64>, %pos: tensor<?xi64>) -> tensor<?x16xf32> {
  %emb = onnx.Constant dense<0.5> : tensor<16x8xf32> loc("embed")
  %n1w = onnx.Constant dense<1.0> : tensor<8xf32> loc("n1w")
  %wq = onnx.Constant dense<0.1> : tensor<8x8xf32> loc("wq")
  %wk = onnx.Constant dense<0.2> : tensor<8x4xf32> loc("wk")
  %wv = onnx.Constant dense<0.3> : tensor<4x8xf32> loc("wv")
  %wo = onnx.Constant dense<0.4> : tensor<8x8xf32> loc("wo")
  %n2w = onnx.Constant dense<1.0> : tensor<8xf32> loc("n2w")
  %wg = onnx.Constant dense<0.1> : tensor<8x12xf32> loc("wg")
  %wu = onnx.Constant dense<0.2> : tensor<8x12xf32> loc("wu")
  %wd = onnx.Constant dense<0.3> : tensor<12x8xf32> loc("wd")
  %nfw = onnx.Constant dense<1.0> : tensor<8xf32> loc("nfw")
  %x = tfm.embedding %emb, %ids : tensor<16x8xf32>, tensor<?xi64> -> tensor<?x8xf32> loc("gather")
  %n1 = tfm.rms_norm %x, %n1w {epsilon = 1.0e-05 : f32} : tensor<?x8xf32>, tensor<8xf32> loc("norm1")
  %tq = onnx.Transpose %wq {perm = array<i64: 1, 0>} : tensor<8x8xf32> -> tensor<8x8xf32>
  %q = tfm.linear %n1, %tq : tensor<?x8xf32>, tensor<8x8xf32> -> tensor<?x8xf32> loc("q")
  %tk = onnx.Transpose %wk {perm = array<i64: 1, 0>} : tensor<8x4xf32> -> tensor<4x8xf32>
  %k = tfm.linear %n1, %tk : tensor<?x8xf32>, tensor<4x8xf32> -> tensor<?x4xf32> loc("k")
  %v = tfm.linear %n1, %wv : tensor<?x8xf32>, tensor<4x8xf32> -> tensor<?x4xf32> loc("v")
  %qr = tfm.rope %q, %pos {head_dim = 4 : i64, theta = 5.0e+05 : f32} : tensor<?x8xf32>, tensor<?xi64> loc("rope_q")
  %kr = tfm.rope %k, %pos {head_dim = 4 : i64, theta = 5.0e+05 : f32} : tensor<?x4xf32>, tensor<?xi64> loc("rope_k")
  %a = tfm.attention %qr, %kr, %v {causal, head_dim = 4 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64, scale = 5.0e-01 : f32} : tensor<?x8xf32>, tensor<?x4xf32>, tensor<?x4xf32> loc("attn")
  %to = onnx.Transpose %wo {perm = array<i64: 1, 0>} : tensor<8x8xf32> -> tensor<8x8xf32>
  %o = tfm.linear %a, %to : tensor<?x8xf32>, tensor<8x8xf32> -> tensor<?x8xf32> loc("o")
  %h = onnx.Add %x, %o : tensor<?x8xf32>, tensor<?x8xf32> -> tensor<?x8xf32> loc("add1")
  %n2 = tfm.rms_norm %h, %n2w {epsilon = 1.0e-05 : f32} : tensor<?x8xf32>, tensor<8xf32> loc("norm2")
  %tg = onnx.Transpose %wg {perm = array<i64: 1, 0>} : tensor<8x12xf32> -> tensor<12x8xf32>
  %g = tfm.linear %n2, %tg : tensor<?x8xf32>, tensor<12x8xf32> -> tensor<?x12xf32> loc("gate")
  %tu = onnx.Transpose %wu {perm = array<i64: 1, 0>} : tensor<8x12xf32> -> tensor<12x8xf32>
  %u = tfm.linear %n2, %tu : tensor<?x8xf32>, tensor<12x8xf32> -> tensor<?x12xf32> loc("up")
  %s = tfm.swiglu %g, %u : tensor<?x12xf32> loc("swiglu")
  %td = onnx.Transpose %wd {perm = array<i64: 1, 0>} : tensor<12x8xf32> -> tensor<8x12xf32>
  %d = tfm.linear %s, %td : tensor<?x12xf32>, tensor<8x12xf32> -> tensor<?x8xf32> loc("down")
  %y = onnx.Add %d, %h : tensor<?x8xf32>, tensor<?x8xf32> -> tensor<?x8xf32> loc("add2")
  %nf = tfm.rms_norm %y, %nfw {epsilon = 1.0e-05 : f32} : tensor<?x8xf32>, tensor<8xf32> loc("normf")
  %l = tfm.linear %nf, %emb : tensor<?x8xf32>, tensor<16x8xf32> -> tensor<?x16xf32> loc("head")
  return %l : tensor<?x16xf32>
}

// -----

// int32 token ids [1, T], cast to int64 and collapsed on the way: the
// model's ids.
// CHECK-LABEL: tfm.model @tiny
// CHECK-NEXT: ^bb0(%[[IDS2:.*]]: tensor<?xi64>, %{{.*}}: tensor<?xi64>):
// CHECK-NEXT: %[[E2:.*]] = tfm.weight "model.embed_tokens.weight"
// CHECK-NEXT: tfm.embedding %[[E2]], %[[IDS2]]

func.func @main(%ids32: tensor<1x?xi32>, %pos: tensor<?xi64>) -> tensor<?x16xf32> {
  %emb = onnx.Constant dense<0.5> : tensor<16x8xf32> loc("embed")
  %n1w = onnx.Constant dense<1.0> : tensor<8xf32> loc("n1w")
  %wq = onnx.Constant dense<0.1> : tensor<8x8xf32> loc("wq")
  %wk = onnx.Constant dense<0.2> : tensor<8x4xf32> loc("wk")
  %wv = onnx.Constant dense<0.3> : tensor<4x8xf32> loc("wv")
  %wo = onnx.Constant dense<0.4> : tensor<8x8xf32> loc("wo")
  %n2w = onnx.Constant dense<1.0> : tensor<8xf32> loc("n2w")
  %wg = onnx.Constant dense<0.1> : tensor<8x12xf32> loc("wg")
  %wu = onnx.Constant dense<0.2> : tensor<8x12xf32> loc("wu")
  %wd = onnx.Constant dense<0.3> : tensor<12x8xf32> loc("wd")
  %nfw = onnx.Constant dense<1.0> : tensor<8xf32> loc("nfw")
  %ids64 = onnx.Cast %ids32 : tensor<1x?xi32> -> tensor<1x?xi64>
  %ids = tensor.collapse_shape %ids64 [[0, 1]] : tensor<1x?xi64> into tensor<?xi64>
  %x = tfm.embedding %emb, %ids : tensor<16x8xf32>, tensor<?xi64> -> tensor<?x8xf32> loc("gather")
  %n1 = tfm.rms_norm %x, %n1w {epsilon = 1.0e-05 : f32} : tensor<?x8xf32>, tensor<8xf32> loc("norm1")
  %tq = onnx.Transpose %wq {perm = array<i64: 1, 0>} : tensor<8x8xf32> -> tensor<8x8xf32>
  %q = tfm.linear %n1, %tq : tensor<?x8xf32>, tensor<8x8xf32> -> tensor<?x8xf32> loc("q")
  %tk = onnx.Transpose %wk {perm = array<i64: 1, 0>} : tensor<8x4xf32> -> tensor<4x8xf32>
  %k = tfm.linear %n1, %tk : tensor<?x8xf32>, tensor<4x8xf32> -> tensor<?x4xf32> loc("k")
  %v = tfm.linear %n1, %wv : tensor<?x8xf32>, tensor<4x8xf32> -> tensor<?x4xf32> loc("v")
  %qr = tfm.rope %q, %pos {head_dim = 4 : i64, theta = 5.0e+05 : f32} : tensor<?x8xf32>, tensor<?xi64> loc("rope_q")
  %kr = tfm.rope %k, %pos {head_dim = 4 : i64, theta = 5.0e+05 : f32} : tensor<?x4xf32>, tensor<?xi64> loc("rope_k")
  %a = tfm.attention %qr, %kr, %v {causal, head_dim = 4 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64, scale = 5.0e-01 : f32} : tensor<?x8xf32>, tensor<?x4xf32>, tensor<?x4xf32> loc("attn")
  %to = onnx.Transpose %wo {perm = array<i64: 1, 0>} : tensor<8x8xf32> -> tensor<8x8xf32>
  %o = tfm.linear %a, %to : tensor<?x8xf32>, tensor<8x8xf32> -> tensor<?x8xf32> loc("o")
  %h = onnx.Add %x, %o : tensor<?x8xf32>, tensor<?x8xf32> -> tensor<?x8xf32> loc("add1")
  %n2 = tfm.rms_norm %h, %n2w {epsilon = 1.0e-05 : f32} : tensor<?x8xf32>, tensor<8xf32> loc("norm2")
  %tg = onnx.Transpose %wg {perm = array<i64: 1, 0>} : tensor<8x12xf32> -> tensor<12x8xf32>
  %g = tfm.linear %n2, %tg : tensor<?x8xf32>, tensor<12x8xf32> -> tensor<?x12xf32> loc("gate")
  %tu = onnx.Transpose %wu {perm = array<i64: 1, 0>} : tensor<8x12xf32> -> tensor<12x8xf32>
  %u = tfm.linear %n2, %tu : tensor<?x8xf32>, tensor<12x8xf32> -> tensor<?x12xf32> loc("up")
  %s = tfm.swiglu %g, %u : tensor<?x12xf32> loc("swiglu")
  %td = onnx.Transpose %wd {perm = array<i64: 1, 0>} : tensor<12x8xf32> -> tensor<8x12xf32>
  %d = tfm.linear %s, %td : tensor<?x12xf32>, tensor<8x12xf32> -> tensor<?x8xf32> loc("down")
  %y = onnx.Add %d, %h : tensor<?x8xf32>, tensor<?x8xf32> -> tensor<?x8xf32> loc("add2")
  %nf = tfm.rms_norm %y, %nfw {epsilon = 1.0e-05 : f32} : tensor<?x8xf32>, tensor<8xf32> loc("normf")
  %l = tfm.linear %nf, %emb : tensor<?x8xf32>, tensor<16x8xf32> -> tensor<?x16xf32> loc("head")
  return %l : tensor<?x16xf32>
}

// -----

// An op no raising pass took is named with its op type.
// ERR: error: {{.*}}cannot raise ONNX node 'scores' (Softmax) to tfm: it is not part of a recognized pattern

func.func @main(%ids: tensor<?xi64>, %s: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %p = onnx.Softmax %s {axis = 1 : i64} : tensor<?x8xf32> -> tensor<?x8xf32> loc("scores")
  return %p : tensor<?x8xf32>
}

// -----

// Attention on an unrotated query: the structure breaks at the projection.
// ERR: error: {{.*}}cannot bind the raised decoder to tfm.model: 'q' (linear) is where the decoder needs the rotated query (tfm.rope)

func.func @main(%ids: tensor<?xi64>, %pos: tensor<?xi64>) -> tensor<?x16xf32> {
  %emb = onnx.Constant dense<0.5> : tensor<16x8xf32> loc("embed")
  %n1w = onnx.Constant dense<1.0> : tensor<8xf32> loc("n1w")
  %wq = onnx.Constant dense<0.1> : tensor<8x8xf32> loc("wq")
  %wk = onnx.Constant dense<0.2> : tensor<8x4xf32> loc("wk")
  %wv = onnx.Constant dense<0.3> : tensor<4x8xf32> loc("wv")
  %wo = onnx.Constant dense<0.4> : tensor<8x8xf32> loc("wo")
  %n2w = onnx.Constant dense<1.0> : tensor<8xf32> loc("n2w")
  %wg = onnx.Constant dense<0.1> : tensor<8x12xf32> loc("wg")
  %wu = onnx.Constant dense<0.2> : tensor<8x12xf32> loc("wu")
  %wd = onnx.Constant dense<0.3> : tensor<12x8xf32> loc("wd")
  %nfw = onnx.Constant dense<1.0> : tensor<8xf32> loc("nfw")
  %x = tfm.embedding %emb, %ids : tensor<16x8xf32>, tensor<?xi64> -> tensor<?x8xf32> loc("gather")
  %n1 = tfm.rms_norm %x, %n1w {epsilon = 1.0e-05 : f32} : tensor<?x8xf32>, tensor<8xf32> loc("norm1")
  %tq = onnx.Transpose %wq {perm = array<i64: 1, 0>} : tensor<8x8xf32> -> tensor<8x8xf32>
  %q = tfm.linear %n1, %tq : tensor<?x8xf32>, tensor<8x8xf32> -> tensor<?x8xf32> loc("q")
  %tk = onnx.Transpose %wk {perm = array<i64: 1, 0>} : tensor<8x4xf32> -> tensor<4x8xf32>
  %k = tfm.linear %n1, %tk : tensor<?x8xf32>, tensor<4x8xf32> -> tensor<?x4xf32> loc("k")
  %v = tfm.linear %n1, %wv : tensor<?x8xf32>, tensor<4x8xf32> -> tensor<?x4xf32> loc("v")
  %qr = tfm.rope %q, %pos {head_dim = 4 : i64, theta = 5.0e+05 : f32} : tensor<?x8xf32>, tensor<?xi64> loc("rope_q")
  %kr = tfm.rope %k, %pos {head_dim = 4 : i64, theta = 5.0e+05 : f32} : tensor<?x4xf32>, tensor<?xi64> loc("rope_k")
  %a = tfm.attention %q, %kr, %v {causal, head_dim = 4 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64, scale = 5.0e-01 : f32} : tensor<?x8xf32>, tensor<?x4xf32>, tensor<?x4xf32> loc("attn")
  %to = onnx.Transpose %wo {perm = array<i64: 1, 0>} : tensor<8x8xf32> -> tensor<8x8xf32>
  %o = tfm.linear %a, %to : tensor<?x8xf32>, tensor<8x8xf32> -> tensor<?x8xf32> loc("o")
  %h = onnx.Add %x, %o : tensor<?x8xf32>, tensor<?x8xf32> -> tensor<?x8xf32> loc("add1")
  %n2 = tfm.rms_norm %h, %n2w {epsilon = 1.0e-05 : f32} : tensor<?x8xf32>, tensor<8xf32> loc("norm2")
  %tg = onnx.Transpose %wg {perm = array<i64: 1, 0>} : tensor<8x12xf32> -> tensor<12x8xf32>
  %g = tfm.linear %n2, %tg : tensor<?x8xf32>, tensor<12x8xf32> -> tensor<?x12xf32> loc("gate")
  %tu = onnx.Transpose %wu {perm = array<i64: 1, 0>} : tensor<8x12xf32> -> tensor<12x8xf32>
  %u = tfm.linear %n2, %tu : tensor<?x8xf32>, tensor<12x8xf32> -> tensor<?x12xf32> loc("up")
  %s = tfm.swiglu %g, %u : tensor<?x12xf32> loc("swiglu")
  %td = onnx.Transpose %wd {perm = array<i64: 1, 0>} : tensor<12x8xf32> -> tensor<8x12xf32>
  %d = tfm.linear %s, %td : tensor<?x12xf32>, tensor<8x12xf32> -> tensor<?x8xf32> loc("down")
  %y = onnx.Add %d, %h : tensor<?x8xf32>, tensor<?x8xf32> -> tensor<?x8xf32> loc("add2")
  %nf = tfm.rms_norm %y, %nfw {epsilon = 1.0e-05 : f32} : tensor<?x8xf32>, tensor<8xf32> loc("normf")
  %l = tfm.linear %nf, %emb : tensor<?x8xf32>, tensor<16x8xf32> -> tensor<?x16xf32> loc("head")
  return %l : tensor<?x16xf32>
}

// -----

// A residual Add that adds no MLP branch.
// ERR: error: {{.*}}cannot bind the raised decoder to tfm.model: the residual 'add' (Add) adds no MLP output (a linear of a swiglu)

func.func @main(%ids: tensor<?xi64>) -> tensor<?x16xf32> {
  %emb = onnx.Constant dense<0.5> : tensor<16x8xf32> loc("embed")
  %nfw = onnx.Constant dense<1.0> : tensor<8xf32> loc("nfw")
  %x = tfm.embedding %emb, %ids : tensor<16x8xf32>, tensor<?xi64> -> tensor<?x8xf32> loc("gather")
  %y = onnx.Add %x, %x : tensor<?x8xf32>, tensor<?x8xf32> -> tensor<?x8xf32> loc("add")
  %nf = tfm.rms_norm %y, %nfw {epsilon = 1.0e-05 : f32} : tensor<?x8xf32>, tensor<8xf32> loc("normf")
  %l = tfm.linear %nf, %emb : tensor<?x8xf32>, tensor<16x8xf32> -> tensor<?x16xf32> loc("head")
  return %l : tensor<?x16xf32>
}

// -----

// An embedding, a norm and a head are no decoder.
// ERR: error: {{.*}}cannot bind the raised decoder to tfm.model: no decoder layer between the embedding and the final norm

func.func @main(%ids: tensor<?xi64>) -> tensor<?x16xf32> {
  %emb = onnx.Constant dense<0.5> : tensor<16x8xf32> loc("embed")
  %nfw = onnx.Constant dense<1.0> : tensor<8xf32> loc("nfw")
  %x = tfm.embedding %emb, %ids : tensor<16x8xf32>, tensor<?xi64> -> tensor<?x8xf32> loc("gather")
  %nf = tfm.rms_norm %x, %nfw {epsilon = 1.0e-05 : f32} : tensor<?x8xf32>, tensor<8xf32> loc("normf")
  %l = tfm.linear %nf, %emb : tensor<?x8xf32>, tensor<16x8xf32> -> tensor<?x16xf32> loc("head")
  return %l : tensor<?x16xf32>
}

// -----

// The logits must come from a linear (the lm_head).
// ERR: error: {{.*}}cannot bind the raised decoder to tfm.model: 'normf' (rms_norm) is where the decoder needs the lm_head (tfm.linear)

func.func @main(%ids: tensor<?xi64>) -> tensor<?x8xf32> {
  %emb = onnx.Constant dense<0.5> : tensor<16x8xf32> loc("embed")
  %nfw = onnx.Constant dense<1.0> : tensor<8xf32> loc("nfw")
  %x = tfm.embedding %emb, %ids : tensor<16x8xf32>, tensor<?xi64> -> tensor<?x8xf32> loc("gather")
  %nf = tfm.rms_norm %x, %nfw {epsilon = 1.0e-05 : f32} : tensor<?x8xf32>, tensor<8xf32> loc("normf")
  return %nf : tensor<?x8xf32>
}

// -----

// One epsilon for the model: norms that disagree are named.
// ERR: error: {{.*}}cannot bind the raised decoder to tfm.model: 'norm2' (rms_norm) has another epsilon than 'normf' (rms_norm); tfm.model states one for every layer

func.func @main(%ids: tensor<?xi64>, %pos: tensor<?xi64>) -> tensor<?x16xf32> {
  %emb = onnx.Constant dense<0.5> : tensor<16x8xf32> loc("embed")
  %n1w = onnx.Constant dense<1.0> : tensor<8xf32> loc("n1w")
  %wq = onnx.Constant dense<0.1> : tensor<8x8xf32> loc("wq")
  %wk = onnx.Constant dense<0.2> : tensor<8x4xf32> loc("wk")
  %wv = onnx.Constant dense<0.3> : tensor<4x8xf32> loc("wv")
  %wo = onnx.Constant dense<0.4> : tensor<8x8xf32> loc("wo")
  %n2w = onnx.Constant dense<1.0> : tensor<8xf32> loc("n2w")
  %wg = onnx.Constant dense<0.1> : tensor<8x12xf32> loc("wg")
  %wu = onnx.Constant dense<0.2> : tensor<8x12xf32> loc("wu")
  %wd = onnx.Constant dense<0.3> : tensor<12x8xf32> loc("wd")
  %nfw = onnx.Constant dense<1.0> : tensor<8xf32> loc("nfw")
  %x = tfm.embedding %emb, %ids : tensor<16x8xf32>, tensor<?xi64> -> tensor<?x8xf32> loc("gather")
  %n1 = tfm.rms_norm %x, %n1w {epsilon = 1.0e-05 : f32} : tensor<?x8xf32>, tensor<8xf32> loc("norm1")
  %tq = onnx.Transpose %wq {perm = array<i64: 1, 0>} : tensor<8x8xf32> -> tensor<8x8xf32>
  %q = tfm.linear %n1, %tq : tensor<?x8xf32>, tensor<8x8xf32> -> tensor<?x8xf32> loc("q")
  %tk = onnx.Transpose %wk {perm = array<i64: 1, 0>} : tensor<8x4xf32> -> tensor<4x8xf32>
  %k = tfm.linear %n1, %tk : tensor<?x8xf32>, tensor<4x8xf32> -> tensor<?x4xf32> loc("k")
  %v = tfm.linear %n1, %wv : tensor<?x8xf32>, tensor<4x8xf32> -> tensor<?x4xf32> loc("v")
  %qr = tfm.rope %q, %pos {head_dim = 4 : i64, theta = 5.0e+05 : f32} : tensor<?x8xf32>, tensor<?xi64> loc("rope_q")
  %kr = tfm.rope %k, %pos {head_dim = 4 : i64, theta = 5.0e+05 : f32} : tensor<?x4xf32>, tensor<?xi64> loc("rope_k")
  %a = tfm.attention %qr, %kr, %v {causal, head_dim = 4 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64, scale = 5.0e-01 : f32} : tensor<?x8xf32>, tensor<?x4xf32>, tensor<?x4xf32> loc("attn")
  %to = onnx.Transpose %wo {perm = array<i64: 1, 0>} : tensor<8x8xf32> -> tensor<8x8xf32>
  %o = tfm.linear %a, %to : tensor<?x8xf32>, tensor<8x8xf32> -> tensor<?x8xf32> loc("o")
  %h = onnx.Add %x, %o : tensor<?x8xf32>, tensor<?x8xf32> -> tensor<?x8xf32> loc("add1")
  %n2 = tfm.rms_norm %h, %n2w {epsilon = 1.0e-06 : f32} : tensor<?x8xf32>, tensor<8xf32> loc("norm2")
  %tg = onnx.Transpose %wg {perm = array<i64: 1, 0>} : tensor<8x12xf32> -> tensor<12x8xf32>
  %g = tfm.linear %n2, %tg : tensor<?x8xf32>, tensor<12x8xf32> -> tensor<?x12xf32> loc("gate")
  %tu = onnx.Transpose %wu {perm = array<i64: 1, 0>} : tensor<8x12xf32> -> tensor<12x8xf32>
  %u = tfm.linear %n2, %tu : tensor<?x8xf32>, tensor<12x8xf32> -> tensor<?x12xf32> loc("up")
  %s = tfm.swiglu %g, %u : tensor<?x12xf32> loc("swiglu")
  %td = onnx.Transpose %wd {perm = array<i64: 1, 0>} : tensor<12x8xf32> -> tensor<8x12xf32>
  %d = tfm.linear %s, %td : tensor<?x12xf32>, tensor<8x12xf32> -> tensor<?x8xf32> loc("down")
  %y = onnx.Add %d, %h : tensor<?x8xf32>, tensor<?x8xf32> -> tensor<?x8xf32> loc("add2")
  %nf = tfm.rms_norm %y, %nfw {epsilon = 1.0e-05 : f32} : tensor<?x8xf32>, tensor<8xf32> loc("normf")
  %l = tfm.linear %nf, %emb : tensor<?x8xf32>, tensor<16x8xf32> -> tensor<?x16xf32> loc("head")
  return %l : tensor<?x16xf32>
}

// -----

// A raised op the decoder does not use.
// ERR: error: {{.*}}cannot bind the raised decoder to tfm.model: 'stray' (silu) is not part of the decoder

func.func @main(%ids: tensor<?xi64>, %pos: tensor<?xi64>) -> tensor<?x16xf32> {
  %emb = onnx.Constant dense<0.5> : tensor<16x8xf32> loc("embed")
  %n1w = onnx.Constant dense<1.0> : tensor<8xf32> loc("n1w")
  %wq = onnx.Constant dense<0.1> : tensor<8x8xf32> loc("wq")
  %wk = onnx.Constant dense<0.2> : tensor<8x4xf32> loc("wk")
  %wv = onnx.Constant dense<0.3> : tensor<4x8xf32> loc("wv")
  %wo = onnx.Constant dense<0.4> : tensor<8x8xf32> loc("wo")
  %n2w = onnx.Constant dense<1.0> : tensor<8xf32> loc("n2w")
  %wg = onnx.Constant dense<0.1> : tensor<8x12xf32> loc("wg")
  %wu = onnx.Constant dense<0.2> : tensor<8x12xf32> loc("wu")
  %wd = onnx.Constant dense<0.3> : tensor<12x8xf32> loc("wd")
  %nfw = onnx.Constant dense<1.0> : tensor<8xf32> loc("nfw")
  %x = tfm.embedding %emb, %ids : tensor<16x8xf32>, tensor<?xi64> -> tensor<?x8xf32> loc("gather")
  %n1 = tfm.rms_norm %x, %n1w {epsilon = 1.0e-05 : f32} : tensor<?x8xf32>, tensor<8xf32> loc("norm1")
  %tq = onnx.Transpose %wq {perm = array<i64: 1, 0>} : tensor<8x8xf32> -> tensor<8x8xf32>
  %q = tfm.linear %n1, %tq : tensor<?x8xf32>, tensor<8x8xf32> -> tensor<?x8xf32> loc("q")
  %tk = onnx.Transpose %wk {perm = array<i64: 1, 0>} : tensor<8x4xf32> -> tensor<4x8xf32>
  %k = tfm.linear %n1, %tk : tensor<?x8xf32>, tensor<4x8xf32> -> tensor<?x4xf32> loc("k")
  %v = tfm.linear %n1, %wv : tensor<?x8xf32>, tensor<4x8xf32> -> tensor<?x4xf32> loc("v")
  %qr = tfm.rope %q, %pos {head_dim = 4 : i64, theta = 5.0e+05 : f32} : tensor<?x8xf32>, tensor<?xi64> loc("rope_q")
  %kr = tfm.rope %k, %pos {head_dim = 4 : i64, theta = 5.0e+05 : f32} : tensor<?x4xf32>, tensor<?xi64> loc("rope_k")
  %a = tfm.attention %qr, %kr, %v {causal, head_dim = 4 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64, scale = 5.0e-01 : f32} : tensor<?x8xf32>, tensor<?x4xf32>, tensor<?x4xf32> loc("attn")
  %to = onnx.Transpose %wo {perm = array<i64: 1, 0>} : tensor<8x8xf32> -> tensor<8x8xf32>
  %o = tfm.linear %a, %to : tensor<?x8xf32>, tensor<8x8xf32> -> tensor<?x8xf32> loc("o")
  %h = onnx.Add %x, %o : tensor<?x8xf32>, tensor<?x8xf32> -> tensor<?x8xf32> loc("add1")
  %n2 = tfm.rms_norm %h, %n2w {epsilon = 1.0e-05 : f32} : tensor<?x8xf32>, tensor<8xf32> loc("norm2")
  %tg = onnx.Transpose %wg {perm = array<i64: 1, 0>} : tensor<8x12xf32> -> tensor<12x8xf32>
  %g = tfm.linear %n2, %tg : tensor<?x8xf32>, tensor<12x8xf32> -> tensor<?x12xf32> loc("gate")
  %tu = onnx.Transpose %wu {perm = array<i64: 1, 0>} : tensor<8x12xf32> -> tensor<12x8xf32>
  %u = tfm.linear %n2, %tu : tensor<?x8xf32>, tensor<12x8xf32> -> tensor<?x12xf32> loc("up")
  %s = tfm.swiglu %g, %u : tensor<?x12xf32> loc("swiglu")
  %td = onnx.Transpose %wd {perm = array<i64: 1, 0>} : tensor<12x8xf32> -> tensor<8x12xf32>
  %d = tfm.linear %s, %td : tensor<?x12xf32>, tensor<8x12xf32> -> tensor<?x8xf32> loc("down")
  %y = onnx.Add %d, %h : tensor<?x8xf32>, tensor<?x8xf32> -> tensor<?x8xf32> loc("add2")
  %stray = tfm.silu %g : tensor<?x12xf32> loc("stray")
  %nf = tfm.rms_norm %y, %nfw {epsilon = 1.0e-05 : f32} : tensor<?x8xf32>, tensor<8xf32> loc("normf")
  %l = tfm.linear %nf, %emb : tensor<?x8xf32>, tensor<16x8xf32> -> tensor<?x16xf32> loc("head")
  return %l : tensor<?x16xf32>
}

// -----

// A rope between feature Gathers (interleaved RoPE) must be permuted back by
// the inverse of the permutation before it.
// ERR: error: {{.*}}cannot bind the raised decoder to tfm.model: 'rope_q' (rope) is permuted back by a Gather that undoes no permutation of its input

func.func @main(%ids: tensor<?xi64>, %pos: tensor<?xi64>) -> tensor<?x16xf32> {
  %emb = onnx.Constant dense<0.5> : tensor<16x8xf32> loc("embed")
  %n1w = onnx.Constant dense<1.0> : tensor<8xf32> loc("n1w")
  %wq = onnx.Constant dense<0.1> : tensor<8x8xf32> loc("wq")
  %wk = onnx.Constant dense<0.2> : tensor<8x4xf32> loc("wk")
  %wv = onnx.Constant dense<0.3> : tensor<4x8xf32> loc("wv")
  %wo = onnx.Constant dense<0.4> : tensor<8x8xf32> loc("wo")
  %n2w = onnx.Constant dense<1.0> : tensor<8xf32> loc("n2w")
  %wg = onnx.Constant dense<0.1> : tensor<8x12xf32> loc("wg")
  %wu = onnx.Constant dense<0.2> : tensor<8x12xf32> loc("wu")
  %wd = onnx.Constant dense<0.3> : tensor<12x8xf32> loc("wd")
  %nfw = onnx.Constant dense<1.0> : tensor<8xf32> loc("nfw")
  %x = tfm.embedding %emb, %ids : tensor<16x8xf32>, tensor<?xi64> -> tensor<?x8xf32> loc("gather")
  %n1 = tfm.rms_norm %x, %n1w {epsilon = 1.0e-05 : f32} : tensor<?x8xf32>, tensor<8xf32> loc("norm1")
  %tq = onnx.Transpose %wq {perm = array<i64: 1, 0>} : tensor<8x8xf32> -> tensor<8x8xf32>
  %q = tfm.linear %n1, %tq : tensor<?x8xf32>, tensor<8x8xf32> -> tensor<?x8xf32> loc("q")
  %tk = onnx.Transpose %wk {perm = array<i64: 1, 0>} : tensor<8x4xf32> -> tensor<4x8xf32>
  %k = tfm.linear %n1, %tk : tensor<?x8xf32>, tensor<4x8xf32> -> tensor<?x4xf32> loc("k")
  %v = tfm.linear %n1, %wv : tensor<?x8xf32>, tensor<4x8xf32> -> tensor<?x4xf32> loc("v")
  %perm = onnx.Constant dense<[1, 2, 3, 0, 5, 6, 7, 4]> : tensor<8xi64>
  %qp = onnx.Gather %q, %perm {axis = 1 : i64} : tensor<?x8xf32>, tensor<8xi64> -> tensor<?x8xf32>
  %qr0 = tfm.rope %qp, %pos {head_dim = 4 : i64, theta = 5.0e+05 : f32} : tensor<?x8xf32>, tensor<?xi64> loc("rope_q")
  %qr = onnx.Gather %qr0, %perm {axis = 1 : i64} : tensor<?x8xf32>, tensor<8xi64> -> tensor<?x8xf32>
  %kr = tfm.rope %k, %pos {head_dim = 4 : i64, theta = 5.0e+05 : f32} : tensor<?x4xf32>, tensor<?xi64> loc("rope_k")
  %a = tfm.attention %qr, %kr, %v {causal, head_dim = 4 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64, scale = 5.0e-01 : f32} : tensor<?x8xf32>, tensor<?x4xf32>, tensor<?x4xf32> loc("attn")
  %to = onnx.Transpose %wo {perm = array<i64: 1, 0>} : tensor<8x8xf32> -> tensor<8x8xf32>
  %o = tfm.linear %a, %to : tensor<?x8xf32>, tensor<8x8xf32> -> tensor<?x8xf32> loc("o")
  %h = onnx.Add %x, %o : tensor<?x8xf32>, tensor<?x8xf32> -> tensor<?x8xf32> loc("add1")
  %n2 = tfm.rms_norm %h, %n2w {epsilon = 1.0e-05 : f32} : tensor<?x8xf32>, tensor<8xf32> loc("norm2")
  %tg = onnx.Transpose %wg {perm = array<i64: 1, 0>} : tensor<8x12xf32> -> tensor<12x8xf32>
  %g = tfm.linear %n2, %tg : tensor<?x8xf32>, tensor<12x8xf32> -> tensor<?x12xf32> loc("gate")
  %tu = onnx.Transpose %wu {perm = array<i64: 1, 0>} : tensor<8x12xf32> -> tensor<12x8xf32>
  %u = tfm.linear %n2, %tu : tensor<?x8xf32>, tensor<12x8xf32> -> tensor<?x12xf32> loc("up")
  %s = tfm.swiglu %g, %u : tensor<?x12xf32> loc("swiglu")
  %td = onnx.Transpose %wd {perm = array<i64: 1, 0>} : tensor<12x8xf32> -> tensor<8x12xf32>
  %d = tfm.linear %s, %td : tensor<?x12xf32>, tensor<8x12xf32> -> tensor<?x8xf32> loc("down")
  %y = onnx.Add %d, %h : tensor<?x8xf32>, tensor<?x8xf32> -> tensor<?x8xf32> loc("add2")
  %nf = tfm.rms_norm %y, %nfw {epsilon = 1.0e-05 : f32} : tensor<?x8xf32>, tensor<8xf32> loc("normf")
  %l = tfm.linear %nf, %emb : tensor<?x8xf32>, tensor<16x8xf32> -> tensor<?x16xf32> loc("head")
  return %l : tensor<?x16xf32>
}

// -----

// tfm.model's decoder normalizes by RMSNorm: a LayerNorm decoder is named
// where it differs.
// ERR: error: {{.*}}cannot bind the raised decoder to tfm.model: 'norm1' (layer_norm) is where the decoder needs the input RMSNorm (tfm.rms_norm)

func.func @main(%ids: tensor<?xi64>, %pos: tensor<?xi64>) -> tensor<?x16xf32> {
  %emb = onnx.Constant dense<0.5> : tensor<16x8xf32> loc("embed")
  %n1w = onnx.Constant dense<1.0> : tensor<8xf32> loc("n1w")
  %wq = onnx.Constant dense<0.1> : tensor<8x8xf32> loc("wq")
  %wk = onnx.Constant dense<0.2> : tensor<8x4xf32> loc("wk")
  %wv = onnx.Constant dense<0.3> : tensor<4x8xf32> loc("wv")
  %wo = onnx.Constant dense<0.4> : tensor<8x8xf32> loc("wo")
  %n2w = onnx.Constant dense<1.0> : tensor<8xf32> loc("n2w")
  %wg = onnx.Constant dense<0.1> : tensor<8x12xf32> loc("wg")
  %wu = onnx.Constant dense<0.2> : tensor<8x12xf32> loc("wu")
  %wd = onnx.Constant dense<0.3> : tensor<12x8xf32> loc("wd")
  %nfw = onnx.Constant dense<1.0> : tensor<8xf32> loc("nfw")
  %x = tfm.embedding %emb, %ids : tensor<16x8xf32>, tensor<?xi64> -> tensor<?x8xf32> loc("gather")
  %n1b = onnx.Constant dense<0.0> : tensor<8xf32> loc("n1b")
  %n1 = tfm.layer_norm %x, %n1w, %n1b {epsilon = 1.0e-05 : f32} : tensor<?x8xf32>, tensor<8xf32>, tensor<8xf32> loc("norm1")
  %tq = onnx.Transpose %wq {perm = array<i64: 1, 0>} : tensor<8x8xf32> -> tensor<8x8xf32>
  %q = tfm.linear %n1, %tq : tensor<?x8xf32>, tensor<8x8xf32> -> tensor<?x8xf32> loc("q")
  %tk = onnx.Transpose %wk {perm = array<i64: 1, 0>} : tensor<8x4xf32> -> tensor<4x8xf32>
  %k = tfm.linear %n1, %tk : tensor<?x8xf32>, tensor<4x8xf32> -> tensor<?x4xf32> loc("k")
  %v = tfm.linear %n1, %wv : tensor<?x8xf32>, tensor<4x8xf32> -> tensor<?x4xf32> loc("v")
  %qr = tfm.rope %q, %pos {head_dim = 4 : i64, theta = 5.0e+05 : f32} : tensor<?x8xf32>, tensor<?xi64> loc("rope_q")
  %kr = tfm.rope %k, %pos {head_dim = 4 : i64, theta = 5.0e+05 : f32} : tensor<?x4xf32>, tensor<?xi64> loc("rope_k")
  %a = tfm.attention %qr, %kr, %v {causal, head_dim = 4 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64, scale = 5.0e-01 : f32} : tensor<?x8xf32>, tensor<?x4xf32>, tensor<?x4xf32> loc("attn")
  %to = onnx.Transpose %wo {perm = array<i64: 1, 0>} : tensor<8x8xf32> -> tensor<8x8xf32>
  %o = tfm.linear %a, %to : tensor<?x8xf32>, tensor<8x8xf32> -> tensor<?x8xf32> loc("o")
  %h = onnx.Add %x, %o : tensor<?x8xf32>, tensor<?x8xf32> -> tensor<?x8xf32> loc("add1")
  %n2 = tfm.rms_norm %h, %n2w {epsilon = 1.0e-05 : f32} : tensor<?x8xf32>, tensor<8xf32> loc("norm2")
  %tg = onnx.Transpose %wg {perm = array<i64: 1, 0>} : tensor<8x12xf32> -> tensor<12x8xf32>
  %g = tfm.linear %n2, %tg : tensor<?x8xf32>, tensor<12x8xf32> -> tensor<?x12xf32> loc("gate")
  %tu = onnx.Transpose %wu {perm = array<i64: 1, 0>} : tensor<8x12xf32> -> tensor<12x8xf32>
  %u = tfm.linear %n2, %tu : tensor<?x8xf32>, tensor<12x8xf32> -> tensor<?x12xf32> loc("up")
  %s = tfm.swiglu %g, %u : tensor<?x12xf32> loc("swiglu")
  %td = onnx.Transpose %wd {perm = array<i64: 1, 0>} : tensor<12x8xf32> -> tensor<8x12xf32>
  %d = tfm.linear %s, %td : tensor<?x12xf32>, tensor<8x12xf32> -> tensor<?x8xf32> loc("down")
  %y = onnx.Add %d, %h : tensor<?x8xf32>, tensor<?x8xf32> -> tensor<?x8xf32> loc("add2")
  %nf = tfm.rms_norm %y, %nfw {epsilon = 1.0e-05 : f32} : tensor<?x8xf32>, tensor<8xf32> loc("normf")
  %l = tfm.linear %nf, %emb : tensor<?x8xf32>, tensor<16x8xf32> -> tensor<?x16xf32> loc("head")
  return %l : tensor<?x16xf32>
}

// -----

// ... and its MLP is SwiGLU: a GELU MLP's residual Add adds no such branch.
// ERR: error: {{.*}}cannot bind the raised decoder to tfm.model: the residual 'add2' (Add) adds no MLP output (a linear of a swiglu)

func.func @main(%ids: tensor<?xi64>, %pos: tensor<?xi64>) -> tensor<?x16xf32> {
  %emb = onnx.Constant dense<0.5> : tensor<16x8xf32> loc("embed")
  %n1w = onnx.Constant dense<1.0> : tensor<8xf32> loc("n1w")
  %wq = onnx.Constant dense<0.1> : tensor<8x8xf32> loc("wq")
  %wk = onnx.Constant dense<0.2> : tensor<8x4xf32> loc("wk")
  %wv = onnx.Constant dense<0.3> : tensor<4x8xf32> loc("wv")
  %wo = onnx.Constant dense<0.4> : tensor<8x8xf32> loc("wo")
  %n2w = onnx.Constant dense<1.0> : tensor<8xf32> loc("n2w")
  %wg = onnx.Constant dense<0.1> : tensor<8x12xf32> loc("wg")
  %wu = onnx.Constant dense<0.2> : tensor<8x12xf32> loc("wu")
  %wd = onnx.Constant dense<0.3> : tensor<12x8xf32> loc("wd")
  %nfw = onnx.Constant dense<1.0> : tensor<8xf32> loc("nfw")
  %x = tfm.embedding %emb, %ids : tensor<16x8xf32>, tensor<?xi64> -> tensor<?x8xf32> loc("gather")
  %n1 = tfm.rms_norm %x, %n1w {epsilon = 1.0e-05 : f32} : tensor<?x8xf32>, tensor<8xf32> loc("norm1")
  %tq = onnx.Transpose %wq {perm = array<i64: 1, 0>} : tensor<8x8xf32> -> tensor<8x8xf32>
  %q = tfm.linear %n1, %tq : tensor<?x8xf32>, tensor<8x8xf32> -> tensor<?x8xf32> loc("q")
  %tk = onnx.Transpose %wk {perm = array<i64: 1, 0>} : tensor<8x4xf32> -> tensor<4x8xf32>
  %k = tfm.linear %n1, %tk : tensor<?x8xf32>, tensor<4x8xf32> -> tensor<?x4xf32> loc("k")
  %v = tfm.linear %n1, %wv : tensor<?x8xf32>, tensor<4x8xf32> -> tensor<?x4xf32> loc("v")
  %qr = tfm.rope %q, %pos {head_dim = 4 : i64, theta = 5.0e+05 : f32} : tensor<?x8xf32>, tensor<?xi64> loc("rope_q")
  %kr = tfm.rope %k, %pos {head_dim = 4 : i64, theta = 5.0e+05 : f32} : tensor<?x4xf32>, tensor<?xi64> loc("rope_k")
  %a = tfm.attention %qr, %kr, %v {causal, head_dim = 4 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64, scale = 5.0e-01 : f32} : tensor<?x8xf32>, tensor<?x4xf32>, tensor<?x4xf32> loc("attn")
  %to = onnx.Transpose %wo {perm = array<i64: 1, 0>} : tensor<8x8xf32> -> tensor<8x8xf32>
  %o = tfm.linear %a, %to : tensor<?x8xf32>, tensor<8x8xf32> -> tensor<?x8xf32> loc("o")
  %h = onnx.Add %x, %o : tensor<?x8xf32>, tensor<?x8xf32> -> tensor<?x8xf32> loc("add1")
  %n2 = tfm.rms_norm %h, %n2w {epsilon = 1.0e-05 : f32} : tensor<?x8xf32>, tensor<8xf32> loc("norm2")
  %tg = onnx.Transpose %wg {perm = array<i64: 1, 0>} : tensor<8x12xf32> -> tensor<12x8xf32>
  %g = tfm.linear %n2, %tg : tensor<?x8xf32>, tensor<12x8xf32> -> tensor<?x12xf32> loc("gate")
  %tu = onnx.Transpose %wu {perm = array<i64: 1, 0>} : tensor<8x12xf32> -> tensor<12x8xf32>
  %u = tfm.linear %n2, %tu : tensor<?x8xf32>, tensor<12x8xf32> -> tensor<?x12xf32> loc("up")
  %s = tfm.gelu %g : tensor<?x12xf32> loc("gelu")
  %td = onnx.Transpose %wd {perm = array<i64: 1, 0>} : tensor<12x8xf32> -> tensor<8x12xf32>
  %d = tfm.linear %s, %td : tensor<?x12xf32>, tensor<8x12xf32> -> tensor<?x8xf32> loc("down")
  %y = onnx.Add %d, %h : tensor<?x8xf32>, tensor<?x8xf32> -> tensor<?x8xf32> loc("add2")
  %nf = tfm.rms_norm %y, %nfw {epsilon = 1.0e-05 : f32} : tensor<?x8xf32>, tensor<8xf32> loc("normf")
  %l = tfm.linear %nf, %emb : tensor<?x8xf32>, tensor<16x8xf32> -> tensor<?x16xf32> loc("head")
  return %l : tensor<?x16xf32>
}
