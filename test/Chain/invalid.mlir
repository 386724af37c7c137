// RUN: qtc-opt %s --split-input-file --verify-diagnostics

#cfg = #tfm.model_config<architecture = "LlamaForCausalLM", vocab_size = 32, hidden_size = 16, num_layers = 1, num_heads = 2, num_kv_heads = 1, head_dim = 8, intermediate_size = 24, max_positions = 64, rms_norm_eps = 1.0e-05, rope_theta = 1.0e+04>
chain.plan @rows attributes {config = #cfg} {
  %x = chain.embedding "emb" : !chain.tokens<16>
  // expected-error @+1 {{result rows are 24 wide but the sources' rows sum to 32}}
  %y = chain.linear %x {in_features = 16 : i64, rows = array<i64: 16, 16>, sources = ["a", "b"]} : (!chain.tokens<16>) -> !chain.tokens<24>
  %l = chain.gather_rows %y : (!chain.tokens<24>) -> !chain.logit_rows<24>
  chain.return %l : !chain.logit_rows<24>
}

// -----
#cfg = #tfm.model_config<architecture = "LlamaForCausalLM", vocab_size = 32, hidden_size = 16, num_layers = 1, num_heads = 2, num_kv_heads = 1, head_dim = 8, intermediate_size = 24, max_positions = 64, rms_norm_eps = 1.0e-05, rope_theta = 1.0e+04>
chain.plan @in_features attributes {config = #cfg} {
  %x = chain.embedding "emb" : !chain.tokens<16>
  // expected-error @+1 {{input rows are 16 wide but in_features is 8}}
  %y = chain.linear %x {in_features = 8 : i64, rows = array<i64: 16>, sources = ["a"]} : (!chain.tokens<16>) -> !chain.tokens<16>
  %l = chain.gather_rows %y : (!chain.tokens<16>) -> !chain.logit_rows<16>
  chain.return %l : !chain.logit_rows<16>
}

