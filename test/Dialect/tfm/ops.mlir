// RUN: qtc-opt %s --verify-roundtrip | FileCheck %s

// Every tfm op and attribute in its custom assembly form. Ops other than
// tfm.model and tfm.output are shown inside func.func so that each case can
// take its operands as arguments.

// CHECK-LABEL: tfm.model @tiny
// CHECK-SAME:    config = #tfm.model_config<architecture = "LlamaForCausalLM", vocab_size = 32, hidden_size = 8, num_layers = 2, num_heads = 2, num_kv_heads = 1, head_dim = 4, intermediate_size = 16, max_positions = 64, rms_norm_eps = 9.99999997E-7, rope_theta = 5.000000e+05, tie_word_embeddings = true, rope_scaling = <kind = llama3, factor = 8.000000e+00, original_max_positions = 8192>>
// CHECK-NEXT:  ^bb0(%[[IDS:.*]]: tensor<?xi64>, %[[POS:.*]]: tensor<?xi64>):
// CHECK-NEXT:    %[[E:.*]] = tfm.weight "model.embed_tokens.weight" : tensor<32x8xbf16>
// CHECK-NEXT:    %[[X:.*]] = tfm.embedding %[[E]], %[[IDS]] : tensor<32x8xbf16>, tensor<?xi64> -> tensor<?x8xf32>
// CHECK-NEXT:    %[[L:.*]] = tfm.lm_head %[[X]], %[[E]] : tensor<?x8xf32>, tensor<32x8xbf16> -> tensor<?x32xf32>
// CHECK-NEXT:    tfm.output %[[L]] : tensor<?x32xf32>
tfm.model @tiny attributes {config = #tfm.model_config<
    architecture = "LlamaForCausalLM", vocab_size = 32, hidden_size = 8,
    num_layers = 2, num_heads = 2, num_kv_heads = 1, head_dim = 4,
    intermediate_size = 16, max_positions = 64, rms_norm_eps = 1.0e-06,
    rope_theta = 5.0e+05, tie_word_embeddings = true,
    rope_scaling = <kind = llama3, factor = 8.0, low_freq_factor = 1.0,
                    high_freq_factor = 4.0, original_max_positions = 8192>>} {
^bb0(%ids: tensor<?xi64>, %pos: tensor<?xi64>):
  %emb = tfm.weight "model.embed_tokens.weight" : tensor<32x8xbf16>
  %x = tfm.embedding %emb, %ids : tensor<32x8xbf16>, tensor<?xi64> -> tensor<?x8xf32>
  %logits = tfm.lm_head %x, %emb : tensor<?x8xf32>, tensor<32x8xbf16> -> tensor<?x32xf32>
  tfm.output %logits : tensor<?x32xf32>
}

// The full attribute form of the config, with the defaults left out: ids
// -1, untied embeddings, no RoPE scaling.
// CHECK-LABEL: tfm.model @defaults
// CHECK-SAME:    rope_theta = 1.000000e+04>}
tfm.model @defaults attributes {config = #tfm.model_config<
    architecture = "GPT", vocab_size = 16, hidden_size = 4, num_layers = 1,
    num_heads = 1, num_kv_heads = 1, head_dim = 4, intermediate_size = 8,
    max_positions = 32, rms_norm_eps = 1.0e-05, rope_theta = 1.0e+04,
    bos_token_id = -1, eos_token_id = -1, tie_word_embeddings = false>} {
^bb0(%ids: tensor<?xi64>, %pos: tensor<?xi64>):
  %emb = tfm.weight "wte" : tensor<16x4xf32>
  %x = tfm.embedding %emb, %ids : tensor<16x4xf32>, tensor<?xi64> -> tensor<?x4xf32>
  %logits = tfm.lm_head %x, %emb : tensor<?x4xf32>, tensor<16x4xf32> -> tensor<?x16xf32>
  tfm.output %logits : tensor<?x16xf32>
}

// CHECK-LABEL: func.func @weights
func.func @weights() -> (tensor<4x8xf16>, tensor<8xf32>, tensor<4x2xi8>) {
  // CHECK: tfm.weight "w" : tensor<4x8xf16>
  %0 = tfm.weight "w" : tensor<4x8xf16>
  // CHECK: tfm.weight "model.norm.weight" : tensor<8xf32>
  %1 = tfm.weight "model.norm.weight" : tensor<8xf32>
  // Pre-quantized checkpoints carry packed integer tensors.
  // CHECK: tfm.weight "qweight" : tensor<4x2xi8>
  %2 = tfm.weight "qweight" : tensor<4x2xi8>
  return %0, %1, %2 : tensor<4x8xf16>, tensor<8xf32>, tensor<4x2xi8>
}

