// RUN: qtc import %qtc_src_root/test/models/kjv-llama-6m > %t.mlir
// RUN: qtc-opt %t.mlir --qtc-lower-to-chain | FileCheck %s
// RUN: not qtc-opt %t.mlir --qtc-quantize-weights=smaller-groups --qtc-lower-to-chain 2>&1 \
// RUN:   | FileCheck %s --check-prefix=UNCOMPUTED

// One chain op per graph op, weights named by their source: q, k and v stay
// three linears and meet in a concat before the KV append; gate and up in a
// concat before the swiglu; the logits are gathered just before the return.

// CHECK-LABEL: chain.plan @kjv_llama_6m attributes {config = #tfm.model_config<{{.*}}num_layers = 6
// CHECK:         %[[X:.*]] = chain.embedding "model.embed_tokens.weight" : !chain.tokens<256>
// CHECK-NEXT:    %[[N:.*]] = chain.rms_norm %[[X]], "model.layers.0.input_layernorm.weight"
// CHECK-NEXT:    %[[Q:.*]] = chain.linear %[[N]] {in_features = 256 : i64, rows = array<i64: 256>, sources = ["model.layers.0.self_attn.q_proj.weight"]} : (!chain.tokens<256>) -> !chain.tokens<256>
// CHECK-NEXT:    %[[K:.*]] = chain.linear %[[N]] {{.*}} -> !chain.tokens<128>
// CHECK-NEXT:    %[[V:.*]] = chain.linear %[[N]] {{.*}} -> !chain.tokens<128>
// CHECK-NEXT:    %[[QR:.*]] = chain.rope %[[Q]] {head_dim = 64 : i64, heads = 4 : i64}
// CHECK-NEXT:    %[[KR:.*]] = chain.rope %[[K]] {head_dim = 64 : i64, heads = 2 : i64}
// CHECK-NEXT:    %[[QKV:.*]] = chain.concat %[[QR]], %[[KR]], %[[V]] : {{.*}} -> !chain.tokens<512>
// CHECK-NEXT:    %[[C:.*]] = chain.kv_append %[[QKV]] {head_dim = 64 : i64, heads = 4 : i64, kv_heads = 2 : i64, layer = 0 : i64}
// CHECK-NEXT:    %[[A:.*]] = chain.attention %[[C]] {{.*}} : (!chain.tokens<512>) -> !chain.tokens<256>
// CHECK-NEXT:    %[[O:.*]] = chain.linear %[[A]]
// CHECK-NEXT:    %[[H:.*]] = chain.add %[[X]], %[[O]]
// CHECK:         %[[GU:.*]] = chain.concat %{{.*}}, %{{.*}} : (!chain.tokens<704>, !chain.tokens<704>) -> !chain.tokens<1408>
// CHECK-NEXT:    chain.swiglu %[[GU]] : (!chain.tokens<1408>) -> !chain.tokens<704>
// CHECK:         chain.attention {{.*}}layer = 5
// CHECK:         %[[L:.*]] = chain.linear %{{.*}} {{.*}}sources = ["lm_head.weight"]} : (!chain.tokens<256>) -> !chain.tokens<4096>
// CHECK-NEXT:    %[[G:.*]] = chain.gather_rows %[[L]] : (!chain.tokens<4096>) -> !chain.logit_rows<4096>
// CHECK-NEXT:    chain.return %[[G]] : !chain.logit_rows<4096>
// CHECK-NOT:     tfm.

// UNCOMPUTED: error: weight is marked for quantization but its values were never computed
