//===- Passes.td - The ONNX importer's passes --------------*- tablegen -*-===//
//
// Conversion of `onnx.node` into typed onnx ops, the raising of ONNX
// decompositions to tfm, and the binding of the raised decoder to
// tfm.model. The importer runs them in this order (buildOnnxRaisePipeline,
// then buildOnnxImportPipeline adds the binding); each runs alone under
// qtc-opt.
//
//===----------------------------------------------------------------------===//

#ifndef QTC_IMPORT_PASSES_TD
#define QTC_IMPORT_PASSES_TD

include "mlir/Pass/PassBase.td"

def OnnxSpecializeBatch : Pass<"qtc-onnx-specialize-batch", "::mlir::func::FuncOp"> {
  let summary = "Fixes the graph inputs' symbolic batch dimension to 1";
  let description = [{
    Exporters give `input_ids`, `attention_mask` and `position_ids` a
    symbolic leading dimension (`[batch, sequence]`); tfm.model runs one
    sequence at a time (the runtime batches sequences itself), so the
    leading dimension of every graph input of rank 2 or more that is
    dynamic becomes 1 before conversion, and shapes computed from it fold
    (the probes read such a dimension as 1 too). Sizes other than the
    leading one stay as the graph has them.

    ```mlir
    func.func @main(%ids: tensor<?x?xi64>) ...
    // becomes
    func.func @main(%ids: tensor<1x?xi64>) ...
    ```
  }];
}

def OnnxStripKvCache : Pass<"qtc-onnx-strip-kv-cache", "::mlir::func::FuncOp"> {
  let summary = "Past key/value inputs and present outputs become the runtime's cache";
  let description = [{
    Exports made for decoding with a cache (optimum's `past_key_values.N.key`
    / `.value` inputs, `[batch, kv_heads, past, head_dim]`, and
    `present.N.*` outputs) concatenate each past tensor with the new keys or
    values on the sequence axis, attend over the result and return it. qtc's
    runtime owns a paged KV cache, so the graph is imported as the step
    without a past: found by data flow (no names), a graph input is a past
    key/value when it is the rank-4 first operand of a two-operand `Concat`
    whose result is a graph output (directly or through `Identity`), or the
    `past_key`/`past_value` operand of a com.microsoft `GroupQueryAttention`
    or `MultiHeadAttention` or of opset 23's `Attention` whose present output
    is a graph output. The
    `Concat` becomes the new keys or values, the fused op's past operand
    `onnx.absent`, `Shape` of a past (the exporters' past length for masks
    and positions) the shape with a past of 0 tokens; the input and the
    present outputs are removed from `@main`. Runs on `onnx.node`s, before
    conversion.

    A past input read by any other node, or concatenated on another axis,
    is an error naming that node.

    ```mlir
    %k = onnx.node "Concat"(%past, %new) {attrs = {axis = -2 : i64}} ...
    return %logits, %k
    // becomes: uses of %k read %new; return %logits
    ```
  }];
  let dependentDialects = ["::qtc::onnxir::OnnxDialect"];
}

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

def OnnxRaiseRope : Pass<"qtc-onnx-raise-rope", "::mlir::func::FuncOp"> {
  let summary = "Raises rotary position embeddings to tfm.rope";
  let description = [{
    `x * cos + rotate_half(x) * sin`, with `rotate_half(x)` =
    `Concat(Neg(x[D/2:]), x[:D/2])` on the last axis (two Slices or one
    Split), where `x` is a per-head view (`Reshape` to `[1, T, H, D]`,
    optionally `Transpose` to `[1, H, T, D]`) of a projection, becomes
    `tfm.rope` on the projection and the same view of its result. `cos` and
    `sin` may be computed any way (tables gathered by position ids,
    `inv_freq x positions` through `MatMul` or `Mul`, `Cast`s): they are
    evaluated with the onnx ops' folders at probe lengths (13 and 6 tokens,
    and from position 5 when they read `position_ids`) and must be
    `cos/sin(p * f_i)` in the rotate-half layout with
    `f_i = theta^(-2i/D) / factor`, or scaled band by band as llama3's
    `rope_scaling` does (unscaled high frequencies, low ones divided by
    `factor`, the ones between interpolated); theta and the scaling
    parameters are the values with the fewest significant digits that
    reproduce the tables to their precision (llama3's context and band
    factors only matter through their ratios: `low_freq_factor` is taken
    as 1, and a config.json beside the model may state them otherwise).
    The positions are the graph's `position_ids` when the
    tables read them; otherwise the function gains an argument `positions`
    (`tensor<?xi64>`, named in `onnx.input_names`): the tables follow the
    token index, which is each token's position in a sequence from 0.

    GPT-J's interleaved form, `x * cos + rotate_every_two(x) * sin` with
    `rotate_every_two(x)` = `Reshape(Concat(Unsqueeze(-x[1::2]),
    Unsqueeze(x[0::2])))` on a new last axis and tables whose column `j`
    rotates by `f_{j/2}`, is raised too: pairs `(2i, 2i + 1)` are
    rotate-half's `(i, i + D/2)` after a permutation of each head's
    features, so `tfm.rope` rotates `onnx.Gather(x, perm)` on the feature
    axis and its result is gathered back by the inverse permutation
    (qtc-onnx-bind-model moves the permutation into the q/k weights).

    ```mlir
    %qr = tfm.rope %q, %positions {head_dim = 64 : i64, theta = 1.000000e+04 : f32}
        : tensor<?x256xf32>, tensor<?xi64>
    ```
  }];
  let dependentDialects = ["::qtc::tfm::TfmDialect", "::mlir::tensor::TensorDialect"];
}

