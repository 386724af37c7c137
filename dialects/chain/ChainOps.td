//===- ChainOps.td - chain operations ----------------------*- tablegen -*-===//

#ifndef QTC_DIALECTS_CHAIN_CHAINOPS_TD
#define QTC_DIALECTS_CHAIN_CHAINOPS_TD

include "dialects/chain/ChainAttrs.td"
include "dialects/chain/ChainDialect.td"
include "dialects/chain/ChainTypes.td"
include "dialects/qnt/QntAttrs.td"
include "dialects/tfm/TfmAttrs.td"
include "mlir/IR/SymbolInterfaces.td"
include "mlir/IR/RegionKindInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

// The paged KV cache that kv_append and rope_kv_append write and attention
// reads: it orders them.
def Chain_KvCache : Resource<"::qtc::chain::KvCacheResource">;

// The activation buffer qtc-chain-assign-slots gives an op's result.
defvar Chain_SlotArg = (ins OptionalAttr<I64Attr>:$slot);

//===----------------------------------------------------------------------===//
// Structure
//===----------------------------------------------------------------------===//

def Chain_PlanOp : Chain_Op<"plan", [
    Symbol, SymbolTable, IsolatedFromAbove, SingleBlock, NoRegionArguments]> {
  let summary = "The kernel chains of one model, in execution order";
  let description = [{
    The body runs once per batch: the ops in order, each one kernel launch
    (after fusion), ending in `chain.return` of the logits. `config` is the
    model's configuration (RoPE frequencies, token ids, sizes). After
    `qtc-chain-assign-slots`, `slot_widths` and `slot_names` describe the
    activation buffers the ops' `slot` attributes index, and
    `slot_encodings` (present when any slot holds quantized rows) gives
    each slot's row quantization: a `#qnt.encoding`, or `unit` for rows as
    they are.

    ```mlir
    chain.plan @model attributes {config = #tfm.model_config<...>} {
      chain.tensor @"model.embed_tokens.weight" : tensor<4096x256xf16>
      %x = chain.embedding "model.embed_tokens.weight" : !chain.tokens<256>
      ...
      chain.return %logits : !chain.logit_rows<4096>
    }
    ```
  }];
  let arguments = (ins SymbolNameAttr:$sym_name, Tfm_ModelConfigAttr:$config,
                       OptionalAttr<DenseI64ArrayAttr>:$slot_widths,
                       OptionalAttr<StrArrayAttr>:$slot_names,
                       OptionalAttr<ArrayAttr>:$slot_encodings);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = "$sym_name attr-dict-with-keyword $body";
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    ::mlir::Block &getBlock() { return getBody().front(); }
  }];
}

def Chain_ReturnOp : Chain_Op<"return", [Terminator, HasParent<"PlanOp">]> {
  let summary = "The logits of the batch";
  let arguments = (ins Chain_LogitRowsType:$logits);
  let assemblyFormat = "$logits attr-dict `:` qualified(type($logits))";
}

def Chain_TensorOp : Chain_Op<"tensor", [Symbol, HasParent<"PlanOp">]> {
  let summary = "A weight tensor in the layout its kernel reads";
  let description = [{
    Declares one tensor of the artifact: `qtc-chain-pack-weights` computed
    its bytes (concatenated rows, f16, int4 codes, scales) and keeps them in
    the model's weight store under the symbol's name, beside the IR as the
    source weights are. Ops name the tensors they read by symbol.

    ```mlir
    chain.tensor @"model.layers.0.qkv.qweight" : tensor<512x128xui8>
    ```
  }];
  let arguments = (ins SymbolNameAttr:$sym_name,
                       TypeAttrOf<AnyStaticShapeTensor>:$type);
  let assemblyFormat = "$sym_name attr-dict `:` $type";
}

//===----------------------------------------------------------------------===//
// Kernel steps
//===----------------------------------------------------------------------===//

def Chain_EmbeddingOp : Chain_Op<"embedding", [Pure,
    DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "Rows of the embedding table at the batch's token ids";
  let description = [{
    `source` is the model weight; `table` the packed `chain.tensor`.
  }];
  let arguments = !con((ins StrAttr:$source,
                            OptionalAttr<FlatSymbolRefAttr>:$table),
                       Chain_SlotArg);
  let results = (outs Chain_TokensType:$result);
  let assemblyFormat = "$source attr-dict `:` qualified(type($result))";
}

