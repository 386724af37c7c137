// RUN: qtc import %qtc_src_root/test/models/kjv-llama-6m > %t.mlir
// RUN: qtc-opt %t.mlir --qtc-weights=%qtc_src_root/test/models/kjv-llama-6m \
// RUN:   --qtc-quantize-weights=smaller-groups --qtc-rtn --qtc-plan | FileCheck %s
// RUN: not qtc-opt %t.mlir --qtc-plan 2>&1 | FileCheck %s --check-prefix=NO-WEIGHTS

// The named pipeline on an int4 model: every layer is the runtime's chain
// (norm, q|k|v linear, rope_kv_append, attention, o_proj with the residual,
// norm, gate|up linear, swiglu, down_proj with the residual), weights are
// packed chain.tensors (int4 codes and f16 scales, rows of fused linears
// concatenated; dense f16 norms, embedding and lm_head), every value has a
// slot, and the final norm and lm_head run on the gathered rows.

// CHECK-LABEL: chain.plan @kjv_llama_6m
// CHECK-SAME:    slot_names = [
// CHECK-SAME:    slot_widths = array<i64:
// CHECK:         chain.tensor @model.embed_tokens.weight : tensor<4096x256xf16>
// CHECK:         chain.tensor @"model.layers.0.self_attn.q_proj.weight|model.layers.0.self_attn.k_proj.weight|model.layers.0.self_attn.v_proj.weight.qweight" : tensor<512x128xui8>
// CHECK-NEXT:    chain.tensor @"model.layers.0.self_attn.q_proj.weight|model.layers.0.self_attn.k_proj.weight|model.layers.0.self_attn.v_proj.weight.scales" : tensor<512x2xf16>
// CHECK:         chain.tensor @"model.layers.0.mlp.gate_proj.weight|model.layers.0.mlp.up_proj.weight.qweight" : tensor<1408x128xui8>
// CHECK:         chain.tensor @model.layers.0.mlp.down_proj.weight.scales : tensor<256x11xf16>
// CHECK:         chain.tensor @lm_head.weight : tensor<4096x256xf16>
// CHECK-NOT:     chain.tensor

// CHECK:         %[[X:.*]] = chain.embedding "model.embed_tokens.weight" {slot = {{[0-9]+}} : i64, table = @model.embed_tokens.weight}
// CHECK-NEXT:    %[[N:.*]] = chain.rms_norm %[[X]], {{.*}}weight = @model.layers.0.input_layernorm.weight}
// CHECK-NEXT:    %[[QKV:.*]] = chain.linear %[[N]] {encoding = #i4_g128, {{.*}}rows = array<i64: 256, 128, 128>, scales = @{{.*}}, sources = ["model.layers.0.self_attn.q_proj.weight", "model.layers.0.self_attn.k_proj.weight", "model.layers.0.self_attn.v_proj.weight"], weight = @{{.*}}} : (!chain.tokens<256>) -> !chain.tokens<512>
// CHECK-NEXT:    %[[R:.*]] = chain.rope_kv_append %[[QKV]] {{.*}}layer = 0 : i64, slot = [[QKV_SLOT:[0-9]+]] : i64}
// CHECK-NEXT:    %[[A:.*]] = chain.attention %[[R]]
// CHECK-NEXT:    %[[H:.*]] = chain.linear %[[A]] residual(%[[X]]) {{.*}}sources = ["model.layers.0.self_attn.o_proj.weight"]
// CHECK-NEXT:    %[[N2:.*]] = chain.rms_norm %[[H]]
// CHECK-NEXT:    %[[GU:.*]] = chain.linear %[[N2]] {{.*}}rows = array<i64: 704, 704>{{.*}} -> !chain.tokens<1408>
// CHECK-NEXT:    %[[S:.*]] = chain.swiglu %[[GU]]
// CHECK-NEXT:    chain.linear %[[S]] residual(%[[H]]) {encoding = #i4_g64, {{.*}}sources = ["model.layers.0.mlp.down_proj.weight"]
// CHECK-NOT:     chain.concat
// CHECK-NOT:     chain.rope %
// CHECK-NOT:     chain.kv_append
// CHECK-NOT:     chain.add
// CHECK:         %[[G:.*]] = chain.gather_rows %{{.*}} : (!chain.tokens<256>) -> !chain.logit_rows<256>
// CHECK-NEXT:    %[[F:.*]] = chain.rms_norm %[[G]], "model.norm.weight" {{.*}} : (!chain.logit_rows<256>) -> !chain.logit_rows<256>
// CHECK-NEXT:    %[[L:.*]] = chain.linear %[[F]] {{.*}}weight = @lm_head.weight} : (!chain.logit_rows<256>) -> !chain.logit_rows<4096>
// CHECK-NEXT:    chain.return %[[L]]

// NO-WEIGHTS: qtc-chain-pack-weights needs the model's weights
