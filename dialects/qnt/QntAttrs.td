//===- QntAttrs.td - qnt attributes and enums --------------*- tablegen -*-===//

#ifndef QTC_DIALECTS_QNT_QNTATTRS_TD
#define QTC_DIALECTS_QNT_QNTATTRS_TD

include "dialects/qnt/QntDialect.td"
include "dialects/QtcParameters.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

//===----------------------------------------------------------------------===//
// Enums
//===----------------------------------------------------------------------===//

def Qnt_Format : I32EnumAttr<"Format", "number format of quantized values", [
      I32EnumAttrCase<"i2", 0>, I32EnumAttrCase<"i3", 1>,
      I32EnumAttrCase<"i4", 2>, I32EnumAttrCase<"i5", 3>,
      I32EnumAttrCase<"i6", 4>, I32EnumAttrCase<"i7", 5>,
      I32EnumAttrCase<"i8", 6>,
      I32EnumAttrCase<"u2", 7>, I32EnumAttrCase<"u3", 8>,
      I32EnumAttrCase<"u4", 9>, I32EnumAttrCase<"u5", 10>,
      I32EnumAttrCase<"u6", 11>, I32EnumAttrCase<"u7", 12>,
      I32EnumAttrCase<"u8", 13>,
      I32EnumAttrCase<"f8e4m3", 14>, I32EnumAttrCase<"f8e5m2", 15>,
      I32EnumAttrCase<"f4e2m1", 16>,
      I32EnumAttrCase<"nf4", 17>,
      I32EnumAttrCase<"lut2", 18>, I32EnumAttrCase<"lut3", 19>,
      I32EnumAttrCase<"lut4", 20>, I32EnumAttrCase<"lut5", 21>,
      I32EnumAttrCase<"lut6", 22>, I32EnumAttrCase<"lut7", 23>,
      I32EnumAttrCase<"lut8", 24>
    ]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::qtc::qnt";
}

def Qnt_Granularity : I32EnumAttr<"Granularity",
    "which values share one scale (and zero point)", [
      I32EnumAttrCase<"per_tensor", 0>,
      I32EnumAttrCase<"per_channel", 1>,
      I32EnumAttrCase<"per_group", 2>,
      I32EnumAttrCase<"per_token", 3>
    ]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::qtc::qnt";
}

//===----------------------------------------------------------------------===//
// Attributes
//===----------------------------------------------------------------------===//

class Qnt_Attr<string name, string attrMnemonic, list<Trait> traits = []>
    : AttrDef<Qnt_Dialect, name, traits> {
  let mnemonic = attrMnemonic;
}

