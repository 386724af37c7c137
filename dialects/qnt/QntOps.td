//===- QntOps.td - qnt operations --------------------------*- tablegen -*-===//

#ifndef QTC_DIALECTS_QNT_QNTOPS_TD
#define QTC_DIALECTS_QNT_QNTOPS_TD

include "dialects/qnt/QntDialect.td"
include "dialects/qnt/QntAttrs.td"
include "dialects/qnt/QntTypes.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

defvar Qnt_Activation = 2DTensorOf<[AnyFloat]>;

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

def Qnt_QLinearOp : Qnt_Op<"qlinear", [Pure]> {
  let summary = "A linear layer with a quantized weight";
  let description = [{
    `tfm.linear` with a `!qnt.weight`: `result = input dequantize(weight)^T
    (+ bias)`. Kernels dequantize on the fly. `input` is `[tokens, in]`, the
    weight `[out, in]` with scales along its input dimension (`axis = 1`),
    the optional `bias` `[out]`, the result `[tokens, out]`.

    `input_encoding`, set by `qtc-quantize-activations`, quantizes each input
    row dynamically before the multiply (`per_token`, i8 or f8e4m3 with f32
    scales): the product is then of codes, as in W8A8.

    ```mlir
    %y = qnt.qlinear %x, %q : tensor<?x256xf32>, !qnt.weight<768x256, f16, #enc> -> tensor<?x768xf32>
    %z = qnt.qlinear %x, %q8 {input_encoding = #qnt.encoding<format = i8,
             granularity = per_token, scale_type = f32>} : ...
    ```
  }];
  let arguments = (ins Qnt_Activation:$input, Qnt_WeightType:$weight,
                       Optional<1DTensorOf<[AnyFloat]>>:$bias,
                       OptionalAttr<Qnt_EncodingAttr>:$input_encoding);
  let results = (outs Qnt_Activation:$result);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? attr-dict `:` type($input) `,`
    qualified(type($weight)) (`,` type($bias)^)? `->` type($result)
  }];
  let hasVerifier = 1;
}

#endif // QTC_DIALECTS_QNT_QNTOPS_TD
