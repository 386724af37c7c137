//===- Passes.td - qtc's passes ----------------------------*- tablegen -*-===//
//
// The single source of every qtc pass's name, options and documentation.
//
//===----------------------------------------------------------------------===//

#ifndef QTC_TRANSFORMS_PASSES_TD
#define QTC_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def QuantizeWeights : Pass<"qtc-quantize-weights", "::mlir::ModuleOp"> {
  let summary = "Store linear-layer weights in a quantized encoding";
  let description = [{
    Rewrites every `tfm.linear` whose weight is a `tfm.weight` into
    `qnt.quantize` of that weight and a `qnt.qlinear` that consumes it, with
    the encoding the options describe: `int3`, `int4` and `int8` give signed
    values in groups of `group-size` input channels with f16 scales
    (`symmetric`), or for int3/int4 unsigned values with f16 scales and zero
    points (`symmetric=false`); `group-size=0` gives one scale per output row
    (`per_channel`). `fp8` gives OCP FP8 E4M3 values with one f32 scale per
    output row (`group-size` must be 0 or omitted as `per_channel`; its
    default 128 is ignored only for fp8).
    The lm_head keeps its dense weight unless `include-lm-head` is set, in
    which case `tfm.lm_head` becomes a `qnt.qlinear` too.

    The pass makes the decision only; a weight quantizer (`qtc-rtn`,
    `qtc-gptq`) then computes the values, scales and zero points.

    A group size that does not divide a layer's input features is an error
    naming the weight, unless `smaller-groups` is set: then that layer uses
    the largest power-of-two group below `group-size` that divides its input
    features (an MLP of 704 gets groups of 64 under a 128 recipe), and the
    layer's encoding says so.

    ```mlir
    %y = tfm.linear %x, %w : tensor<?x256xf32>, tensor<768x256xf16> -> tensor<?x768xf32>
    // becomes
    %q = qnt.quantize %w : tensor<768x256xf16> -> !qnt.weight<768x256, f16, #enc>
    %y = qnt.qlinear %x, %q : tensor<?x256xf32>, !qnt.weight<768x256, f16, #enc> -> tensor<?x768xf32>
    ```
  }];
  let dependentDialects = ["::qtc::qnt::QntDialect"];
  let options = [
    Option<"format", "format", "std::string", /*default=*/"\"int4\"",
           "Weight format: int3, int4, int8 or fp8">,
    Option<"groupSize", "group-size", "int64_t", /*default=*/"128",
           "Input channels sharing one scale (and zero point); 0: one scale "
           "per output row">,
    Option<"symmetric", "symmetric", "bool", /*default=*/"true",
           "Symmetric (no zero point) or asymmetric encoding">,
    Option<"includeLmHead", "include-lm-head", "bool", /*default=*/"false",
           "Quantize the lm_head too">,
    Option<"smallerGroups", "smaller-groups", "bool", /*default=*/"false",
           "Where group-size does not divide a layer's input features, use "
           "the largest power-of-two group that does">,
  ];
}

def Calibrate : Pass<"qtc-calibrate", "::mlir::ModuleOp"> {
  let summary = "Gather activation statistics by running the model on the runtime";
  let description = [{
    Builds the runtime plan of the model as it stands (unquantized weights
    in f16, or those a quantizer already computed), runs it on the runtime's
    host backend over calibration tokens, and records for the input of
    every linear the statistics the quantizers need: X^T X (GPTQ's Hessian)
    and per-channel max and mean |x| (AWQ, SmoothQuant), and per layer and kv
    head the largest |key| and |value| the KV cache stored (calibrated fp8
    KV scales, `qtc-quantize-kv-cache`). The statistics stay beside the IR in
    the model's weight context, keyed by weight name (the KV ranges by
    layer); the IR is unchanged.

    The tokens come from `data`: a file of int32 little-endian token ids
    (`.bin`) or text (any other file), tokenized with the model's
    SentencePiece tokenizer (`tokenizer`), cut into sequences of `seq-len`
    tokens each starting with the model's bos token. Without `data` the
    calibration is data-free, as in LLM-QAT: the model writes its own
    calibration text, each sequence starting from a random token, its next
    three tokens greedy and the rest sampled from the model's distribution
    (temperature 1, eos excluded), with `seed`. `tokens` bounds the total.

    Needs the model's weights (`qtc compile`, or `qtc-opt --qtc-weights=MODEL`).
    Prints the tokens used and the time taken where `qtc compile` shows progress.
  }];
  let dependentDialects = ["::qtc::chain::ChainDialect"];
  let options = [
    Option<"data", "data", "std::string", /*default=*/"\"\"",
           "Calibration tokens: .bin int32 ids or a text file; empty: "
           "data-free, sampled from the model">,
    Option<"tokenizer", "tokenizer", "std::string", /*default=*/"\"\"",
           "SentencePiece tokenizer.model for a text `data` file">,
    Option<"tokens", "tokens", "int64_t", /*default=*/"8192",
           "Calibration tokens in all">,
    Option<"seqLen", "seq-len", "int64_t", /*default=*/"256",
           "Tokens per calibration sequence">,
    Option<"seed", "seed", "uint64_t", /*default=*/"0",
           "Seed of data-free sampling">,
  ];
}

