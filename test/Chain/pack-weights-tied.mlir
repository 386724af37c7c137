// RUN: qtc import %qtc_src_root/test/Inputs/onnx/tiny-llama-tied/model.onnx 2>/dev/null > %t.mlir
// RUN: qtc-opt %t.mlir --qtc-weights=%qtc_src_root/test/Inputs/onnx/tiny-llama-tied/model.onnx \
// RUN:   --qtc-plan 2>/dev/null | FileCheck %s

// Tied embeddings: the lm_head reads the embedding table, and packing keeps
// one tensor for both (the artifact does not carry the table twice).

// CHECK:         chain.tensor @model.embed_tokens.weight : tensor<32x16xf16>
// CHECK-NOT:     chain.tensor @model.embed_tokens.weight
// CHECK:         chain.embedding "model.embed_tokens.weight" {{{.*}}table = @model.embed_tokens.weight}
// CHECK:         chain.linear {{.*}}sources = ["model.embed_tokens.weight"], weight = @model.embed_tokens.weight} : (!chain.logit_rows<16>) -> !chain.logit_rows<32>
// CHECK-NEXT:    chain.return
