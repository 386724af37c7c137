//===- QntOps.td - qnt operations --------------------------*- tablegen -*-===//

#ifndef QTC_DIALECTS_QNT_QNTOPS_TD
#define QTC_DIALECTS_QNT_QNTOPS_TD

include "dialects/qnt/QntDialect.td"
include "dialects/qnt/QntAttrs.td"
include "dialects/qnt/QntTypes.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

defvar Qnt_Activation = 2DTensorOf<[AnyFloat]>;
defvar Qnt_FloatTensor = RankedTensorOf<[AnyFloat]>;
defvar Qnt_Matrix = 2DTensorOf<[AnyFloat]>;

// The per-layer paged KV cache that kv_store writes and kv_load reads.
def Qnt_KvCache : Resource<"::qtc::qnt::KvCacheResource">;

//===----------------------------------------------------------------------===//
// Weights
//===----------------------------------------------------------------------===//

def Qnt_QuantizeOp : Qnt_Op<"quantize", [Pure]> {
  let summary = "Quantizes a weight into its result type's encoding";
  let description = [{
    Declares that `input` is to be stored as `!qnt.weight` with the result
    type's encoding: the decision `qtc-quantize-weights` makes. A weight
    quantizer (`qtc-rtn`, `qtc-gptq`) then computes the values and replaces
    the op with `qnt.quantized_weight`. Shape and element type carry over
    unchanged.

    ```mlir
    %q = qnt.quantize %w : tensor<768x256xf16>
        -> !qnt.weight<768x256, f16, #qnt.encoding<format = i4, granularity = per_group,
                                                   group_size = 128, scale_type = f16>>
    ```
  }];
  let arguments = (ins StaticShapeTensorOf<[AnyFloat]>:$input);
  let results = (outs Qnt_WeightType:$result);
  let assemblyFormat = [{
    $input attr-dict `:` type($input) `->` qualified(type($result))
  }];
  let hasVerifier = 1;
}

def Qnt_QuantizedWeightOp : Qnt_Op<"quantized_weight", [Pure]> {
  let summary = "A weight whose quantized values have been computed";
  let description = [{
    The result of a weight quantizer (`qtc-rtn`, `qtc-gptq`): the codes,
    scales and zero points of the weight `name`, in the result type's
    encoding, live in the model's weight store beside the IR (under `name`
    with the suffixes `.qdata`, `.qscales` and `.qzeros`), as the original
    weights do. `method` names the quantizer; `sqnr_db` and `max_abs_error`
    measure the dequantized weight against the original, and, when the
    quantizer had calibration statistics, `output_sqnr_db` measures the
    layer's output over the calibration activations
    (`10 log10(tr(W H W^T) / tr(dW H dW^T))`, H = X^T X). The plan packs the
    stored values into the kernels' layout.

    ```mlir
    %q = qnt.quantized_weight "model.layers.0.self_attn.q_proj.weight"
        {method = "gptq", sqnr_db = 18.1 : f32, max_abs_error = 0.011 : f32,
         output_sqnr_db = 24.3 : f32}
        : !qnt.weight<768x256, f16, #qnt.encoding<format = i4, granularity = per_group,
                                                  group_size = 128, scale_type = f16>>
    ```
  }];
  let arguments = (ins StrAttr:$name, StrAttr:$method, F32Attr:$sqnr_db,
                       F32Attr:$max_abs_error, OptionalAttr<F32Attr>:$output_sqnr_db);
  let results = (outs Qnt_WeightType:$result);
  let assemblyFormat = "$name attr-dict `:` qualified(type($result))";
  let hasVerifier = 1;
}