def Awq : Pass<"qtc-awq", "::mlir::ModuleOp"> {
  let summary = "Activation-aware per-channel weight scaling (AWQ)";
  let description = [{
    AWQ (Lin et al., 2023): the input channels that carry large activations
    matter most, so scale those weight columns up before quantization (their
    relative rounding error shrinks) and fold the inverse scale into the op
    that produces the input, leaving the fp32 function unchanged. For each
    pair found — an RMSNorm and the linears reading it (q, k, v; gate, up),
    and the up projection feeding a SwiGLU and the down projection reading
    it — the scale is `s = mean|x|^alpha` (normalized so max*min = 1) with
    alpha searched over `grid` points of [0, 1), minimising the summed
    output error of the consumers' round-to-nearest integer weights in the
    grid `bits` / `group-size` / `symmetric` / `smaller-groups` describe (match the
    `qtc-quantize-weights` that follows), over the calibration activations
    (error = tr(dW H dW^T), H = X^T X; alpha = 0 is plain RTN, so the search
    never does worse by this measure). v -> o is left alone, as the
    reference implementation does for grouped-query attention.

    With `clip`, each scaled consumer's weight groups are then clamped to the
    fraction of their range (1 down to 0.5, per row and group) that
    minimises the group's output error under round-to-nearest (AWQ's
    auto-clip); q and k, which feed RoPE and every attention score, are not
    clipped, as in the reference.

    Scaled weights are stored beside the originals (f32, names suffixed
    `.awq`) and their `tfm.weight` handles renamed; calibration statistics
    are re-registered for the scaled inputs, so `qtc-gptq` can follow.
    Needs the model's weights and `qtc-calibrate`'s statistics.
  }];
  let options = [
    Option<"bits", "bits", "int64_t", /*default=*/"4",
           "Code width of the integer grid the scales are searched for "
           "(3, 4 or 8)">,
    Option<"groupSize", "group-size", "int64_t", /*default=*/"128",
           "Group size of that grid (0: one scale per output row)">,
    Option<"symmetric", "symmetric", "bool", /*default=*/"true",
           "Symmetric or asymmetric grid">,
    Option<"smallerGroups", "smaller-groups", "bool", /*default=*/"false",
           "As qtc-quantize-weights: smaller power-of-two groups where "
           "group-size does not divide a layer">,
    Option<"grid", "grid", "int64_t", /*default=*/"20",
           "Points of the alpha search over [0, 1)">,
    Option<"clip", "clip", "bool", /*default=*/"true",
           "Search a per-group clipping range after scaling">,
  ];
}

def SmoothQuant : Pass<"qtc-smooth-quant", "::mlir::ModuleOp"> {
  let summary = "Migrate activation outliers into the weights (SmoothQuant)";
  let description = [{
    SmoothQuant (Xiao et al., 2023): per-token activation quantization
    suffers from a few input channels far larger than the rest, while the
    weights of those channels are ordinary. Dividing channel j of the input
    by s_j = max|x_j|^alpha / max|W_:,j|^(1-alpha) (the weight maximum over
    every linear reading that input) and multiplying the weight columns by
    s_j moves the difficulty from the activations to the weights, leaving
    the fp32 function unchanged. 1/s is folded into the op that produces the
    input: the RMSNorm before q/k/v and gate/up, and the up projection's
    rows for down_proj (silu(gate) * up is linear in up). v -> o is left
    alone, as under grouped-query attention a v channel feeds several heads.

    Scaled weights are stored beside the originals (f32, names suffixed
    `.smooth`) and their `tfm.weight` handles renamed; calibration
    statistics are re-registered for the smoothed inputs, so `qtc-gptq` can
    follow. Needs the model's weights and `qtc-calibrate`'s statistics.
    Run it before `qtc-quantize-weights`.
  }];
  let options = [
    Option<"alpha", "alpha", "double", /*default=*/"0.5",
           "Migration strength in [0, 1]: 0 leaves the activations alone, "
           "1 moves all of their range into the weights">,
  ];
}

