//===- Passes.td - The ONNX importer's passes --------------*- tablegen -*-===//
//
// Conversion of `onnx.node` into typed onnx ops, and the raising of ONNX
// decompositions to tfm. The importer runs them in this order
// (buildOnnxRaisePipeline); each runs alone under qtc-opt.
//
//===----------------------------------------------------------------------===//

#ifndef QTC_IMPORT_PASSES_TD
#define QTC_IMPORT_PASSES_TD

include "mlir/Pass/PassBase.td"

def OnnxConvertNodes : Pass<"qtc-onnx-convert-nodes", "::mlir::func::FuncOp"> {
  let summary = "Converts each onnx.node into the typed op of its operator";
  let description = [{
    One table entry per (domain, op type, opset range) reads a node's
    attributes and operands the way that opset defines them and builds the
    typed op: `axes` and `split` inputs become attributes (they must be
    constants), omitted optional inputs get their defaults, `Identity` and
    inference-mode `Dropout` disappear, two-operand `Max`/`Min` and opset-11
    `Softmax` on the last axis are accepted. Result types are inferred from
    the operands (sizes the graph computes stay `?`), and each new op is
    folded as it is built, so shape subgraphs collapse while the function is
    converted in order. The function's result types follow.

    A node no entry accepts is an error naming the node, its op type and
    the opset; an entry that cannot read its node says why.

    ```mlir
    %1 = onnx.node "Unsqueeze"(%x, %axes) {attrs = {}} : (tensor<?xi64>, tensor<1xi64>) -> !onnx.value
    // becomes
    %1 = onnx.Unsqueeze %x {axes = array<i64: 0>} : tensor<?xi64> -> tensor<1x?xi64>
    ```
  }];
  let dependentDialects = ["::qtc::onnxir::OnnxDialect"];
}

def OnnxRaiseNorms : Pass<"qtc-onnx-raise-norms", "::mlir::func::FuncOp"> {
  let summary = "Raises RMSNorm and LayerNorm decompositions to tfm";
  let description = [{
    RMSNorm: `w * (x * 1/sqrt(mean(x^2, -1) + eps))` in any of the ways
    exporters spell it (`Pow(x, 2)` or `Mul(x, x)`; `Reciprocal(Sqrt)`,
    `Div(1, Sqrt)`, `Div(x, Sqrt)` or `Pow(v, -0.5)`), with or without the
    fp32 `Cast`s fp16 exports put around it, and onnxruntime's
    `SimplifiedLayerNormalization` -> `tfm.rms_norm`. `LayerNormalization`
    (opset 17) over the last axis -> `tfm.layer_norm`. The activation is
    `[tokens, features]` or `[1, tokens, features]` (collapsed and expanded
    around the tfm op with `tensor` reshapes that cancel between raised ops);
    the weight and bias are constants.

    ```mlir
    %n = tfm.rms_norm %x, %w {epsilon = 1.000000e-05 : f32} : tensor<?x256xf32>, tensor<256xf32>
    ```
  }];
  let dependentDialects = ["::qtc::tfm::TfmDialect", "::mlir::tensor::TensorDialect"];
}

def OnnxRaiseLinears : Pass<"qtc-onnx-raise-linears", "::mlir::func::FuncOp"> {
  let summary = "Raises products with constant weights and table lookups to tfm";
  let description = [{
    `MatMul(x, W)` with a constant `[in, out]` weight, optionally followed
    by `Add` of a constant `[out]` bias, and `Gemm` (alpha = beta = 1) ->
    `tfm.linear` with the weight `[out, in]`: a weight that the graph
    already transposes (`Transpose(W)`, `transB = 1`) is used as stored,
    otherwise an `onnx.Transpose` of the initializer is the weight (never
    folded: the bytes stay where they are). `Gather(table, ids)` on axis 0
    with a constant 2-D table -> `tfm.embedding`.

    ```mlir
    %q = tfm.linear %x, %wq : tensor<?x256xf32>, tensor<256x256xf32> -> tensor<?x256xf32>
    ```
  }];
  let dependentDialects = ["::qtc::tfm::TfmDialect", "::mlir::tensor::TensorDialect"];
}

def OnnxRaiseMlp : Pass<"qtc-onnx-raise-mlp", "::mlir::func::FuncOp"> {
  let summary = "Raises SwiGLU and GELU to tfm";
  let description = [{
    `silu(g) * u` spelled `Mul(Mul(g, Sigmoid(g)), u)` (factors in any
    order) -> `tfm.swiglu`; `Sigmoid` products alone -> `tfm.silu`. GELU
    as opset-20 `Gelu`, as `x * 0.5 * (1 + erf(x / sqrt(2)))` or as the
    tanh approximation `0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))`
    -> `tfm.gelu` (constants matched to 1e-3 relative).

    ```mlir
    %s = tfm.swiglu %gate, %up : tensor<?x704xf32>
    ```
  }];
  let dependentDialects = ["::qtc::tfm::TfmDialect", "::mlir::tensor::TensorDialect"];
}

def OnnxCheckRaised : Pass<"qtc-onnx-check-raised", "::mlir::func::FuncOp"> {
  let summary = "Fails on every onnx op that no raising pass consumed";
  let description = [{
    After raising, only constants (and the `onnx.Transpose` views of
    initializers that raised linears take as weights) may remain at the ONNX
    level. Each other op is an error located at its node, naming the node
    and its op type (the first ten; a count of the rest).
  }];
}

#endif // QTC_IMPORT_PASSES_TD
