// Both importers give the same graph for the same model: same op sequence,
// shapes, attributes and weight names. Only the weights' element types
// differ (fp16 safetensors, fp32 ONNX), so they are matched as {{f16|f32}},
// and the whole printed modules must agree once those types are masked.

// REQUIRES: shared-models
// RUN: qtc import %shared_models/kjv-llama-6m | FileCheck %s --check-prefix=GRAPH
// RUN: qtc import %shared_models/kjv-llama-6m/model.onnx | FileCheck %s --check-prefix=GRAPH
// RUN: qtc import %shared_models/kjv-llama-6m | sed -E 's/xf(16|32)>/xfW>/g' > %t.hf
// RUN: qtc import %shared_models/kjv-llama-6m/model.onnx | sed -E 's/xf(16|32)>/xfW>/g' > %t.onnx
// RUN: diff %t.hf %t.onnx

// GRAPH-LABEL: tfm.model @kjv_llama_6m
// GRAPH-SAME: config = #tfm.model_config<architecture = "LlamaForCausalLM", vocab_size = 4096, hidden_size = 256, num_layers = 6, num_heads = 4, num_kv_heads = 2, head_dim = 64, intermediate_size = 704, max_positions = 1024, rms_norm_eps = 9.99999974E-6, rope_theta = 1.000000e+04, bos_token_id = 1, eos_token_id = 2>
// GRAPH-NEXT: ^bb0(%[[IDS:[a-z0-9_]+]]: tensor<?xi64>, %[[POS:[a-z0-9_]+]]: tensor<?xi64>):
// GRAPH-NEXT: %[[EMB:.*]] = tfm.weight "model.embed_tokens.weight" : tensor<4096x256x{{f16|f32}}>
// GRAPH-NEXT: %[[X0:.*]] = tfm.embedding %[[EMB]], %[[IDS]] : tensor<4096x256x{{f16|f32}}>, tensor<?xi64> -> tensor<?x256xf32>
// GRAPH-NEXT: %[[WIN:.*]] = tfm.weight "model.layers.0.input_layernorm.weight" : tensor<256x{{f16|f32}}>
// GRAPH-NEXT: %[[N1:.*]] = tfm.rms_norm %[[X0]], %[[WIN]] {epsilon = 9.99999974E-6 : f32} : tensor<?x256xf32>, tensor<256x{{f16|f32}}>
// GRAPH-NEXT: %[[WQ:.*]] = tfm.weight "model.layers.0.self_attn.q_proj.weight" : tensor<256x256x{{f16|f32}}>
// GRAPH-NEXT: %[[Q:.*]] = tfm.linear %[[N1]], %[[WQ]] : tensor<?x256xf32>, tensor<256x256x{{f16|f32}}> -> tensor<?x256xf32>
// GRAPH-NEXT: %[[WK:.*]] = tfm.weight "model.layers.0.self_attn.k_proj.weight" : tensor<128x256x{{f16|f32}}>
// GRAPH-NEXT: %[[K:.*]] = tfm.linear %[[N1]], %[[WK]] : tensor<?x256xf32>, tensor<128x256x{{f16|f32}}> -> tensor<?x128xf32>
// GRAPH-NEXT: %[[WV:.*]] = tfm.weight "model.layers.0.self_attn.v_proj.weight" : tensor<128x256x{{f16|f32}}>
// GRAPH-NEXT: %[[V:.*]] = tfm.linear %[[N1]], %[[WV]] : tensor<?x256xf32>, tensor<128x256x{{f16|f32}}> -> tensor<?x128xf32>
// GRAPH-NEXT: %[[QR:.*]] = tfm.rope %[[Q]], %[[POS]] {head_dim = 64 : i64, theta = 1.000000e+04 : f32} : tensor<?x256xf32>, tensor<?xi64>
// GRAPH-NEXT: %[[KR:.*]] = tfm.rope %[[K]], %[[POS]] {head_dim = 64 : i64, theta = 1.000000e+04 : f32} : tensor<?x128xf32>, tensor<?xi64>
// GRAPH-NEXT: %[[A:.*]] = tfm.attention %[[QR]], %[[KR]], %[[V]] {causal, head_dim = 64 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64, scale = 1.250000e-01 : f32} : tensor<?x256xf32>, tensor<?x128xf32>, tensor<?x128xf32>
// GRAPH-NEXT: %[[WO:.*]] = tfm.weight "model.layers.0.self_attn.o_proj.weight" : tensor<256x256x{{f16|f32}}>
// GRAPH-NEXT: %[[O:.*]] = tfm.linear %[[A]], %[[WO]] : tensor<?x256xf32>, tensor<256x256x{{f16|f32}}> -> tensor<?x256xf32>
// GRAPH-NEXT: %[[X1:.*]] = tfm.add %[[X0]], %[[O]] : tensor<?x256xf32>
// GRAPH-NEXT: %[[WPOST:.*]] = tfm.weight "model.layers.0.post_attention_layernorm.weight" : tensor<256x{{f16|f32}}>
// GRAPH-NEXT: %[[N2:.*]] = tfm.rms_norm %[[X1]], %[[WPOST]] {epsilon = 9.99999974E-6 : f32} : tensor<?x256xf32>, tensor<256x{{f16|f32}}>
// GRAPH-NEXT: %[[WG:.*]] = tfm.weight "model.layers.0.mlp.gate_proj.weight" : tensor<704x256x{{f16|f32}}>
// GRAPH-NEXT: %[[G:.*]] = tfm.linear %[[N2]], %[[WG]] : tensor<?x256xf32>, tensor<704x256x{{f16|f32}}> -> tensor<?x704xf32>
// GRAPH-NEXT: %[[WU:.*]] = tfm.weight "model.layers.0.mlp.up_proj.weight" : tensor<704x256x{{f16|f32}}>
// GRAPH-NEXT: %[[U:.*]] = tfm.linear %[[N2]], %[[WU]] : tensor<?x256xf32>, tensor<704x256x{{f16|f32}}> -> tensor<?x704xf32>
// GRAPH-NEXT: %[[S:.*]] = tfm.swiglu %[[G]], %[[U]] : tensor<?x704xf32>
// GRAPH-NEXT: %[[WD:.*]] = tfm.weight "model.layers.0.mlp.down_proj.weight" : tensor<256x704x{{f16|f32}}>
// GRAPH-NEXT: %[[D:.*]] = tfm.linear %[[S]], %[[WD]] : tensor<?x704xf32>, tensor<256x704x{{f16|f32}}> -> tensor<?x256xf32>
// GRAPH-NEXT: %[[X2:.*]] = tfm.add %[[X1]], %[[D]] : tensor<?x256xf32>
// GRAPH-NEXT: tfm.weight "model.layers.1.input_layernorm.weight"
// GRAPH-NEXT: tfm.rms_norm %[[X2]],

