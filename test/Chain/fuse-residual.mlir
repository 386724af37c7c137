// RUN: qtc-opt %s --qtc-chain-fuse-residual | FileCheck %s

// add(r, linear(x)) -> linear(x) residual(r), on either side of the add; a
// linear read elsewhere too keeps its add.

#cfg = #tfm.model_config<architecture = "LlamaForCausalLM", vocab_size = 32, hidden_size = 16, num_layers = 1, num_heads = 2, num_kv_heads = 1, head_dim = 8, intermediate_size = 24, max_positions = 64, rms_norm_eps = 1.0e-05, rope_theta = 1.0e+04>

// CHECK-LABEL: chain.plan @residual
// CHECK:         %[[X:.*]] = chain.embedding
// CHECK:         %[[N:.*]] = chain.rms_norm %[[X]]
// CHECK-NEXT:    %[[O:.*]] = chain.linear %[[N]] residual(%[[X]]) {{.*}}sources = ["o"]
// CHECK-NEXT:    %[[D:.*]] = chain.linear %[[O]] residual(%[[O]]) {{.*}}sources = ["down"]
// CHECK-NEXT:    %[[S:.*]] = chain.linear %[[D]] {{.*}}sources = ["shared"]
// CHECK-NEXT:    %[[A:.*]] = chain.add %[[S]], %[[S]]
// CHECK-NEXT:    chain.gather_rows %[[A]]
chain.plan @residual attributes {config = #cfg} {
  %x = chain.embedding "emb" : !chain.tokens<16>
  %n = chain.rms_norm %x, "n" {epsilon = 1.0e-05 : f32} : (!chain.tokens<16>) -> !chain.tokens<16>
  %o = chain.linear %n {in_features = 16 : i64, rows = array<i64: 16>, sources = ["o"]} : (!chain.tokens<16>) -> !chain.tokens<16>
  %h = chain.add %x, %o : !chain.tokens<16>
  %d = chain.linear %h {in_features = 16 : i64, rows = array<i64: 16>, sources = ["down"]} : (!chain.tokens<16>) -> !chain.tokens<16>
  %h2 = chain.add %d, %h : !chain.tokens<16>
  %s = chain.linear %h2 {in_features = 16 : i64, rows = array<i64: 16>, sources = ["shared"]} : (!chain.tokens<16>) -> !chain.tokens<16>
  %h3 = chain.add %s, %s : !chain.tokens<16>
  %l = chain.gather_rows %h3 : (!chain.tokens<16>) -> !chain.logit_rows<16>
  %head = chain.linear %l {in_features = 16 : i64, rows = array<i64: 32>, sources = ["head"]} : (!chain.logit_rows<16>) -> !chain.logit_rows<32>
  chain.return %head : !chain.logit_rows<32>
}