def FoldNorms : Pass<"qtc-fold-norms", "::mlir::ModuleOp"> {
  let summary = "Fold each RMSNorm's scale into the linears that read it";
  let description = [{
    `rms_norm(x, g)` read only by linears (q, k, v; gate, up; the final
    norm and the lm_head) computes the same as `rms_norm(x, 1)` read by the
    linears with weight `W diag(g)`: column c of every reader is multiplied
    by g_c and the norm's scale becomes ones. The fp32 function is
    unchanged; the point is that a norm without a scale commutes with an
    orthogonal rotation of its input (`qtc-rotate`).

    Folded weights are stored beside the originals (f32, names suffixed
    `.fold`) and their `tfm.weight` handles renamed. A norm read by
    anything other than a linear's input keeps its scale. An lm_head tied to
    the embedding table stops aliasing it: it gets its own folded copy (the
    artifact then holds two tables), and a progress line says so. Run it
    before `qtc-calibrate` and the weight quantizers (calibration statistics
    of the old inputs would no longer describe the new ones: an error).
    Needs the model's weights.

    ```mlir
    %n = tfm.rms_norm %x, %g : tensor<?x256xf32>, tensor<256xf16>
    %q = tfm.linear %n, %wq : tensor<?x256xf32>, tensor<256x256xf16> -> tensor<?x256xf32>
    // becomes
    %g1 = tfm.weight "model.layers.0.input_layernorm.weight.fold" : tensor<256xf32>   // ones
    %n = tfm.rms_norm %x, %g1 : tensor<?x256xf32>, tensor<256xf32>
    %wq1 = tfm.weight "model.layers.0.self_attn.q_proj.weight.fold" : tensor<256x256xf32>
    %q = tfm.linear %n, %wq1 : tensor<?x256xf32>, tensor<256x256xf32> -> tensor<?x256xf32>
    ```
  }];
}

def Rotate : Pass<"qtc-rotate", "::mlir::ModuleOp"> {
  let summary = "Rotate the residual stream by a randomized Hadamard matrix (QuaRot R1)";
  let description = [{
    QuaRot (Ashkboos et al., 2024): with Q orthogonal, the residual stream
    x becomes x Q and every weight absorbs Q offline, so the fp32 function
    is unchanged while activations and weights lose their outlier channels
    (Q spreads each channel over all of them), which helps the quantizers
    that follow. Q = D (H_p / sqrt(p)) (x) R_m for hidden = p * m, p a power
    of two: random signs D and a random orthogonal m x m factor R_m drawn
    from `seed` (qtc/Quant/Rotation.h; QuaRot's known Hadamard matrices of
    orders 12, 20, ... are not used).

    The residual stream is the embedding's result and the `tfm.add`s fed by
    it; the pass rewrites
    * the embedding table: E Q (each row);
    * the linears reading an RMSNorm of the stream and the lm_head: W Q
      (in-features side);
    * the linears writing into the stream (o_proj, down_proj, the other
      operand of each residual add): Q^T W (out-features side), and their
      biases b Q.
    A table shared by the embedding and the lm_head stays shared (both
    become E Q). Rotated weights are stored beside the originals (f32, names
    suffixed `.rot`) and their handles renamed.

    An RMSNorm commutes with Q only without its scale: every norm of the
    stream must hold ones (run `qtc-fold-norms` first), else an error names
    the norm and its first scale that is not 1. Other readers of the stream
    (a LayerNorm, a linear reading it unnormalized), a writer that is not a
    linear used once, quantized linears (run before `qtc-quantize-weights`)
    or calibration statistics gathered before (run before `qtc-calibrate`)
    are errors at the op. Online rotations (before down_proj, on the
    attention heads) are not done. Needs the model's weights.
  }];
  let options = [
    Option<"seed", "seed", "uint64_t", /*default=*/"0",
           "Seed of the random signs and the odd-size orthogonal factor">,
  ];
}