def Chain_RmsNormOp : Chain_Op<"rms_norm", [Pure,
    DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "x * rsqrt(mean(x^2) + epsilon) * weight";
  let description = [{
    The result has the input's type, or is `!chain.quantized_tokens` of
    the input's width: the norm -> quantize fusion of
    `qtc-chain-fuse-norm-quantize`, one kernel that normalizes each row and
    writes its codes and scale.
  }];
  let arguments = !con((ins Chain_AnyRows:$input, StrAttr:$source,
                            F32Attr:$epsilon,
                            OptionalAttr<FlatSymbolRefAttr>:$weight),
                       Chain_SlotArg);
  let results = (outs Chain_LinearInput:$result);
  let assemblyFormat = [{
    $input `,` $source attr-dict `:` functional-type($input, $result)
  }];
  let hasVerifier = 1;
}

def Chain_QuantizeRowsOp : Chain_Op<"quantize_rows", [Pure]> {
  let summary = "Quantizes each token row: codes and a per-row scale";
  let description = [{
    The dynamic per-token quantization a W8A8 or FP8 linear's input needs
    (`input_encoding`), as its own kernel; `qtc-chain-quantize-inputs`
    creates it and `qtc-chain-fuse-norm-quantize` folds it into the norm
    that produces its input where it can.

    ```mlir
    %q = chain.quantize_rows %x : (!chain.tokens<256>) -> !chain.quantized_tokens<256, #i8_per_token>
    ```
  }];
  let arguments = !con((ins Chain_TokensType:$input), Chain_SlotArg);
  let results = (outs Chain_QuantizedTokensType:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type($input, $result)";
  let hasVerifier = 1;
}

def Chain_LinearOp : Chain_Op<"linear", [Pure,
    DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "y = x W^T (+ bias) (+ residual), W one or more weights' rows";
  let description = [{
    The rows of `W` are those of the source weights `sources` one after
    another (`rows` each; several after `qtc-chain-concat-projections`), all
    stored in `encoding` (dense f16 when absent); `input_encoding` quantizes
    each input row before the multiply (per-token int8 or fp8, from
    `qnt.qlinear`); after `qtc-chain-quantize-inputs` the input is
    `!chain.quantized_tokens` of that encoding. `biases` names each
    source's bias ("" for none). `residual`, added in the epilogue, comes from
    `qtc-chain-fuse-residual`; `numerics` from the weight quantizer.
    `qtc-chain-pack-weights` sets the packed tensors: `weight` (f16 rows or
    int4 codes), `scales`, `zeros` (asymmetric int4) and `bias`.

    ```mlir
    %qkv = chain.linear %x {sources = ["q", "k", "v"], rows = array<i64: 256, 128, 128>,
                            in_features = 256 : i64, encoding = #i4_g128}
        : (!chain.tokens<256>) -> !chain.tokens<512>
    ```
  }];
  let arguments = !con((ins Chain_LinearInput:$input,
                            Optional<Chain_AnyRows>:$residual,
                            StrArrayAttr:$sources,
                            DenseI64ArrayAttr:$rows,
                            I64Attr:$in_features,
                            OptionalAttr<StrArrayAttr>:$biases,
                            OptionalAttr<Qnt_EncodingAttr>:$encoding,
                            OptionalAttr<Qnt_EncodingAttr>:$input_encoding,
                            OptionalAttr<TypedArrayAttrBase<Chain_WeightNumericsAttr,
                                "weight numerics">>:$numerics,
                            OptionalAttr<FlatSymbolRefAttr>:$weight,
                            OptionalAttr<FlatSymbolRefAttr>:$scales,
                            OptionalAttr<FlatSymbolRefAttr>:$zeros,
                            OptionalAttr<FlatSymbolRefAttr>:$bias),
                       Chain_SlotArg);
  let results = (outs Chain_AnyRows:$result);
  let assemblyFormat = [{
    $input (`residual` `(` $residual^ `)`)? attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    int64_t getOutFeatures();
  }];
}

def Chain_ConcatOp : Chain_Op<"concat", [Pure]> {
  let summary = "Rows side by side (fused away by qtc-chain-concat-projections)";
  let description = [{
    The kernel chains read q|k|v and gate|up as one row; `chain.concat`
    says so until `qtc-chain-concat-projections` turns a concat of linears
    of one input into one linear. The runtime has no concat kernel.
  }];
  let arguments = !con((ins Variadic<Chain_TokensType>:$inputs), Chain_SlotArg);
  let results = (outs Chain_TokensType:$result);
  let assemblyFormat = "$inputs attr-dict `:` functional-type($inputs, $result)";
  let hasVerifier = 1;
}

def Chain_RopeOp : Chain_Op<"rope", [Pure, AllTypesMatch<["input", "result"]>]> {
  let summary = "Rotary embedding of `heads` heads (fused into rope_kv_append)";
  let description = [{
    Rotate-half RoPE at each token's position with the plan's frequencies
    (`config`). The runtime rotates only inside `chain.rope_kv_append`;
    `qtc-chain-fuse-rope-kv-append` moves the rotation there.
  }];
  let arguments = !con((ins Chain_TokensType:$input, I64Attr:$heads,
                            I64Attr:$head_dim),
                       Chain_SlotArg);
  let results = (outs Chain_TokensType:$result);
  let assemblyFormat = "$input attr-dict `:` qualified(type($result))";
  let hasVerifier = 1;
}

// q|k|v rows of one layer and the paged KV cache they meet.
defvar Chain_AttentionArgs = (ins Chain_TokensType:$qkv, I64Attr:$layer,
    I64Attr:$heads, I64Attr:$kv_heads, I64Attr:$head_dim,
    OptionalAttr<Qnt_KvSchemeAttr>:$kv_scheme);

def Chain_KvAppendOp : Chain_Op<"kv_append", [
    AllTypesMatch<["qkv", "result"]>,
    MemoryEffects<[MemWrite<Chain_KvCache>]>]> {
  let summary = "Appends the k and v columns to the layer's KV cache";
  let description = [{
    `qkv` rows are `[q: heads*head_dim | k: kv_heads*head_dim | v: same]`;
    k and v are stored in the cache's format (`kv_scheme`; f16 when absent)
    at each token's position. The result is `qkv` unchanged. The runtime
    appends only with RoPE (`chain.rope_kv_append`).
  }];
  let arguments = !con(Chain_AttentionArgs, Chain_SlotArg);
  let results = (outs Chain_TokensType:$result);
  let assemblyFormat = "$qkv attr-dict `:` qualified(type($result))";
  let hasVerifier = 1;
}

def Chain_RopeKvAppendOp : Chain_Op<"rope_kv_append", [
    AllTypesMatch<["qkv", "result"]>,
    MemoryEffects<[MemWrite<Chain_KvCache>]>]> {
  let summary = "Rotates q and k in place and appends k and v to the KV cache";
  let description = [{
    One kernel: RoPE (the plan's frequencies) on the q and k columns of
    `qkv`, then k and v into the layer's paged cache. The result is the
    rotated rows, in the same buffer.
  }];
  let arguments = !con(Chain_AttentionArgs, Chain_SlotArg);
  let results = (outs Chain_TokensType:$result);
  let assemblyFormat = "$qkv attr-dict `:` qualified(type($result))";
  let hasVerifier = 1;
}

def Chain_AttentionOp : Chain_Op<"attention", [
    MemoryEffects<[MemRead<Chain_KvCache>]>]> {
  let summary = "Causal attention of the q columns over the layer's KV cache";
  let description = [{
    Each token's q heads attend to its sequence's cached keys and values at
    positions 0..pos (GQA: head h reads kv head h / (heads / kv_heads)),
    scale 1/sqrt(head_dim), softmax in f32.
  }];
  let arguments = !con(Chain_AttentionArgs, Chain_SlotArg);
  let results = (outs Chain_TokensType:$result);
  let assemblyFormat = "$qkv attr-dict `:` functional-type($qkv, $result)";
  let hasVerifier = 1;
}

def Chain_SwigluOp : Chain_Op<"swiglu", [Pure]> {
  let summary = "silu(x[:, :F]) * x[:, F:] of gate|up rows of width 2F";
  let arguments = !con((ins Chain_AnyRows:$gate_up), Chain_SlotArg);
  let results = (outs Chain_AnyRows:$result);
  let assemblyFormat = "$gate_up attr-dict `:` functional-type($gate_up, $result)";
  let hasVerifier = 1;
}

def Chain_AddOp : Chain_Op<"add", [Pure, AllTypesMatch<["lhs", "rhs", "result"]>]> {
  let summary = "Element-wise sum";
  let arguments = !con((ins Chain_AnyRows:$lhs, Chain_AnyRows:$rhs), Chain_SlotArg);
  let results = (outs Chain_AnyRows:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` qualified(type($result))";
}

def Chain_GatherRowsOp : Chain_Op<"gather_rows", [Pure]> {
  let summary = "The rows of the tokens whose logits are wanted";
  let arguments = !con((ins Chain_TokensType:$input), Chain_SlotArg);
  let results = (outs Chain_LogitRowsType:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type($input, $result)";
  let hasVerifier = 1;
}

#endif // QTC_DIALECTS_CHAIN_CHAINOPS_TD
