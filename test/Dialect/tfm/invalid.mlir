// RUN: qtc-opt %s -split-input-file -verify-diagnostics

// One case per verifier message of the tfm dialect (attributes, then ops).
// Attribute cases hang the attribute on a function to keep them short.

// An architecture name is required.
// expected-error @+1 {{model_config architecture must not be empty}}
func.func private @config() attributes {config = #tfm.model_config<architecture = "", vocab_size = 32, hidden_size = 8, num_layers = 1, num_heads = 2, num_kv_heads = 1, head_dim = 4, intermediate_size = 16, max_positions = 64, rms_norm_eps = 1.0e-05, rope_theta = 1.0e+04>}

// -----

// Sizes must be positive.
// expected-error @+1 {{model_config vocab_size must be positive (got 0)}}
func.func private @config() attributes {config = #tfm.model_config<architecture = "LlamaForCausalLM", vocab_size = 0, hidden_size = 8, num_layers = 1, num_heads = 2, num_kv_heads = 1, head_dim = 4, intermediate_size = 16, max_positions = 64, rms_norm_eps = 1.0e-05, rope_theta = 1.0e+04>}

// -----

// expected-error @+1 {{model_config num_kv_heads must be positive (got -2)}}
func.func private @config() attributes {config = #tfm.model_config<architecture = "LlamaForCausalLM", vocab_size = 32, hidden_size = 8, num_layers = 1, num_heads = 2, num_kv_heads = -2, head_dim = 4, intermediate_size = 16, max_positions = 64, rms_norm_eps = 1.0e-05, rope_theta = 1.0e+04>}

// -----

// expected-error @+1 {{model_config max_positions must be positive (got 0)}}
func.func private @config() attributes {config = #tfm.model_config<architecture = "LlamaForCausalLM", vocab_size = 32, hidden_size = 8, num_layers = 1, num_heads = 2, num_kv_heads = 1, head_dim = 4, intermediate_size = 16, max_positions = 0, rms_norm_eps = 1.0e-05, rope_theta = 1.0e+04>}

// -----

// Grouped-query attention needs whole groups.
// expected-error @+1 {{model_config num_heads (3) must be a multiple of num_kv_heads (2)}}
func.func private @config() attributes {config = #tfm.model_config<architecture = "LlamaForCausalLM", vocab_size = 32, hidden_size = 8, num_layers = 1, num_heads = 3, num_kv_heads = 2, head_dim = 4, intermediate_size = 16, max_positions = 64, rms_norm_eps = 1.0e-05, rope_theta = 1.0e+04>}

// -----

// RoPE rotates pairs of features.
// expected-error @+1 {{model_config head_dim (5) must be even for rotary embeddings}}
func.func private @config() attributes {config = #tfm.model_config<architecture = "LlamaForCausalLM", vocab_size = 32, hidden_size = 8, num_layers = 1, num_heads = 2, num_kv_heads = 1, head_dim = 5, intermediate_size = 16, max_positions = 64, rms_norm_eps = 1.0e-05, rope_theta = 1.0e+04>}

// -----

// expected-error @+1 {{model_config rms_norm_eps must be positive (got 0.000000e+00)}}
func.func private @config() attributes {config = #tfm.model_config<architecture = "LlamaForCausalLM", vocab_size = 32, hidden_size = 8, num_layers = 1, num_heads = 2, num_kv_heads = 1, head_dim = 4, intermediate_size = 16, max_positions = 64, rms_norm_eps = 0.0, rope_theta = 1.0e+04>}

// -----

// expected-error @+1 {{model_config rope_theta must be positive (got -1.000000e+00)}}
func.func private @config() attributes {config = #tfm.model_config<architecture = "LlamaForCausalLM", vocab_size = 32, hidden_size = 8, num_layers = 1, num_heads = 2, num_kv_heads = 1, head_dim = 4, intermediate_size = 16, max_positions = 64, rms_norm_eps = 1.0e-05, rope_theta = -1.0>}

// -----

// Token ids must exist in the vocabulary.
// expected-error @+1 {{model_config bos_token_id (32) must be -1 (none) or below vocab_size (32)}}
func.func private @config() attributes {config = #tfm.model_config<architecture = "LlamaForCausalLM", vocab_size = 32, hidden_size = 8, num_layers = 1, num_heads = 2, num_kv_heads = 1, head_dim = 4, intermediate_size = 16, max_positions = 64, rms_norm_eps = 1.0e-05, rope_theta = 1.0e+04, bos_token_id = 32>}

// -----

// expected-error @+1 {{model_config eos_token_id (-2) must be -1 (none) or below vocab_size (32)}}
func.func private @config() attributes {config = #tfm.model_config<architecture = "LlamaForCausalLM", vocab_size = 32, hidden_size = 8, num_layers = 1, num_heads = 2, num_kv_heads = 1, head_dim = 4, intermediate_size = 16, max_positions = 64, rms_norm_eps = 1.0e-05, rope_theta = 1.0e+04, eos_token_id = -2>}

// -----

func.func @rope_scaling(%q: tensor<?x8xf32>, %pos: tensor<?xi64>) {
  // expected-error @+1 {{rope_scaling factor must be positive (got 0.000000e+00)}}
  %0 = tfm.rope %q, %pos {head_dim = 4, theta = 1.0e+04 : f32, scaling = #tfm.rope_scaling<kind = linear, factor = 0.0>} : tensor<?x8xf32>, tensor<?xi64>
  return
}

// -----

func.func @rope_scaling(%q: tensor<?x8xf32>, %pos: tensor<?xi64>) {
  // expected-error @+1 {{llama3 rope_scaling needs original_max_positions > 0 (got 0)}}
  %0 = tfm.rope %q, %pos {head_dim = 4, theta = 1.0e+04 : f32, scaling = #tfm.rope_scaling<kind = llama3, factor = 8.0>} : tensor<?x8xf32>, tensor<?xi64>
  return
}

// -----

func.func @rope_scaling(%q: tensor<?x8xf32>, %pos: tensor<?xi64>) {
  // expected-error @+1 {{llama3 rope_scaling needs 0 < low_freq_factor < high_freq_factor (got 4.000000e+00 and 1.000000e+00)}}
  %0 = tfm.rope %q, %pos {head_dim = 4, theta = 1.0e+04 : f32, scaling = #tfm.rope_scaling<kind = llama3, factor = 8.0, low_freq_factor = 4.0, high_freq_factor = 1.0, original_max_positions = 8192>} : tensor<?x8xf32>, tensor<?xi64>
  return
}

// -----

// The body takes the ids and positions of one sequence.
// expected-error @+1 {{'tfm.model' op body must take two arguments (ids, positions) of type tensor<?xi64>}}
tfm.model @m attributes {config = #tfm.model_config<architecture = "LlamaForCausalLM", vocab_size = 32, hidden_size = 8, num_layers = 1, num_heads = 2, num_kv_heads = 1, head_dim = 4, intermediate_size = 16, max_positions = 64, rms_norm_eps = 1.0e-05, rope_theta = 1.0e+04>} {
^bb0(%i: tensor<?xi64>):
  %e = tfm.weight "e" : tensor<32x8xf16>
  %x = tfm.embedding %e, %i : tensor<32x8xf16>, tensor<?xi64> -> tensor<?x8xf32>
  %l = tfm.lm_head %x, %e : tensor<?x8xf32>, tensor<32x8xf16> -> tensor<?x32xf32>
  tfm.output %l : tensor<?x32xf32>
}

// -----

// expected-error @+1 {{'tfm.model' op body must take two arguments (ids, positions) of type tensor<?xi64>}}
tfm.model @m attributes {config = #tfm.model_config<architecture = "LlamaForCausalLM", vocab_size = 32, hidden_size = 8, num_layers = 1, num_heads = 2, num_kv_heads = 1, head_dim = 4, intermediate_size = 16, max_positions = 64, rms_norm_eps = 1.0e-05, rope_theta = 1.0e+04>} {
^bb0(%ids: tensor<?xi64>, %pos: tensor<?xi32>):
  %e = tfm.weight "e" : tensor<32x8xf16>
  %x = tfm.embedding %e, %ids : tensor<32x8xf16>, tensor<?xi64> -> tensor<?x8xf32>
  %l = tfm.lm_head %x, %e : tensor<?x8xf32>, tensor<32x8xf16> -> tensor<?x32xf32>
  tfm.output %l : tensor<?x32xf32>
}

// -----

// expected-error @+1 {{'tfm.model' op body must end in tfm.output}}
tfm.model @m attributes {config = #tfm.model_config<architecture = "LlamaForCausalLM", vocab_size = 32, hidden_size = 8, num_layers = 1, num_heads = 2, num_kv_heads = 1, head_dim = 4, intermediate_size = 16, max_positions = 64, rms_norm_eps = 1.0e-05, rope_theta = 1.0e+04>} {
^bb0(%ids: tensor<?xi64>, %pos: tensor<?xi64>):
  %e = tfm.weight "e" : tensor<32x8xf16>
  func.return
}

// -----

// expected-error @+1 {{'tfm.model' op must return exactly one value, the logits (got 0)}}
tfm.model @m attributes {config = #tfm.model_config<architecture = "LlamaForCausalLM", vocab_size = 32, hidden_size = 8, num_layers = 1, num_heads = 2, num_kv_heads = 1, head_dim = 4, intermediate_size = 16, max_positions = 64, rms_norm_eps = 1.0e-05, rope_theta = 1.0e+04>} {
^bb0(%ids: tensor<?xi64>, %pos: tensor<?xi64>):
  tfm.output
}

// -----

// expected-error @+1 {{'tfm.model' op logits must be a [tokens, vocab_size] float tensor (got 'tensor<32xf32>')}}
tfm.model @m attributes {config = #tfm.model_config<architecture = "LlamaForCausalLM", vocab_size = 32, hidden_size = 8, num_layers = 1, num_heads = 2, num_kv_heads = 1, head_dim = 4, intermediate_size = 16, max_positions = 64, rms_norm_eps = 1.0e-05, rope_theta = 1.0e+04>} {
^bb0(%ids: tensor<?xi64>, %pos: tensor<?xi64>):
  %e = tfm.weight "e" : tensor<32xf32>
  tfm.output %e : tensor<32xf32>
}

// -----

// expected-error @+1 {{'tfm.model' op logits width (8) must equal vocab_size (32)}}
tfm.model @m attributes {config = #tfm.model_config<architecture = "LlamaForCausalLM", vocab_size = 32, hidden_size = 8, num_layers = 1, num_heads = 2, num_kv_heads = 1, head_dim = 4, intermediate_size = 16, max_positions = 64, rms_norm_eps = 1.0e-05, rope_theta = 1.0e+04>} {
^bb0(%ids: tensor<?xi64>, %pos: tensor<?xi64>):
  %e = tfm.weight "e" : tensor<32x8xf16>
  %x = tfm.embedding %e, %ids : tensor<32x8xf16>, tensor<?xi64> -> tensor<?x8xf32>
  tfm.output %x : tensor<?x8xf32>
}

// -----

func.func @output_outside_model(%x: tensor<?x8xf32>) {
  // expected-error @+1 {{'tfm.output' op expects parent op 'tfm.model'}}
  tfm.output %x : tensor<?x8xf32>
}

// -----

// Weights are named and statically shaped.
func.func @f() {
  // expected-error @+1 {{'tfm.weight' op weight name must not be empty}}
  %0 = tfm.weight "" : tensor<4x8xf16>
  return
}

// -----

func.func @f() {
  // expected-error @+1 {{'tfm.weight' op result #0 must be statically shaped tensor}}
  %0 = tfm.weight "w" : tensor<?x8xf16>
  return
}

// -----

func.func @f(%t: tensor<32x8xf16>, %ids: tensor<5xi64>) {
  // expected-error @+1 {{'tfm.embedding' op result rows (4) must equal the number of ids (5)}}
  %0 = tfm.embedding %t, %ids : tensor<32x8xf16>, tensor<5xi64> -> tensor<4x8xf32>
  return
}

// -----

func.func @f(%t: tensor<32x8xf16>, %ids: tensor<?xi64>) {
  // expected-error @+1 {{'tfm.embedding' op result width (6) must equal the embedding width (8)}}
  %0 = tfm.embedding %t, %ids : tensor<32x8xf16>, tensor<?xi64> -> tensor<?x6xf32>
  return
}

// -----

// Activations are [tokens, features].
func.func @f(%x: tensor<8xf32>, %w: tensor<8xf16>) {
  // expected-error @+1 {{'tfm.rms_norm' op operand #0 must be 2D tensor of floating-point values}}
  %0 = tfm.rms_norm %x, %w {epsilon = 1.0e-05 : f32} : tensor<8xf32>, tensor<8xf16>
  return
}

// -----

func.func @f(%x: tensor<?x8xf32>, %w: tensor<6xf16>) {
  // expected-error @+1 {{'tfm.rms_norm' op weight length (6) must equal the input width (8)}}
  %0 = tfm.rms_norm %x, %w {epsilon = 1.0e-05 : f32} : tensor<?x8xf32>, tensor<6xf16>
  return
}

// -----

func.func @f(%x: tensor<?x8xf32>, %w: tensor<8xf16>) {
  // expected-error @+1 {{'tfm.rms_norm' op epsilon must be positive (got 0.000000e+00)}}
  %0 = tfm.rms_norm %x, %w {epsilon = 0.0 : f32} : tensor<?x8xf32>, tensor<8xf16>
  return
}

// -----

func.func @f(%x: tensor<?x8xf32>, %w: tensor<4xf16>) {
  // expected-error @+1 {{'tfm.layer_norm' op weight length (4) must equal the input width (8)}}
  %0 = tfm.layer_norm %x, %w {epsilon = 1.0e-05 : f32} : tensor<?x8xf32>, tensor<4xf16>
  return
}

// -----

func.func @f(%x: tensor<?x8xf32>, %w: tensor<8xf16>, %b: tensor<4xf16>) {
  // expected-error @+1 {{'tfm.layer_norm' op bias length (4) must equal the input width (8)}}
  %0 = tfm.layer_norm %x, %w, %b {epsilon = 1.0e-05 : f32} : tensor<?x8xf32>, tensor<8xf16>, tensor<4xf16>
  return
}

// -----

func.func @f(%x: tensor<?x8xf32>, %w: tensor<8xf16>) {
  // expected-error @+1 {{'tfm.layer_norm' op epsilon must be positive (got -1.000000e+00)}}
  %0 = tfm.layer_norm %x, %w {epsilon = -1.0 : f32} : tensor<?x8xf32>, tensor<8xf16>
  return
}

// -----

// Linear weights are [out, in].
func.func @f(%x: tensor<?x8xf32>, %w: tensor<8x12xf16>) {
  // expected-error @+1 {{'tfm.linear' op weight input width (12) must equal the input width (8)}}
  %0 = tfm.linear %x, %w : tensor<?x8xf32>, tensor<8x12xf16> -> tensor<?x12xf32>
  return
}

// -----

func.func @f(%x: tensor<?x8xf32>, %w: tensor<12x8xf16>) {
  // expected-error @+1 {{'tfm.linear' op result width (8) must equal the weight output width (12)}}
  %0 = tfm.linear %x, %w : tensor<?x8xf32>, tensor<12x8xf16> -> tensor<?x8xf32>
  return
}

// -----

func.func @f(%x: tensor<3x8xf32>, %w: tensor<12x8xf16>) {
  // expected-error @+1 {{'tfm.linear' op result rows (4) must equal the input rows (3)}}
  %0 = tfm.linear %x, %w : tensor<3x8xf32>, tensor<12x8xf16> -> tensor<4x12xf32>
  return
}

// -----

func.func @f(%x: tensor<?x8xf32>, %w: tensor<12x8xf16>, %b: tensor<8xf16>) {
  // expected-error @+1 {{'tfm.linear' op bias length (8) must equal the weight output width (12)}}
  %0 = tfm.linear %x, %w, %b : tensor<?x8xf32>, tensor<12x8xf16>, tensor<8xf16> -> tensor<?x12xf32>
  return
}

// -----

func.func @f(%x: tensor<?x8xf32>, %w: tensor<32x6xf16>) {
  // expected-error @+1 {{'tfm.lm_head' op weight input width (6) must equal the input width (8)}}
  %0 = tfm.lm_head %x, %w : tensor<?x8xf32>, tensor<32x6xf16> -> tensor<?x32xf32>
  return
}

// -----

func.func @f(%x: tensor<?x8xf32>, %w: tensor<32x8xf16>) {
  // expected-error @+1 {{'tfm.lm_head' op result width (16) must equal the weight output width (32)}}
  %0 = tfm.lm_head %x, %w : tensor<?x8xf32>, tensor<32x8xf16> -> tensor<?x16xf32>
  return
}

// -----

func.func @f(%a: tensor<4xf32>, %b: tensor<4xf32>) {
  // expected-error @+1 {{'tfm.matmul' op operands and result must have the same rank, at least 2}}
  %0 = tfm.matmul %a, %b : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  return
}

// -----

func.func @f(%a: tensor<2x3x4xf32>, %b: tensor<3x4x5xf32>) {
  // expected-error @+1 {{'tfm.matmul' op batch dimension 0 disagrees: lhs 2, rhs 3, result 2}}
  %0 = tfm.matmul %a, %b : tensor<2x3x4xf32>, tensor<3x4x5xf32> -> tensor<2x3x5xf32>
  return
}

// -----

func.func @f(%a: tensor<3x4xf32>, %b: tensor<5x6xf32>) {
  // expected-error @+1 {{'tfm.matmul' op lhs columns (4) must equal rhs rows (5)}}
  %0 = tfm.matmul %a, %b : tensor<3x4xf32>, tensor<5x6xf32> -> tensor<3x6xf32>
  return
}

// -----

func.func @f(%a: tensor<3x4xf32>, %b: tensor<4x6xf32>) {
  // expected-error @+1 {{'tfm.matmul' op result rows (2) must equal lhs rows (3)}}
  %0 = tfm.matmul %a, %b : tensor<3x4xf32>, tensor<4x6xf32> -> tensor<2x6xf32>
  return
}

// -----

func.func @f(%a: tensor<3x4xf32>, %b: tensor<4x6xf32>) {
  // expected-error @+1 {{'tfm.matmul' op result columns (7) must equal rhs columns (6)}}
  %0 = tfm.matmul %a, %b : tensor<3x4xf32>, tensor<4x6xf32> -> tensor<3x7xf32>
  return
}

// -----

// RoPE rotates halves of each head.
func.func @f(%q: tensor<?x8xf32>, %pos: tensor<?xi64>) {
  // expected-error @+1 {{'tfm.rope' op head_dim must be positive and even (got 3)}}
  %0 = tfm.rope %q, %pos {head_dim = 3, theta = 1.0e+04 : f32} : tensor<?x8xf32>, tensor<?xi64>
  return
}

// -----

func.func @f(%q: tensor<?x8xf32>, %pos: tensor<?xi64>) {
  // expected-error @+1 {{'tfm.rope' op head_dim must be positive and even (got 0)}}
  %0 = tfm.rope %q, %pos {head_dim = 0, theta = 1.0e+04 : f32} : tensor<?x8xf32>, tensor<?xi64>
  return
}

// -----

func.func @f(%q: tensor<?x12xf32>, %pos: tensor<?xi64>) {
  // expected-error @+1 {{'tfm.rope' op input width (12) must be a multiple of head_dim (8)}}
  %0 = tfm.rope %q, %pos {head_dim = 8, theta = 1.0e+04 : f32} : tensor<?x12xf32>, tensor<?xi64>
  return
}

// -----

func.func @f(%q: tensor<?x8xf32>, %pos: tensor<?xi64>) {
  // expected-error @+1 {{'tfm.rope' op theta must be positive (got 0.000000e+00)}}
  %0 = tfm.rope %q, %pos {head_dim = 4, theta = 0.0 : f32} : tensor<?x8xf32>, tensor<?xi64>
  return
}

// -----

func.func @f(%q: tensor<3x8xf32>, %pos: tensor<4xi64>) {
  // expected-error @+1 {{'tfm.rope' op positions length (4) must equal the input rows (3)}}
  %0 = tfm.rope %q, %pos {head_dim = 4, theta = 1.0e+04 : f32} : tensor<3x8xf32>, tensor<4xi64>
  return
}

// -----

// Head counts and the grouped-query rule.
func.func @f(%q: tensor<?x8xf32>, %k: tensor<?x4xf32>, %v: tensor<?x4xf32>) {
  // expected-error @+1 {{'tfm.attention' op num_heads, num_kv_heads and head_dim must be positive}}
  %0 = tfm.attention %q, %k, %v {num_heads = 2, num_kv_heads = 0, head_dim = 4, scale = 0.5 : f32} : tensor<?x8xf32>, tensor<?x4xf32>, tensor<?x4xf32>
  return
}

// -----

func.func @f(%q: tensor<?x8xf32>, %k: tensor<?x4xf32>, %v: tensor<?x4xf32>) {
  // expected-error @+1 {{'tfm.attention' op num_heads (3) must be a multiple of num_kv_heads (2)}}
  %0 = tfm.attention %q, %k, %v {num_heads = 3, num_kv_heads = 2, head_dim = 4, scale = 0.5 : f32} : tensor<?x8xf32>, tensor<?x4xf32>, tensor<?x4xf32>
  return
}

// -----

// Widths follow from the head counts.
func.func @f(%q: tensor<?x8xf32>, %k: tensor<?x4xf32>, %v: tensor<?x4xf32>) {
  // expected-error @+1 {{'tfm.attention' op query width (8) must equal num_heads * head_dim (16)}}
  %0 = tfm.attention %q, %k, %v {num_heads = 4, num_kv_heads = 1, head_dim = 4, scale = 0.5 : f32} : tensor<?x8xf32>, tensor<?x4xf32>, tensor<?x4xf32>
  return
}

// -----

func.func @f(%q: tensor<?x8xf32>, %k: tensor<?x4xf32>, %v: tensor<?x4xf32>) {
  // expected-error @+1 {{'tfm.attention' op key width (4) must equal num_kv_heads * head_dim (8)}}
  %0 = tfm.attention %q, %k, %v {num_heads = 2, num_kv_heads = 2, head_dim = 4, scale = 0.5 : f32} : tensor<?x8xf32>, tensor<?x4xf32>, tensor<?x4xf32>
  return
}

// -----

func.func @f(%q: tensor<?x8xf32>, %k: tensor<?x4xf32>, %v: tensor<?x6xf32>) {
  // expected-error @+1 {{'tfm.attention' op value width (6) must equal num_kv_heads * head_dim (4)}}
  %0 = tfm.attention %q, %k, %v {num_heads = 2, num_kv_heads = 1, head_dim = 4, scale = 0.5 : f32} : tensor<?x8xf32>, tensor<?x4xf32>, tensor<?x6xf32>
  return
}

// -----

func.func @f(%q: tensor<?x8xf32>, %k: tensor<5x4xf32>, %v: tensor<6x4xf32>) {
  // expected-error @+1 {{'tfm.attention' op value rows (6) must equal key rows (5)}}
  %0 = tfm.attention %q, %k, %v {num_heads = 2, num_kv_heads = 1, head_dim = 4, scale = 0.5 : f32} : tensor<?x8xf32>, tensor<5x4xf32>, tensor<6x4xf32>
  return
}

// -----

func.func @f(%q: tensor<?x8xf32>, %k: tensor<?x4xf32>, %v: tensor<?x4xf32>) {
  // expected-error @+1 {{'tfm.attention' op scale must be positive (got 0.000000e+00)}}
  %0 = tfm.attention %q, %k, %v {num_heads = 2, num_kv_heads = 1, head_dim = 4, scale = 0.0 : f32} : tensor<?x8xf32>, tensor<?x4xf32>, tensor<?x4xf32>
  return
}

// -----

func.func @f(%q: tensor<?x8xf32>, %k: tensor<?x4xf32>, %v: tensor<?x4xf32>) {
  // expected-error @+1 {{'tfm.attention' op sliding_window must be positive (got 0)}}
  %0 = tfm.attention %q, %k, %v {num_heads = 2, num_kv_heads = 1, head_dim = 4, causal, scale = 0.5 : f32, sliding_window = 0} : tensor<?x8xf32>, tensor<?x4xf32>, tensor<?x4xf32>
  return
}

// -----

// The mask is [query rows, key rows].
func.func @f(%q: tensor<3x8xf32>, %k: tensor<5x4xf32>, %v: tensor<5x4xf32>, %m: tensor<2x5xf32>) {
  // expected-error @+1 {{'tfm.attention' op mask rows (2) must equal query rows (3)}}
  %0 = tfm.attention %q, %k, %v, mask %m {num_heads = 2, num_kv_heads = 1, head_dim = 4, scale = 0.5 : f32} : tensor<3x8xf32>, tensor<5x4xf32>, tensor<5x4xf32>, tensor<2x5xf32>
  return
}

// -----

func.func @f(%q: tensor<3x8xf32>, %k: tensor<5x4xf32>, %v: tensor<5x4xf32>, %m: tensor<3x4xi1>) {
  // expected-error @+1 {{'tfm.attention' op mask columns (4) must equal key rows (5)}}
  %0 = tfm.attention %q, %k, %v, mask %m {num_heads = 2, num_kv_heads = 1, head_dim = 4, scale = 0.5 : f32} : tensor<3x8xf32>, tensor<5x4xf32>, tensor<5x4xf32>, tensor<3x4xi1>
  return
}

// -----

func.func @f(%x: tensor<?x8xf32>) {
  // expected-error @+1 {{'tfm.softmax' op axis (2) must be in [0, 2)}}
  %0 = tfm.softmax %x {axis = 2} : tensor<?x8xf32>
  return
}

// -----

func.func @f(%x: tensor<?x8xf32>) {
  // expected-error @+1 {{'tfm.softmax' op axis (-1) must be in [0, 2)}}
  %0 = tfm.softmax %x {axis = -1} : tensor<?x8xf32>
  return
}

// -----

// Element-wise ops work on floats of one type.
func.func @f(%x: tensor<?x8xi32>) {
  // expected-error @+1 {{'tfm.silu' op operand #0 must be ranked tensor of floating-point values}}
  %0 = tfm.silu %x : tensor<?x8xi32>
  return
}

// -----

func.func @f(%x: tensor<?x8xf32>, %y: tensor<?x4xf32>) {
  // expected-error @+1 {{'tfm.add' op requires the same type for all operands and results}}
  %0 = "tfm.add"(%x, %y) : (tensor<?x8xf32>, tensor<?x4xf32>) -> tensor<?x8xf32>
  return
}