def QuantizeActivations : Pass<"qtc-quantize-activations", "::mlir::ModuleOp"> {
  let summary = "Quantize every quantized linear's input per token (W8A8)";
  let description = [{
    Sets `input_encoding` on every `qnt.qlinear`: each input row is
    quantized dynamically, with a scale from that row's absolute maximum,
    to `int8` (codes in [-127, 127]) or `fp8` (e4m3), and the linear
    multiplies codes by codes. The weights must be in the same number
    system with one scale per output row (`qtc-quantize-weights
    format=int8 group-size=0`, or `format=fp8`), so the product's scale
    factors out of the sum; any other weight is an error naming it.
  }];
  let dependentDialects = ["::qtc::qnt::QntDialect"];
  let options = [
    Option<"format", "format", "std::string", /*default=*/"\"int8\"",
           "Activation format: int8 or fp8">,
  ];
}

def RoundToNearest : Pass<"qtc-rtn", "::mlir::ModuleOp"> {
  let summary = "Quantize weights by rounding each to its group's nearest code";
  let description = [{
    Computes every `qnt.quantize` of a `tfm.weight` by round-to-nearest
    (RTN): each group's grid is fixed by its range (symmetric N-bit:
    absmax / (2^(N-1) - 1); asymmetric: the range widened to include 0, in
    2^N - 1 steps) and every weight goes to the nearest code; fp8 weights go
    to the nearest e4m3 value under a per-row scale absmax / 448. The codes,
    f16 scales and zeros (fp8: f32 row scales) are stored in
    the model's weight store and the op becomes `qnt.quantized_weight` with
    the weight's SQNR and maximum error (and, where calibration statistics
    exist, the output SQNR over the calibration activations).

    Needs the model's weights (`qtc compile`, or `qtc-opt --qtc-weights=MODEL`).

    ```mlir
    %q = qnt.quantize %w : tensor<768x256xf16> -> !qnt.weight<768x256, f16, #enc>
    // becomes
    %q = qnt.quantized_weight "model.layers.0.self_attn.q_proj.weight"
        {max_abs_error = 0.0107 : f32, method = "rtn", sqnr_db = 18.8 : f32}
        : !qnt.weight<768x256, f16, #enc>
    ```
  }];
  let dependentDialects = ["::qtc::qnt::QntDialect"];
}

def Gptq : Pass<"qtc-gptq", "::mlir::ModuleOp"> {
  let summary = "Quantize weights with GPTQ against calibration statistics";
  let description = [{
    Computes every `qnt.quantize` of a `tfm.weight` with GPTQ (Frantar et
    al., 2022): columns are quantized one at a time and the rounding error of
    each is spread over the columns not yet quantized through the inverse of
    the layer's input Hessian H = X^T X, minimising the output error
    ||X W^T - X Q^T|| over the calibration activations rather than the weight
    error. `act-order` visits columns by decreasing H diagonal (the inputs
    that carry the most energy first); groups stay contiguous in the
    original column order (static groups: each group's grid comes from its
    unquantized weights), so the result has the layout RTN produces and the
    kernels read. `dampening` adds that fraction of the mean diagonal to H;
    `block-size` columns are updated lazily at a time.

    Needs the model's weights and calibration statistics of every quantized
    linear's input (run `qtc-calibrate` first). Results are stored and the
    op becomes `qnt.quantized_weight` with `method = "gptq"`, the weight SQNR
    and maximum error, and the output SQNR over the calibration activations.
  }];
  let dependentDialects = ["::qtc::qnt::QntDialect"];
  let options = [
    Option<"dampening", "dampening", "double", /*default=*/"0.01",
           "Fraction of the mean Hessian diagonal added to the diagonal">,
    Option<"blockSize", "block-size", "int64_t", /*default=*/"128",
           "Columns per lazy-batch update block">,
    Option<"actOrder", "act-order", "bool", /*default=*/"true",
           "Quantize columns by decreasing Hessian diagonal">,
  ];
}

