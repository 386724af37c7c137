// Imports the shared model's ONNX export (torch dynamo exporter, opset 18,
// fp32 weights, RMSNorm / RoPE / GQA / causal mask decomposed into primitive
// ops) and checks that raising gives the canonical graph: layer 0 in full,
// the layer count and the tail, with Hugging Face weight names recovered from
// the structure (the exporter renames transposed linears to "val_N").

// REQUIRES: shared-models
// RUN: qtc import %shared_models/kjv-llama-6m/model.onnx | FileCheck %s

// CHECK-LABEL: tfm.model @kjv_llama_6m
// CHECK-SAME: config = #tfm.model_config<architecture = "LlamaForCausalLM", vocab_size = 4096, hidden_size = 256, num_layers = 6, num_heads = 4, num_kv_heads = 2, head_dim = 64, intermediate_size = 704, max_positions = 1024, rms_norm_eps = 9.99999974E-6, rope_theta = 1.000000e+04, bos_token_id = 1, eos_token_id = 2>
// CHECK-NEXT: ^bb0(%[[IDS:[a-z0-9_]+]]: tensor<?xi64>, %[[POS:[a-z0-9_]+]]: tensor<?xi64>):
// CHECK-NEXT: %[[EMB:.*]] = tfm.weight "model.embed_tokens.weight" : tensor<4096x256xf32>
// CHECK-NEXT: %[[X0:.*]] = tfm.embedding %[[EMB]], %[[IDS]] : tensor<4096x256xf32>, tensor<?xi64> -> tensor<?x256xf32>
// CHECK-NEXT: %[[WIN:.*]] = tfm.weight "model.layers.0.input_layernorm.weight" : tensor<256xf32>
// CHECK-NEXT: %[[N1:.*]] = tfm.rms_norm %[[X0]], %[[WIN]] {epsilon = 9.99999974E-6 : f32} : tensor<?x256xf32>, tensor<256xf32>
// CHECK-NEXT: %[[WQ:.*]] = tfm.weight "model.layers.0.self_attn.q_proj.weight" : tensor<256x256xf32>
// CHECK-NEXT: %[[Q:.*]] = tfm.linear %[[N1]], %[[WQ]] : tensor<?x256xf32>, tensor<256x256xf32> -> tensor<?x256xf32>
// CHECK-NEXT: %[[WK:.*]] = tfm.weight "model.layers.0.self_attn.k_proj.weight" : tensor<128x256xf32>
// CHECK-NEXT: %[[K:.*]] = tfm.linear %[[N1]], %[[WK]] : tensor<?x256xf32>, tensor<128x256xf32> -> tensor<?x128xf32>
// CHECK-NEXT: %[[WV:.*]] = tfm.weight "model.layers.0.self_attn.v_proj.weight" : tensor<128x256xf32>
// CHECK-NEXT: %[[V:.*]] = tfm.linear %[[N1]], %[[WV]] : tensor<?x256xf32>, tensor<128x256xf32> -> tensor<?x128xf32>
// CHECK-NEXT: %[[QR:.*]] = tfm.rope %[[Q]], %[[POS]] {head_dim = 64 : i64, theta = 1.000000e+04 : f32} : tensor<?x256xf32>, tensor<?xi64>
// CHECK-NEXT: %[[KR:.*]] = tfm.rope %[[K]], %[[POS]] {head_dim = 64 : i64, theta = 1.000000e+04 : f32} : tensor<?x128xf32>, tensor<?xi64>
// CHECK-NEXT: %[[A:.*]] = tfm.attention %[[QR]], %[[KR]], %[[V]] {causal, head_dim = 64 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64, scale = 1.250000e-01 : f32} : tensor<?x256xf32>, tensor<?x128xf32>, tensor<?x128xf32>
// CHECK-NEXT: %[[WO:.*]] = tfm.weight "model.layers.0.self_attn.o_proj.weight" : tensor<256x256xf32>
// CHECK-NEXT: %[[O:.*]] = tfm.linear %[[A]], %[[WO]] : tensor<?x256xf32>, tensor<256x256xf32> -> tensor<?x256xf32>
// CHECK-NEXT: %[[X1:.*]] = tfm.add %[[X0]], %[[O]] : tensor<?x256xf32>
// CHECK-NEXT: %[[WPOST:.*]] = tfm.weight "model.layers.0.post_attention_layernorm.weight" : tensor<256xf32>
// CHECK-NEXT: %[[N2:.*]] = tfm.rms_norm %[[X1]], %[[WPOST]] {epsilon = 9.99999974E-6 : f32} : tensor<?x256xf32>, tensor<256xf32>
// CHECK-NEXT: %[[WG:.*]] = tfm.weight "model.layers.0.mlp.gate_proj.weight" : tensor<704x256xf32>
// CHECK-NEXT: %[[G:.*]] = tfm.linear %[[N2]], %[[WG]] : tensor<?x256xf32>, tensor<704x256xf32> -> tensor<?x704xf32>
// CHECK-NEXT: %[[WU:.*]] = tfm.weight "model.layers.0.mlp.up_proj.weight" : tensor<704x256xf32>
// CHECK-NEXT: %[[U:.*]] = tfm.linear %[[N2]], %[[WU]] : tensor<?x256xf32>, tensor<704x256xf32> -> tensor<?x704xf32>
// CHECK-NEXT: %[[S:.*]] = tfm.swiglu %[[G]], %[[U]] : tensor<?x704xf32>
// CHECK-NEXT: %[[WD:.*]] = tfm.weight "model.layers.0.mlp.down_proj.weight" : tensor<256x704xf32>
// CHECK-NEXT: %[[D:.*]] = tfm.linear %[[S]], %[[WD]] : tensor<?x704xf32>, tensor<256x704xf32> -> tensor<?x256xf32>
// CHECK-NEXT: %[[X2:.*]] = tfm.add %[[X1]], %[[D]] : tensor<?x256xf32>
// CHECK-NEXT: tfm.weight "model.layers.1.input_layernorm.weight"
// CHECK-NEXT: tfm.rms_norm %[[X2]],

// Layers 1..5 repeat the pattern; the tail follows the last one.
// CHECK-COUNT-5: tfm.attention
// CHECK-NOT: tfm.attention
// CHECK: %[[WDOWN5:.*]] = tfm.weight "model.layers.5.mlp.down_proj.weight" : tensor<256x704xf32>
// CHECK-NEXT: %[[D5:.*]] = tfm.linear %{{.*}}, %[[WDOWN5]]
// CHECK-NEXT: %[[X12:.*]] = tfm.add %{{.*}}, %[[D5]] : tensor<?x256xf32>
// CHECK-NEXT: %[[WNORM:.*]] = tfm.weight "model.norm.weight" : tensor<256xf32>
// CHECK-NEXT: %[[NF:.*]] = tfm.rms_norm %[[X12]], %[[WNORM]] {epsilon = 9.99999974E-6 : f32} : tensor<?x256xf32>, tensor<256xf32>
// CHECK-NEXT: %[[WLM:.*]] = tfm.weight "lm_head.weight" : tensor<4096x256xf32>
// CHECK-NEXT: %[[LOGITS:.*]] = tfm.lm_head %[[NF]], %[[WLM]] : tensor<?x256xf32>, tensor<4096x256xf32> -> tensor<?x4096xf32>
// CHECK-NEXT: tfm.output %[[LOGITS]] : tensor<?x4096xf32>