def Qnt_DequantizeOp : Qnt_Op<"dequantize", [Pure]> {
  let summary = "Expands a quantized weight back to a dense tensor";
  let description = [{
    `result = (q - zero) * scale` (through the table for lookup formats), in
    the weight's original element type. Used where a consumer has no
    quantized kernel and by numerics checks.

    ```mlir
    %w = qnt.dequantize %q : !qnt.weight<768x256, f16, #qnt.encoding<...>> -> tensor<768x256xf16>
    ```
  }];
  let arguments = (ins Qnt_WeightType:$input);
  let results = (outs StaticShapeTensorOf<[AnyFloat]>:$result);
  let assemblyFormat = [{
    $input attr-dict `:` qualified(type($input)) `->` type($result)
  }];
  let hasVerifier = 1;
}

def Qnt_QLinearOp : Qnt_Op<"qlinear", [Pure]> {
  let summary = "A linear layer with a quantized weight";
  let description = [{
    `tfm.linear` with a `!qnt.weight`: `result = input dequantize(weight)^T
    (+ bias)`. Kernels dequantize on the fly. `input` is `[tokens, in]`, the
    weight `[out, in]` with scales along its input dimension (`axis = 1`),
    the optional `bias` `[out]`, the result `[tokens, out]`.

    ```mlir
    %y = qnt.qlinear %x, %q : tensor<?x256xf32>, !qnt.weight<768x256, f16, #enc> -> tensor<?x768xf32>
    ```
  }];
  let arguments = (ins Qnt_Activation:$input, Qnt_WeightType:$weight,
                       Optional<1DTensorOf<[AnyFloat]>>:$bias);
  let results = (outs Qnt_Activation:$result);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? attr-dict `:` type($input) `,`
    qualified(type($weight)) (`,` type($bias)^)? `->` type($result)
  }];
  let hasVerifier = 1;
}