def QuantizeKvCache : Pass<"qtc-quantize-kv-cache", "::mlir::ModuleOp"> {
  let summary = "Choose how the paged KV cache stores keys and values";
  let description = [{
    Attaches a `#qnt.kv_scheme` (attribute `qnt.kv_scheme`) to every
    `tfm.attention`: the format the paged cache stores its keys and values
    in. `qtc-lower-to-chain` carries the scheme to the chain ops and the
    artifact's `KvCacheSpec`; the runtime's backends store and read it.

    * `f8e4m3` (OCP FP8 E4M3, largest finite 448): one byte per value. The
      scale is 1 (`fp8-scales=one`; values beyond 448 saturate) or
      calibrated: the largest |key| and |value| that `qtc-calibrate` saw per
      layer (`layer`) or per layer and kv head (`head`), over 448.
    * `i8`, `i4`, `i2`: integer pages with f16 scales (and f16 zeros when
      asymmetric, the default) beside the codes in each block's page. Values
      are quantized per token; keys per token or, with
      `key-granularity=per_channel` (KIVI), per channel over the tokens of a
      block, which is quantized when it fills. `residual-window` (0 or
      `block-size`) keeps the block being filled in f16 for the queries in
      it, as KIVI's residual; `sink-tokens` (at most `block-size`) keeps the
      first tokens of every sequence in f16 (attention sinks, IntactKV).

    Contradictory options are errors naming the option: a window other than
    0 or the block size, more sinks than a block, per-channel keys, windows,
    sinks or symmetric flags with fp8, fp8 scales with integers, calibrated
    scales without `qtc-calibrate`'s statistics.

    ```mlir
    %a = tfm.attention %q, %k, %v {..., qnt.kv_scheme = #qnt.kv_scheme<
           key = <format = u4, granularity = per_channel, axis = 0, symmetric = false,
                  scale_type = f16, zero_type = f16>,
           value = <format = u4, granularity = per_token, symmetric = false,
                    scale_type = f16, zero_type = f16>,
           block_size = 32, residual_window = 32>}
    ```
  }];
  let dependentDialects = ["::qtc::qnt::QntDialect"];
  let options = [
    Option<"format", "format", "std::string", /*default=*/"\"f8e4m3\"",
           "Cached key/value format: f8e4m3, i8, i4, i2">,
    Option<"blockSize", "block-size", "int64_t", /*default=*/"16",
           "Tokens per cache block (f8e4m3: 16)">,
    Option<"keyGranularity", "key-granularity", "std::string",
           /*default=*/"\"per_token\"",
           "Integer keys: per_token, or per_channel within a block (KIVI)">,
    Option<"keySymmetric", "key-symmetric", "bool", /*default=*/"false",
           "Integer keys without zero points">,
    Option<"valueSymmetric", "value-symmetric", "bool", /*default=*/"false",
           "Integer values without zero points">,
    Option<"residualWindow", "residual-window", "int64_t", /*default=*/"0",
           "0, or block-size: the filling block is read in f16">,
    Option<"sinkTokens", "sink-tokens", "int64_t", /*default=*/"0",
           "First tokens of a sequence kept in f16 (at most block-size)">,
    Option<"fp8Scales", "fp8-scales", "std::string", /*default=*/"\"one\"",
           "f8e4m3 scales: one, layer or head (calibrated by qtc-calibrate)">,
  ];
}

//===----------------------------------------------------------------------===//
// The plan: tfm/qnt -> chain, fused into the runtime's kernel chains
//===----------------------------------------------------------------------===//

def LowerToChain : Pass<"qtc-lower-to-chain", "::mlir::ModuleOp"> {
  let summary = "Lower a tfm.model (with qnt weights) to a chain.plan, op by op";
  let description = [{
    Replaces the module's `tfm.model` with a `chain.plan` holding one chain
    op per graph op: `tfm.embedding`, `tfm.rms_norm`, `tfm.linear`,
    `tfm.lm_head` and `qnt.qlinear` (with the `qnt.quantized_weight`'s
    encoding and numerics), `tfm.rope`, `tfm.swiglu` (`chain.concat` of gate
    and up, then `chain.swiglu`), `tfm.attention` (`chain.concat` of q, k and
    v, `chain.kv_append`, `chain.attention`) and `tfm.add`; the logits go
    through `chain.gather_rows` to `chain.return`. Weights stay named by
    their source. Structures the runtime cannot run (masks, non-causal or
    sliding-window attention, a scale other than 1/sqrt(head_dim), RoPE or
    heads that differ from the model config, a weight marked for
    quantization but never computed) are errors at the op.

    ```mlir
    %y = tfm.linear %x, %w : tensor<?x256xf32>, tensor<768x256xf16> -> tensor<?x768xf32>
    // becomes
    %y = chain.linear %x {in_features = 256 : i64, rows = array<i64: 768>, sources = ["w"]}
        : (!chain.tokens<256>) -> !chain.tokens<768>
    ```
  }];
  let dependentDialects = ["::qtc::chain::ChainDialect"];
}