def Qnt_EncodingAttr : Qnt_Attr<"Encoding", "encoding"> {
  let summary = "How a tensor's values are quantized";
  let description = [{
    * `format`: `i2`..`i8` (signed integers), `u2`..`u8` (unsigned),
      `f8e4m3`, `f8e5m2`, `f4e2m1` (minifloats), `nf4` (the fixed
      NormalFloat-4 table) or `lut2`..`lut8` (a table of `2^N` values given
      in `lut`).
    * `granularity` and `axis`: a scale spans the values along dimension
      `axis` (the dimension reduced when the scale is computed): all of it
      (`per_channel` for weights, `per_token` for activations and values,
      `per_channel` over the tokens of a block for cached keys), runs of
      `group_size` along it (`per_group`), or the whole tensor
      (`per_tensor`). For an `[out, in]` weight, `axis = 1` (the default)
      gives one scale per output row or per group of input channels.
    * `symmetric` (default true): no stored zero point. Asymmetric
      encodings store a zero point of `zero_type`; only integer formats can
      be asymmetric.
    * `scale_type`: the element type scales are stored in (f16, bf16, f32,
      or an 8-bit float for microscaling formats).

    Where an encoding is used, `group_size` must divide the size of `axis`.

    ```mlir
    // int4, groups of 128 input channels, f16 scales (GPTQ/AWQ style).
    #qnt.encoding<format = i4, granularity = per_group, group_size = 128, scale_type = f16>
    // uint4 with f16 zero points per group.
    #qnt.encoding<format = u4, granularity = per_group, group_size = 64,
                  symmetric = false, scale_type = f16, zero_type = f16>
    // A 3-bit non-uniform table (SqueezeLLM style), one scale per row.
    #qnt.encoding<format = lut3, granularity = per_channel, scale_type = f16,
                  lut = [-1.0, -0.5, -0.25, 0.0, 0.25, 0.5, 0.75, 1.0]>
    ```
  }];
  let parameters = (ins
    EnumParameter<Qnt_Format>:$format,
    EnumParameter<Qnt_Granularity>:$granularity,
    DefaultValuedParameter<"int64_t", "0", "values per group (per_group only)">:$group_size,
    DefaultValuedParameter<"int64_t", "1", "dimension a scale spans">:$axis,
    QtcBoolParameter<"no stored zero point", "true">:$symmetric,
    AttrParameter<"::mlir::Type", "element type of the scales">:$scale_type,
    OptionalParameter<"::mlir::Type", "zero-point element type (asymmetric only)">:$zero_type,
    OptionalParameter<"::mlir::DenseF32ArrayAttr", "lookup table (lutN only)">:$lut
  );
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// Bits of storage per quantized value.
    unsigned getBits() const;
    /// Checks this encoding against the shape it quantizes: `axis` exists and
    /// `group_size` divides its size. Reports through `emitError`.
    ::mlir::LogicalResult
    verifyForShape(::llvm::function_ref<::mlir::InFlightDiagnostic()> emitError,
                   ::llvm::ArrayRef<int64_t> shape) const;
  }];
}

def Qnt_KvSchemeAttr : Qnt_Attr<"KvScheme", "kv_scheme"> {
  let summary = "How a layer's paged KV cache is quantized";
  let description = [{
    The cache is paged in blocks of `block_size` tokens; each of `key` and
    `value` is a `[tokens, kv_heads * head_dim]` tensor per layer, encoded
    by its own `#qnt.encoding`. KIVI-style schemes quantize keys
    `per_channel` within a block (`axis = 0`: a scale spans the block's
    tokens of one channel) and values `per_token` (`axis = 1`).
    `residual_window` newest tokens stay in f16 until a block fills, and the
    first `sink_tokens` tokens (attention sinks) are never quantized.
    `key_scales` / `value_scales` (f8e4m3 `per_tensor` encodings only) are
    the layer's calibrated scales: one, or one per kv head; a value x is
    stored as e4m3(x / scale). Absent, the scale is 1.

    ```mlir
    #qnt.kv_scheme<
      key = <format = i4, granularity = per_channel, axis = 0, symmetric = false,
             scale_type = f16, zero_type = f16>,
      value = <format = i4, granularity = per_token, symmetric = false,
               scale_type = f16, zero_type = f16>,
      block_size = 16, residual_window = 32, sink_tokens = 4>
    ```
  }];
  let parameters = (ins
    AttrParameter<"EncodingAttr", "encoding of cached keys">:$key,
    AttrParameter<"EncodingAttr", "encoding of cached values">:$value,
    DefaultValuedParameter<"int64_t", "16", "tokens per cache block">:$block_size,
    DefaultValuedParameter<"int64_t", "0", "newest tokens kept in f16">:$residual_window,
    DefaultValuedParameter<"int64_t", "0", "first tokens kept in f16">:$sink_tokens,
    OptionalParameter<"::mlir::DenseF32ArrayAttr", "fp8 key scales (1 or per kv head)">:$key_scales,
    OptionalParameter<"::mlir::DenseF32ArrayAttr", "fp8 value scales (1 or per kv head)">:$value_scales
  );
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

#endif // QTC_DIALECTS_QNT_QNTATTRS_TD