def Qnt_SplitOutliersOp : Qnt_Op<"split_outliers", [Pure]> {
  let summary = "Moves outlier input columns of a weight into a dense side matrix";
  let description = [{
    For an `[out, in]` weight and sorted, distinct input `columns`, `dense`
    is the weight with those columns zeroed and `outliers` is
    `[out, len(columns)]` holding them, so that
    `x W^T = x dense^T + x[:, columns] outliers^T`. The dense part is then
    quantized while the outliers stay in high precision (OWQ, SqueezeLLM's
    dense-and-sparse split, Atom's reordered outlier channels).

    ```mlir
    %dense, %outliers = qnt.split_outliers %w {columns = array<i64: 3, 17>}
        : tensor<768x256xf16> -> tensor<768x256xf16>, tensor<768x2xf16>
    ```
  }];
  let arguments = (ins Qnt_Matrix:$weight, DenseI64ArrayAttr:$columns);
  let results = (outs Qnt_Matrix:$dense, Qnt_Matrix:$outliers);
  let assemblyFormat = [{
    $weight attr-dict `:` type($weight) `->` type($dense) `,` type($outliers)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Rotations
//===----------------------------------------------------------------------===//

def Qnt_HadamardOp : Qnt_Op<"hadamard", [Pure, SameOperandsAndResultType]> {
  let summary = "Block Walsh-Hadamard transform along the last dimension";
  let description = [{
    Multiplies every run of `size` consecutive features by the orthonormal
    Hadamard matrix `H_size / sqrt(size)` (Sylvester construction), which
    spreads outliers across channels before quantization (QuaRot). `size`
    is a power of two dividing the last dimension. `online` marks a
    transform computed at run time on activations; without it the rotation
    is meant to be folded into adjacent weights offline.

    ```mlir
    %r = qnt.hadamard %x {size = 64, online} : tensor<?x256xf32>
    ```
  }];
  let arguments = (ins Qnt_FloatTensor:$input, I64Attr:$size, UnitAttr:$online);
  let results = (outs Qnt_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($result)";
  let hasVerifier = 1;
}

def Qnt_RotateOp : Qnt_Op<"rotate", [Pure, AllTypesMatch<["input", "result"]>]> {
  let summary = "Multiplies activations by a learned rotation";
  let description = [{
    `result = input @ matrix` with a square `[d, d]` matrix, `d` the input
    width (SpinQuant's learned rotations, or any orthogonal transform that
    is not a Hadamard).

    ```mlir
    %r = qnt.rotate %x, %m : tensor<?x256xf32>, tensor<256x256xf32>
    ```
  }];
  let arguments = (ins Qnt_Activation:$input, Qnt_Matrix:$matrix);
  let results = (outs Qnt_Activation:$result);
  let assemblyFormat = [{
    $input `,` $matrix attr-dict `:` type($input) `,` type($matrix)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Activations
//===----------------------------------------------------------------------===//

def Qnt_QuantizeActOp : Qnt_Op<"quantize_act", [Pure, SameOperandsAndResultType]> {
  let summary = "Rounds activations to an encoding (quantize, then dequantize)";
  let description = [{
    Marks where activations are quantized: the result equals the input
    rounded to `encoding` and expanded back, so the graph stays
    value-semantic and runs unfused. The fuser turns
    `quantize_act -> qlinear` into a low-precision GEMM (W4A8, FP8 x FP8).
    Scales are computed at run time per token or group (dynamic
    quantization) unless a calibrated per-tensor `scale` is given (static
    quantization). Groups and tokens run along the last dimension
    (`axis = rank - 1`).

    ```mlir
    %xq = qnt.quantize_act %x {encoding = #qnt.encoding<format = i8, granularity = per_token,
                                                       scale_type = f32>} : tensor<?x256xf32>
    %xs = qnt.quantize_act %x {encoding = #qnt.encoding<format = f8e4m3, granularity = per_tensor,
                                                       scale_type = f32>,
                               scale = 2.500000e-02 : f32} : tensor<?x256xf32>
    ```
  }];
  let arguments = (ins Qnt_FloatTensor:$input, Qnt_EncodingAttr:$encoding,
                       OptionalAttr<F32Attr>:$scale);
  let results = (outs Qnt_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($result)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// KV cache
//===----------------------------------------------------------------------===//

def Qnt_KvStoreOp : Qnt_Op<"kv_store", [MemoryEffects<[MemWrite<Qnt_KvCache>]>]> {
  let summary = "Appends keys and values to a layer's quantized KV cache";
  let description = [{
    Writes row `t` of `key` and `value` (`[tokens, kv_heads * head_dim]`,
    keys already rotated by RoPE) into cache position `positions[t]` of
    layer `layer`, encoded by `scheme`.

    ```mlir
    qnt.kv_store %k, %v at %positions {layer = 0, scheme = #qnt.kv_scheme<...>}
        : tensor<?x128xf32>, tensor<?x128xf32>, tensor<?xi64>
    ```
  }];
  let arguments = (ins Qnt_Activation:$key, Qnt_Activation:$value,
                       1DTensorOf<[AnySignlessInteger]>:$positions,
                       I64Attr:$layer, Qnt_KvSchemeAttr:$scheme);
  let assemblyFormat = [{
    $key `,` $value `at` $positions attr-dict `:` type($key) `,` type($value)
    `,` type($positions)
  }];
  let hasVerifier = 1;
}

def Qnt_KvLoadOp : Qnt_Op<"kv_load", [MemoryEffects<[MemRead<Qnt_KvCache>]>]> {
  let summary = "Reads a layer's cached keys and values, dequantized";
  let description = [{
    Returns every cached position of the sequence in layer `layer` (the
    tokens stored so far, including the current ones), dequantized from
    `scheme` to the result element type. Attention consumes them in place of
    the current step's keys and values.

    ```mlir
    %k, %v = qnt.kv_load {layer = 0, scheme = #qnt.kv_scheme<...>}
        : tensor<?x128xf32>, tensor<?x128xf32>
    ```
  }];
  let arguments = (ins I64Attr:$layer, Qnt_KvSchemeAttr:$scheme);
  let results = (outs Qnt_Activation:$key, Qnt_Activation:$value);
  let assemblyFormat = "attr-dict `:` type($key) `,` type($value)";
  let hasVerifier = 1;
}

#endif // QTC_DIALECTS_QNT_QNTOPS_TD
