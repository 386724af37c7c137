// RUN: qtc-opt %s --qtc-chain-concat-projections --verify-diagnostics
// One input, two encodings: no kernel can read both, an error naming them.
#cfg = #tfm.model_config<architecture = "LlamaForCausalLM", vocab_size = 32, hidden_size = 16, num_layers = 1, num_heads = 2, num_kv_heads = 1, head_dim = 8, intermediate_size = 24, max_positions = 64, rms_norm_eps = 1.0e-05, rope_theta = 1.0e+04>
#i4 = #qnt.encoding<format = i4, granularity = per_group, group_size = 8, scale_type = f16>

chain.plan @mixed attributes {config = #cfg} {
  %x = chain.embedding "emb" : !chain.tokens<16>
  %g = chain.linear %x {in_features = 16 : i64, rows = array<i64: 24>, sources = ["gate"], encoding = #i4} : (!chain.tokens<16>) -> !chain.tokens<24>
  // expected-error @+1 {{linears fused into one kernel chain must share one weight format; got dense f16 and #qnt.encoding<format = i4}}
  %u = chain.linear %x {in_features = 16 : i64, rows = array<i64: 24>, sources = ["up"]} : (!chain.tokens<16>) -> !chain.tokens<24>
  %gu = chain.concat %g, %u : (!chain.tokens<24>, !chain.tokens<24>) -> !chain.tokens<48>
  %s = chain.swiglu %gu : (!chain.tokens<48>) -> !chain.tokens<24>
  %l = chain.gather_rows %s : (!chain.tokens<24>) -> !chain.logit_rows<24>
  %h = chain.linear %l {in_features = 24 : i64, rows = array<i64: 32>, sources = ["head"]} : (!chain.logit_rows<24>) -> !chain.logit_rows<32>
  chain.return %h : !chain.logit_rows<32>
}