def OnnxRaiseAttention : Pass<"qtc-onnx-raise-attention", "::mlir::func::FuncOp"> {
  let summary = "Raises scaled dot-product attention to tfm.attention";
  let description = [{
    `Reshape(Transpose(MatMul(Softmax(s), V), [0, 2, 1, 3]))` back to
    `[1, T, H * D]` with `s = scale * Q K^T + mask` on per-head views of
    three projections becomes `tfm.attention` on the projections. The scale
    is the product of scalar `Mul`/`Div` factors on the scores, on q and on
    k (or k^T); `Cast`s around the softmax (fp32 softmax in fp16 graphs) are
    looked through. Key/value heads repeated for grouped-query attention by
    `Unsqueeze(2)` + `Expand` (or `Tile` of that axis, or `Concat` of
    copies) + `Reshape` give
    `num_kv_heads`. Masks are `Add`ed (0 or at most -1e4) or applied by
    `Where(cond, scores, fill)` / `Where(cond, fill, scores)`; they are
    evaluated with the onnx folders at 13 and 6 tokens (attention_mask all
    ones) and must be causal (`causal`) or let every pair through (none).
    The opset-23 `onnx.Attention` raises too: on `[1, T, heads * head_dim]`
    projections, or on head views whose result is merged back by
    `Transpose` + `Reshape`; its mask (boolean: true where a pair takes
    part) is probed the same way together with `is_causal`.

    ```mlir
    %a = tfm.attention %q, %k, %v {causal, head_dim = 64 : i64, num_heads = 4 : i64,
                                   num_kv_heads = 2 : i64, scale = 1.250000e-01 : f32}
        : tensor<?x256xf32>, tensor<?x128xf32>, tensor<?x128xf32>
    ```
  }];
  let dependentDialects = ["::qtc::tfm::TfmDialect", "::mlir::tensor::TensorDialect"];
}

def OnnxCheckRaised : Pass<"qtc-onnx-check-raised", "::mlir::func::FuncOp"> {
  let summary = "Fails on every onnx op that no raising pass consumed";
  let description = [{
    After raising, only constants (and the `onnx.Transpose` views of
    initializers that raised linears take as weights, and the feature
    `onnx.Gather`s around an interleaved rope) may remain at the ONNX
    level; the residual Adds and activation Casts are the binding's
    (qtc-onnx-bind-model checks the same and more). Each other op is an error located at its node, naming the node
    and its op type (the first ten; a count of the rest).
  }];
}

def OnnxBindModel : Pass<"qtc-onnx-bind-model", "::mlir::ModuleOp"> {
  let summary = "Assembles the raised decoder in @main into tfm.model";
  let description = [{
    Finds the decoder in the raised `@main` by data flow (no node or tensor
    names): the `tfm.embedding` of the token ids, then per layer the input
    RMSNorm, the q/k/v projections, the two `tfm.rope`s, `tfm.attention`,
    the output projection and its residual `onnx.Add`, the post-attention
    RMSNorm, gate/up, `tfm.swiglu`, down and its residual `onnx.Add`; the
    final RMSNorm and the head. Activation `onnx.Cast`s between floats and
    the `[1, T, F]` <-> `[T, F]` reshapes are looked through: tfm.model's
    activations are f32.

    Emits `tfm.model` in the canonical order the Hugging Face importer
    emits (docs/contracts.md), each op with the attributes of the raised op
    it replaces, and one `tfm.weight` per initializer named by its role
    (`model.layers.3.self_attn.q_proj.weight`, ...). A weight the graph
    holds as `[in, out]` (the raised linear reads a `Transpose` of it) is
    registered transposed in the importer's WeightStore; the q/k rows of
    an interleaved RoPE (a rope between feature `onnx.Gather`s by a
    permutation and its inverse) are registered permuted into rotate-half
    order, the same permutation per head on both sides, which leaves q.k
    unchanged; a head that reads
    the embedding table itself is `tie_word_embeddings`. The configuration
    comes from the raised ops (sizes from the weights, heads and scale from
    the attentions, theta and scaling from the ropes, epsilon from the
    norms: every layer must agree); what a graph cannot state
    (architecture, maximum context, bos/eos ids, a sliding window too wide
    for the probed masks to show) comes from `config-json`
    when given, which must then agree with the graph, and otherwise
    defaults with a warning. `@main` is then erased.

    An ONNX op no raising pass consumed is an error naming the node and its
    op type (as `qtc-onnx-check-raised`); a part of the graph that does not
    fit the decoder is an error at the op where it breaks, saying what the
    decoder needs there.
  }];
  let options = [
    Option<"modelName", "model-name", "std::string", "\"model\"",
           "Symbol name of the tfm.model">,
    Option<"configJson", "config-json", "std::string", "\"\"",
           "A Hugging Face config.json supplying what the graph cannot state">,
  ];
  let dependentDialects = ["::qtc::tfm::TfmDialect"];
}

#endif // QTC_IMPORT_PASSES_TD
