//===- TfmOps.td - tfm operations --------------------------*- tablegen -*-===//

#ifndef QTC_DIALECTS_TFM_TFMOPS_TD
#define QTC_DIALECTS_TFM_TFMOPS_TD

include "dialects/tfm/TfmDialect.td"
include "dialects/tfm/TfmAttrs.td"
include "mlir/IR/OpAsmInterface.td"
include "mlir/IR/SymbolInterfaces.td"
include "mlir/Interfaces/ControlFlowInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

// Activations are [tokens, features]; weights are statically shaped.
defvar Tfm_Activation = 2DTensorOf<[AnyFloat]>;
defvar Tfm_FloatTensor = RankedTensorOf<[AnyFloat]>;
defvar Tfm_Vector = 1DTensorOf<[AnyFloat]>;
defvar Tfm_Matrix = 2DTensorOf<[AnyFloat]>;
defvar Tfm_Indices = 1DTensorOf<[AnySignlessInteger]>;

//===----------------------------------------------------------------------===//
// Structure
//===----------------------------------------------------------------------===//

def Tfm_ModelOp : Tfm_Op<"model", [
    Symbol, IsolatedFromAbove, SingleBlock,
    DeclareOpInterfaceMethods<OpAsmOpInterface, ["getAsmBlockArgumentNames"]>
  ]> {
  let summary = "A whole decoder-only model for one sequence";
  let description = [{
    The root of an imported model. Its single block takes the token ids and
    their positions (both `tensor<?xi64>`, one entry per token of one
    sequence) and ends in `tfm.output` with the logits
    `tensor<?x{vocab_size}xf32>`. `config` holds the hyper-parameters that
    the graph does not state.

    ```mlir
    tfm.model @tiny attributes {config = #tfm.model_config<...>} {
    ^bb0(%ids: tensor<?xi64>, %positions: tensor<?xi64>):
      %emb = tfm.weight "model.embed_tokens.weight" : tensor<4096x256xf16>
      ...
      tfm.output %logits : tensor<?x4096xf32>
    }
    ```
  }];
  let arguments = (ins SymbolNameAttr:$sym_name, Tfm_ModelConfigAttr:$config);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = "$sym_name attr-dict-with-keyword $body";
  let skipDefaultBuilders = 1;
  let builders = [
    // Creates the model with its entry block (ids, positions) and no ops.
    OpBuilder<(ins "::llvm::StringRef":$name, "ModelConfigAttr":$config)>
  ];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    ::mlir::Block &getBodyBlock() { return getBody().front(); }
    ::mlir::BlockArgument getIds() { return getBodyBlock().getArgument(0); }
    ::mlir::BlockArgument getPositions() { return getBodyBlock().getArgument(1); }
  }];
}

def Tfm_OutputOp : Tfm_Op<"output", [
    Pure, Terminator, ReturnLike, HasParent<"ModelOp">
  ]> {
  let summary = "Returns the model's logits";
  let description = [{
    Terminates the body of `tfm.model`. The enclosing model checks that it
    returns exactly one value: the logits `[tokens, vocab_size]`.

    ```mlir
    tfm.output %logits : tensor<?x4096xf32>
    ```
  }];
  let arguments = (ins Variadic<AnyRankedTensor>:$results);
  let assemblyFormat = "attr-dict ($results^ `:` type($results))?";
}