def ChainFuseRopeKvAppend : Pass<"qtc-chain-fuse-rope-kv-append", "::mlir::ModuleOp"> {
  let summary = "Move RoPE of q and k into the KV-cache append";
  let description = [{
    `chain.kv_append` of `chain.concat(rope(q), rope(k), v)`, each rope used
    once and rotating the layer's q and kv heads, becomes
    `chain.rope_kv_append` of `chain.concat(q, k, v)`: one kernel rotates q
    and k in place and appends k and v to the paged cache.
  }];
}

def ChainConcatProjections : Pass<"qtc-chain-concat-projections", "::mlir::ModuleOp"> {
  let summary = "Fuse a concat of linears of one input into one linear";
  let description = [{
    `chain.concat` of `chain.linear`s that read the same input, are used
    only by the concat and share a weight encoding becomes one
    `chain.linear` whose weight is their rows one after another (q|k|v,
    gate|up), with their biases and numerics. Linears of one input in
    different encodings cannot share a kernel: an error naming both.
  }];
}

def ChainFuseResidual : Pass<"qtc-chain-fuse-residual", "::mlir::ModuleOp"> {
  let summary = "Fold a residual add into the linear that feeds it";
  let description = [{
    `chain.add(r, chain.linear(x))`, the linear used only by the add and
    without a residual yet, becomes `chain.linear(x) residual(r)`: the add
    happens in the GEMM/GEMV epilogue.
  }];
}

def ChainGatherLogitRows : Pass<"qtc-chain-gather-logit-rows", "::mlir::ModuleOp"> {
  let summary = "Gather the logit rows as early as the row-wise ops allow";
  let description = [{
    Moves `chain.gather_rows` above row-wise ops with one use
    (`chain.rms_norm`, `chain.linear` without a residual, `chain.swiglu`),
    so that they run on the rows whose logits are wanted only: for a decoder,
    the final norm and the lm_head run on one row per sequence instead of
    every prefill token.
  }];
}

def ChainQuantizeInputs : Pass<"qtc-chain-quantize-inputs", "::mlir::ModuleOp"> {
  let summary = "Quantize a W8A8 or FP8 linear's input rows in a chain.quantize_rows";
  let description = [{
    For every `chain.linear` with an `input_encoding` (int8 or fp8 e4m3 per
    token) that reads rows as they are, inserts a `chain.quantize_rows` of
    those rows after their producer and makes the linear read its
    `!chain.quantized_tokens`; linears reading the same rows with the same
    encoding share one. The GEMM then reads one-byte codes and a scale per
    row. Other encodings, or quantized activations on gathered logit rows,
    are errors at the linear.
  }];
}

def ChainFuseNormQuantize : Pass<"qtc-chain-fuse-norm-quantize", "::mlir::ModuleOp"> {
  let summary = "Fold a chain.quantize_rows into the rms_norm it reads";
  let description = [{
    `quantize_rows(rms_norm(x))`, where the quantization is the norm's only
    reader, becomes one `chain.rms_norm` whose result is the quantized rows:
    the norm -> quantize producer fusion. The norm kernel writes codes and
    row scales; the f16 rows are never stored.
  }];
}

def ChainPackWeights : Pass<"qtc-chain-pack-weights", "::mlir::ModuleOp"> {
  let summary = "Lay out every weight as its kernel reads it (chain.tensor)";
  let description = [{
    For every embedding, norm and linear, computes the tensors its kernel
    reads from the source weights in the weight store and declares them as
    `chain.tensor`: dense weights in f16 (the rows of a fused linear
    concatenated), quantized weights in their artifact layout (int3/int4
    nibbles, int8 two's complement bytes, fp8 e4m3 bytes) with the scales
    and zero points of each source, rows concatenated, and biases (zeros for a source
    without one). A single dense weight packed twice (a tied lm_head and the
    embedding table) is one tensor. Non-finite weights are an error naming
    the weight. Needs the model's weights.
  }];
}

def ChainAssignSlots : Pass<"qtc-chain-assign-slots", "::mlir::ModuleOp"> {
  let summary = "Give every value an activation buffer, reused by liveness";
  let description = [{
    Walks the plan in order and sets each op's `slot`: a buffer of the
    result's width that no live value holds, taken from those freed once
    their last reader ran, or a new one. `chain.rope_kv_append` writes its
    operand's buffer in place; an op's result never shares its operands'
    buffers. The plan's `slot_widths` and `slot_names` list the buffers.
  }];
}

#endif // QTC_TRANSFORMS_PASSES_TD
