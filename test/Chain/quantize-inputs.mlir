// RUN: qtc-opt %s --split-input-file --qtc-chain-quantize-inputs | FileCheck %s
// RUN: qtc-opt %s --split-input-file --qtc-chain-quantize-inputs --qtc-chain-fuse-norm-quantize \
// RUN:   | FileCheck %s --check-prefix=FUSED
// RUN: qtc-opt %s --split-input-file --qtc-chain-quantize-inputs --qtc-chain-fuse-norm-quantize \
// RUN:   --qtc-chain-assign-slots | FileCheck %s --check-prefix=SLOTS

// A linear with an input_encoding reads the codes of a chain.quantize_rows
// placed after the producer of its rows; linears reading the same rows the
// same way share it, another encoding gets its own, and linears without
// one read the rows as they are. The fusion then folds a quantization into
// the norm it reads when it is the norm's only reader, and slots hold one
// kind of rows each (the one quantized buffer serves all three quantized
// values in turn).

#cfg = #tfm.model_config<architecture = "LlamaForCausalLM", vocab_size = 32, hidden_size = 16, num_layers = 1, num_heads = 2, num_kv_heads = 1, head_dim = 8, intermediate_size = 24, max_positions = 64, rms_norm_eps = 1.0e-05, rope_theta = 1.0e+04>
#w8 = #qnt.encoding<format = i8, granularity = per_channel, scale_type = f16>
#a8 = #qnt.encoding<format = i8, granularity = per_token, scale_type = f32>

// CHECK-LABEL: chain.plan @shared
// CHECK:         %[[N:.*]] = chain.rms_norm
// CHECK-NEXT:    %[[Q:.*]] = chain.quantize_rows %[[N]] : (!chain.tokens<16>) -> !chain.quantized_tokens<16, #i8_token>
// CHECK-NEXT:    chain.linear %[[Q]] {{.*}}sources = ["a"]
// CHECK-NEXT:    chain.linear %[[Q]] {{.*}}sources = ["b"]
// CHECK-NEXT:    chain.add
// CHECK-NEXT:    %[[Q2:.*]] = chain.quantize_rows %{{.*}} : (!chain.tokens<16>)
// CHECK-NEXT:    chain.linear %[[Q2]] {{.*}}sources = ["c"]
// CHECK:         chain.quantize_rows
// CHECK-NOT:     chain.quantize_rows
// CHECK-LABEL: chain.plan @fp8
// FUSED-LABEL: chain.plan @shared
// FUSED:         %[[N:.*]] = chain.rms_norm %{{.*}} : (!chain.tokens<16>) -> !chain.quantized_tokens<16, {{.*}}>
// FUSED-NEXT:    chain.linear %[[N]] {{.*}}sources = ["a"]
// FUSED-NEXT:    chain.linear %[[N]] {{.*}}sources = ["b"]
// FUSED:         chain.quantize_rows
// The second norm is read by a plain linear too: its quantization stays.
// FUSED:         %[[N2:.*]] = chain.rms_norm %{{.*}} : (!chain.tokens<16>) -> !chain.tokens<16>
// FUSED-NEXT:    chain.quantize_rows %[[N2]]
// SLOTS-LABEL: chain.plan @shared
// SLOTS-SAME:    slot_encodings = [unit, #i8_token, unit, unit], slot_names = ["hidden", "norm", "linear", "hidden"]
chain.plan @shared attributes {config = #cfg} {
  %x = chain.embedding "emb" : !chain.tokens<16>
  %n = chain.rms_norm %x, "n" {epsilon = 1.0e-05 : f32} : (!chain.tokens<16>) -> !chain.tokens<16>
  %a = chain.linear %n {in_features = 16 : i64, rows = array<i64: 16>, sources = ["a"], encoding = #w8, input_encoding = #a8} : (!chain.tokens<16>) -> !chain.tokens<16>
  %b = chain.linear %n {in_features = 16 : i64, rows = array<i64: 16>, sources = ["b"], encoding = #w8, input_encoding = #a8} : (!chain.tokens<16>) -> !chain.tokens<16>
  %h = chain.add %a, %b : !chain.tokens<16>
  %c = chain.linear %h {in_features = 16 : i64, rows = array<i64: 16>, sources = ["c"], encoding = #w8, input_encoding = #a8} : (!chain.tokens<16>) -> !chain.tokens<16>
  %n2 = chain.rms_norm %c, "n2" {epsilon = 1.0e-05 : f32} : (!chain.tokens<16>) -> !chain.tokens<16>
  %d = chain.linear %n2 {in_features = 16 : i64, rows = array<i64: 16>, sources = ["d"], encoding = #w8, input_encoding = #a8} : (!chain.tokens<16>) -> !chain.tokens<16>
  %e = chain.linear %n2 {in_features = 16 : i64, rows = array<i64: 16>, sources = ["e"]} : (!chain.tokens<16>) -> !chain.tokens<16>
  %s = chain.add %d, %e : !chain.tokens<16>
  %l = chain.gather_rows %s : (!chain.tokens<16>) -> !chain.logit_rows<16>
  chain.return %l : !chain.logit_rows<16>
}

// -----
#cfg = #tfm.model_config<architecture = "LlamaForCausalLM", vocab_size = 32, hidden_size = 16, num_layers = 1, num_heads = 2, num_kv_heads = 1, head_dim = 8, intermediate_size = 24, max_positions = 64, rms_norm_eps = 1.0e-05, rope_theta = 1.0e+04>
#f8 = #qnt.encoding<format = f8e4m3, granularity = per_channel, scale_type = f32>
#af8 = #qnt.encoding<format = f8e4m3, granularity = per_token, scale_type = f32>

// fp8 rows, from a value with no norm behind it (the embedding).
// CHECK:         %[[X:.*]] = chain.embedding
// CHECK-NEXT:    %[[Q:.*]] = chain.quantize_rows %[[X]] : (!chain.tokens<16>) -> !chain.quantized_tokens<16, #f8e4m3_token>
// CHECK-NEXT:    chain.linear %[[Q]]
// FUSED-LABEL: chain.plan @fp8
// FUSED:         chain.quantize_rows
chain.plan @fp8 attributes {config = #cfg} {
  %x = chain.embedding "emb" : !chain.tokens<16>
  %a = chain.linear %x {in_features = 16 : i64, rows = array<i64: 16>, sources = ["a"], encoding = #f8, input_encoding = #af8} : (!chain.tokens<16>) -> !chain.tokens<16>
  %l = chain.gather_rows %a : (!chain.tokens<16>) -> !chain.logit_rows<16>
  chain.return %l : !chain.logit_rows<16>
}