// CHECK-LABEL: func.func @embedding
func.func @embedding(%table: tensor<32x8xf16>, %ids: tensor<?xi64>, %ids32: tensor<5xi32>) {
  // CHECK: tfm.embedding %{{.*}}, %{{.*}} : tensor<32x8xf16>, tensor<?xi64> -> tensor<?x8xf32>
  %0 = tfm.embedding %table, %ids : tensor<32x8xf16>, tensor<?xi64> -> tensor<?x8xf32>
  // CHECK: tfm.embedding %{{.*}}, %{{.*}} : tensor<32x8xf16>, tensor<5xi32> -> tensor<5x8xf16>
  %1 = tfm.embedding %table, %ids32 : tensor<32x8xf16>, tensor<5xi32> -> tensor<5x8xf16>
  return
}

// CHECK-LABEL: func.func @norms
func.func @norms(%x: tensor<?x8xf32>, %w: tensor<8xf16>, %b: tensor<8xf16>) {
  // CHECK: tfm.rms_norm %{{.*}}, %{{.*}} {epsilon = 9.99999997E-7 : f32} : tensor<?x8xf32>, tensor<8xf16>
  %0 = tfm.rms_norm %x, %w {epsilon = 1.0e-06 : f32} : tensor<?x8xf32>, tensor<8xf16>
  // CHECK: tfm.layer_norm %{{.*}}, %{{.*}}, %{{.*}} {epsilon = 9.99999974E-6 : f32} : tensor<?x8xf32>, tensor<8xf16>, tensor<8xf16>
  %1 = tfm.layer_norm %x, %w, %b {epsilon = 1.0e-05 : f32} : tensor<?x8xf32>, tensor<8xf16>, tensor<8xf16>
  // CHECK: tfm.layer_norm %{{.*}}, %{{.*}} {epsilon = 9.99999974E-6 : f32} : tensor<?x8xf32>, tensor<8xf16>
  %2 = tfm.layer_norm %x, %w {epsilon = 1.0e-05 : f32} : tensor<?x8xf32>, tensor<8xf16>
  return
}

// CHECK-LABEL: func.func @projections
func.func @projections(%x: tensor<?x8xf32>, %w: tensor<12x8xf16>, %b: tensor<12xf16>, %lm: tensor<32x8xf32>) {
  // CHECK: tfm.linear %{{.*}}, %{{.*}} : tensor<?x8xf32>, tensor<12x8xf16> -> tensor<?x12xf32>
  %0 = tfm.linear %x, %w : tensor<?x8xf32>, tensor<12x8xf16> -> tensor<?x12xf32>
  // CHECK: tfm.linear %{{.*}}, %{{.*}}, %{{.*}} : tensor<?x8xf32>, tensor<12x8xf16>, tensor<12xf16> -> tensor<?x12xf32>
  %1 = tfm.linear %x, %w, %b : tensor<?x8xf32>, tensor<12x8xf16>, tensor<12xf16> -> tensor<?x12xf32>
  // CHECK: tfm.lm_head %{{.*}}, %{{.*}} : tensor<?x8xf32>, tensor<32x8xf32> -> tensor<?x32xf32>
  %2 = tfm.lm_head %x, %lm : tensor<?x8xf32>, tensor<32x8xf32> -> tensor<?x32xf32>
  return
}

// CHECK-LABEL: func.func @matmul
func.func @matmul(%a: tensor<?x4xf32>, %b: tensor<4x?xf32>, %c: tensor<2x?x4xf32>, %d: tensor<2x4x?xf32>) {
  // CHECK: tfm.matmul %{{.*}}, %{{.*}} : tensor<?x4xf32>, tensor<4x?xf32> -> tensor<?x?xf32>
  %0 = tfm.matmul %a, %b : tensor<?x4xf32>, tensor<4x?xf32> -> tensor<?x?xf32>
  // CHECK: tfm.matmul %{{.*}}, %{{.*}} : tensor<2x?x4xf32>, tensor<2x4x?xf32> -> tensor<2x?x?xf32>
  %1 = tfm.matmul %c, %d : tensor<2x?x4xf32>, tensor<2x4x?xf32> -> tensor<2x?x?xf32>
  return
}

