// RUN: qtc-opt %s --qtc-chain-assign-slots | FileCheck %s

// Buffers by liveness: a result never shares its operands' buffers, a dead
// value's buffer is reused by the next result of its width, rope_kv_append
// writes in place, and the logits' buffer is never given away.

#cfg = #tfm.model_config<architecture = "LlamaForCausalLM", vocab_size = 32, hidden_size = 16, num_layers = 1, num_heads = 2, num_kv_heads = 1, head_dim = 8, intermediate_size = 24, max_positions = 64, rms_norm_eps = 1.0e-05, rope_theta = 1.0e+04>

// CHECK-LABEL: chain.plan @slots
// CHECK-SAME:    slot_names = ["hidden", "norm", "qkv", "hidden"]
// CHECK-SAME:    slot_widths = array<i64: 16, 16, 32, 16>
// CHECK:         chain.embedding {{.*}}slot = 0
// CHECK:         chain.rms_norm {{.*}}slot = 1
// CHECK:         chain.linear {{.*}}slot = 2
// CHECK:         chain.rope_kv_append {{.*}}slot = 2
// The norm output (slot 1) is dead after the projection: attention reuses it.
// CHECK:         chain.attention {{.*}}slot = 1
// The residual (slot 0) is still live: the o_proj writes a new buffer.
// CHECK:         chain.linear {{.*}}residual{{.*}}slot = 3
// CHECK:         chain.gather_rows {{.*}}slot = 1
// CHECK:         chain.rms_norm {{.*}}slot = 3
// The logits take the q|k|v buffer, free since the attention read it.
// CHECK:         chain.linear {{.*}}slot = 2
chain.plan @slots attributes {config = #cfg} {
  %x = chain.embedding "emb" : !chain.tokens<16>
  %n = chain.rms_norm %x, "n" {epsilon = 1.0e-05 : f32} : (!chain.tokens<16>) -> !chain.tokens<16>
  %qkv = chain.linear %n {in_features = 16 : i64, rows = array<i64: 16, 8, 8>, sources = ["q", "k", "v"]} : (!chain.tokens<16>) -> !chain.tokens<32>
  %r = chain.rope_kv_append %qkv {head_dim = 8 : i64, heads = 2 : i64, kv_heads = 1 : i64, layer = 0 : i64} : !chain.tokens<32>
  %o = chain.attention %r {head_dim = 8 : i64, heads = 2 : i64, kv_heads = 1 : i64, layer = 0 : i64} : (!chain.tokens<32>) -> !chain.tokens<16>
  %h = chain.linear %o residual(%x) {in_features = 16 : i64, rows = array<i64: 16>, sources = ["o"]} : (!chain.tokens<16>, !chain.tokens<16>) -> !chain.tokens<16>
  %g = chain.gather_rows %h : (!chain.tokens<16>) -> !chain.logit_rows<16>
  %fn = chain.rms_norm %g, "norm" {epsilon = 1.0e-05 : f32} : (!chain.logit_rows<16>) -> !chain.logit_rows<16>
  %logits = chain.linear %fn {in_features = 16 : i64, rows = array<i64: 32>, sources = ["head"]} : (!chain.logit_rows<16>) -> !chain.logit_rows<32>
  chain.return %logits : !chain.logit_rows<32>
}
