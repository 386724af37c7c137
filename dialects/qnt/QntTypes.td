//===- QntTypes.td - qnt types -----------------------------*- tablegen -*-===//

#ifndef QTC_DIALECTS_QNT_QNTTYPES_TD
#define QTC_DIALECTS_QNT_QNTTYPES_TD

include "dialects/qnt/QntAttrs.td"
include "mlir/IR/AttrTypeBase.td"

def Qnt_WeightType : TypeDef<Qnt_Dialect, "Weight"> {
  let mnemonic = "weight";
  let summary = "A quantized [out, in] weight matrix";
  let description = [{
    The value of a weight after quantization: its static `[out, in]` shape,
    the element type it had before (what the kernels compute in) and the
    `#qnt.encoding` its values, scales and zero points are stored in. The
    packed bytes live in the weight store, like those of `tfm.weight`.
    `group_size` must divide the dimension `axis` groups run along.

    ```mlir
    !qnt.weight<768x256, f16, #qnt.encoding<format = i4, granularity = per_group,
                                            group_size = 128, scale_type = f16>>
    ```
  }];
  let parameters = (ins
    ArrayRefParameter<"int64_t", "static [out, in] shape">:$shape,
    TypeParameter<"::mlir::Type", "element type before quantization">:$element_type,
    TypeParameter<"EncodingAttr", "how values, scales and zeros are stored">:$encoding
  );
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    int64_t getOutFeatures() const { return getShape()[0]; }
    int64_t getInFeatures() const { return getShape()[1]; }
  }];
}

#endif // QTC_DIALECTS_QNT_QNTTYPES_TD
