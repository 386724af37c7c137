// Small decoders exported in other shapes than kjv-llama-6m's (see
// test/Inputs/gen/make_onnx_inputs.py): the raiser must recognize each
// variant and produce the same canonical ops.

// Qwen2: q/k/v biases, grouped heads through repeat_kv, [in, out] weights,
// opset 17 (ReduceMean axes as an attribute), a config.json beside it.
// RUN: qtc import %S/../Inputs/onnx/tiny-qwen2/model.onnx 2>&1 | FileCheck %s --check-prefix=QWEN2
// QWEN2-NOT: warning
// QWEN2-LABEL: tfm.model @tiny_qwen2
// QWEN2-SAME: architecture = "Qwen2ForCausalLM"
// QWEN2-SAME: num_heads = 4, num_kv_heads = 2, head_dim = 4
// QWEN2-SAME: max_positions = 128, rms_norm_eps = 9.99999997E-7, rope_theta = 1.000000e+06, bos_token_id = 3, eos_token_id = 4>
// QWEN2: %[[WQ:.*]] = tfm.weight "model.layers.0.self_attn.q_proj.weight" : tensor<16x16xf32>
// QWEN2-NEXT: %[[BQ:.*]] = tfm.weight "model.layers.0.self_attn.q_proj.bias" : tensor<16xf32>
// QWEN2-NEXT: tfm.linear %{{.*}}, %[[WQ]], %[[BQ]] : tensor<?x16xf32>, tensor<16x16xf32>, tensor<16xf32> -> tensor<?x16xf32>
// QWEN2: tfm.attention {{.*}} {causal, head_dim = 4 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64, scale = 5.000000e-01 : f32}
// QWEN2: %[[WO:.*]] = tfm.weight "model.layers.0.self_attn.o_proj.weight"
// QWEN2-NEXT: tfm.linear %{{.*}}, %[[WO]] :
// QWEN2: tfm.weight "lm_head.weight" : tensor<32x16xf32>

// Llama with tied embeddings: no repeat_kv (as many KV heads as heads),
// Transpose(W) weights, Mul(x, x) / Div RMSNorm, scores divided by
// sqrt(head_dim), a Trilu mask, theta 500000 recovered from the frequencies
// and no config.json, so token ids stay unset and a warning says so.
// RUN: qtc import %S/../Inputs/onnx/tiny-llama-tied/model.onnx 2>&1 | FileCheck %s --check-prefix=TIED
// TIED: warning: no config.json beside the model: the maximum context is unknown and set to 2048, token ids are unset
// TIED-LABEL: tfm.model @tiny_llama_tied
// TIED-SAME: architecture = "LlamaForCausalLM"
// TIED-SAME: num_heads = 2, num_kv_heads = 2, head_dim = 8
// TIED-SAME: max_positions = 2048, rms_norm_eps = 9.99999997E-7, rope_theta = 5.000000e+05, tie_word_embeddings = true>
// TIED-NEXT: ^bb0
// TIED-NEXT: %[[EMB:.*]] = tfm.weight "model.embed_tokens.weight" : tensor<32x16xf32>
// TIED: tfm.rope %{{.*}}, %{{.*}} {head_dim = 8 : i64, theta = 5.000000e+05 : f32}
// TIED: tfm.attention {{.*}} {causal, head_dim = 8 : i64, num_heads = 2 : i64, num_kv_heads = 2 : i64, scale = 0.353553385 : f32}
// TIED-NOT: lm_head.weight
// TIED: tfm.lm_head %{{.*}}, %[[EMB]] : tensor<?x16xf32>, tensor<32x16xf32> -> tensor<?x32xf32>
