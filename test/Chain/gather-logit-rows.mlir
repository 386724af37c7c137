// RUN: qtc-opt %s --qtc-chain-gather-logit-rows | FileCheck %s

// The gather moves above the row-wise ops read only on the way to the
// logits (lm_head, final norm), and stops at the residual stream, which
// other ops read.

#cfg = #tfm.model_config<architecture = "LlamaForCausalLM", vocab_size = 32, hidden_size = 16, num_layers = 1, num_heads = 2, num_kv_heads = 1, head_dim = 8, intermediate_size = 24, max_positions = 64, rms_norm_eps = 1.0e-05, rope_theta = 1.0e+04>

// CHECK-LABEL: chain.plan @decoder_tail
// CHECK:         %[[H:.*]] = chain.add
// CHECK-NEXT:    %[[G:.*]] = chain.gather_rows %[[H]] : (!chain.tokens<16>) -> !chain.logit_rows<16>
// CHECK-NEXT:    %[[N:.*]] = chain.rms_norm %[[G]], "norm" {{.*}} : (!chain.logit_rows<16>) -> !chain.logit_rows<16>
// CHECK-NEXT:    %[[L:.*]] = chain.linear %[[N]] {{.*}} : (!chain.logit_rows<16>) -> !chain.logit_rows<32>
// CHECK-NEXT:    chain.return %[[L]]
chain.plan @decoder_tail attributes {config = #cfg} {
  %x = chain.embedding "emb" : !chain.tokens<16>
  %h = chain.add %x, %x : !chain.tokens<16>
  %n = chain.rms_norm %h, "norm" {epsilon = 1.0e-05 : f32} : (!chain.tokens<16>) -> !chain.tokens<16>
  %logits = chain.linear %n {in_features = 16 : i64, rows = array<i64: 32>, sources = ["head"]} : (!chain.tokens<16>) -> !chain.tokens<32>
  %l = chain.gather_rows %logits : (!chain.tokens<32>) -> !chain.logit_rows<32>
  chain.return %l : !chain.logit_rows<32>
}

// A norm whose output another op reads too stays on every token.
// CHECK-LABEL: chain.plan @shared_norm
// CHECK:         %[[N:.*]] = chain.rms_norm %{{.*}} : (!chain.tokens<16>) -> !chain.tokens<16>
// CHECK:         %[[G:.*]] = chain.gather_rows %[[N]]
// CHECK-NEXT:    chain.linear %[[G]]
chain.plan @shared_norm attributes {config = #cfg} {
  %x = chain.embedding "emb" : !chain.tokens<16>
  %n = chain.rms_norm %x, "norm" {epsilon = 1.0e-05 : f32} : (!chain.tokens<16>) -> !chain.tokens<16>
  %y = chain.add %n, %n : !chain.tokens<16>
  %logits = chain.linear %n {in_features = 16 : i64, rows = array<i64: 32>, sources = ["head"]} : (!chain.tokens<16>) -> !chain.tokens<32>
  %l = chain.gather_rows %logits : (!chain.tokens<32>) -> !chain.logit_rows<32>
  chain.return %l : !chain.logit_rows<32>
}