// CHECK-LABEL: func.func @rope
func.func @rope(%q: tensor<?x8xf32>, %pos: tensor<?xi64>) {
  // CHECK: tfm.rope %{{.*}}, %{{.*}} {head_dim = 4 : i64, theta = 1.000000e+04 : f32} : tensor<?x8xf32>, tensor<?xi64>
  %0 = tfm.rope %q, %pos {head_dim = 4, theta = 1.0e+04 : f32} : tensor<?x8xf32>, tensor<?xi64>
  // CHECK: tfm.rope %{{.*}}, %{{.*}} {head_dim = 4 : i64, scaling = #tfm.rope_scaling<kind = linear, factor = 2.000000e+00>, theta = 1.000000e+04 : f32}
  %1 = tfm.rope %q, %pos {head_dim = 4, theta = 1.0e+04 : f32, scaling = #tfm.rope_scaling<kind = linear, factor = 2.0>} : tensor<?x8xf32>, tensor<?xi64>
  // CHECK: scaling = #tfm.rope_scaling<kind = llama3, factor = 3.200000e+01, low_freq_factor = 2.000000e+00, high_freq_factor = 8.000000e+00, original_max_positions = 4096>
  %2 = tfm.rope %q, %pos {head_dim = 4, theta = 1.0e+04 : f32, scaling = #tfm.rope_scaling<kind = llama3, factor = 32.0, low_freq_factor = 2.0, high_freq_factor = 8.0, original_max_positions = 4096>} : tensor<?x8xf32>, tensor<?xi64>
  // CHECK: scaling = #tfm.rope_scaling<kind = none>
  %3 = tfm.rope %q, %pos {head_dim = 4, theta = 1.0e+04 : f32, scaling = #tfm.rope_scaling<kind = none>} : tensor<?x8xf32>, tensor<?xi64>
  return
}

// CHECK-LABEL: func.func @attention
func.func @attention(%q: tensor<?x8xf32>, %k: tensor<?x4xf32>, %v: tensor<?x4xf32>,
                     %bias: tensor<?x?xf32>, %visible: tensor<3x5xi1>,
                     %q3: tensor<3x8xf32>, %k5: tensor<5x4xf32>, %v5: tensor<5x4xf32>) {
  // CHECK: tfm.attention %{{.*}}, %{{.*}}, %{{.*}} {causal, head_dim = 4 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64, scale = 5.000000e-01 : f32} : tensor<?x8xf32>, tensor<?x4xf32>, tensor<?x4xf32>
  %0 = tfm.attention %q, %k, %v {num_heads = 2, num_kv_heads = 1, head_dim = 4, causal, scale = 0.5 : f32}
      : tensor<?x8xf32>, tensor<?x4xf32>, tensor<?x4xf32>
  // CHECK: tfm.attention %{{.*}}, %{{.*}}, %{{.*}}, mask %{{.*}} {head_dim = 4 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64, scale = 5.000000e-01 : f32} : tensor<?x8xf32>, tensor<?x4xf32>, tensor<?x4xf32>, tensor<?x?xf32>
  %1 = tfm.attention %q, %k, %v, mask %bias {num_heads = 2, num_kv_heads = 1, head_dim = 4, scale = 0.5 : f32}
      : tensor<?x8xf32>, tensor<?x4xf32>, tensor<?x4xf32>, tensor<?x?xf32>
  // CHECK: tfm.attention %{{.*}}, %{{.*}}, %{{.*}}, mask %{{.*}} {causal, head_dim = 4 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64, scale = 5.000000e-01 : f32, sliding_window = 2 : i64} : tensor<3x8xf32>, tensor<5x4xf32>, tensor<5x4xf32>, tensor<3x5xi1>
  %2 = tfm.attention %q3, %k5, %v5, mask %visible {num_heads = 2, num_kv_heads = 1, head_dim = 4, causal, scale = 0.5 : f32, sliding_window = 2}
      : tensor<3x8xf32>, tensor<5x4xf32>, tensor<5x4xf32>, tensor<3x5xi1>
  return
}

// CHECK-LABEL: func.func @elementwise
func.func @elementwise(%x: tensor<?x8xf32>, %y: tensor<?x8xf32>, %s: tensor<2x?x?xf32>) {
  // CHECK: tfm.silu %{{.*}} : tensor<?x8xf32>
  %0 = tfm.silu %x : tensor<?x8xf32>
  // CHECK: tfm.gelu %{{.*}} : tensor<?x8xf32>
  %1 = tfm.gelu %x : tensor<?x8xf32>
  // The default approximation is not printed.
  // CHECK: tfm.gelu %{{.*}} : tensor<?x8xf32>
  %2 = tfm.gelu %x approximate<none> : tensor<?x8xf32>
  // CHECK: tfm.gelu %{{.*}} approximate<tanh> : tensor<?x8xf32>
  %3 = tfm.gelu %x approximate<tanh> : tensor<?x8xf32>
  // CHECK: tfm.add %{{.*}}, %{{.*}} : tensor<?x8xf32>
  %4 = tfm.add %x, %y : tensor<?x8xf32>
  // CHECK: tfm.mul %{{.*}}, %{{.*}} : tensor<?x8xf32>
  %5 = tfm.mul %x, %y : tensor<?x8xf32>
  // CHECK: tfm.swiglu %{{.*}}, %{{.*}} : tensor<?x8xf32>
  %6 = tfm.swiglu %x, %y : tensor<?x8xf32>
  // CHECK: tfm.softmax %{{.*}} {axis = 2 : i64} : tensor<2x?x?xf32>
  %7 = tfm.softmax %s {axis = 2} : tensor<2x?x?xf32>
  return
}