// Layers 1..5 repeat the pattern; the tail follows the last one.
// GRAPH-COUNT-5: tfm.attention
// GRAPH-NOT: tfm.attention
// GRAPH: %[[WDOWN5:.*]] = tfm.weight "model.layers.5.mlp.down_proj.weight" : tensor<256x704x{{f16|f32}}>
// GRAPH-NEXT: %[[D5:.*]] = tfm.linear %{{.*}}, %[[WDOWN5]]
// GRAPH-NEXT: %[[X12:.*]] = tfm.add %{{.*}}, %[[D5]] : tensor<?x256xf32>
// GRAPH-NEXT: %[[WNORM:.*]] = tfm.weight "model.norm.weight" : tensor<256x{{f16|f32}}>
// GRAPH-NEXT: %[[NF:.*]] = tfm.rms_norm %[[X12]], %[[WNORM]] {epsilon = 9.99999974E-6 : f32} : tensor<?x256xf32>, tensor<256x{{f16|f32}}>
// GRAPH-NEXT: %[[WLM:.*]] = tfm.weight "lm_head.weight" : tensor<4096x256x{{f16|f32}}>
// GRAPH-NEXT: %[[LOGITS:.*]] = tfm.lm_head %[[NF]], %[[WLM]] : tensor<?x256xf32>, tensor<4096x256x{{f16|f32}}> -> tensor<?x4096xf32>
// GRAPH-NEXT: tfm.output %[[LOGITS]] : tensor<?x4096xf32>
