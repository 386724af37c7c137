// RUN: qtc-opt %s --qtc-chain-fuse-rope-kv-append | FileCheck %s

// RoPE of q and k moves into the append: the concat now joins the
// projections themselves and rope_kv_append rotates in place.

#cfg = #tfm.model_config<architecture = "LlamaForCausalLM", vocab_size = 32, hidden_size = 16, num_layers = 1, num_heads = 2, num_kv_heads = 1, head_dim = 8, intermediate_size = 24, max_positions = 64, rms_norm_eps = 1.0e-05, rope_theta = 1.0e+04>

// CHECK-LABEL: chain.plan @fused
// CHECK:         %[[Q:.*]] = chain.linear %{{.*}} {{.*}}sources = ["q"]
// CHECK:         %[[K:.*]] = chain.linear %{{.*}} {{.*}}sources = ["k"]
// CHECK:         %[[V:.*]] = chain.linear %{{.*}} {{.*}}sources = ["v"]
// CHECK-NOT:     chain.rope
// CHECK:         %[[QKV:.*]] = chain.concat %[[Q]], %[[K]], %[[V]]
// CHECK:         %[[R:.*]] = chain.rope_kv_append %[[QKV]] {head_dim = 8 : i64, heads = 2 : i64, kv_heads = 1 : i64, layer = 0 : i64}
// CHECK:         chain.attention %[[R]]
chain.plan @fused attributes {config = #cfg} {
  %x = chain.embedding "emb" : !chain.tokens<16>
  %q = chain.linear %x {in_features = 16 : i64, rows = array<i64: 16>, sources = ["q"]} : (!chain.tokens<16>) -> !chain.tokens<16>
  %k = chain.linear %x {in_features = 16 : i64, rows = array<i64: 8>, sources = ["k"]} : (!chain.tokens<16>) -> !chain.tokens<8>
  %v = chain.linear %x {in_features = 16 : i64, rows = array<i64: 8>, sources = ["v"]} : (!chain.tokens<16>) -> !chain.tokens<8>
  %qr = chain.rope %q {head_dim = 8 : i64, heads = 2 : i64} : !chain.tokens<16>
  %kr = chain.rope %k {head_dim = 8 : i64, heads = 1 : i64} : !chain.tokens<8>
  %qkv = chain.concat %qr, %kr, %v : (!chain.tokens<16>, !chain.tokens<8>, !chain.tokens<8>) -> !chain.tokens<32>
  %c = chain.kv_append %qkv {head_dim = 8 : i64, heads = 2 : i64, kv_heads = 1 : i64, layer = 0 : i64} : !chain.tokens<32>
  %o = chain.attention %c {head_dim = 8 : i64, heads = 2 : i64, kv_heads = 1 : i64, layer = 0 : i64} : (!chain.tokens<32>) -> !chain.tokens<16>
  %l = chain.gather_rows %o : (!chain.tokens<16>) -> !chain.logit_rows<16>
  %h = chain.linear %l {in_features = 16 : i64, rows = array<i64: 32>, sources = ["head"]} : (!chain.logit_rows<16>) -> !chain.logit_rows<32>
  chain.return %h : !chain.logit_rows<32>
}

// An unrotated query is not the runtime's chain: nothing fuses, and the
// translation to the artifact reports the leftover ops.
// CHECK-LABEL: chain.plan @unrotated_query
// CHECK:         chain.rope
// CHECK:         chain.kv_append
// CHECK-NOT:     chain.rope_kv_append
chain.plan @unrotated_query attributes {config = #cfg} {
  %x = chain.embedding "emb" : !chain.tokens<16>
  %q = chain.linear %x {in_features = 16 : i64, rows = array<i64: 16>, sources = ["q"]} : (!chain.tokens<16>) -> !chain.tokens<16>
  %k = chain.linear %x {in_features = 16 : i64, rows = array<i64: 8>, sources = ["k"]} : (!chain.tokens<16>) -> !chain.tokens<8>
  %v = chain.linear %x {in_features = 16 : i64, rows = array<i64: 8>, sources = ["v"]} : (!chain.tokens<16>) -> !chain.tokens<8>
  %kr = chain.rope %k {head_dim = 8 : i64, heads = 1 : i64} : !chain.tokens<8>
  %qkv = chain.concat %q, %kr, %v : (!chain.tokens<16>, !chain.tokens<8>, !chain.tokens<8>) -> !chain.tokens<32>
  %c = chain.kv_append %qkv {head_dim = 8 : i64, heads = 2 : i64, kv_heads = 1 : i64, layer = 0 : i64} : !chain.tokens<32>
  %o = chain.attention %c {head_dim = 8 : i64, heads = 2 : i64, kv_heads = 1 : i64, layer = 0 : i64} : (!chain.tokens<32>) -> !chain.tokens<16>
  %l = chain.gather_rows %o : (!chain.tokens<16>) -> !chain.logit_rows<16>
  %h = chain.linear %l {in_features = 16 : i64, rows = array<i64: 32>, sources = ["head"]} : (!chain.logit_rows<16>) -> !chain.logit_rows<32>
  chain.return %h : !chain.logit_rows<32>
}
