// RUN: qtc-opt %s --split-input-file --qtc-chain-concat-projections | FileCheck %s

// A concat of linears of one input becomes one linear over their rows:
// sources, rows, biases ("" where a source has none) and numerics in order.

#cfg = #tfm.model_config<architecture = "LlamaForCausalLM", vocab_size = 32, hidden_size = 16, num_layers = 1, num_heads = 2, num_kv_heads = 1, head_dim = 8, intermediate_size = 24, max_positions = 64, rms_norm_eps = 1.0e-05, rope_theta = 1.0e+04>
#i4 = #qnt.encoding<format = i4, granularity = per_group, group_size = 8, scale_type = f16>

// CHECK-LABEL: chain.plan @qkv
// CHECK:         %[[X:.*]] = chain.embedding
// CHECK-NEXT:    %[[QKV:.*]] = chain.linear %[[X]] {biases = ["bq", "", "bv"], encoding = #i4_g8, in_features = 16 : i64, numerics = [#chain.numerics<weight = "q", {{.*}}>, #chain.numerics<weight = "k", {{.*}}>, #chain.numerics<weight = "v", {{.*}}>], rows = array<i64: 16, 8, 8>, sources = ["q", "k", "v"]} : (!chain.tokens<16>) -> !chain.tokens<32>
// CHECK-NEXT:    chain.rope_kv_append %[[QKV]]
chain.plan @qkv attributes {config = #cfg} {
  %x = chain.embedding "emb" : !chain.tokens<16>
  %q = chain.linear %x {in_features = 16 : i64, rows = array<i64: 16>, sources = ["q"], biases = ["bq"], encoding = #i4, numerics = [#chain.numerics<weight = "q", method = "rtn", sqnr_db = 20.0 : f32, max_abs_error = 0.1 : f32>]} : (!chain.tokens<16>) -> !chain.tokens<16>
  %k = chain.linear %x {in_features = 16 : i64, rows = array<i64: 8>, sources = ["k"], encoding = #i4, numerics = [#chain.numerics<weight = "k", method = "rtn", sqnr_db = 21.0 : f32, max_abs_error = 0.1 : f32>]} : (!chain.tokens<16>) -> !chain.tokens<8>
  %v = chain.linear %x {in_features = 16 : i64, rows = array<i64: 8>, sources = ["v"], biases = ["bv"], encoding = #i4, numerics = [#chain.numerics<weight = "v", method = "rtn", sqnr_db = 22.0 : f32, max_abs_error = 0.1 : f32>]} : (!chain.tokens<16>) -> !chain.tokens<8>
  %qkv = chain.concat %q, %k, %v : (!chain.tokens<16>, !chain.tokens<8>, !chain.tokens<8>) -> !chain.tokens<32>
  %c = chain.rope_kv_append %qkv {head_dim = 8 : i64, heads = 2 : i64, kv_heads = 1 : i64, layer = 0 : i64} : !chain.tokens<32>
  %o = chain.attention %c {head_dim = 8 : i64, heads = 2 : i64, kv_heads = 1 : i64, layer = 0 : i64} : (!chain.tokens<32>) -> !chain.tokens<16>
  %l = chain.gather_rows %o : (!chain.tokens<16>) -> !chain.logit_rows<16>
  %h = chain.linear %l {in_features = 16 : i64, rows = array<i64: 32>, sources = ["head"]} : (!chain.logit_rows<16>) -> !chain.logit_rows<32>
  chain.return %h : !chain.logit_rows<32>
}

// -----

// Linears of different inputs, or read elsewhere too, stay apart.
#cfg = #tfm.model_config<architecture = "LlamaForCausalLM", vocab_size = 32, hidden_size = 16, num_layers = 1, num_heads = 2, num_kv_heads = 1, head_dim = 8, intermediate_size = 24, max_positions = 64, rms_norm_eps = 1.0e-05, rope_theta = 1.0e+04>

// CHECK-LABEL: chain.plan @apart
// CHECK-COUNT-2: chain.linear %{{.*}} {in_features = 16 : i64, rows = array<i64: 24>
// CHECK:         chain.concat
chain.plan @apart attributes {config = #cfg} {
  %x = chain.embedding "emb" : !chain.tokens<16>
  %y = chain.rms_norm %x, "n" {epsilon = 1.0e-05 : f32} : (!chain.tokens<16>) -> !chain.tokens<16>
  %g = chain.linear %x {in_features = 16 : i64, rows = array<i64: 24>, sources = ["gate"]} : (!chain.tokens<16>) -> !chain.tokens<24>
  %u = chain.linear %y {in_features = 16 : i64, rows = array<i64: 24>, sources = ["up"]} : (!chain.tokens<16>) -> !chain.tokens<24>
  %gu = chain.concat %g, %u : (!chain.tokens<24>, !chain.tokens<24>) -> !chain.tokens<48>
  %s = chain.swiglu %gu : (!chain.tokens<48>) -> !chain.tokens<24>
  %l = chain.gather_rows %s : (!chain.tokens<24>) -> !chain.logit_rows<24>
  %h = chain.linear %l {in_features = 24 : i64, rows = array<i64: 32>, sources = ["head"]} : (!chain.logit_rows<24>) -> !chain.logit_rows<32>
  chain.return %h : !chain.logit_rows<32>
}