def Tfm_WeightOp : Tfm_Op<"weight", [
    Pure, DeclareOpInterfaceMethods<OpAsmOpInterface, ["getAsmResultNames"]>
  ]> {
  let summary = "A named model weight";
  let description = [{
    A handle to one weight tensor of the checkpoint, named as in Hugging Face
    (`model.layers.0.self_attn.q_proj.weight`). The IR carries the name and
    the type only; the bytes stay in the importer's weight store, so textual
    IR never holds weight data. Importers create each weight right before its
    first user. The printer names the result after the weight.

    ```mlir
    %wq = tfm.weight "model.layers.0.self_attn.q_proj.weight" : tensor<256x256xf16>
    ```
  }];
  let arguments = (ins StrAttr:$name);
  let results = (outs StaticShapeTensorOf<[AnyFloat, AnyInteger]>:$result);
  let assemblyFormat = "$name attr-dict `:` type($result)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Embedding and normalisation
//===----------------------------------------------------------------------===//

def Tfm_EmbeddingOp : Tfm_Op<"embedding", [Pure]> {
  let summary = "Looks up token embeddings";
  let description = [{
    `result[t, :] = table[ids[t], :]`, converted to the result's element
    type. `table` is `[vocab, hidden]`; `ids` has one entry per token.

    ```mlir
    %x = tfm.embedding %emb, %ids : tensor<4096x256xf16>, tensor<?xi64> -> tensor<?x256xf32>
    ```
  }];
  let arguments = (ins Tfm_Matrix:$table, Tfm_Indices:$ids);
  let results = (outs Tfm_Activation:$result);
  let assemblyFormat = [{
    $table `,` $ids attr-dict `:` type($table) `,` type($ids) `->` type($result)
  }];
  let hasVerifier = 1;
}

def Tfm_RmsNormOp : Tfm_Op<"rms_norm", [Pure, AllTypesMatch<["input", "result"]>]> {
  let summary = "Root-mean-square normalisation with a learned scale";
  let description = [{
    `result[t, i] = input[t, i] / sqrt(mean_j(input[t, j]^2) + epsilon) * weight[i]`,
    computed in the activation's precision. `weight` has one entry per feature.

    ```mlir
    %n = tfm.rms_norm %x, %w {epsilon = 1.000000e-05 : f32} : tensor<?x256xf32>, tensor<256xf16>
    ```
  }];
  let arguments = (ins Tfm_Activation:$input, Tfm_Vector:$weight, F32Attr:$epsilon);
  let results = (outs Tfm_Activation:$result);
  let assemblyFormat = [{
    $input `,` $weight attr-dict `:` type($input) `,` type($weight)
  }];
  let hasVerifier = 1;
}

def Tfm_LayerNormOp : Tfm_Op<"layer_norm", [Pure, AllTypesMatch<["input", "result"]>]> {
  let summary = "Layer normalisation with a learned scale and optional bias";
  let description = [{
    `result[t, i] = (input[t, i] - mean_t) / sqrt(var_t + epsilon) * weight[i] (+ bias[i])`
    where mean and (biased) variance run over the features of token `t`.

    ```mlir
    %n = tfm.layer_norm %x, %w, %b {epsilon = 1.000000e-05 : f32}
        : tensor<?x256xf32>, tensor<256xf16>, tensor<256xf16>
    ```
  }];
  let arguments = (ins Tfm_Activation:$input, Tfm_Vector:$weight,
                       Optional<Tfm_Vector>:$bias, F32Attr:$epsilon);
  let results = (outs Tfm_Activation:$result);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? attr-dict `:` type($input) `,` type($weight)
    (`,` type($bias)^)?
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Projections
//===----------------------------------------------------------------------===//

def Tfm_LinearOp : Tfm_Op<"linear", [Pure]> {
  let summary = "A fully connected layer, y = x W^T (+ b)";
  let description = [{
    `weight` is `[out, in]` (PyTorch's `nn.Linear` layout), `input` is
    `[tokens, in]`, the optional `bias` is `[out]` and the result
    `[tokens, out]`. Weights are converted to the activation precision.

    ```mlir
    %q = tfm.linear %x, %w : tensor<?x256xf32>, tensor<768x256xf16> -> tensor<?x768xf32>
    %k = tfm.linear %x, %w, %b : tensor<?x256xf32>, tensor<128x256xf16>, tensor<128xf16>
        -> tensor<?x128xf32>
    ```
  }];
  let arguments = (ins Tfm_Activation:$input, Tfm_Matrix:$weight,
                       Optional<Tfm_Vector>:$bias);
  let results = (outs Tfm_Activation:$result);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? attr-dict `:` type($input) `,` type($weight)
    (`,` type($bias)^)? `->` type($result)
  }];
  let hasVerifier = 1;
}

def Tfm_LmHeadOp : Tfm_Op<"lm_head", [Pure]> {
  let summary = "The final projection from hidden states to vocabulary logits";
  let description = [{
    Same arithmetic as `tfm.linear` without bias: `weight` is
    `[vocab, hidden]` (the embedding table when the model ties them). Kept
    apart from `tfm.linear` because it runs once per sampled token, not per
    layer, and is where logit rows are selected.

    ```mlir
    %logits = tfm.lm_head %h, %w : tensor<?x256xf32>, tensor<4096x256xf16> -> tensor<?x4096xf32>
    ```
  }];
  let arguments = (ins Tfm_Activation:$input, Tfm_Matrix:$weight);
  let results = (outs Tfm_Activation:$result);
  let assemblyFormat = [{
    $input `,` $weight attr-dict `:` type($input) `,` type($weight) `->` type($result)
  }];
  let hasVerifier = 1;
}

def Tfm_MatmulOp : Tfm_Op<"matmul", [Pure]> {
  let summary = "Batched matrix product of two activations";
  let description = [{
    `result[..., m, n] = sum_k lhs[..., m, k] * rhs[..., k, n]` for operands
    of equal rank (at least 2) whose leading batch dimensions agree. For
    products with a weight use `tfm.linear`, whose weight is transposed.

    ```mlir
    %s = tfm.matmul %a, %b : tensor<4x?x64xf32>, tensor<4x64x?xf32> -> tensor<4x?x?xf32>
    ```
  }];
  let arguments = (ins Tfm_FloatTensor:$lhs, Tfm_FloatTensor:$rhs);
  let results = (outs Tfm_FloatTensor:$result);
  let assemblyFormat = [{
    $lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs) `->` type($result)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Attention
//===----------------------------------------------------------------------===//

def Tfm_RopeOp : Tfm_Op<"rope", [Pure, AllTypesMatch<["input", "result"]>]> {
  let summary = "Rotary position embedding (rotate-half convention)";
  let description = [{
    Rotates every `head_dim`-wide head of `input` by its token's position:
    for `i < head_dim / 2`, with `f_i = theta^(-2i / head_dim)` (rescaled by
    `scaling` when present) and `a = positions[t] * f_i`,

    ```
    out[i]              = x[i] * cos(a) - x[i + head_dim/2] * sin(a)
    out[i + head_dim/2] = x[i + head_dim/2] * cos(a) + x[i] * sin(a)
    ```

    This is the non-interleaved convention of Hugging Face Llama.

    ```mlir
    %qr = tfm.rope %q, %positions {head_dim = 64, theta = 1.000000e+04 : f32}
        : tensor<?x256xf32>, tensor<?xi64>
    ```
  }];
  let arguments = (ins Tfm_Activation:$input, Tfm_Indices:$positions,
                       I64Attr:$head_dim, F32Attr:$theta,
                       OptionalAttr<Tfm_RopeScalingAttr>:$scaling);
  let results = (outs Tfm_Activation:$result);
  let assemblyFormat = [{
    $input `,` $positions attr-dict `:` type($input) `,` type($positions)
  }];
  let hasVerifier = 1;
}

def Tfm_AttentionOp : Tfm_Op<"attention", [Pure, AllTypesMatch<["query", "result"]>]> {
  let summary = "Scaled dot-product attention with grouped key/value heads";
  let description = [{
    Splits `query` `[T, num_heads * head_dim]` into `num_heads` heads and
    `key` / `value` `[S, num_kv_heads * head_dim]` into `num_kv_heads` heads;
    query head `h` attends to key/value head `h / (num_heads / num_kv_heads)`
    (grouped-query attention; multi-head when the counts are equal):

    `out_h = softmax(scale * q_h k_g^T + mask) v_g`

    With `causal`, query row `t` sees key rows `0..t + (S - T)` (the query
    tokens are the last `T` of the `S`). `sliding_window = W` further limits
    it to the newest `W` of those. The optional `mask` `[T, S]` is added to
    the scores (float) or selects the visible pairs (`i1`). The result has
    the query's shape, heads concatenated.

    ```mlir
    %a = tfm.attention %q, %k, %v {num_heads = 4, num_kv_heads = 2, head_dim = 64,
                                   causal, scale = 1.250000e-01 : f32}
        : tensor<?x256xf32>, tensor<?x128xf32>, tensor<?x128xf32>
    ```
  }];
  let arguments = (ins Tfm_Activation:$query, Tfm_Activation:$key,
                       Tfm_Activation:$value,
                       Optional<2DTensorOf<[AnyFloat, I1]>>:$mask,
                       I64Attr:$num_heads, I64Attr:$num_kv_heads,
                       I64Attr:$head_dim, UnitAttr:$causal, F32Attr:$scale,
                       OptionalAttr<I64Attr>:$sliding_window);
  let results = (outs Tfm_Activation:$result);
  let assemblyFormat = [{
    $query `,` $key `,` $value (`,` `mask` $mask^)? attr-dict `:` type($query)
    `,` type($key) `,` type($value) (`,` type($mask)^)?
  }];
  let hasVerifier = 1;
}

def Tfm_SoftmaxOp : Tfm_Op<"softmax", [Pure, SameOperandsAndResultType]> {
  let summary = "Softmax along one axis";
  let description = [{
    `result = exp(x - max(x)) / sum(exp(x - max(x)))` along `axis`.

    ```mlir
    %p = tfm.softmax %s {axis = 1} : tensor<?x?xf32>
    ```
  }];
  let arguments = (ins Tfm_FloatTensor:$input, I64Attr:$axis);
  let results = (outs Tfm_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($result)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Element-wise
//===----------------------------------------------------------------------===//

class Tfm_UnaryOp<string mnemonic, list<Trait> traits = []>
    : Tfm_Op<mnemonic, !listconcat([Pure, SameOperandsAndResultType], traits)> {
  let arguments = (ins Tfm_FloatTensor:$input);
  let results = (outs Tfm_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($result)";
}

class Tfm_BinaryOp<string mnemonic, list<Trait> traits = []>
    : Tfm_Op<mnemonic, !listconcat([Pure, SameOperandsAndResultType], traits)> {
  let arguments = (ins Tfm_FloatTensor:$lhs, Tfm_FloatTensor:$rhs);
  let results = (outs Tfm_FloatTensor:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($result)";
}

def Tfm_SiluOp : Tfm_UnaryOp<"silu"> {
  let summary = "SiLU (swish): x * sigmoid(x)";
  let description = [{
    ```mlir
    %y = tfm.silu %x : tensor<?x704xf32>
    ```
  }];
}

def Tfm_GeluOp : Tfm_Op<"gelu", [Pure, SameOperandsAndResultType]> {
  let summary = "GELU, exact or with the tanh approximation";
  let description = [{
    `x * Phi(x)` with the normal CDF `Phi` computed by `erf` (default) or,
    with `approximate<tanh>`, by
    `0.5 * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 x^3)))`.

    ```mlir
    %y = tfm.gelu %x : tensor<?x1024xf32>
    %z = tfm.gelu %x approximate<tanh> : tensor<?x1024xf32>
    ```
  }];
  let arguments = (ins Tfm_FloatTensor:$input,
      DefaultValuedAttr<Tfm_GeluApproximationAttr,
                        "::qtc::tfm::GeluApproximation::none">:$approximate);
  let results = (outs Tfm_FloatTensor:$result);
  let assemblyFormat = [{
    $input (`approximate` `` $approximate^)? attr-dict `:` type($result)
  }];
}

def Tfm_AddOp : Tfm_BinaryOp<"add", [Commutative]> {
  let summary = "Element-wise sum (residual connections)";
  let description = [{
    ```mlir
    %y = tfm.add %x, %attn : tensor<?x256xf32>
    ```
  }];
}

def Tfm_MulOp : Tfm_BinaryOp<"mul", [Commutative]> {
  let summary = "Element-wise product";
  let description = [{
    ```mlir
    %y = tfm.mul %gate, %up : tensor<?x704xf32>
    ```
  }];
}

def Tfm_SwigluOp : Tfm_Op<"swiglu", [Pure, SameOperandsAndResultType]> {
  let summary = "Gated SiLU of a Llama MLP: silu(gate) * up";
  let description = [{
    The product of `tfm.silu %gate` and `%up`, kept as one op because every
    Llama-family MLP has it and kernels fuse it into one pass.

    ```mlir
    %s = tfm.swiglu %gate, %up : tensor<?x704xf32>
    ```
  }];
  let arguments = (ins Tfm_FloatTensor:$gate, Tfm_FloatTensor:$up);
  let results = (outs Tfm_FloatTensor:$result);
  let assemblyFormat = "$gate `,` $up attr-dict `:` type($result)";
}

#endif // QTC_DIALECTS_TFM_TFMOPS_TD