// -----
#cfg = #tfm.model_config<architecture = "LlamaForCausalLM", vocab_size = 32, hidden_size = 16, num_layers = 1, num_heads = 2, num_kv_heads = 1, head_dim = 8, intermediate_size = 24, max_positions = 64, rms_norm_eps = 1.0e-05, rope_theta = 1.0e+04>
#i4 = #qnt.encoding<format = i4, granularity = per_group, group_size = 12, scale_type = f16>
chain.plan @group attributes {config = #cfg} {
  %x = chain.embedding "emb" : !chain.tokens<16>
  // expected-error @+1 {{group_size}}
  %y = chain.linear %x {in_features = 16 : i64, rows = array<i64: 16>, sources = ["a"], encoding = #i4} : (!chain.tokens<16>) -> !chain.tokens<16>
  %l = chain.gather_rows %y : (!chain.tokens<16>) -> !chain.logit_rows<16>
  chain.return %l : !chain.logit_rows<16>
}

// -----
#cfg = #tfm.model_config<architecture = "LlamaForCausalLM", vocab_size = 32, hidden_size = 16, num_layers = 1, num_heads = 2, num_kv_heads = 1, head_dim = 8, intermediate_size = 24, max_positions = 64, rms_norm_eps = 1.0e-05, rope_theta = 1.0e+04>
chain.plan @packed attributes {config = #cfg} {
  // expected-error @+1 {{'table' names @missing, which is not a chain.tensor of the plan}}
  %x = chain.embedding "emb" {table = @missing} : !chain.tokens<16>
  %l = chain.gather_rows %x : (!chain.tokens<16>) -> !chain.logit_rows<16>
  chain.return %l : !chain.logit_rows<16>
}

// -----
#cfg = #tfm.model_config<architecture = "LlamaForCausalLM", vocab_size = 32, hidden_size = 16, num_layers = 1, num_heads = 2, num_kv_heads = 1, head_dim = 8, intermediate_size = 24, max_positions = 64, rms_norm_eps = 1.0e-05, rope_theta = 1.0e+04>
chain.plan @qkv_width attributes {config = #cfg} {
  %x = chain.embedding "emb" : !chain.tokens<16>
  // expected-error @+1 {{q|k|v rows must be (heads + 2 * kv_heads) * head_dim = 32 wide (got 16)}}
  %a = chain.attention %x {head_dim = 8 : i64, heads = 2 : i64, kv_heads = 1 : i64, layer = 0 : i64} : (!chain.tokens<16>) -> !chain.tokens<16>
  %l = chain.gather_rows %a : (!chain.tokens<16>) -> !chain.logit_rows<16>
  chain.return %l : !chain.logit_rows<16>
}

// -----
#cfg = #tfm.model_config<architecture = "LlamaForCausalLM", vocab_size = 32, hidden_size = 16, num_layers = 1, num_heads = 2, num_kv_heads = 1, head_dim = 8, intermediate_size = 24, max_positions = 64, rms_norm_eps = 1.0e-05, rope_theta = 1.0e+04>
chain.plan @gqa attributes {config = #cfg} {
  %x = chain.embedding "emb" : !chain.tokens<56>
  // expected-error @+1 {{kv_heads dividing heads}}
  %a = chain.rope_kv_append %x {head_dim = 8 : i64, heads = 3 : i64, kv_heads = 2 : i64, layer = 0 : i64} : !chain.tokens<56>
  %l = chain.gather_rows %a : (!chain.tokens<56>) -> !chain.logit_rows<56>
  chain.return %l : !chain.logit_rows<56>
}

// -----
#cfg = #tfm.model_config<architecture = "LlamaForCausalLM", vocab_size = 32, hidden_size = 16, num_layers = 1, num_heads = 2, num_kv_heads = 1, head_dim = 8, intermediate_size = 24, max_positions = 64, rms_norm_eps = 1.0e-05, rope_theta = 1.0e+04>
chain.plan @swiglu attributes {config = #cfg} {
  %x = chain.embedding "emb" : !chain.tokens<16>
  // expected-error @+1 {{gate|up rows must be twice the result's width}}
  %s = chain.swiglu %x : (!chain.tokens<16>) -> !chain.tokens<16>
  %l = chain.gather_rows %s : (!chain.tokens<16>) -> !chain.logit_rows<16>
  chain.return %l : !chain.logit_rows<16>
}

// -----
#cfg = #tfm.model_config<architecture = "LlamaForCausalLM", vocab_size = 32, hidden_size = 16, num_layers = 1, num_heads = 2, num_kv_heads = 1, head_dim = 8, intermediate_size = 24, max_positions = 64, rms_norm_eps = 1.0e-05, rope_theta = 1.0e+04>
chain.plan @kinds attributes {config = #cfg} {
  %x = chain.embedding "emb" : !chain.tokens<16>
  // expected-error @+1 {{input and result must both be !chain.tokens or both !chain.logit_rows}}
  %y = chain.linear %x {in_features = 16 : i64, rows = array<i64: 16>, sources = ["a"]} : (!chain.tokens<16>) -> !chain.logit_rows<16>
  chain.return %y : !chain.logit_rows<16>
}

// -----
#cfg = #tfm.model_config<architecture = "LlamaForCausalLM", vocab_size = 32, hidden_size = 16, num_layers = 1, num_heads = 2, num_kv_heads = 1, head_dim = 8, intermediate_size = 24, max_positions = 64, rms_norm_eps = 1.0e-05, rope_theta = 1.0e+04>
// expected-error @+1 {{must end in chain.return}}
chain.plan @no_return attributes {config = #cfg} {
  %x = chain.embedding "emb" : !chain.tokens<16>
}

// -----
#cfg = #tfm.model_config<architecture = "LlamaForCausalLM", vocab_size = 32, hidden_size = 16, num_layers = 1, num_heads = 2, num_kv_heads = 1, head_dim = 8, intermediate_size = 24, max_positions = 64, rms_norm_eps = 1.0e-05, rope_theta = 1.0e+04>
#w8 = #qnt.encoding<format = i8, granularity = per_channel, scale_type = f16>
#a8 = #qnt.encoding<format = i8, granularity = per_token, scale_type = f32>
#af8 = #qnt.encoding<format = f8e4m3, granularity = per_token, scale_type = f32>
chain.plan @quantized_mismatch attributes {config = #cfg} {
  %x = chain.embedding "emb" : !chain.tokens<16>
  %q = chain.quantize_rows %x : (!chain.tokens<16>) -> !chain.quantized_tokens<16, #a8>
  // expected-error @+1 {{reads rows quantized as #qnt.encoding<format = i8}}
  %y = chain.linear %q {in_features = 16 : i64, rows = array<i64: 16>, sources = ["a"], encoding = #w8, input_encoding = #af8} : (!chain.quantized_tokens<16, #a8>) -> !chain.tokens<16>
  %l = chain.gather_rows %y : (!chain.tokens<16>) -> !chain.logit_rows<16>
  chain.return %l : !chain.logit_rows<16>
}

// -----
#cfg = #tfm.model_config<architecture = "LlamaForCausalLM", vocab_size = 32, hidden_size = 16, num_layers = 1, num_heads = 2, num_kv_heads = 1, head_dim = 8, intermediate_size = 24, max_positions = 64, rms_norm_eps = 1.0e-05, rope_theta = 1.0e+04>
#g = #qnt.encoding<format = i8, granularity = per_group, group_size = 8, scale_type = f16>
chain.plan @not_per_token attributes {config = #cfg} {
  %x = chain.embedding "emb" : !chain.tokens<16>
  // expected-error @+1 {{quantized rows are int8 or f8e4m3 codes per token with f32 scales}}
  %q = chain.quantize_rows %x : (!chain.tokens<16>) -> !chain.quantized_tokens<16, #g>
  chain.return %x : !chain.tokens<16>
}

// -----
#cfg = #tfm.model_config<architecture = "LlamaForCausalLM", vocab_size = 32, hidden_size = 16, num_layers = 1, num_heads = 2, num_kv_heads = 1, head_dim = 8, intermediate_size = 24, max_positions = 64, rms_norm_eps = 1.0e-05, rope_theta = 1.0e+04>
#a8 = #qnt.encoding<format = i8, granularity = per_token, scale_type = f32>
chain.plan @norm_width attributes {config = #cfg} {
  %x = chain.embedding "emb" : !chain.tokens<16>
  // expected-error @+1 {{result must have the input's type, or be quantized token rows of its width}}
  %n = chain.rms_norm %x, "n" {epsilon = 1.0e-05 : f32} : (!chain.tokens<16>) -> !chain.quantized_tokens<8, #a8>
  %l = chain.gather_rows %x : (!chain.tokens<16>) -> !chain.logit_rows<16>
  chain.return %l : !chain.logit_rows<16>
}
